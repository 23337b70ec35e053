/**
 * The cases splinter's own lint tests build where supaudit used to differ, as classes on real
 * Postgres: Realtime Authorization policies are the app's policies; a security_invoker view over
 * auth.users is judged by what the caller can read there; an explicitly empty pgrst.db_schemas
 * exposes nothing.
 */
import { describe, expect, it } from 'vitest';
import authRlsInitplan from '../../checks/auth_rls_initplan.ts';
import authUsersExposed from '../../checks/auth_users_exposed.ts';
import foreignTableInApi from '../../checks/foreign_table_in_api.ts';
import rlsDisabledInPublic from '../../checks/rls_disabled_in_public.ts';
import rlsPolicyAlwaysTrue from '../../checks/rls_policy_always_true.ts';
import { auditSession, loadOn, objectsOf, outcomeAs, queryAs, testEngines } from '../support/audit.ts';

describe.each(testEngines())('splinter-suite classes on %s', (engine) => {
  it('policies on realtime.messages (Realtime Authorization) are analysed like the app tables', async () => {
    const session = await loadOn(
      engine,
      `create policy "realtime_check" on realtime.messages for insert to authenticated with check ('foo' = auth.role());
       create policy "send anywhere" on realtime.messages for insert to authenticated with check (true);
       create policy "members listen" on realtime.messages for select to authenticated
         using ((select realtime.topic()) = 'room:' || (select auth.uid())::text);`,
    );
    try {
      // the policies apply to authenticated: RLS is on and the role holds INSERT, as on hosted projects
      expect(await outcomeAs(session, 'authenticated', 'select count(*) from realtime.messages')).toBe('ok');
      const { findings } = await auditSession(session, { checks: [authRlsInitplan, rlsPolicyAlwaysTrue] });
      expect(objectsOf(findings, 'auth_rls_initplan')).toEqual(['realtime.messages:realtime_check']);
      expect(objectsOf(findings, 'rls_policy_always_true')).toEqual(['realtime.messages:send anywhere']);
    } finally {
      await session.close();
    }
  });

  it('a security_invoker view over auth.users: silent under RLS with no policy, low when only a grant is missing, high when readable', async () => {
    const VIEW = `create view public.accounts with (security_invoker = on) as select id, email from auth.users;
      insert into auth.users (id, email) values ('00000000-0000-0000-0000-00000000000a', 'a@example.com');`;
    const GRANT = `grant usage on schema auth to authenticated; grant select on auth.users to authenticated;`;
    const states: [string, string, string, string | null][] = [
      // hosted state: RLS on auth.users, no policy and no grant for the API roles
      ['hosted', '', '42501', null],
      // granted, RLS on, no policy: the view returns no row
      ['rls, no policy', GRANT, '0', null],
      ['readable', `${GRANT} alter table auth.users disable row level security;`, '1', 'high'],
      ['only a grant missing', `alter table auth.users disable row level security;`, '42501', 'low'],
    ];
    for (const [label, extra, outcome, level] of states) {
      const session = await loadOn(engine, VIEW, extra);
      try {
        const seen = await queryAs<{ n: number }>(session, 'authenticated', 'select count(*)::int as n from public.accounts').then(
          (rows) => String(rows[0]?.n),
          (error: { code?: string }) => String(error.code),
        );
        expect(seen, label).toBe(outcome);
        const { findings } = await auditSession(session, { checks: [authUsersExposed] });
        expect(findings.map((f) => f.level), label).toEqual(level ? [level] : []);
        if (level === 'low') expect(findings[0]?.message).toContain('one GRANT would expose every account');
      } finally {
        await session.close();
      }
    }
  });

  it('pgrst.db_schemas set to the empty string exposes nothing (said in a note); a list is taken as it is', async () => {
    const TABLE = `create table public.open_table (id bigint primary key);`;
    const setTo = (value: string) => `do $$ begin execute format('alter database %I set pgrst.db_schemas = %L', current_database(), '${value}'); end $$;`;
    const empty = await loadOn(engine, TABLE, setTo(''));
    try {
      const after = await auditSession(empty, { checks: [rlsDisabledInPublic, foreignTableInApi], exposedSchemas: [] });
      expect(after.snapshot.exposedSchemas).toEqual([]);
      expect(after.findings).toEqual([]);
      expect(after.snapshot.notes.map((n) => n.message).join('\n')).toContain('pgrst.db_schemas is set to the empty string');
    } finally {
      await empty.close();
    }
    const listed = await loadOn(engine, TABLE, setTo('public, api'));
    try {
      const { snapshot, findings } = await auditSession(listed, { checks: [rlsDisabledInPublic], exposedSchemas: [] });
      expect(snapshot.exposedSchemas).toEqual(['public', 'api']);
      expect(snapshot.exposedSchemasSource).toBe('pgrst.db_schemas');
      expect(objectsOf(findings, 'rls_disabled_in_public')).toEqual(['public.open_table']);
    } finally {
      await listed.close();
    }
  });
});
