/** Secrets never reach output: every reporter and every error path masks URLs' passwords, keys and JWTs. */
import { describe, expect, test } from 'vitest';
import { reporters } from '../../reports/index.ts';
import type { Report } from '../../src/model/report.ts';
import { redact, redactUrl } from '../../src/model/redact.ts';
import { cluster, realEnginesOrFail, urlOf } from '../harness/db.ts';
import { runCli } from '../support/cli.ts';

const PASSWORD = 'Sup3r-S3cret!pw';
const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJlLXRoYXQtaXMtbG9uZw';
const SB_KEY = 'sb_secret_abcdefghijklmnop1234';

function reportWithSecrets(): Report {
  const leak = `postgres://admin:${PASSWORD}@db.example.supabase.co:5432/postgres?sslmode=require token ${JWT} key ${SB_KEY}`;
  return {
    schemaVersion: 1,
    tool: { name: 'supaudit', version: '0.0.0' },
    target: { kind: 'url', database: 'postgres', serverVersion: 'PostgreSQL 15.8', description: leak },
    exposedSchemas: { schemas: ['public'], source: 'option' },
    summary: { critical: 1, high: 0, medium: 0, low: 0, info: 0 },
    findings: [
      {
        check: 'rls_disabled_in_public',
        level: 'critical',
        fingerprint: 'rls_disabled_in_public:public.t',
        title: 'RLS disabled',
        message: `a comment on the table says ${leak}`,
        object: { schema: 'public', name: 't', type: 'table' },
        roles: ['anon'],
        remediation: { text: `see ${leak}`, sql: `-- ${leak}\nALTER TABLE public.t ENABLE ROW LEVEL SECURITY;` },
        docs: 'checks/rls_disabled_in_public.md',
        evidence: { comment: leak },
      },
    ],
    suppressed: [],
    checks: [{ id: 'rls_disabled_in_public', title: 'RLS disabled', level: 'critical', category: 'security', description: `see ${leak}`, facing: 'external', docs: 'checks/rls_disabled_in_public.md' }],
    blastRadius: [],
    notes: [{ area: 'connection', message: leak }],
    checkErrors: [],
    stats: { durationMs: 1, queries: 1, introspectionMs: 1, checksMs: 1, checksRun: 1, objects: { relations: 1, policies: 0, functions: 0 } },
  };
}

describe('redaction', () => {
  test('redact masks URL passwords, JWTs, Supabase keys and key parameters', () => {
    expect(redact(`postgres://u:${PASSWORD}@h/db`)).toBe('postgres://u:***@h/db');
    expect(redact(`Bearer ${JWT}`)).toBe('Bearer eyJ***');
    expect(redact(`https://x.supabase.co/rest/v1/t?apikey=${SB_KEY}&x=1`)).toBe('https://x.supabase.co/rest/v1/t?apikey=***&x=1');
    expect(redact(`key ${SB_KEY}`)).toBe('key sb_***');
    expect(redactUrl(`postgresql://u:${encodeURIComponent(PASSWORD)}@h:6543/db?password=${PASSWORD}`)).not.toContain('S3cret');
  });

  test('no reporter prints a password, a JWT or a key', () => {
    const report = reportWithSecrets();
    for (const [name, reporter] of Object.entries(reporters)) {
      const out = reporter.render(report, { color: false });
      expect(out, name).not.toContain(PASSWORD);
      expect(out, name).not.toContain(JWT);
      expect(out, name).not.toContain(SB_KEY);
    }
  });
});

describe.each(realEnginesOrFail())('error paths never print the password (%s)', (engine) => {
  test('wrong password: one line, exit 2, and the typed password is nowhere', async () => {
    const info = cluster(engine);
    const url = urlOf(info, 'postgres', 'postgres', PASSWORD);
    const r = await runCli(['--db-url', url], { env: {} });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('supaudit: error: password authentication failed for user "postgres"');
    expect(r.stderr + r.stdout).not.toContain(PASSWORD);
    expect(r.stderr + r.stdout).not.toContain(encodeURIComponent(PASSWORD));
  });

  test('a database that does not exist, with the URL in the environment: no warning, no password', async () => {
    const info = cluster(engine);
    const url = urlOf(info, 'no_such_db', 'postgres', info.password);
    const r = await runCli([], { env: { SUPABASE_DB_URL: url } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`supaudit: error: database "no_such_db" does not exist on 127.0.0.1:${info.port}\n  hint: check the database name at the end of the URL\n`);
    expect(r.stderr).not.toContain(info.password);
  });

  test('the report of a successful audit never contains the password', async () => {
    const info = cluster(engine);
    const r = await runCli(['--format', 'json', '--out', '-', '--quiet'], { env: { DATABASE_URL: urlOf(info, 'postgres') } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`"description": "postgres://postgres:***@127.0.0.1:${info.port}/postgres"`);
    expect(r.stdout).not.toContain(info.password);
  });
});
