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

test('"your own membership row" only: a viewer makes itself the owner of its team (critical: the owner\'s powers are a policy\'s)', async () => {
  const report = await auditMigration(`${SCHEMA('user_id = (select auth.uid())')}\ncreate policy "owners rename the team" on public.teams for update to authenticated using (public.my_role(id) = 'owner');`);
  expect(report.lab!.attacks.filter((a) => a.attacker === 'member')).toMatchObject([{ table: { name: 'team_members' }, command: 'update', column: 'role', promotedTo: 'owner' }]);
  // The static check that suspected it (privilege_escalation) gets the lab's confirmation instead of a second finding.
  const finding = report.findings.find((f) => f.check === 'privilege_escalation' && f.object.name === 'team_members');
  expect(finding).toMatchObject({ level: 'critical', evidence: { labVerdict: { status: 'confirmed', why: 'a lab attack' } } });
  expect(report.findings.filter((f) => f.check === 'lab_confirmed_escalation' && f.object.name === 'team_members')).toEqual([]);
});

test('a role no policy or helper compares (a rewrite dropped the role checks): setting it gives nothing in the database, so no attack, and the static suspicion is lowered to medium', async () => {
  const report = await auditMigration(SCHEMA('user_id = (select auth.uid())'));
  expect(report.lab!.attacks.filter((a) => a.attacker === 'member')).toEqual([]);
  const finding = report.findings.find((f) => f.check === 'privilege_escalation' && f.object.name === 'team_members');
  expect(finding?.level).toBe('medium');
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
    `${SCHEMA('user_id = (select auth.uid())')}\ncreate policy "join" on public.team_members for insert to authenticated with check (user_id = (select auth.uid()));\ncreate policy "owners rename the team" on public.teams for update to authenticated using (public.my_role(id) = 'owner');`,
  );
  const join = report.findings.find((f) => f.check === 'tenant_self_join' && f.object.name === 'team_members');
  expect(join?.level).toBe('critical');
  expect(join?.message).not.toMatch(/sets role of its own row/);
  const promote = report.findings.find((f) => f.object.name === 'team_members' && /sets role of its own row in public\.team_members to 'owner'/.test(f.message));
  expect(promote).toMatchObject({ level: 'critical' });
  expect(promote!.fingerprint).not.toBe(join!.fingerprint);
});

const ADD_MEMBERS = (insertCheck: string) => `
create table public.teams (id uuid primary key default gen_random_uuid(), name text not null, created_by uuid not null default auth.uid() references auth.users);
create table public.team_members (id uuid primary key default gen_random_uuid(), team_id uuid not null references public.teams on delete cascade,
  user_id uuid not null references auth.users on delete cascade, role text not null default 'member' check (role in ('owner', 'admin', 'member')), unique (team_id, user_id));
-- Whoever creates a team owns it (a trigger writes the owner's membership).
create function public.add_owner() returns trigger language plpgsql security definer set search_path = '' as $$
begin insert into public.team_members (team_id, user_id, role) values (new.id, new.created_by, 'owner'); return new; end $$;
create trigger add_owner after insert on public.teams for each row execute function public.add_owner();
create function public.has_team_role(_user_id uuid, _team_id uuid, _role text) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.team_members where user_id = _user_id and team_id = _team_id and role = _role) $$;
create function public.in_team(_team uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.team_members m where m.user_id = auth.uid() and m.team_id = _team) $$;
alter table public.teams enable row level security;
alter table public.team_members enable row level security;
create policy "members read the team" on public.teams for select to authenticated using (public.in_team(id));
create policy "owners delete the team" on public.teams for delete to authenticated using (public.has_team_role(auth.uid(), id, 'owner'));
create policy "members read members" on public.team_members for select to authenticated using (public.in_team(team_id));
create policy "owners and admins add members" on public.team_members for insert to authenticated with check (${insertCheck});
create policy "owners change roles" on public.team_members for update to authenticated using (public.has_team_role(auth.uid(), team_id, 'owner'));
-- Drafts: their author edits them, and so do the team's owners and admins.
create table public.drafts (id uuid primary key default gen_random_uuid(), team_id uuid references public.teams on delete cascade,
  submitted_by uuid not null default auth.uid() references auth.users, body text not null);
alter table public.drafts enable row level security;
create policy "edit drafts" on public.drafts for update to authenticated using (
  auth.uid() = submitted_by or (team_id is not null and (public.has_team_role(auth.uid(), team_id, 'owner') or public.has_team_role(auth.uid(), team_id, 'admin'))));
`;

