import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Report } from '../../src/model/report.ts';
import { runCli, type CliRun } from '../support/cli.ts';

const out = mkdtempSync(join(tmpdir(), 'supaudit-out-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The demo project, audited once through the real CLI: text on stdout, JSON in --out. */
describe('supaudit --demo', () => {
  let run: CliRun;
  let report: Report;
  beforeAll(async () => {
    run = await runCli(['--demo', '--format', 'text', '--format', 'json', '--out', out, '--fail-on', 'critical']);
    report = JSON.parse(readFileSync(join(out, 'supaudit.json'), 'utf8')) as Report;
  }, 180_000);

  test('exit code 1 with --fail-on critical (the demo has critical findings), and says why', () => {
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/supaudit: \d+ findings? at or above critical \(--fail-on critical\)/);
  });

  test('the JSON report follows the contract', () => {
    expect(report.schemaVersion).toBe(1);
    expect(report.tool).toEqual({ name: 'supaudit', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(report.target).toMatchObject({ kind: 'demo', database: 'postgres', serverVersion: expect.stringMatching(/^PostgreSQL 18\./) });
    expect(Object.keys(report.summary)).toEqual(['critical', 'high', 'medium', 'low', 'info']);
    expect(report.summary.critical).toBe(report.findings.filter((f) => f.level === 'critical').length);
    expect(report.stats.queries).toBeGreaterThan(0);
    // 12 catalog areas in one transaction, then storage/realtime rows and the definitions in a short second one.
    expect(report.stats.queries).toBeLessThanOrEqual(17);
    expect(report.exposedSchemas).toEqual({ schemas: ['public', 'graphql_public'], source: 'config.toml' });
    for (const f of report.findings) {
      expect(Object.keys(f)).toEqual(expect.arrayContaining(['check', 'level', 'fingerprint', 'title', 'message', 'object', 'roles', 'remediation', 'docs']));
      expect(f.fingerprint.startsWith(`${f.check}:${f.object.schema}.${f.object.name}`)).toBe(true);
    }
    const order = report.findings.map((f) => ['critical', 'high', 'medium', 'low', 'info'].indexOf(f.level));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  test('the planted issue-2 flaws are each reported on the right object', () => {
    const got = new Set(report.findings.map((f) => `${f.check}:${f.object.schema}.${f.object.name}`));
    for (const expected of [
      'rls_disabled_in_public:public.payment_methods',
      'rls_disabled_in_public:public.invitations',
      'rls_disabled_in_public:public.activity_feed',
      'policy_exists_rls_disabled:public.invitations',
      'rls_enabled_no_policy:public.stripe_events',
      'sensitive_columns_exposed:public.payment_methods',
      'sensitive_columns_exposed:public.invitations',
      'security_definer_view:public.project_task_counts',
      'security_definer_view:public.member_directory',
      'auth_users_exposed:public.member_directory',
      'function_search_path_mutable:public.set_updated_at',
    ]) {
      expect(got, expected).toContain(expected);
    }
    // Near misses planted as OK(...) in the migrations.
    expect(got).not.toContain('security_definer_view:public.my_tasks');
    expect(got).not.toContain('sensitive_columns_exposed:public.integrations');
    for (const fn of ['handle_new_user', 'project_progress', 'search_users']) expect(got).not.toContain(`function_search_path_mutable:public.${fn}`);
  });

  test('the text report is on stdout, plain (NO_COLOR), with the summary and the fix SQL', () => {
    expect(run.stdout).toMatch(/^supaudit \d+\.\d+\.\d+ — bundled demo project/);
    expect(run.stdout).toMatch(/Summary: \d+ critical · \d+ high · \d+ medium · \d+ low · \d+ info/);
    expect(run.stdout).toContain('fix: ALTER TABLE public.payment_methods ENABLE ROW LEVEL SECURITY;');
    expect(run.stdout).not.toContain('\u001b[');
  });

  test('--fail-on none exits 0 on the same findings', async () => {
    const again = await runCli(['--demo', '--format', 'json', '--out', '-', '--fail-on', 'none', '--quiet']);
    expect(again.code).toBe(0);
    const parsed = JSON.parse(again.stdout) as Report;
    expect(parsed.findings.map((f) => f.fingerprint)).toEqual(report.findings.map((f) => f.fingerprint));
  }, 180_000);
});
