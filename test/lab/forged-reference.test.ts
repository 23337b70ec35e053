/**
 * A write that stores a reference to someone else (an application's student set to the victim's
 * user id) which another table's policy then trusts ("a team owner reads its applicants'
 * profiles"): the attack search sets the account references of the attacker's own rows to the
 * victim's id and measures what it reads afterwards.
 */
import { expect, test } from 'vitest';
import { auditMigration } from '../support/cli.ts';

const SCHEMA = (ownerUpdateCheck: string) => `
create table public.profiles (id uuid primary key references auth.users on delete cascade, full_name text not null, gpa numeric);
create table public.teams (id uuid primary key default gen_random_uuid(), name text not null, owner_id uuid references auth.users);
create table public.applications (id uuid primary key default gen_random_uuid(), team_id uuid not null references public.teams on delete cascade,
  student_id uuid not null references auth.users, status text not null default 'submitted');
alter table public.profiles enable row level security;
alter table public.teams enable row level security;
alter table public.applications enable row level security;
create policy "own profile" on public.profiles for select to authenticated using (id = (select auth.uid()));
create policy "teams listed" on public.teams for select to authenticated using (true);
create policy "students apply" on public.applications for insert to authenticated with check (student_id = (select auth.uid()));
create policy "students read own" on public.applications for select to authenticated using (student_id = (select auth.uid()));
create policy "owners read applications" on public.applications for select to authenticated
  using ((select auth.uid()) = (select owner_id from public.teams t where t.id = team_id));
create policy "owners review applications" on public.applications for update to authenticated
  using ((select auth.uid()) = (select owner_id from public.teams t where t.id = team_id))${ownerUpdateCheck};
create policy "owners read applicants" on public.profiles for select to authenticated
  using (exists (select 1 from public.applications a join public.teams t on t.id = a.team_id where a.student_id = profiles.id and t.owner_id = (select auth.uid())));
`;

test("a team owner points an application at another user and reads that user's profile: confirmed", async () => {
  const report = await auditMigration(SCHEMA(''));
  const forged = report.lab!.attacks.filter((a) => a.table.name === 'applications' && a.command === 'update' && a.column === 'student_id');
  expect(forged.map((a) => [a.attacker, a.gained['public.profiles']])).toEqual([['bob', { before: 0, after: 1 }]]);
  expect(forged[0]!.steps[0]).toBe("UPDATE public.applications SET student_id = <the victim's user id> WHERE <a row of :attacker>");
  const finding = report.findings.find((f) => f.check === 'lab_confirmed_escalation' && f.object.name === 'applications')!;
  expect(finding.level).toBe('high');
  expect(finding.message).toContain('updates student_id of its own row in public.applications, and then reads public.profiles (0 → 1 row of another owner) it could not read before');
});

test('the same, with the student kept by the UPDATE policy: nothing forged', async () => {
  const report = await auditMigration(SCHEMA(' with check (student_id = (select a.student_id from public.applications a where a.id = applications.id))'));
  expect(report.lab!.attacks.filter((a) => a.table.name === 'applications' && a.column === 'student_id')).toEqual([]);
});
