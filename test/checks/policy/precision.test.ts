/**
 * Precision of the write and always-true policy findings: a policy that no API request can meet
 * (only service_role, a role nobody becomes, RLS off, a command nobody is granted) opens nothing;
 * a missing WITH CHECK denies (Postgres skips the policy); admin- and service-gated writes are not
 * "rows written for others". Each claim about Postgres is checked on Postgres.
 */
import { describe, expect, it } from 'vitest';
import insertWithoutOwnerCheck from '../../../checks/insert_without_owner_check.ts';
import rlsPolicyAlwaysTrue from '../../../checks/rls_policy_always_true.ts';
import functionSearchPathMutable from '../../../checks/function_search_path_mutable.ts';
import authRlsInitplan from '../../../checks/auth_rls_initplan.ts';
import sensitiveColumnsExposed from '../../../checks/sensitive_columns_exposed.ts';
import { auditOn, auditSession, loadOn, objectsOf, outcomeAs, queryAs, TEST_USER, testEngines } from '../../support/audit.ts';

const SCHEMA = `
create function public.is_admin() returns boolean language sql stable security definer set search_path = '' as $$
  select coalesce((auth.jwt() -> 'app_metadata' ->> 'role') = 'admin', false)
$$;
create role ghost_role nologin;

-- positives
create table public.open_notes (id bigint primary key, user_id uuid not null, body text);
alter table public.open_notes enable row level security;
grant select, insert on public.open_notes to authenticated;
create policy "anyone inserts" on public.open_notes for insert to authenticated with check (true);
-- An ALL policy whose USING is tied to the owner and whose WITH CHECK says true: rows with any
-- values, not every row read and changed (medium, and its message says so).
create table public.org_tasks (id bigint primary key, user_id uuid not null, body text);
alter table public.org_tasks enable row level security;
grant select, insert, update, delete on public.org_tasks to authenticated;
create policy "own tasks" on public.org_tasks for all to authenticated using (user_id = (select auth.uid())) with check (true);
create table public.posts (id bigint primary key, user_id uuid not null, body text);
alter table public.posts enable row level security;
grant select, insert on public.posts to authenticated;
create policy "insert posts" on public.posts for insert to authenticated with check (body is not null);

-- near misses
create table public.service_only (id bigint primary key, user_id uuid, secret_token text);
alter table public.service_only enable row level security;
grant all on public.service_only to anon, authenticated, service_role;
create policy "service writes" on public.service_only for all to service_role using (true) with check (true);
create table public.ghostly (id bigint primary key, user_id uuid, email text);
alter table public.ghostly enable row level security;
grant all on public.ghostly to anon, authenticated, ghost_role;
create policy "ghost reads" on public.ghostly for all to ghost_role using (true) with check (true);
create table public.no_rls (id bigint primary key, user_id uuid);
create policy "dead policy" on public.no_rls for insert to authenticated with check (true);
create table public.read_only (id bigint primary key, user_id uuid, phone text);
alter table public.read_only enable row level security;
revoke all on public.read_only from anon, authenticated;
grant select on public.read_only to authenticated;
create policy "delete all" on public.read_only for delete to authenticated using (true);
create table public.no_check (id bigint primary key, user_id uuid not null);
alter table public.no_check enable row level security;
grant select, insert on public.no_check to anon, authenticated;
create policy "insert without check" on public.no_check for insert to public;
create table public.gated (id bigint primary key, user_id uuid not null, body text);
alter table public.gated enable row level security;
grant select, insert, update on public.gated to authenticated;
create policy "service inserts" on public.gated for insert to authenticated with check ((select auth.role()) = 'service_role');
create policy "admins update" on public.gated for update to authenticated using ((select public.is_admin())) with check ((select public.is_admin()));
create policy "claim admins insert" on public.gated for insert to authenticated with check ((auth.jwt() -> 'app_metadata' ->> 'role') = 'admin' and body is not null);
create table public.tracked (id bigint primary key, created_by uuid, body text);
alter table public.tracked enable row level security;
create function public.set_created_by() returns trigger language plpgsql as $$
begin
  new.created_by := auth.uid();
  return new;
end $$;
create trigger tracked_created_by before insert on public.tracked for each row execute function public.set_created_by();
create policy "insert tracked" on public.tracked for insert to authenticated with check (body is not null);
create policy "read tracked" on public.tracked for select to authenticated using (created_by = (select auth.uid()));
create schema private;
create table private.drafts (id bigint primary key, user_id uuid not null, body text);
alter table private.drafts enable row level security;
grant usage on schema private to authenticated;
grant all on private.drafts to authenticated;
create policy "insert drafts" on private.drafts for insert to authenticated with check (body is not null);
create table public.blog_posts (id bigint primary key, author_id uuid not null, body text);
alter table public.blog_posts enable row level security;
grant select, insert, update on public.blog_posts to anon, authenticated;
create policy "authors insert" on public.blog_posts for insert with check (auth.uid() = author_id or auth.role() = 'service_role');
create policy "authors or admins update" on public.blog_posts for update using (auth.uid() = author_id or public.is_admin()) with check (auth.uid() = author_id or public.is_admin());
`;

