/**
 * The CI workflow end to end, through the real CLI on a real Postgres server: write a baseline,
 * apply a migration that fixes one flaw and adds another, audit again against the baseline,
 * and compare the two JSON reports with `supaudit diff`.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ReportDiff } from '../../src/engine/diff.ts';
import type { Report } from '../../src/model/report.ts';
import { freshDatabase, runSql } from '../harness/db.ts';
import { realEngines } from '../support/audit.ts';
import { runCli, type CliRun } from '../support/cli.ts';

const BASE_SQL = readFileSync(new URL('../../src/introspect/targets/supabase-base.sql', import.meta.url), 'utf8');

const BEFORE = `
create table public.invoices (id bigint primary key, owner_id uuid not null, amount numeric not null);
grant select, insert, update, delete on public.invoices to anon, authenticated;
create table public.stripe_events (id bigint primary key, payload jsonb);
alter table public.stripe_events enable row level security;
grant select on public.stripe_events to anon, authenticated;
`;

/** The fix (invoices get RLS and an owner policy) and a new flaw (an API token table open to anon). */
const MIGRATION = `
alter table public.invoices enable row level security;
create index on public.invoices (owner_id);
create policy "owners read their invoices" on public.invoices for select to authenticated using (owner_id = (select auth.uid()));
create table public.api_tokens (id bigint primary key, token text not null);
grant select, insert, update, delete on public.api_tokens to anon, authenticated;
`;

