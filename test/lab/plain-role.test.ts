/**
 * The plain member's role is the column's default, whatever the schema's order: an enum that lists
 * `member` before `facilitator` does not make members the tenant's highest role. So a member that
 * gives itself 'facilitator' is an escalation, and a facilitator adding a member is not.
 */
import { expect, test } from 'vitest';
import { introspect } from '../../src/introspect/index.ts';
import { findTenantRoots } from '../../src/lab/tenants.ts';
import { auditMigration } from '../support/cli.ts';
import { loadOn } from '../support/audit.ts';

const TEAMS = `
create type public.team_role as enum ('member', 'facilitator');
create table public.teams (id uuid primary key default gen_random_uuid(), name text not null, created_by uuid not null default auth.uid() references auth.users);
create table public.team_members (
  team_id uuid not null references public.teams on delete cascade,
  user_id uuid not null references auth.users on delete cascade,
  role public.team_role not null default 'member',
  primary key (team_id, user_id)
);
create table public.exercises (id uuid primary key default gen_random_uuid(), team_id uuid not null references public.teams, title text not null);
create function public.is_member(_team uuid) returns boolean language sql stable security definer set search_path = public as $$
  select exists (select 1 from public.team_members where team_id = _team and user_id = auth.uid()) $$;
alter table public.teams enable row level security;
alter table public.team_members enable row level security;
alter table public.exercises enable row level security;
create policy teams_read on public.teams for select to authenticated using (public.is_member(id));
create policy members_read on public.team_members for select to authenticated using (public.is_member(team_id));
-- Any member edits its own membership, the role included: the flaw.
create policy members_own on public.team_members for update to authenticated using (user_id = auth.uid()) with check (user_id = auth.uid());
create policy members_add on public.team_members for insert to authenticated with check (
  exists (select 1 from public.team_members m where m.team_id = team_members.team_id and m.user_id = auth.uid() and m.role = 'facilitator'));
create policy exercises_read on public.exercises for select to authenticated using (public.is_member(team_id));
create policy exercises_write on public.exercises for update to authenticated using (
  exists (select 1 from public.team_members m where m.team_id = exercises.team_id and m.user_id = auth.uid() and m.role = 'facilitator'));
`;

test('pglite: the roles are ordered highest first with the default last, whatever the enum\'s order', async () => {
  const session = await loadOn('pglite', TEAMS);
  try {
    const snapshot = await introspect(session, { exposedSchemas: ['public'] });
    const root = findTenantRoots(snapshot, snapshot.relations.filter((r) => r.schema === 'public'), new Map([['public.team_role', ['member', 'facilitator']]])).roots[0];
    expect(root?.roles).toEqual(['facilitator', 'member']);
  } finally {
    await session.close();
  }
});

test('a member that sets its own role to facilitator is confirmed; a facilitator adding a member is no escalation', async () => {
  const report = await auditMigration(TEAMS);
  const promoted = report.lab!.attacks.find((a) => a.table.name === 'team_members' && a.promotedTo !== undefined && !a.appointed);
  expect(promoted).toMatchObject({ promotedFrom: 'member', promotedTo: 'facilitator', command: 'update' });
  expect(report.lab!.attacks.filter((a) => a.promotedTo === 'member')).toEqual([]);
});

// Members may manage the others' memberships (not their own): the plainest removes or demotes the facilitator.
const MANAGED = TEAMS.replace(
  `create policy members_own on public.team_members for update to authenticated using (user_id = auth.uid()) with check (user_id = auth.uid());`,
  `create policy members_manage on public.team_members for update to authenticated using (user_id <> auth.uid() and public.is_member(team_id)) with check (user_id <> auth.uid());
create policy members_remove on public.team_members for delete to authenticated using (user_id <> auth.uid() and public.is_member(team_id));`,
);

test('a member that demotes its team\'s facilitator, who then reaches less, is confirmed: high; where only facilitators manage members, nothing', async () => {
  const report = await auditMigration(MANAGED);
  const deposed = report.lab!.attacks.find((a) => a.deposed !== undefined);
  expect(deposed).toMatchObject({ attacker: 'member', command: 'update', promotedFrom: 'member', deposed: { holder: 'facilitator' } });
  expect(Object.keys(deposed!.deposed!.lost)).toContain('public.exercises');
  const finding = report.findings.find((f) => f.check === 'lab_confirmed_escalation' && /its tenant's 'facilitator'/.test(f.message));
  expect(finding?.level).toBe('high');
  expect(finding?.message).toMatch(/holding 'member' sets role to 'member' on the membership of its tenant's 'facilitator' in public\.team_members, who then reaches fewer/);
  const safe = await auditMigration(
    MANAGED.replace('using (user_id <> auth.uid() and public.is_member(team_id)) with check', `using (user_id <> auth.uid() and exists (select 1 from public.team_members m where m.team_id = team_members.team_id and m.user_id = auth.uid() and m.role = 'facilitator')) with check`).replace(
      'for delete to authenticated using (user_id <> auth.uid() and public.is_member(team_id));',
      `for delete to authenticated using (user_id <> auth.uid() and exists (select 1 from public.team_members m where m.team_id = team_members.team_id and m.user_id = auth.uid() and m.role = 'facilitator'));`,
    ),
  );
  expect(safe.lab!.attacks.filter((a) => a.deposed !== undefined)).toEqual([]);
});

test('no removal is reported where the one "below" holds an owner\'s word: an owner deleting an admin is no takeover', async () => {
  // An enum listing the admin first and the owner among the others, and only owners manage members:
  // the first value (the world's head) is 'admin', yet an owner removing it takes nothing over.
  const ownerOnly = `exists (select 1 from public.team_members m where m.team_id = team_members.team_id and m.user_id = auth.uid() and m.role = 'owner')`;
  const report = await auditMigration(
    MANAGED.replace(`create type public.team_role as enum ('member', 'facilitator');`, `create type public.team_role as enum ('admin', 'editor', 'owner');`)
      .replace(`role public.team_role not null default 'member'`, `role public.team_role not null`)
      .replaceAll(`m.role = 'facilitator'`, `m.role = 'admin'`)
      .replace('using (user_id <> auth.uid() and public.is_member(team_id)) with check', `using (user_id <> auth.uid() and ${ownerOnly}) with check`)
      .replace('for delete to authenticated using (user_id <> auth.uid() and public.is_member(team_id));', `for delete to authenticated using (user_id <> auth.uid() and ${ownerOnly});`),
  );
  expect(report.lab!.tenants?.[0]?.roles).toEqual(['admin', 'owner', 'editor']);
  expect(report.lab!.attacks.filter((a) => a.deposed !== undefined)).toEqual([]);
});
