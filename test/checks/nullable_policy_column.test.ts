import { describe, expect, it } from 'vitest';
import check from '../../checks/nullable_policy_column.ts';
import { auditOn, auditSession, loadOn, objectsOf, testEngines } from '../support/audit.ts';

const ID = 'nullable_policy_column';
const options = { checks: [check] };

const SCHEMA = `
create table public.org_members (organization_id uuid not null, user_id uuid not null, primary key (organization_id, user_id));

-- near misses
create table public.owned (id bigint primary key, user_id uuid not null);
alter table public.owned enable row level security;
create policy "owner reads" on public.owned for select to authenticated using (user_id = (select auth.uid()));
create table public.tasks (id bigint primary key, assignee_id uuid, created_by uuid not null, team_id uuid, status text);
alter table public.tasks enable row level security;
create policy "assignee updates" on public.tasks for update to authenticated using (assignee_id = (select auth.uid()));
create policy "creator or team reads" on public.tasks for select to authenticated
  using (created_by = (select auth.uid()) or team_id in (select organization_id from public.org_members where user_id = (select auth.uid())));
create policy "open statuses" on public.tasks for select to authenticated using (status = 'open');

-- positives
create table public.comments (id bigint primary key, author_id uuid, body text);
alter table public.comments enable row level security;
create policy "authors delete" on public.comments for delete to authenticated using (author_id = auth.uid());
create policy "authors edit" on public.comments for update to authenticated using ((select auth.uid()) = author_id);
create table public.projects (id bigint primary key, organization_id uuid);
alter table public.projects enable row level security;
create policy "members read" on public.projects for select to authenticated
  using (organization_id in (select m.organization_id from public.org_members m where m.user_id = (select auth.uid())));
create table public."My Table" (id bigint primary key, "Owner Id" uuid);
alter table public."My Table" enable row level security;
create policy "mine" on public."My Table" for select to authenticated using ("Owner Id" = (select auth.uid()));
`;

describe.each(testEngines())('nullable_policy_column on %s', (engine) => {
  it('finds nothing in an empty schema', async () => {
    const { findings } = await auditOn(engine, 'select 1;', options);
    expect(objectsOf(findings, ID)).toEqual([]);
  });

  it('reports nullable columns that policies require to match the caller, and its fix SQL clears them', async () => {
    const { findings } = await auditOn(engine, SCHEMA, options);
    const mine = findings.filter((f) => f.check === ID);
    expect(mine.map((f) => f.fingerprint).sort()).toEqual(
      ['public.My Table.Owner Id', 'public.comments.author_id', 'public.projects.organization_id'].map((f) => `${ID}:${f}`),
    );
    expect(mine.every((f) => f.level === 'low')).toBe(true);
    const comments = mine.find((f) => f.object.name === 'comments')!;
    expect(comments.message).toContain('the policies "authors delete", "authors edit" scope rows by it');
    const quoted = mine.find((f) => f.object.name === 'My Table')!;
    expect(quoted.remediation.sql).toBe('ALTER TABLE public."My Table" ALTER COLUMN "Owner Id" SET NOT NULL;');
    expect(quoted.remediation.text).toContain(
      'ALTER TABLE public."My Table" ADD CONSTRAINT "My Table_Owner Id_not_null_check" CHECK ("Owner Id" IS NOT NULL) NOT VALID;',
    );

    const session = await loadOn(engine, SCHEMA, ...mine.map((f) => f.remediation.sql!));
    try {
      const after = await auditSession(session, options);
      expect(objectsOf(after.findings, ID)).toEqual([]);
    } finally {
      await session.close();
    }
  });
});
