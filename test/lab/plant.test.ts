/**
 * A member writes into another tenant: a task moved into another workspace by an UPDATE policy
 * with no WITH CHECK whose USING does not hang on the workspace (`assignee_id = auth.uid()`), and
 * an attachment inserted with the other workspace's key because the WITH CHECK ORs two untied
 * columns (the task vouches for the workspace). The attack search writes as tenant 1's plainest
 * member and asks tenant 2's member whether the row appeared among its own.
 */
import { expect, test } from 'vitest';
import { auditMigration } from '../support/cli.ts';

const SCHEMA = (taskUpdate: { using: string; check?: string }, attachmentInsert: string) => `
create table public.workspaces (id uuid primary key default gen_random_uuid(), name text not null);
create table public.workspace_members (
  workspace_id uuid not null references public.workspaces on delete cascade,
  user_id uuid not null references auth.users on delete cascade,
  role text not null default 'member' check (role in ('admin', 'member')),
  primary key (workspace_id, user_id)
);
create function public.is_member(ws uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.workspace_members m where m.workspace_id = ws and m.user_id = auth.uid()) $$;
create table public.tasks (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces on delete cascade,
  assignee_id uuid references auth.users,
  title text not null
);
create table public.attachments (
  id uuid primary key default gen_random_uuid(),
  workspace_id uuid not null references public.workspaces on delete cascade,
  task_id uuid references public.tasks on delete cascade,
  uploaded_by uuid not null references auth.users,
  path text not null
);
-- A task's comments follow it: moved, the other workspace reads them too.
create table public.task_comments (id uuid primary key default gen_random_uuid(), task_id uuid not null references public.tasks on delete cascade, body text not null);
alter table public.task_comments enable row level security;
create policy "members read comments" on public.task_comments for select to authenticated
  using (exists (select 1 from public.tasks t where t.id = task_id and public.is_member(t.workspace_id)));
alter table public.workspaces enable row level security;
alter table public.workspace_members enable row level security;
alter table public.tasks enable row level security;
alter table public.attachments enable row level security;
create policy "members read workspaces" on public.workspaces for select to authenticated using (public.is_member(id));
create policy "members read memberships" on public.workspace_members for select to authenticated using (public.is_member(workspace_id));
create policy "members read tasks" on public.tasks for select to authenticated using (public.is_member(workspace_id) or assignee_id = (select auth.uid()));
create policy "members add tasks" on public.tasks for insert to authenticated with check (public.is_member(workspace_id));
create policy "members edit tasks" on public.tasks for update to authenticated using (${taskUpdate.using})${taskUpdate.check ? ` with check (${taskUpdate.check})` : ''};
create policy "members read attachments" on public.attachments for select to authenticated using (public.is_member(workspace_id));
create policy "members attach" on public.attachments for insert to authenticated with check (${attachmentInsert});
`;

test('an UPDATE without WITH CHECK moves a task into another workspace; an OR over untied keys plants an attachment there (high)', async () => {
  const report = await auditMigration(
    SCHEMA(
      { using: 'public.is_member(workspace_id) or assignee_id = (select auth.uid())' },
      'uploaded_by = (select auth.uid()) and (public.is_member(workspace_id) or exists (select 1 from public.tasks t where t.id = task_id and public.is_member(t.workspace_id)))',
    ),
  );
  const planted = report.lab!.attacks.filter((a) => a.planted !== undefined);
  expect(planted.map((a) => [a.table.name, a.command, a.column, a.planted, a.gained[`public.${a.table.name}`]])).toEqual([
    ['attachments', 'insert', 'workspace_id', 'insert', { before: 0, after: 1 }],
    ['tasks', 'update', 'workspace_id', 'move', { before: 0, after: 1 }],
  ]);
  const findings = report.findings.filter((f) => f.check === 'lab_confirmed_escalation' && f.fingerprint.includes('plant.'));
  expect(findings.map((f) => [f.object.name, f.level])).toEqual([
    ['attachments', 'high'],
    ['tasks', 'high'],
  ]);
  expect(findings.find((f) => f.object.name === 'tasks')!.message).toContain('moves a row of its own tenant in public.tasks into another tenant');
});

