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

const OWNED = (grants: string) => `
create table public.workspaces (id uuid primary key default gen_random_uuid(), name text not null, owner_id uuid not null references auth.users);
create table public.workspace_members (
  workspace_id uuid not null references public.workspaces on delete cascade,
  user_id uuid not null references auth.users on delete cascade,
  role text not null check (role in ('owner', 'admin', 'editor')),
  primary key (workspace_id, user_id)
);
create function public.ws_role(w uuid) returns text language sql stable security definer set search_path = '' as $$
  select m.role from public.workspace_members m where m.workspace_id = w and m.user_id = auth.uid() $$;
alter table public.workspaces enable row level security;
alter table public.workspace_members enable row level security;
create policy "members read" on public.workspaces for select to authenticated using (public.ws_role(id) is not null);
create policy "owner or admin update" on public.workspaces for update to authenticated using (public.ws_role(id) in ('owner', 'admin'));
create policy "owner deletes" on public.workspaces for delete to authenticated using (owner_id = (select auth.uid()));
create policy "members read memberships" on public.workspace_members for select to authenticated using (public.ws_role(workspace_id) is not null);
${grants}
`;

test('an admin sets the workspace\'s owner_id to itself and may then delete it: a takeover (high)', async () => {
  const report = await auditMigration(OWNED(''));
  const takeover = report.lab!.attacks.filter((a) => a.takeover !== undefined);
  expect(takeover.map((a) => [a.table.name, a.column, a.takeover, a.gained])).toEqual([['workspaces', 'owner_id', 'admin', { 'public.workspaces': { before: 2, after: 3 } }]]);
  const finding = report.findings.find((f) => f.check === 'lab_confirmed_escalation' && f.fingerprint.includes('takeover.owner_id'));
  expect(finding).toMatchObject({ level: 'high', object: { name: 'workspaces', column: 'owner_id' } });
});

test('owner_id not granted to the API (only name may be updated): no takeover', async () => {
  const report = await auditMigration(OWNED('revoke update on public.workspaces from authenticated;\ngrant update (name) on public.workspaces to authenticated;'));
  expect(report.lab!.attacks.filter((a) => a.takeover !== undefined)).toEqual([]);
});

test('only editors and owners update memberships, only owners delete the team: the viewer cannot, the editor makes itself owner (high, the role it held said)', async () => {
  const report = await auditMigration(
    `${SCHEMA(`public.my_role(team_id) in ('owner', 'editor')`)}\ncreate policy "owners delete the team" on public.teams for delete to authenticated using (public.my_role(id) = 'owner');`,
  );
  expect(report.lab!.attacks.filter((a) => a.attacker === 'member')).toMatchObject([{ table: { name: 'team_members' }, command: 'update', column: 'role', promotedTo: 'owner', promotedFrom: 'editor' }]);
  const finding = report.findings.find((f) => f.object.name === 'team_members' && f.level === 'high' && /holding 'editor' sets role of its own row in public\.team_members to 'owner'/.test(f.message));
  expect(finding).toBeDefined();
});

test('editors and owners hold the same powers everywhere: an editor making itself owner gains nothing, no promotion reported', async () => {
  const report = await auditMigration(SCHEMA(`public.my_role(team_id) in ('owner', 'editor')`));
  expect(report.lab!.attacks.filter((a) => a.attacker === 'member')).toEqual([]);
});

test('a self-join on INSERT and a self-promotion on UPDATE of one membership: two findings, each attack folded into its own command', async () => {
  const report = await auditMigration(
    `${SCHEMA('user_id = (select auth.uid())')}\ncreate policy "join" on public.team_members for insert to authenticated with check (user_id = (select auth.uid()));`,
  );
  const join = report.findings.find((f) => f.check === 'tenant_self_join' && f.object.name === 'team_members');
  expect(join?.level).toBe('critical');
  expect(join?.message).not.toMatch(/sets role of its own row/);
  const promote = report.findings.find((f) => f.object.name === 'team_members' && /sets role of its own row in public\.team_members to 'owner'/.test(f.message));
  expect(promote).toMatchObject({ level: 'high' });
  expect(promote!.fingerprint).not.toBe(join!.fingerprint);
});
