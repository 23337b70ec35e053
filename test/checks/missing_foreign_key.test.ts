import { describe, expect, it } from 'vitest';
import check from '../../checks/missing_foreign_key.ts';
import { auditOn, auditSession, loadOn, objectsOf, testEngines } from '../support/audit.ts';

const ID = 'missing_foreign_key';
const options = { checks: [check] };

const SCHEMA = `
create table public.teams (id uuid primary key default gen_random_uuid());
create table public.organizations (id bigint primary key);
create table public.workspaces (id text primary key);

-- near misses
create table public.with_fk (id bigint primary key, user_id uuid references auth.users (id));
create table public.members (team_id uuid references public.teams (id), user_id uuid references auth.users (id), primary key (team_id, user_id));
create table public.member_rows (team_id uuid, user_id uuid, foreign key (team_id, user_id) references public.members (team_id, user_id));
create table public.prefs (id bigint primary key, sort_by text, order_by text, settings jsonb, user_ids uuid[]);
create table public.json_owner (id bigint primary key, user_id jsonb);
create table auth.owned_things (user_id uuid);
create table public.parted (id bigint not null, user_id uuid references auth.users (id)) partition by range (id);
create table public.parted_1 partition of public.parted for values from (0) to (100);

-- positives
create table public.notifications (id bigint primary key, user_id uuid not null);
alter table public.notifications enable row level security;
create policy "Users read their notifications" on public.notifications for select to authenticated using ((select auth.uid()) = user_id);
create table public.docs (
  id bigint primary key, owner_id uuid, team_id uuid, org_id bigint, workspace_id uuid, tenant_id int, approved_by uuid, created_by text
);
create table public."My Table" (id bigint primary key, "User_Id" uuid);
`;

describe.each(testEngines())('missing_foreign_key on %s', (engine) => {
  it('finds nothing in an empty schema', async () => {
    const { findings } = await auditOn(engine, 'select 1;', options);
    expect(objectsOf(findings, ID)).toEqual([]);
  });

  it('reports owner and tenant columns without a key, guesses the target, and the fixes clear them', async () => {
    const { findings } = await auditOn(engine, SCHEMA, options);
    const mine = findings.filter((f) => f.check === ID);
    expect(objectsOf(findings, ID)).toEqual(
      [
        'public.My Table.User_Id',
        'public.docs.approved_by',
        'public.docs.created_by',
        'public.docs.org_id',
        'public.docs.owner_id',
        'public.docs.team_id',
        'public.docs.tenant_id',
        'public.docs.workspace_id',
        'public.notifications.user_id',
      ].sort(),
    );
    const of = (table: string, column: string) => mine.find((f) => f.object.name === table && f.object.column === column)!;
    // Named with the policies that trust it, and medium all the same: integrity, not access.
    expect(of('notifications', 'user_id').level).toBe('medium');
    expect(of('notifications', 'user_id').message).toContain('"Users read their notifications"');
    expect(mine.every((f) => f.level === 'medium')).toBe(true);
    expect(of('notifications', 'user_id').remediation.sql).toBe(
      'ALTER TABLE public.notifications ADD CONSTRAINT notifications_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users (id) NOT VALID;\n' +
        'ALTER TABLE public.notifications VALIDATE CONSTRAINT notifications_user_id_fkey;',
    );
    expect(of('My Table', 'User_Id').remediation.sql).toBe(
      'ALTER TABLE public."My Table" ADD CONSTRAINT "My Table_User_Id_fkey" FOREIGN KEY ("User_Id") REFERENCES auth.users (id) NOT VALID;\n' +
        'ALTER TABLE public."My Table" VALIDATE CONSTRAINT "My Table_User_Id_fkey";',
    );
    expect(of('docs', 'team_id').remediation.sql).toContain('FOREIGN KEY (team_id) REFERENCES public.teams (id) NOT VALID;');
    expect(of('docs', 'org_id').remediation.sql).toContain('FOREIGN KEY (org_id) REFERENCES public.organizations (id) NOT VALID;');
    expect(of('docs', 'approved_by').remediation.sql).toContain('REFERENCES auth.users (id)');
    // No table with a key of the same type to point at: advice only.
    for (const column of ['workspace_id', 'tenant_id', 'created_by']) expect(of('docs', column).remediation.sql).toBeUndefined();

    const sql = mine.flatMap((f) => (f.remediation.sql ? [f.remediation.sql] : []));
    const byHand = 'alter table public.docs drop column workspace_id, drop column tenant_id, drop column created_by;';
    const session = await loadOn(engine, SCHEMA, ...sql, byHand);
    try {
      const after = await auditSession(session, options);
      expect(objectsOf(after.findings, ID)).toEqual([]);
    } finally {
      await session.close();
    }
  });
});