test('a WITH CHECK on the new row and keys tied to one workspace: nothing planted', async () => {
  const report = await auditMigration(
    SCHEMA(
      { using: 'public.is_member(workspace_id) or assignee_id = (select auth.uid())', check: 'public.is_member(workspace_id)' },
      'uploaded_by = (select auth.uid()) and public.is_member(workspace_id) and (task_id is null or exists (select 1 from public.tasks t where t.id = task_id and t.workspace_id = attachments.workspace_id))',
    ),
  );
  expect(report.lab!.attacks.filter((a) => a.planted !== undefined)).toEqual([]);
  expect(report.findings.filter((f) => f.fingerprint.includes('plant.'))).toEqual([]);
});

test('a platform admin (a row in platform_admins, an allowlist the operator fills) manages every workspace\'s tasks by design: the world puts no account on the list, so no member reads or writes another workspace through it', async () => {
  const report = await auditMigration(`${SCHEMA(
    { using: 'public.is_member(workspace_id) or assignee_id = (select auth.uid())', check: 'public.is_member(workspace_id)' },
    'uploaded_by = (select auth.uid()) and public.is_member(workspace_id) and (task_id is null or exists (select 1 from public.tasks t where t.id = task_id and t.workspace_id = attachments.workspace_id))',
  )}
create table public.platform_admins (user_id uuid primary key references auth.users on delete cascade);
alter table public.platform_admins enable row level security;
create policy "admins read themselves" on public.platform_admins for select to authenticated using (user_id = (select auth.uid()));
create policy "platform admins manage all tasks" on public.tasks for all to authenticated
  using (exists (select 1 from public.platform_admins a where a.user_id = (select auth.uid())))
  with check (exists (select 1 from public.platform_admins a where a.user_id = (select auth.uid())));
`);
  // No account of the world is a platform admin: alice reads her own workspace's tasks only.
  expect(report.lab!.tables.find((t) => t.name === 'platform_admins')).toMatchObject({ rows: 0, reason: expect.stringMatching(/^an allowlist only the operator fills/) });
  expect(report.lab!.matrix.find((m) => m.name === 'tasks' && m.persona === 'alice')!.select).toMatchObject({ other_tenants: 0 });
  expect(report.lab!.attacks.filter((a) => a.planted !== undefined)).toEqual([]);
});

test('a share: a member grants its own workspace\'s task to another workspace, which then reads the task: a feature, not a plant', async () => {
  const report = await auditMigration(`${SCHEMA({ using: 'public.is_member(workspace_id)', check: 'public.is_member(workspace_id)' }, 'uploaded_by = (select auth.uid()) and public.is_member(workspace_id)')}
create table public.task_shares (
  id uuid primary key default gen_random_uuid(),
  task_id uuid not null references public.tasks on delete cascade,
  workspace_id uuid not null references public.workspaces on delete cascade,
  unique (task_id, workspace_id)
);
create function public.task_workspace(t uuid) returns uuid language sql stable security definer set search_path = '' as $$
  select workspace_id from public.tasks where id = t $$;
alter table public.task_shares enable row level security;
create policy "members share their tasks" on public.task_shares for insert to authenticated
  with check (public.is_member(public.task_workspace(task_id)));
create policy "both sides read shares" on public.task_shares for select to authenticated
  using (public.is_member(workspace_id) or public.is_member(public.task_workspace(task_id)));
create policy "shared tasks are read" on public.tasks for select to authenticated
  using (exists (select 1 from public.task_shares s where s.task_id = tasks.id and public.is_member(s.workspace_id)));
`);
  expect(report.lab!.attacks.filter((a) => a.planted !== undefined)).toEqual([]);
  // The other workspace reads the shared task: the share works (the matrix's own rows, not a search's).
  expect(report.lab!.tables.find((t) => t.name === 'task_shares')!.rows).toBe(2);
});

