import { describe, expect, it } from 'vitest';
import check from '../../checks/missing_unique_constraint.ts';
import { auditOn, auditSession, loadOn, objectsOf, testEngines } from '../support/audit.ts';

const ID = 'missing_unique_constraint';
const options = { checks: [check] };

const SCHEMA = `
create table public.teams (id uuid primary key);
create table public.groups (id uuid primary key);

-- near misses
create table public.organization_members (organization_id uuid not null, user_id uuid not null, role text, primary key (organization_id, user_id));
create table public.team_members (
  id bigint generated always as identity primary key,
  team_id uuid not null references public.teams (id),
  user_id uuid not null references auth.users (id),
  unique (user_id, team_id)
);
create table public.project_members (project_id uuid, user_id uuid, removed_at timestamptz);
create unique index project_members_active_key on public.project_members (project_id, user_id) where removed_at is null;
create table public.documents (id bigint primary key, user_id uuid, organization_id uuid);
create table public.notes (id bigint primary key, document_id bigint);
alter table public.notes enable row level security;
create policy "document owners read notes" on public.notes for select to authenticated
  using (exists (select 1 from public.documents d where d.id = notes.document_id and d.user_id = (select auth.uid())));
create table public.task_watchers (task_id bigint, organization_id uuid, user_id uuid, primary key (user_id, organization_id, task_id));
create table auth.group_members (group_id uuid, user_id uuid);

-- positives
create table public.group_members (id bigint primary key, group_id uuid references public.groups (id), member_id uuid);
create table public.memberships (id bigint primary key, user_id uuid, organization_id uuid, unique (user_id, organization_id, id));
create table public.workspace_users (id bigint primary key, user_id uuid, workspace_id uuid, role text);
create table public.pages (id bigint primary key, workspace_id uuid);
alter table public.pages enable row level security;
create policy "workspace members read pages" on public.pages for select to authenticated
  using (workspace_id in (select wu.workspace_id from public.workspace_users wu where wu.user_id = (select auth.uid())));
create table public."Team Members" ("Team_Id" uuid references public.teams (id), user_id uuid);
`;

describe.each(testEngines())('missing_unique_constraint on %s', (engine) => {
  it('finds nothing in an empty schema', async () => {
    const { findings } = await auditOn(engine, 'select 1;', options);
    expect(objectsOf(findings, ID)).toEqual([]);
  });

  it('reports membership tables without a unique pair, and its fix SQL clears them', async () => {
    const { findings } = await auditOn(engine, SCHEMA, options);
    const mine = findings.filter((f) => f.check === ID);
    expect(mine.map((f) => f.fingerprint).sort()).toEqual(
      [
        'public.Team Members:Team_Id,user_id',
        'public.group_members:group_id,member_id',
        'public.memberships:organization_id,user_id',
        'public.workspace_users:user_id,workspace_id',
      ].map((f) => `${ID}:${f}`),
    );
    expect(mine.every((f) => f.level === 'medium')).toBe(true);
    const of = (table: string) => mine.find((f) => f.object.name === table)!;
    expect(of('workspace_users').message).toContain('(the policy "workspace members read pages" looks callers up in it)');
    expect(of('group_members').message).toContain('looks like a membership table (it is named like one)');
    expect(of('Team Members').remediation.sql).toBe(
      'ALTER TABLE public."Team Members" ADD CONSTRAINT "Team Members_user_id_Team_Id_key" UNIQUE (user_id, "Team_Id");',
    );
    expect(of('Team Members').remediation.text).toContain('CREATE UNIQUE INDEX CONCURRENTLY');

    const session = await loadOn(engine, SCHEMA, ...mine.map((f) => f.remediation.sql!));
    try {
      const after = await auditSession(session, options);
      expect(objectsOf(after.findings, ID)).toEqual([]);
    } finally {
      await session.close();
    }
  });
});
