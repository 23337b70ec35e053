/**
 * The parsed-policy checks on real Postgres (PG 15, 17, 18): empty schema, the shared fixture
 * (positives next to near misses, with nested, aliased, schema-qualified and quoted identifiers),
 * and the emitted fix SQL applied for real, after which the findings are gone.
 *
 * One file for the nine checks because they share one fixture and one audit per engine (loading
 * it per check would triple the suite's time); each check has its own describe block.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import auth_rls_initplan from '../../../checks/auth_rls_initplan.ts';
import insert_without_owner_check from '../../../checks/insert_without_owner_check.ts';
import multiple_permissive_policies from '../../../checks/multiple_permissive_policies.ts';
import policy_join_slow_shape from '../../../checks/policy_join_slow_shape.ts';
import policy_role_unrestricted from '../../../checks/policy_role_unrestricted.ts';
import policy_unparseable from '../../../checks/policy_unparseable.ts';
import rls_policy_always_true from '../../../checks/rls_policy_always_true.ts';
import rls_references_user_metadata from '../../../checks/rls_references_user_metadata.ts';
import unindexed_policy_column from '../../../checks/unindexed_policy_column.ts';
import type { Finding } from '../../../src/model/finding.ts';
import { evaluate } from '../../../src/engine/evaluate.ts';
import type { Session } from '../../../src/introspect/session.ts';
import { auditOn, auditSession, loadOn, queryAs, testEngines, type AuditOutcome, type Engine } from '../../support/audit.ts';
import { POLICY_FIXTURE } from './fixture.ts';

const checks = [
  auth_rls_initplan,
  unindexed_policy_column,
  rls_references_user_metadata,
  rls_policy_always_true,
  insert_without_owner_check,
  multiple_permissive_policies,
  policy_role_unrestricted,
  policy_join_slow_shape,
  policy_unparseable,
];
const options = { checks, exposedSchemas: ['public', 'App Data'] };

const of = (findings: readonly Finding[], check: string) =>
  findings
    .filter((f) => f.check === check)
    .map((f) => `${f.level} ${f.fingerprint.slice(check.length + 1)}`)
    .sort();
const find = (findings: readonly Finding[], fp: string) => findings.find((f) => f.fingerprint === fp);

/** Rows visible to a signed-in user (claims as PostgREST sets them), in a rolled-back transaction. */
async function visibleAs(session: Session, sub: string, table: string): Promise<number> {
  const [row] = await queryAs<{ n: string | number }>(session, 'authenticated', `select count(*) as n from ${table}`, sub);
  return Number(row!.n);
}