describe.each(testEngines())('policy precision on %s', (engine) => {
  it('reports what a request can reach, and nothing for policies that cannot matter or deny', async () => {
    const session = await loadOn(engine, SCHEMA);
    try {
      const { findings, report } = await auditSession(session, { checks: [rlsPolicyAlwaysTrue, insertWithoutOwnerCheck] });
      const alwaysTrue = findings.filter((f) => f.check === 'rls_policy_always_true');
      expect(alwaysTrue.map((f) => [`${f.object.name}:${f.object.policy}`, f.level, f.roles])).toEqual([
        // INSERT alone adds rows (junk, a forged author): medium.
        ['open_notes:anyone inserts', 'medium', ['authenticated']],
        ['org_tasks:own tasks', 'medium', ['authenticated']],
        // Latent: nobody holds DELETE today; reported low, so that a later GRANT does not open it silently.
        ['read_only:delete all', 'low', ['authenticated']],
      ]);
      expect(alwaysTrue.find((f) => f.object.name === 'org_tasks')!.message).toMatch(
        /^policy "own tasks" on public\.org_tasks has a WITH CHECK that is true for every row \(its USING is not\), so authenticated can insert rows with any values and set any values \(another owner, another tenant\) on the rows its USING lets them change/,
      );
      expect(objectsOf(findings, 'insert_without_owner_check')).toEqual(['public.posts:insert posts']);
      // The blast radius agrees: an INSERT policy without WITH CHECK lets nobody in.
      // Listed tables are the ones a role reaches: no_check (its only policy has no WITH CHECK) and the
      // tables only service_role or ghost_role policies open are not among them, open_notes is, for insert.
      for (const role of ['anon', 'authenticated']) {
        const tables = report.blastRadius.find((b) => b.role === role)!.tables;
        expect(tables.find((t) => t.name === 'no_check')?.insert ?? false, role).toBe(false);
        expect(tables.find((t) => t.name === 'service_only')?.insert ?? false, role).toBe(false);
        expect(tables.find((t) => t.name === 'ghostly')?.select ?? false, role).toBe(false);
      }
      expect(report.blastRadius.find((b) => b.role === 'authenticated')!.tables.find((t) => t.name === 'open_notes')?.insert).toBe(true);
      // What those claims rest on, in Postgres itself.
      expect(await outcomeAs(session, 'authenticated', "insert into public.no_check values (1, '00000000-0000-0000-0000-000000000001')")).toBe('42501');
      expect(await outcomeAs(session, 'anon', "insert into public.no_check values (1, '00000000-0000-0000-0000-000000000001')")).toBe('42501');
      expect(await outcomeAs(session, 'authenticated', "insert into public.gated values (1, '00000000-0000-0000-0000-000000000001', 'x')")).toBe('42501');
      expect(await outcomeAs(session, 'authenticated', 'delete from public.read_only')).toBe('42501');
      // The service_role arm is no way in for a user: a post in someone else's name is refused.
      expect(await outcomeAs(session, 'authenticated', "insert into public.blog_posts values (1, '00000000-0000-0000-0000-000000000002', 'x')")).toBe('42501');
      expect(await outcomeAs(session, 'authenticated', "insert into public.open_notes values (1, '00000000-0000-0000-0000-000000000002', 'x')")).toBe('ok');
      // The trigger overwrites whatever owner the caller sends: the row is the caller's.
      expect(await queryAs(session, 'authenticated', "insert into public.tracked values (1, '00000000-0000-0000-0000-000000000002', 'x') returning created_by")).toEqual([{ created_by: TEST_USER }]);
    } finally {
      await session.close();
    }
  });

  it('a SECURITY DEFINER trigger function without search_path is medium (not callable through the API); one a SQL login can call is high', async () => {
    const login = `supaudit_reporter_${Date.now() % 1000000}`;
    const session = await loadOn(
      engine,
      `create role ${login} login;
       create table public.profiles (id uuid primary key, name text);
       create function public.handle_new_user() returns trigger language plpgsql security definer as $$
       begin insert into public.profiles (id) values (new.id); return new; end $$;
       create trigger on_auth_user_created after insert on auth.users for each row execute function public.handle_new_user();
       create function public.profile_count() returns bigint language sql security definer as $$ select count(*) from public.profiles $$;`,
    );
    try {
      const { findings } = await auditSession(session, { checks: [functionSearchPathMutable] });
      expect(findings.map((f) => [f.object.name, f.level])).toEqual([
        ['profile_count', 'high'],
        ['handle_new_user', 'medium'],
      ]);
      // Postgres agrees that the trigger function cannot be called directly (the API's /rpc would do exactly this).
      expect(await outcomeAs(session, 'authenticated', 'select public.handle_new_user()')).toBe('0A000');
    } finally {
      await session.exec(`begin; drop role ${login}; commit`).catch(() => undefined);
      await session.close();
    }
  });

  it('auth_rls_initplan is not reported for the policies of a table with RLS off (never evaluated)', async () => {
    const { findings } = await auditOn(
      engine,
      `create table public.off (id bigint primary key, user_id uuid);
       create policy "own" on public.off for select using (auth.uid() = user_id);
       create table public.on_ (id bigint primary key, user_id uuid);
       alter table public.on_ enable row level security;
       create policy "own" on public.on_ for select using (auth.uid() = user_id);`,
      { checks: [authRlsInitplan] },
    );
    expect(objectsOf(findings, 'auth_rls_initplan')).toEqual(['public.on_:own']);
  });
});