const dir = mkdtempSync(join(tmpdir(), 'supaudit-ci-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function json<T>(path: string): T {
  return JSON.parse(readFileSync(join(dir, path), 'utf8')) as T;
}

describe('baseline, fix migration, diff: the nightly CI job on a real server', () => {
  let env: NodeJS.ProcessEnv;
  let write: CliRun;
  let unchanged: CliRun;
  let after: CliRun;
  let first: Report;
  let second: Report;
  const cli = (args: string[]) => runCli(args, { env, cwd: dir });

  beforeAll(async () => {
    const engine = realEngines()[0];
    if (!engine) throw new Error('no real Postgres cluster in this test run');
    const url = await freshDatabase(engine);
    await runSql(url, BASE_SQL);
    await runSql(url, BEFORE);
    env = { SUPABASE_DB_URL: url };
    write = await cli(['baseline', 'write', '--out-file', 'ci/supaudit.baseline.json']);
    await cli(['-f', 'json', '-o', 'before', '-q']);
    unchanged = await cli(['--baseline', 'ci/supaudit.baseline.json', '--fail-on', 'critical', '-o', 'unchanged', '-f', 'text', '-f', 'json']);
    await runSql(url, MIGRATION);
    after = await cli(['--baseline', 'ci/supaudit.baseline.json', '--fail-on', 'critical', '-f', 'text', '-f', 'json', '-o', 'after']);
    first = json<Report>('before/supaudit.json');
    second = json<Report>('after/supaudit.json');
  }, 240_000);

  test('baseline write: exit 0, sorted fingerprints of the findings', () => {
    expect(write.code).toBe(0);
    expect(write.stderr).toMatch(/^supaudit: wrote a baseline of \d+ findings to ci\/supaudit\.baseline\.json\n$/);
    const baseline = json<{ version: number; createdAt: string; fingerprints: string[] }>('ci/supaudit.baseline.json');
    expect(baseline.version).toBe(1);
    expect(baseline.fingerprints).toEqual([...baseline.fingerprints].sort());
    expect(baseline.fingerprints).toEqual([...first.findings.map((f) => f.fingerprint)].sort());
    expect(baseline.fingerprints).toContain('rls_disabled_in_public:public.invoices');
    expect(baseline.fingerprints).toContain('rls_enabled_no_policy:public.stripe_events');
  });

  test('only baseline findings remain: exit 0 with --fail-on critical, although a critical finding is there', () => {
    const report = json<Report>('unchanged/supaudit.json');
    expect(report.summary.critical).toBeGreaterThan(0);
    expect(report.baseline).toEqual({ file: 'ci/supaudit.baseline.json', new: [], fixed: [] });
    expect(unchanged.stdout).toContain('Baseline: 0 new, 0 fixed since baseline');
    expect(unchanged.code).toBe(0);
  });

  test('after the migration: exit 1 only because of the new findings, "N new, M fixed since baseline"', () => {
    expect(second.baseline?.fixed).toContain('rls_disabled_in_public:public.invoices');
    expect(second.baseline?.new).toContain('rls_disabled_in_public:public.api_tokens');
    expect(second.baseline?.new.every((fp) => fp.includes('public.api_tokens') || fp.includes('public.invoices'))).toBe(true);
    const n = second.baseline!.new.length;
    const m = second.baseline!.fixed.length;
    expect(after.stdout).toContain(`Baseline: ${n} new, ${m} fixed since baseline (ci/supaudit.baseline.json)`);
    expect(after.stderr).toContain(`supaudit: ${n} new, ${m} fixed since baseline (ci/supaudit.baseline.json)`);
    const newCritical = second.findings.filter((f) => f.level === 'critical' && second.baseline!.new.includes(f.fingerprint));
    expect(newCritical.map((f) => f.fingerprint)).toContain('rls_disabled_in_public:public.api_tokens');
    expect(after.code).toBe(1);
    expect(after.stderr).toContain(`supaudit: ${newCritical.length} new finding${newCritical.length === 1 ? '' : 's'} at or above critical since the baseline (--fail-on critical)`);
  });

  test('supaudit diff: new and fixed lists and the score change per role', async () => {
    const text = await cli(['diff', 'before/supaudit.json', 'after/supaudit.json']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^supaudit diff before\/supaudit\.json → after\/supaudit\.json\n\d+ new, \d+ fixed, \d+ changed/);
    expect(text.stdout).toMatch(/New \(\d+\)\n(.*\n)*  CRITICAL rls_disabled_in_public  public\.api_tokens/);
    expect(text.stdout).toMatch(/Fixed \(\d+\)\n(.*\n)*  CRITICAL rls_disabled_in_public  public\.invoices/);

    const machine = await cli(['diff', 'before/supaudit.json', 'after/supaudit.json', '--format', 'json']);
    expect(machine.code).toBe(0);
    const diff = JSON.parse(machine.stdout) as ReportDiff;
    expect(diff.new.map((f) => f.fingerprint)).toEqual(expect.arrayContaining(['rls_disabled_in_public:public.api_tokens']));
    expect(diff.fixed.map((f) => f.fingerprint)).toEqual(expect.arrayContaining(['rls_disabled_in_public:public.invoices']));
    const score = (r: Report, role: string) => r.blastRadius.find((b) => b.role === role)!.score;
    const anon = diff.scores.find((s) => s.role === 'anon')!;
    expect(anon).toEqual({ role: 'anon', before: score(first, 'anon'), after: score(second, 'anon'), delta: Math.round((score(second, 'anon') - score(first, 'anon')) * 10) / 10 });
    const authenticated = diff.scores.find((s) => s.role === 'authenticated')!;
    expect(authenticated.before).toBe(score(first, 'authenticated'));
    expect(authenticated.after).toBe(score(second, 'authenticated'));
    expect(diff.scores.some((s) => s.delta !== 0)).toBe(true);
    const changedRole = diff.scores.find((s) => s.delta !== 0)!;
    const arrow = `${changedRole.before} → ${changedRole.after} (${changedRole.delta > 0 ? '+' : ''}${changedRole.delta})`;
    expect(text.stdout).toMatch(new RegExp(`\\n  ${changedRole.role} +${arrow.replace(/[()+.]/g, '\\$&')}\\n`));

    const failing = await cli(['diff', 'before/supaudit.json', 'after/supaudit.json', '--fail-on', 'critical', '--format', 'json']);
    expect(failing.code).toBe(1);
    expect(failing.stderr).toMatch(/^supaudit: \d+ new findings? at or above critical \(--fail-on critical\)\n$/);
    const reverse = await cli(['diff', 'after/supaudit.json', 'before/supaudit.json', '--fail-on', 'critical']);
    // Going back: invoices is open again, so a critical finding is new in that direction too.
    expect(reverse.code).toBe(1);
    const same = await cli(['diff', 'after/supaudit.json', 'after/supaudit.json', '--fail-on', 'info']);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('0 new, 0 fixed, 0 changed');
  });

  test('suppressions file through the CLI: live entry suppresses, expired one brings the finding back with a note', async () => {
    mkdirSync(join(dir, 'ignore'), { recursive: true });
    writeFileSync(
      join(dir, 'ignore/accepted.json'),
      JSON.stringify([
        { check: 'rls_disabled_in_public', object: 'public.api_*', reason: 'tokens are rotated hourly', by: 'sec-team', expires: '2999-12-31' },
        { fingerprint: 'rls_enabled_no_policy:public.stripe_events', reason: 'webhook table', expires: '2020-01-31' },
      ]),
    );
    writeFileSync(join(dir, 'supaudit.config.json'), JSON.stringify({ ignoreFile: 'ignore/accepted.json', failOn: 'critical' }));
    try {
      const run = await cli(['-f', 'json', '-o', '-', '-q']);
      const report = JSON.parse(run.stdout) as Report;
      expect(report.suppressed).toEqual([
        expect.objectContaining({ finding: expect.objectContaining({ fingerprint: 'rls_disabled_in_public:public.api_tokens' }), reason: 'tokens are rotated hourly', by: 'sec-team', expires: '2999-12-31', source: 'file' }),
      ]);
      expect(report.findings.map((f) => f.fingerprint)).not.toContain('rls_disabled_in_public:public.api_tokens');
      expect(report.findings.map((f) => f.fingerprint)).toContain('rls_enabled_no_policy:public.stripe_events');
      expect(report.notes).toContainEqual({
        area: 'suppressions',
        message: 'suppression for rls_enabled_no_policy:public.stripe_events expired on 2020-01-31 (reason: webhook table); the finding is reported again (ignore/accepted.json)',
      });
      expect(report.summary.critical).toBe(report.findings.filter((f) => f.level === 'critical').length);
      // failOn from the config: sensitive_columns_exposed on api_tokens is still critical and unsuppressed.
      const stillCritical = report.findings.filter((f) => f.level === 'critical');
      expect(run.code).toBe(stillCritical.length > 0 ? 1 : 0);
      const overridden = await cli(['-f', 'json', '-o', '-', '-q', '--fail-on', 'none']);
      expect(overridden.code).toBe(0);
    } finally {
      rmSync(join(dir, 'supaudit.config.json'));
    }
  });

  test('config and baseline errors: exit 2, one line naming the key and the file', async () => {
    writeFileSync(join(dir, '.supaudit.json'), JSON.stringify({ failOn: 'critical', exposedSchemas: ['public'] }));
    try {
      const bad = await cli([]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/^supaudit: error: \.supaudit\.json: unknown key "exposedSchemas"\n  hint: /);
    } finally {
      rmSync(join(dir, '.supaudit.json'));
    }
    const missing = await cli(['--baseline', 'nope.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('supaudit: error: baseline file not found: nope.json\n  hint: create it with: supaudit baseline write --out-file nope.json\n');
    writeFileSync(join(dir, 'broken.json'), '{"version": 1, "fingerprints": [1]}');
    const invalid = await cli(['--baseline', 'broken.json']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^supaudit: error: broken\.json: "fingerprints\[0\]" must be a string\n/);
    const notReport = await cli(['diff', 'broken.json', 'before/supaudit.json']);
    expect(notReport.code).toBe(2);
    expect(notReport.stderr).toMatch(/^supaudit: error: broken\.json is not a supaudit JSON report/);
  });

  test('in GitHub Actions: the job summary gets the Markdown report and stdout the annotations, once', async () => {
    const summary = join(dir, 'step-summary.md');
    writeFileSync(summary, '# earlier step\n');
    const actions = { ...env, GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary, CI: 'true' };
    const run = await runCli(['--baseline', 'ci/supaudit.baseline.json', '-f', 'json', '-o', 'gh', '-q'], { env: actions, cwd: dir });
    const written = readFileSync(summary, 'utf8');
    expect(written.startsWith('# earlier step\n')).toBe(true);
    expect(written).toMatch(/\d+ new, \d+ fixed since baseline/);
    expect(written).toContain('public.api_tokens');
    const annotations = run.stdout.split('\n').filter((l) => l.startsWith('::'));
    const report = json<Report>('gh/supaudit.json');
    expect(annotations.length).toBeGreaterThan(0);
    expect(annotations.some((l) => l.includes('rls_disabled_in_public') && l.includes('api_tokens'))).toBe(true);
    // -f github prints the same annotations itself: the Actions adapter does not print them a second time.
    const both = await runCli(['-f', 'github', '-o', '-', '-q'], { env: actions, cwd: dir });
    const lines = both.stdout.split('\n').filter((l) => l.includes('rls_disabled_in_public') && l.includes('api_tokens'));
    expect(lines).toHaveLength(1);
    expect(report.findings.length).toBeGreaterThan(0);
  });
});