describe.each(testEngines())('parsed-policy checks on %s', (engine: Engine) => {
  let outcome: AuditOutcome;
  beforeAll(async () => {
    outcome = await auditOn(engine, POLICY_FIXTURE, options);
  }, 180_000);

  it('find nothing in an empty schema', async () => {
    const { findings } = await auditOn(engine, 'select 1;', options);
    expect(findings.map((f) => f.fingerprint)).toEqual([]);
  });

  describe('auth_rls_initplan', () => {
    it('reports per-row calls at any depth, in quoted and schema-qualified tables, and not wrapped ones', () => {
      expect(of(outcome.findings, 'auth_rls_initplan')).toEqual([
        'medium App Data.Project Docs.owner reads',
        'medium App Data.Project Docs.team reads',
        'medium public.admin_things.by_claim',
        'medium public.posts.posts_anonymous_branch',
      ]);
      const nested = find(outcome.findings, 'auth_rls_initplan:App Data.Project Docs.team reads')!;
      expect(nested.remediation.sql).toBe(
        'ALTER POLICY "team reads" ON "App Data"."Project Docs" USING (EXISTS (SELECT 1 FROM public.team_members AS tm WHERE tm.team_id = "Project Docs".team_id AND tm.user_id = ((SELECT auth.uid()))));',
      );
    });
  });

  describe('unindexed_policy_column', () => {
    it('reports filtered and joined columns without a serving index, on the policy table and on subquery tables', () => {
      expect(of(outcome.findings, 'unindexed_policy_column')).toEqual([
        'info App Data.Project Docs.Owner Id',
        'info App Data.Project Docs.team_id',
        'info public.docs.user_id',
        'info public.files.team_id',
        'info public.team_members.team_id',
        'info public.team_members.user_id',
      ]);
      // The partial index (where deleted_at is null) serves docs_live, which implies it, not docs_any.
      expect(find(outcome.findings, 'unindexed_policy_column:public.docs.user_id')?.evidence?.['policies']).toEqual(['public.docs: docs_any']);
      expect(find(outcome.findings, 'unindexed_policy_column:public.team_members.user_id')?.evidence?.['policies']).toHaveLength(4);
      expect(find(outcome.findings, 'unindexed_policy_column:App Data.Project Docs.Owner Id')?.remediation.sql).toBe(
        'CREATE INDEX CONCURRENTLY "Project Docs_Owner Id_idx" ON "App Data"."Project Docs" USING btree ("Owner Id");',
      );
    });

    it('counts an expression index only while the policy uses its expression', async () => {
      const sql = `${POLICY_FIXTURE}\ndrop index public.docs_lower_email_idx;\ncreate index docs_upper_email_idx on public.docs (upper(email));`;
      const { findings } = await auditOn(engine, sql, { ...options, checks: [unindexed_policy_column] });
      const finding = find(findings, 'unindexed_policy_column:public.docs.email:lower(email)');
      expect(finding?.evidence?.['policies']).toEqual(['public.docs: docs_email']);
      expect(finding?.remediation.sql).toBe('CREATE INDEX CONCURRENTLY docs_email_expr_idx ON public.docs USING btree ((lower(email)));');
      expect(of(findings, 'unindexed_policy_column')).not.toContain('info public.docs.email');
    });

    it('grows with the row estimate', async () => {
      const sql = `create table public.big (id bigint primary key, user_id uuid);
        insert into public.big select g, gen_random_uuid() from generate_series(1, 12000) g;
        analyze public.big;
        alter table public.big enable row level security;
        create policy big_own on public.big for select to authenticated using ((select auth.uid()) = user_id);`;
      const { findings } = await auditOn(engine, sql, { ...options, checks: [unindexed_policy_column] });
      expect(of(findings, 'unindexed_policy_column')).toEqual(['medium public.big.user_id']);
    });
  });

  describe('rls_references_user_metadata', () => {
    it('reports user_metadata read through ->, #>> and jsonb_extract_path on auth.users, not app_metadata', () => {
      expect(of(outcome.findings, 'rls_references_user_metadata')).toEqual([
        'high public.admin_things.meta_arrow',
        'high public.admin_things.meta_path',
        'high public.admin_things.meta_users',
      ]);
    });
  });

  describe('rls_policy_always_true', () => {
    it('reports always-true shapes by AST and grades them; public reads of a table without sensitive columns and restrictive policies are silent', () => {
      expect(of(outcome.findings, 'rls_policy_always_true')).toEqual([
        'high public.customers.customers_public',
        'high public.posts.posts_anonymous_branch',
        'high public.posts.posts_anyone_updates',
        'low public.announcements.announcements_signed_in',
        // INSERT alone adds rows (junk, a forged author): medium.
        'medium public.posts.posts_insert',
      ]);
      expect(find(outcome.findings, 'rls_policy_always_true:public.posts.posts_anonymous_branch')?.remediation.sql).toBe('ALTER POLICY posts_anonymous_branch ON public.posts TO authenticated;');
    });
  });

  describe('insert_without_owner_check', () => {
    it('reports writes not tied to the caller; owner and membership ties are silent', () => {
      expect(of(outcome.findings, 'insert_without_owner_check')).toEqual([
        'high public.orders.orders_insert_any',
        'medium public.admin_things.meta_arrow',
        'medium public.admin_things.meta_users',
      ]);
    });
  });

  describe('multiple_permissive_policies', () => {
    it('expands PUBLIC and ALL, ignores restrictive policies', () => {
      expect(of(outcome.findings, 'multiple_permissive_policies')).toEqual([
        'low App Data.Project Docs:authenticated.select',
        'low public.orders:authenticated.insert',
        'low public.tasks:authenticated.select',
      ]);
      expect(find(outcome.findings, 'multiple_permissive_policies:public.tasks:authenticated.select')?.evidence?.['policies']).toEqual(['tasks_manage', 'tasks_read_own']);
    });
  });

  describe('policy_role_unrestricted', () => {
    it('reports PUBLIC policies that need a signed-in user', () => {
      expect(of(outcome.findings, 'policy_role_unrestricted')).toEqual(['low public.files.files_owner', 'low public.tasks.tasks_manage']);
    });
  });

  describe('policy_join_slow_shape', () => {
    it('reports OR with a subquery, unindexed correlated subqueries and per-row invoker helpers reading RLS tables', () => {
      expect(of(outcome.findings, 'policy_join_slow_shape')).toEqual([
        'medium App Data.Project Docs.team reads',
        'medium public.files.files_helper_per_row',
        'medium public.files.files_owner_or_team',
        'medium public.orders.orders_insert_team',
      ]);
      // An uncorrelated (select helper()) runs once: not reported.
      expect(find(outcome.findings, 'policy_join_slow_shape:public.files.files_via_helper')).toBeUndefined();
    });
  });

  describe('policy_unparseable', () => {
    it('is silent when every policy parses (Postgres wrote the text)', () => {
      expect(of(outcome.findings, 'policy_unparseable')).toEqual([]);
    });

    it('reports text the parser rejects (e.g. syntax newer than the bundled parser) instead of crashing the other checks', () => {
      const snapshot = {
        ...outcome.snapshot,
        policies: outcome.snapshot.policies.map((p) => (p.name === 'notes_owner' ? { ...p, using: 'user_id = ANY (SELECT FROM WHERE))' } : p)),
      };
      const { findings, errors } = evaluate(snapshot, checks);
      expect(errors).toEqual([]);
      expect(of(findings, 'policy_unparseable')).toEqual(['low public.notes.notes_owner:using']);
      expect(find(findings, 'policy_unparseable:public.notes.notes_owner:using')?.message).toMatch(/syntax error/);
      // The other checks still run on every other policy.
      expect(of(findings, 'auth_rls_initplan')).toEqual(of(outcome.findings, 'auth_rls_initplan'));
    });
  });

  it('the fix SQL, applied for real, clears the findings and keeps what each user sees', async () => {
    const fixable = outcome.findings.filter((f) => f.remediation.sql);
    const fixedChecks = ['auth_rls_initplan', 'unindexed_policy_column', 'policy_role_unrestricted', 'rls_policy_always_true', 'insert_without_owner_check'];
    for (const id of fixedChecks) expect(fixable.some((f) => f.check === id), id).toBe(true);
    // CREATE INDEX CONCURRENTLY cannot run in a transaction block: one statement per load.
    const statements = fixable.filter((f) => fixedChecks.includes(f.check)).flatMap((f) => f.remediation.sql!.split('\n'));
    const seedDocs = `insert into auth.users (id) values ('00000000-0000-0000-0000-00000000000a'), ('00000000-0000-0000-0000-00000000000b');
      insert into "App Data"."Project Docs" values (1, '00000000-0000-0000-0000-00000000000a', null, 'a'), (2, '00000000-0000-0000-0000-00000000000b', null, 'b');`;
    const before = await loadOn(engine, POLICY_FIXTURE, seedDocs);
    const after = await loadOn(engine, POLICY_FIXTURE, seedDocs, ...statements);
    try {
      const fixed = await auditSession(after, options);
      const fixedPrints = new Set(fixed.findings.map((f) => f.fingerprint));
      const stillThere = fixable.filter((f) => fixedChecks.includes(f.check) && fixedPrints.has(f.fingerprint)).map((f) => f.fingerprint);
      expect(stillThere).toEqual([]);
      for (const sub of ['00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-00000000000b']) {
        const seen = await visibleAs(before, sub, '"App Data"."Project Docs"');
        expect(seen).toBe(1);
        expect(await visibleAs(after, sub, '"App Data"."Project Docs"')).toBe(seen);
      }
    } finally {
      await before.close();
      await after.close();
    }
  });
});
