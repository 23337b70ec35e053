/**
 * A member promotes itself: an UPDATE policy on the membership that checks only "it is your own
 * row" lets a plain member set its own role to the tenant's highest. The attack search tries it as
 * the plainest member of tenant 1, with the filtered UPDATE the API sends.
 */
import { expect, test } from 'vitest';
import { auditMigration } from '../support/cli.ts';

const SCHEMA = (membershipUpdate: string) => `
create table public.teams (id uuid primary key default gen_random_uuid(), name text not null);
create table public.team_members (
  id bigint generated always as identity primary key,
  team_id uuid not null references public.teams on delete cascade,
  user_id uuid not null references auth.users on delete cascade,
  role text not null default 'viewer' check (role in ('owner', 'editor', 'viewer')),
  unique (team_id, user_id)
);
create function public.my_role(t uuid) returns text language sql stable security definer set search_path = '' as $$
  select m.role from public.team_members m where m.team_id = t and m.user_id = auth.uid() $$;
alter table public.teams enable row level security;
alter table public.team_members enable row level security;
create policy "members read their team" on public.teams for select to authenticated using (public.my_role(id) is not null);
create policy "members read memberships" on public.team_members for select to authenticated using (public.my_role(team_id) is not null);
create policy "update memberships" on public.team_members for update to authenticated using (${membershipUpdate});
`;

test('"your own membership row" only: a viewer makes itself the owner of its team (high)', async () => {
  const report = await auditMigration(SCHEMA('user_id = (select auth.uid())'));
  expect(report.lab!.attacks.filter((a) => a.attacker === 'member')).toMatchObject([{ table: { name: 'team_members' }, command: 'update', column: 'role', promotedTo: 'owner' }]);
  // The static check that suspected it (privilege_escalation) gets the lab's confirmation instead of a second finding.
  const finding = report.findings.find((f) => f.check === 'privilege_escalation' && f.object.name === 'team_members');
  expect(finding).toMatchObject({ level: 'high', evidence: { labVerdict: { status: 'confirmed', why: 'a lab attack' } } });
  expect(report.findings.filter((f) => f.check === 'lab_confirmed_escalation' && f.object.name === 'team_members')).toEqual([]);
});

test('only the team\'s owner updates memberships: no member promotes itself', async () => {
  const report = await auditMigration(SCHEMA(`public.my_role(team_id) = 'owner'`));
  expect(report.lab!.attacks.filter((a) => a.attacker === 'member')).toEqual([]);
});
