/**
 * Severity follows the lab: a static access finding the lab confirms keeps its level, one it
 * refutes is not reported (listed with --verbose), one it cannot show either way is at most medium.
 */
import { describe, expect, test } from 'vitest';
import type { Finding } from '../../src/model/finding.ts';
import { auditMigration } from '../support/cli.ts';

const MIGRATION = `
-- A permissive "true" for UPDATE, narrowed by a restrictive policy to the owner: the static check
-- sees the permissive policy alone; in the lab no one updates another owner's note.
create table public.notes (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null default auth.uid() references auth.users on delete cascade,
  body text not null
);
alter table public.notes enable row level security;
create policy "read notes" on public.notes for select to authenticated using (owner_id = (select auth.uid()));
create policy "edit notes" on public.notes for update to authenticated using (true) with check (true);
create policy "only mine" on public.notes as restrictive for update to authenticated using (owner_id = (select auth.uid())) with check (owner_id = (select auth.uid()));

-- The same without the restrictive policy: the UPDATE policy says true, but a filtered update
-- (all Supabase's API sends) applies the owner-only SELECT policy too.
create table public.memos (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null default auth.uid() references auth.users on delete cascade,
  body text not null
);
alter table public.memos enable row level security;
create policy "read memos" on public.memos for select to authenticated using (owner_id = (select auth.uid()));
create policy "edit memos" on public.memos for update to authenticated using (true) with check (true);

-- A definer function that writes and never looks at its caller (graded high by its shape), but
-- what it writes opens nothing to anyone: the lab cannot confirm it.
create table public.events (id bigint generated always as identity primary key, kind text not null);
alter table public.events enable row level security;
create function public.ping() returns void language plpgsql security definer set search_path = '' as $$
begin
  insert into public.events (kind) values ('ping');
end $$;

-- A definer function that deletes the note its argument names, whoever calls: anon deletes another user's note.
create function public.drop_note(note_id uuid) returns void language plpgsql security definer set search_path = '' as $$
begin
  delete from public.notes where id = note_id;
end $$;
`;

const on = (findings: readonly Finding[], check: string, name: string) => findings.filter((f) => f.check === check && f.object.name === name);

describe('severity follows the lab', () => {
  test('confirmed keeps its level, refuted is not reported (--verbose lists it), unconfirmed is lowered to medium and says what was tried', async () => {
    const report = await auditMigration(MIGRATION, '--verbose');
    // Refuted: the UPDATE policy says true, but the filtered update PostgREST sends (Supabase's API
    // refuses one with no filter: pg-safeupdate) also applies the owner-only SELECT policy.
    for (const table of ['notes', 'memos']) {
      expect(on(report.findings, 'rls_policy_always_true', table)).toEqual([]);
      const [refuted] = on(report.refuted ?? [], 'rls_policy_always_true', table);
      expect(refuted).toMatchObject({ level: 'high', evidence: { labVerdict: { status: 'refuted' } } });
      expect((refuted!.evidence!['labVerdict'] as { why: string }).why).toBe("in the lab, with rows of two owners, no persona (anon, alice, bob, outsider) could update another owner's rows");
    }
    expect(on(report.findings, 'lab_cross_owner_access', 'memos')).toEqual([]);
    // Unconfirmed: lowered from high to medium, for both roles, with what the lab tried.
    const ping = [...on(report.findings, 'anon_security_definer_function_executable', 'ping'), ...on(report.findings, 'authenticated_security_definer_function_executable', 'ping')];
    expect(ping.map((f) => f.level)).toEqual(['medium', 'medium']);
    for (const f of ping) expect(f.message).toMatch(/Not confirmed in the lab: the lab called it as anon and as a signed-up outsider .*; level lowered from high to medium\.$/);
    // Confirmed by what the call changed: anon, with another user's note id, deleted it; the
    // measurement (lab_function_cross_owner) is folded in: high, since anon cannot learn the id.
    const drop = on(report.findings, 'anon_security_definer_function_executable', 'drop_note');
    expect(drop.map((f) => [f.level, (f.evidence!['labVerdict'] as { why: string }).why])).toEqual([['high', "called in the lab as anon with another user's ids, it deleted 1 row(s) of another user in public.notes"]]);
    expect(drop[0]!.message).toMatch(/Measured in the lab: anyone with the anon key \(no account\) calls public\.drop_note\(note_id uuid\) with another user's rows as arguments, and it deleted 1 row of another user in public\.notes — given note_id of another user's, random uuids or tokens the caller cannot read anywhere through the API \(only a leaked id opens it\)\.$/);
    expect(on(report.findings, 'lab_function_cross_owner', 'drop_note')).toEqual([]);
    expect(report.summary.critical + report.summary.high).toBe(report.findings.filter((f) => f.level === 'critical' || f.level === 'high').length);
    expect(report.notes.find((n) => n.message.startsWith('severity follows the lab'))!.message).toBe(
      'severity follows the lab: 2 static suspicions the lab could not confirm lowered to medium, 2 the lab refuted not reported',
    );
    // Without --verbose the refuted finding is only counted.
    const quiet = await auditMigration(MIGRATION);
    expect(quiet.refuted).toBeUndefined();
    expect(quiet.notes.find((n) => n.message.startsWith('severity follows the lab'))!.message).toMatch(/2 the lab refuted not reported \(--verbose lists them\)$/);
    expect(quiet.findings.map((f) => f.fingerprint)).toEqual(report.findings.map((f) => f.fingerprint));
  });
});