test("owners and admins add members with any role: an admin appoints an accomplice owner (high), the role accounts made although the owners' memberships came from a trigger", async () => {
  const report = await auditMigration(ADD_MEMBERS(`public.has_team_role(auth.uid(), team_id, 'owner') or public.has_team_role(auth.uid(), team_id, 'admin')`));
  // Alice's and bob's memberships came with their teams; the role accounts' were made beside them.
  expect(report.lab!.tables.find((t) => t.name === 'team_members')).toMatchObject({ rows: 4, reason: 'made by sign-up' });
  expect(report.lab!.attacks.filter((a) => a.promotedTo !== undefined)).toMatchObject([{ command: 'insert', column: 'role', promotedFrom: 'admin', promotedTo: 'owner', appointed: true }]);
  const appoint = report.findings.find((f) => f.check === 'lab_confirmed_escalation' && f.object.name === 'team_members');
  expect(appoint?.level).toBe('high');
  expect(appoint?.message).toContain("holding 'admin' adds an account of its choosing to its tenant in public.team_members with role = 'owner'");
  // Adding members is what that policy is for: the appointment confirms no suspicion about who else may insert there.
  expect(report.findings.filter((f) => f.object.name === 'team_members' && f.check !== 'lab_confirmed_escalation' && (f.level === 'critical' || f.level === 'high'))).toEqual([]);
  // Nor does it prove that any signed-in user joins any team: the blast radius does not count the team's rows as everyone's.
  expect(report.findings.filter((f) => f.check === 'blast_radius_authenticated' && f.level === 'critical')).toEqual([]);
});

test('admins add plain members only (the check caps the role): nobody appoints an owner', async () => {
  const report = await auditMigration(ADD_MEMBERS(`public.has_team_role(auth.uid(), team_id, 'owner') or (public.has_team_role(auth.uid(), team_id, 'admin') and role = 'member')`));
  expect(report.lab!.attacks.filter((a) => a.appointed)).toEqual([]);
});

test('members count once accepted (a helper asks accepted_at IS NOT NULL): the world makes accepted members, who read their tenant, and the pending-invitee branch of the UPDATE policy opens nothing to them', async () => {
  const report = await auditMigration(`
create table public.orgs (id uuid primary key default gen_random_uuid(), name text not null);
create table public.org_members (id uuid primary key default gen_random_uuid(), org_id uuid not null references public.orgs on delete cascade,
  user_id uuid not null references auth.users on delete cascade, role text not null default 'member' check (role in ('owner', 'admin', 'member')),
  invited_at timestamptz default now(), accepted_at timestamptz, left_at timestamptz, unique (org_id, user_id));
-- A clean-up job names the table and asks left_at IS NOT NULL: no reason to make the world's members gone.
create function public.purge_left() returns void language sql security definer set search_path = '' as $$
  delete from public.org_members where left_at is not null $$;
create table public.docs (id uuid primary key default gen_random_uuid(), org_id uuid not null references public.orgs on delete cascade, body text not null);
create function public.org_role(o uuid) returns text language sql stable security definer set search_path = '' as $$
  select m.role from public.org_members m where m.org_id = o and m.user_id = auth.uid() and m.accepted_at is not null and m.left_at is null $$;
alter table public.orgs enable row level security;
alter table public.org_members enable row level security;
alter table public.docs enable row level security;
create policy "members read" on public.orgs for select to authenticated using (public.org_role(id) is not null);
create policy "members read docs" on public.docs for select to authenticated using (public.org_role(org_id) is not null);
create policy "admins edit docs" on public.docs for update to authenticated using (public.org_role(org_id) in ('owner', 'admin'));
create policy "members read members" on public.org_members for select to authenticated using (public.org_role(org_id) is not null);
create policy "admins or the invitee update" on public.org_members for update to authenticated
  using (public.org_role(org_id) in ('owner', 'admin') or (user_id = auth.uid() and accepted_at is null));
`);
  const cell = (persona: string) => report.lab!.matrix.find((m) => m.name === 'docs' && m.persona === persona)!;
  expect([cell('t1_member').select, cell('t1_member').update]).toEqual([
    { own: 0, tenant: 1, other_tenants: 0, ownerless: 0 },
    { own: 0, tenant: 0, other_tenants: 0, ownerless: 0 },
  ]);
  expect(cell('t1_admin').update).toEqual({ own: 0, tenant: 1, other_tenants: 0, ownerless: 0 });
  expect(report.lab!.attacks.filter((a) => a.table.name === 'org_members' && a.promotedTo !== undefined)).toEqual([]);
});