test("a table any account writes into any tenant (applications to a team): a member moving its own row to another team does nothing anyone could not, no plant", async () => {
  const report = await auditMigration(`
create table public.teams (id uuid primary key default gen_random_uuid(), name text not null);
create table public.team_members (team_id uuid not null references public.teams on delete cascade, user_id uuid not null references auth.users on delete cascade,
  role text not null default 'reviewer' check (role in ('admin', 'reviewer')), primary key (team_id, user_id));
create function public.is_member(t uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.team_members m where m.team_id = t and m.user_id = auth.uid()) $$;
create table public.applications (id uuid primary key default gen_random_uuid(), team_id uuid not null references public.teams on delete cascade,
  student_id uuid not null references auth.users, answers text not null, status text not null default 'draft');
alter table public.teams enable row level security;
alter table public.team_members enable row level security;
alter table public.applications enable row level security;
create policy "teams are listed" on public.teams for select to authenticated using (true);
create policy "members read memberships" on public.team_members for select to authenticated using (public.is_member(team_id));
create policy "students apply" on public.applications for insert to authenticated with check (student_id = (select auth.uid()));
create policy "students read own" on public.applications for select to authenticated using (student_id = (select auth.uid()));
create policy "students edit drafts" on public.applications for update to authenticated
  using (student_id = (select auth.uid()) and status = 'draft') with check (student_id = (select auth.uid()));
create policy "teams read applications" on public.applications for select to authenticated using (public.is_member(team_id));
`);
  // Any account applies to any team: the matrix measured it.
  expect(report.lab!.matrix.find((m) => m.name === 'applications' && m.persona === 'outsider')!.insert).toBe('allowed_into_others');
  expect(report.findings.filter((f) => f.check === 'lab_confirmed_escalation' && f.object.name === 'applications')).toEqual([]);
});

const INVITES = (acceptCheck: string) => `
create table public.orgs (id uuid primary key default gen_random_uuid(), name text not null);
create table public.org_members (org_id uuid not null references public.orgs on delete cascade, user_id uuid not null references auth.users on delete cascade,
  role text not null check (role in ('owner', 'admin', 'member')), primary key (org_id, user_id));
create table public.invitations (id uuid primary key default gen_random_uuid(), org_id uuid not null references public.orgs on delete cascade,
  email text not null, role text not null default 'member', token text not null unique, expires_at timestamptz not null);
create function public.org_role(o uuid) returns text language sql stable security definer set search_path = '' as $$
  select m.role from public.org_members m where m.org_id = o and m.user_id = auth.uid() $$;
create function public.accept_invitation(invitation_token text) returns jsonb language plpgsql security definer set search_path = '' as $$
declare inv public.invitations;
begin
  select * into inv from public.invitations where token = invitation_token and expires_at > now();
  if not found then return jsonb_build_object('ok', false); end if;
  ${acceptCheck}
  insert into public.org_members (org_id, user_id, role) values (inv.org_id, auth.uid(), inv.role) on conflict do nothing;
  delete from public.invitations where id = inv.id;
  return jsonb_build_object('ok', true);
end $$;
alter table public.orgs enable row level security;
alter table public.org_members enable row level security;
alter table public.invitations enable row level security;
create policy "read org" on public.orgs for select to authenticated using (public.org_role(id) is not null);
create policy "read members" on public.org_members for select to authenticated using (public.org_role(org_id) is not null);
create policy "admins read invitations" on public.invitations for select to authenticated using (public.org_role(org_id) in ('owner', 'admin'));
-- The accept page looks an invitation up by its token: any signed-in user may read one.
create policy "read an invitation by its token" on public.invitations for select to authenticated using (token is not null);
-- Admins edit their organisation's invitations, into any organisation (WITH CHECK true).
create policy "admins edit invitations" on public.invitations for update to authenticated
  using (public.org_role(org_id) in ('owner', 'admin')) with check (true);
`;

test('an invitation an admin moves into another organisation and then accepts by its token (its expiry ahead): the admin joins that organisation (critical)', async () => {
  const report = await auditMigration(INVITES(''));
  const attack = report.lab!.attacks.find((a) => a.table.name === 'invitations');
  expect(attack).toMatchObject({ command: 'update', column: 'org_id', planted: 'join', redeemedBy: 'public.accept_invitation' });
  expect(attack!.steps[1]).toMatch(/SELECT public\.accept_invitation\(<the planted row's invitation_token>\) -- as :attacker: it is now a member of the other tenant/);
  const finding = report.findings.find((f) => f.object.name === 'invitations' && /calls public\.accept_invitation with it, which makes it a member of that tenant/.test(f.message));
  expect(finding?.level).toBe('critical');
});

test('the accepting function refuses the invitation (it must be addressed to the caller): moved, it redeems nothing (the plant stays high)', async () => {
  const report = await auditMigration(INVITES(`if (select email from auth.users where id = auth.uid()) is distinct from inv.email then return jsonb_build_object('ok', false); end if;`));
  const attack = report.lab!.attacks.find((a) => a.table.name === 'invitations');
  expect(attack).toMatchObject({ planted: 'move' });
  expect(attack!.redeemedBy).toBeUndefined();
});