describe.each(testEngines())('credentials in shared rows (%s)', (engine) => {
  it('a key column in rows a policy shares with other users is high; owner-only rows and personal data are not', async () => {
    const session = await loadOn(
      engine,
      `create table public.models (id bigint primary key, user_id uuid not null, name text, api_key text, sharing text not null default 'private');
       alter table public.models enable row level security;
       create policy "own models" on public.models using (user_id = auth.uid()) with check (user_id = auth.uid());
       create policy "shared models" on public.models for select using (sharing <> 'private');
       create table public.keys (id bigint primary key, user_id uuid not null, api_key text);
       alter table public.keys enable row level security;
       create policy "own keys" on public.keys for select using (user_id = (select auth.uid()));
       create table public.people (id bigint primary key, email text, phone text);
       alter table public.people enable row level security;
       create policy "directory" on public.people for select using (true);
       insert into public.models values (1, '00000000-0000-0000-0000-000000000002', 'gpt', 'sk-shared', 'public');`,
    );
    try {
      const { findings } = await auditSession(session, { checks: [sensitiveColumnsExposed] });
      expect(findings.map((f) => [f.object.name, f.level, f.roles.join()])).toEqual([['models', 'high', 'anon,authenticated']]);
      // Postgres agrees: a signed-in stranger (and anon) reads the shared model's key.
      expect(await queryAs(session, 'anon', 'select api_key from public.models')).toEqual([{ api_key: 'sk-shared' }]);
      const fix = findings[0]!.remediation.sql!;
      await session.exec('begin');
      try {
        await session.exec(fix);
        await session.exec('commit');
      } catch (error) {
        await session.exec('rollback');
        throw error;
      }
      expect(await outcomeAs(session, 'anon', 'select api_key from public.models')).toBe('42501');
      expect(await queryAs(session, 'anon', 'select name from public.models')).toEqual([{ name: 'gpt' }]);
    } finally {
      await session.close();
    }
  });
});