test("a self-insert branch that asks source = 'invitation' (and no invitation): the world tries the value the policy asks for, and any account joins any project as admin", async () => {
  const report = await auditMigration(`
create table public.projects (id uuid primary key default gen_random_uuid(), name text not null);
create table public.project_members (id uuid primary key default gen_random_uuid(), project_id uuid not null references public.projects on delete cascade,
  user_id uuid not null references auth.users on delete cascade, role text not null default 'viewer' check (role in ('admin', 'editor', 'viewer')),
  source text not null check (source in ('direct', 'invitation')), unique (project_id, user_id));
create table public.secrets (id uuid primary key default gen_random_uuid(), project_id uuid not null references public.projects on delete cascade, api_key text not null);
create function public.project_role(p uuid) returns text language sql stable security definer set search_path = '' as $$
  select role from public.project_members where project_id = p and user_id = auth.uid() $$;
alter table public.projects enable row level security;
alter table public.project_members enable row level security;
alter table public.secrets enable row level security;
create policy "read" on public.projects for select to authenticated using (public.project_role(id) is not null);
create policy "read members" on public.project_members for select to authenticated using (public.project_role(project_id) is not null);
create policy "admins add members" on public.project_members for insert to authenticated
  with check (public.project_role(project_id) = 'admin' or (user_id = auth.uid() and source = 'invitation'));
create policy "admins read keys" on public.secrets for select to authenticated using (public.project_role(project_id) = 'admin');
`);
  const joins = report.lab!.attacks.filter((a) => a.table.name === 'project_members' && a.command === 'insert' && a.attacker === 'outsider');
  expect(joins.map((a) => [a.column, Object.keys(a.gained).sort()])).toEqual([['project_id', expect.arrayContaining(['public.projects'])]]);
});

test("managers manage memberships (FOR ALL, no WITH CHECK): a manager makes itself owner, which confirms the role escalation, not insert_without_owner_check's claim about user_id", async () => {
  const report = await auditMigration(`${SCHEMA('false')}
create policy "owners and editors manage members" on public.team_members for all to authenticated using (public.my_role(team_id) in ('owner', 'editor'));
create policy "owners rename the team" on public.teams for update to authenticated using (public.my_role(id) = 'owner');`);
  expect(report.lab!.attacks.filter((a) => a.attacker === 'member' && !a.appointed)).toMatchObject([{ table: { name: 'team_members' }, command: 'update', column: 'role', promotedFrom: 'editor', promotedTo: 'owner' }]);
  const owner = report.findings.find((f) => f.check === 'insert_without_owner_check' && f.object.name === 'team_members');
  expect(owner).toBeDefined();
  expect(owner!.evidence?.['labVerdict']).toMatchObject({ status: 'unconfirmed' });
  expect(['critical', 'high']).not.toContain(owner!.level);
  // The editor who climbs by itself adds no accomplice through the same policy: one hole, one finding.
  expect(report.lab!.attacks.filter((a) => a.appointed)).toEqual([]);
});