test("an attack through a table's INSERT policy confirms that policy's finding, not the UPDATE policy beside it", async () => {
  const report = await auditMigration(`
create table public.org (id integer generated always as identity primary key, name text not null);
create table public.user_orgs (user_id uuid not null references auth.users, org_id integer not null references public.org, role text not null default 'client' check (role in ('admin', 'client')), primary key (user_id, org_id));
create schema private;
-- The caller from a session key as well as from the token (an API-key login).
create function private.current_uid() returns uuid language plpgsql stable as $$
begin return coalesce(auth.uid(), nullif(current_setting('request.api_key_user', true), '')::uuid); end $$;
create function private.is_org_role(o integer, r text) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select from public.user_orgs where user_id = private.current_uid() and org_id = o and role = r) $$;
alter table public.org enable row level security;
alter table public.user_orgs enable row level security;
create policy "members read org" on public.org for select to authenticated using (exists (select from public.user_orgs u where u.org_id = id and u.user_id = auth.uid()));
create policy "read own memberships" on public.user_orgs for select to authenticated using (user_id = auth.uid());
create policy "anyone joins" on public.user_orgs for insert to authenticated with check (true);
create policy "admins update members" on public.user_orgs for update to authenticated using ((select private.is_org_role(org_id, 'admin')) = true);
`);
  const verdicts = report.findings
    .filter((f) => f.check === 'insert_without_owner_check' && f.object.name === 'user_orgs')
    .map((f) => [f.object.policy, f.level, (f.evidence?.['labVerdict'] as { status: string }).status]);
  expect(verdicts).toEqual([
    ['admins update members', 'medium', 'unconfirmed'],
  ]);
  // The join itself is the lab's attack, on the INSERT policy.
  expect(report.lab!.attacks.some((a) => a.table.name === 'user_orgs' && a.command === 'insert')).toBe(true);
});

test('an attack through one column of a policy confirms the finding about that column, not another column the same policy leaves open', async () => {
  const report = await auditMigration(`
create schema app;
create table app.households (id uuid primary key default gen_random_uuid(), name text not null);
create table app.members (
  id uuid primary key default gen_random_uuid(),
  household_id uuid not null references app.households on delete cascade,
  user_id uuid references auth.users,
  role text not null default 'member' check (role in ('admin', 'member')),
  is_active boolean not null default true
);
create function app.my_households() returns setof uuid language sql stable security definer set search_path = '' as $$
  select household_id from app.members where user_id = auth.uid() and is_active $$;
grant usage on schema app to anon, authenticated;
grant select, insert, update, delete on all tables in schema app to authenticated;
alter table app.households enable row level security;
alter table app.members enable row level security;
create policy "read" on app.households for select using (id in (select app.my_households()));
create policy "admins rename" on app.households for update using (exists (select 1 from app.members m where m.household_id = households.id and m.user_id = auth.uid() and m.role = 'admin'));
create policy "read members" on app.members for select using (household_id in (select app.my_households()));
create policy "own profile" on app.members for update using (user_id = auth.uid());
alter role authenticator set pgrst.db_schemas to 'public, app';
`);
  expect(report.lab!.attacks.filter((a) => a.table.name === 'members' && a.command === 'update').map((a) => [a.column, a.promotedTo])).toEqual([['role', 'admin']]);
  // Moving its own membership into another household is the same policy's other column: the
  // member cannot read the household it moved to, so the API's filtered update finds no row. Not shown.
  const move = report.findings.find((f) => f.check === 'tenant_self_join' && f.object.name === 'members' && f.evidence?.['command'] === 'UPDATE');
  expect([move?.level, (move?.evidence?.['labVerdict'] as { status: string } | undefined)?.status]).toEqual(['medium', 'unconfirmed']);
  // The promotion is reported once, about role, at high or above.
  const promote = report.findings.filter((f) => /sets role of its own row in app\.members to 'admin'/.test(f.message));
  expect(promote.map((f) => f.level === 'critical' || f.level === 'high')).toEqual([true]);
});
