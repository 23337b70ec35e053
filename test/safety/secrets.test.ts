/** Secrets never reach output: every reporter and every error path masks URLs' passwords, keys and JWTs. */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Log } from 'sarif';
import { describe, expect, test } from 'vitest';
import { FORMAT_NAMES } from '../../reports/formats.ts';
import { reporters } from '../../reports/index.ts';
import type { Report } from '../../src/model/report.ts';
import { redact, redactUrl } from '../../src/model/redact.ts';
import { parseConnInfo } from '../../src/introspect/targets/conninfo.ts';
import { UserError } from '../../src/model/errors.ts';
import { cluster, freshDatabase, realEnginesOrFail, runSql, urlOf } from '../harness/db.ts';
import { runCli } from '../support/cli.ts';

const BASE = readFileSync(new URL('../../src/introspect/targets/supabase-base.sql', import.meta.url), 'utf8');
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

  test('a connection string that does not parse is never echoed, whatever the password holds', async () => {
    const hostile = 'p@ss:w/rd%?#&= xZ';
    const inputs = [
      `postgres://admin:${hostile}@db.example.com:5432/postgres`,
      `postgresql://admin:pa%zzss-${'Q'.repeat(6)}@db.example.com/postgres`,
      `postgres://admin:${hostile}@`,
      `host=db.example.com password='UNTERM${hostile}`,
      `just-a-password-${hostile}`,
    ];
    for (const input of inputs) {
      let error: unknown;
      try {
        parseConnInfo(input);
      } catch (e) {
        error = e;
      }
      expect(error, input).toBeInstanceOf(UserError);
      const text = `${(error as UserError).message} ${(error as UserError).hint ?? ''}`;
      for (const part of ['ss:w', 'xZ', 'rd%', 'zzss', 'QQQQQQ', 'UNTERM']) expect(text, input).not.toContain(part);
      const r = await runCli(['--db-url', input], { env: { CI: 'true' } });
      expect(r.code, input).toBe(2);
      expect(r.stderr.trimEnd().split('\n').length, input).toBeLessThanOrEqual(2);
      for (const part of ['ss:w', 'xZ', 'zzss', 'QQQQQQ']) expect(r.stderr, input).not.toContain(part);
    }
  });

  test('display is built from the parsed parts: a password equal to a common word rewrites nothing', () => {
    expect(parseConnInfo('postgres://postgres:postgres@127.0.0.1:5432/postgres').display).toBe('postgres://postgres:***@127.0.0.1:5432/postgres');
    expect(parseConnInfo("host=127.0.0.1 port=6432 user=admin password='a b\\'c' dbname=admin sslmode=disable").display).toBe('postgres://admin:***@127.0.0.1:6432/admin');
    expect(parseConnInfo("host=127.0.0.1 port=6432 user=admin password='a b\\'c' dbname=admin sslmode=disable").password).toBe("a b'c");
    expect(redact('ALTER TABLE public.admin_users ENABLE ROW LEVEL SECURITY;')).toBe('ALTER TABLE public.admin_users ENABLE ROW LEVEL SECURITY;');
    expect(() => parseConnInfo('postgres://u@h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem')).toThrow('cannot read sslrootcert "/nonexistent/ca.pem" (ENOENT)');
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

  test('an --api-url (or SUPABASE_URL) that is not a URL is not echoed: it is often a key pasted in the wrong place', async () => {
    const url = await freshDatabase(engine);
    const pasted = 'pasted-service-key-7f3a9c2e51';
    const flag = await runCli(['--db-url', url, '--api-url', pasted, '--anon-key', 'anon'], { env: { CI: 'true' } });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe('supaudit: error: --api-url is not a URL (its value is not shown)\n  hint: expected https://<project>.supabase.co\n');
    const env = await runCli(['--db-url', url, '--anon-key', 'anon'], { env: { CI: 'true', SUPABASE_URL: pasted } });
    expect(env.code).toBe(2);
    expect(env.stderr).toBe('supaudit: error: SUPABASE_URL is not a URL (its value is not shown)\n  hint: expected https://<project>.supabase.co\n');
    expect(flag.stdout + env.stdout).toBe('');
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

  test('keyword/value connection strings connect; a wrong password in one is never printed', async () => {
    const info = cluster(engine);
    const kv = (password: string) => `host=${info.host} port=${info.port} user=${info.superUser} password='${password.replaceAll("'", "\\'")}' dbname=postgres sslmode=disable`;
    const ok = await runCli(['--format', 'json', '--out', '-', '--quiet'], { env: { SUPABASE_DB_URL: kv(info.password) } });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`"description": "postgres://${info.superUser}:***@${info.host}:${info.port}/postgres"`);
    const wrong = await runCli(['--db-url', kv('p@ss:w/rd%?#&= xZ')], { env: {} });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain(`supaudit: error: password authentication failed for user "${info.superUser}"`);
    expect(wrong.stderr).not.toContain('xZ');
  });

  test('short passwords ("admin", "postgres") rewrite nothing: names, fix SQL and fingerprints are those of any other run', async () => {
    const info = cluster(engine);
    const url = await freshDatabase(engine);
    const database = new URL(url).pathname.slice(1);
    await runSql(url, BASE);
    await runSql(url, 'create table public.admin_users (id int primary key, email text); create table public.postgres_settings (id int primary key)');
    // runSql serialises role DDL across test workers (roles are cluster-wide).
    await runSql(url, `do $$ begin
      if not exists (select 1 from pg_roles where rolname = 'supaudit_pw_admin') then create role supaudit_pw_admin login password 'admin'; end if;
      if not exists (select 1 from pg_roles where rolname = 'supaudit_pw_postgres') then create role supaudit_pw_postgres login password 'postgres'; end if;
    end $$`);
    // The lab is left out: its copy is built from what each login may read of the catalog, so a
    // role without privileges gets another copy (and other lab findings); this test is about masking.
    const args = ['--schemas', 'public', '--format', 'json', '--out', '-', '--quiet', '--no-lab'];
    const owner = JSON.parse((await runCli(['--db-url', url, ...args], { env: { CI: 'true' } })).stdout) as Report;
    for (const [user, password] of [['supaudit_pw_admin', 'admin'], ['supaudit_pw_postgres', 'postgres']] as const) {
      const r = await runCli(['--db-url', urlOf(info, database, user, password), ...args], { env: { CI: 'true' } });
      expect(r.code, user).toBe(0);
      const report = JSON.parse(r.stdout) as Report;
      expect(report.target.description).toBe(`postgres://${user}:***@${info.host}:${info.port}/${database}`);
      expect(report.findings.map((f) => f.fingerprint)).toEqual(owner.findings.map((f) => f.fingerprint));
      expect(report.findings.map((f) => f.fingerprint)).toContain('rls_disabled_in_public:public.admin_users');
      expect(r.stdout).toContain('ALTER TABLE public.admin_users ENABLE ROW LEVEL SECURITY;');
      expect(r.stdout).not.toContain('***_');
    }
  });
});

describe.each(realEnginesOrFail())('files written beside the reports mask secrets too (%s)', (engine) => {
  test('the schema file written beside the SARIF masks a view definition\'s Stripe key and URL password, as the reports do', async () => {
    const url = await freshDatabase(engine);
    await runSql(url, BASE);
    const stripe = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
    await runSql(
      url,
      `create view public.payment_settings as select '${stripe}'::text as stripe_key, 'postgres://u:secretpw@db.example.com/db'::text as dsn;
       grant select on public.payment_settings to anon;`,
    );
    const dir = mkdtempSync(join(tmpdir(), 'supaudit-schema-file-'));
    try {
      const r = await runCli(['--db-url', url, '--schemas', 'public', '-f', 'sarif', '-f', 'json', '-o', 'out', '-q'], { cwd: dir, env: { CI: 'true' } });
      expect(r.code, r.stderr).toBe(0);
      const schema = readFileSync(join(dir, 'out', 'supaudit-schema.sql'), 'utf8');
      const lines = schema.split('\n');
      const view = lines.findIndex((l) => l.startsWith('CREATE VIEW public.payment_settings '));
      expect(lines[view]).toBe("CREATE VIEW public.payment_settings AS SELECT 'sk_live_***'::text AS stripe_key, 'postgres://u:***@db.example.com/db'::text AS dsn;");
      // The finding about the view points at that line, so the masking kept the file's line numbers.
      const sarif = JSON.parse(readFileSync(join(dir, 'out', 'supaudit.sarif'), 'utf8')) as Log;
      const secret = sarif.runs[0]!.results!.find((x) => x.ruleId === 'hardcoded_secret')!;
      expect(secret.locations![0]!.physicalLocation!.region!.startLine).toBe(view + 1);
      for (const file of ['supaudit-schema.sql', 'supaudit.sarif', 'supaudit.json']) {
        const text = readFileSync(join(dir, 'out', file), 'utf8');
        expect(text, file).not.toContain('secretpw');
        expect(text, file).not.toContain(stripe.slice('sk_live_'.length));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Key-like parameters in the auth URLs of config.toml: each value is unique, so a leak names its path. */
const CONFIG_TOML = `[auth]
site_url = "http://shop.example.com/welcome?access_token=secret-p1"
additional_redirect_urls = [
  "https://*.vercel.app/**?token=secret-p2",
  "http://staging.example.com/cb?apikey=secret-p3&key=secret-p4&next=/home",
  "https://*.shop.example.com/cb?secret=secret-p5&password=secret-p6#access_token=secret-p7",
]
`;

describe.each(realEnginesOrFail())('secret-looking parameters in config.toml URLs (%s)', (engine) => {
  test('are masked in every format, in the baseline and in GitHub annotations; the findings still fire on the right URLs', async () => {
    const url = await freshDatabase(engine);
    await runSql(url, BASE);
    const dir = mkdtempSync(join(tmpdir(), 'supaudit-config-urls-'));
    try {
      mkdirSync(join(dir, 'supabase'));
      writeFileSync(join(dir, 'supabase', 'config.toml'), CONFIG_TOML);
      const summary = join(dir, 'summary.md');
      const formats = FORMAT_NAMES.flatMap((f) => ['-f', f]);
      const run = await runCli(['--db-url', url, '--project', 'supabase', ...formats, '-o', 'out', '--no-tui'], {
        cwd: dir,
        env: { CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary },
      });
      expect(run.code, run.stderr).toBe(0);
      const baseline = await runCli(['baseline', 'write', '--db-url', url, '--project', 'supabase', '--out-file', 'baseline.json'], { cwd: dir, env: { CI: 'true' } });
      expect(baseline.code, baseline.stderr).toBe(0);
      const outputs: [string, string][] = [
        ['stdout', run.stdout],
        ['stderr', run.stderr],
        ['step summary', readFileSync(summary, 'utf8')],
        ['baseline', readFileSync(join(dir, 'baseline.json'), 'utf8')],
        ...readdirSync(join(dir, 'out')).map((f): [string, string] => [f, readFileSync(join(dir, 'out', f), 'utf8')]),
      ];
      expect(outputs.length).toBeGreaterThanOrEqual(4 + FORMAT_NAMES.length);
      for (const [name, text] of outputs) expect(text, name).not.toMatch(/secret-p\d/);

      const report = JSON.parse(readFileSync(join(dir, 'out', 'supaudit.json'), 'utf8')) as Report;
      const urls = (check: string) => report.findings.filter((f) => f.check === check).map((f) => f.evidence?.['url'] ?? f.evidence?.['siteUrl']);
      expect(urls('auth_site_url_insecure').sort()).toEqual(['http://shop.example.com/welcome?access_token=***', 'http://staging.example.com/cb?apikey=***&key=***&next=/home']);
      expect(urls('auth_redirect_url_wildcard').sort()).toEqual(['https://*.shop.example.com/cb?secret=***&password=***#access_token=***', 'https://*.vercel.app/**?token=***']);
      // The site URL the other auth checks quote (password rules, MFA, e-mail confirmation).
      expect(urls('auth_password_policy_weak')).toEqual(['http://shop.example.com/welcome?access_token=***']);
      expect(report.findings.find((f) => f.check === 'auth_mfa_disabled')?.message).toContain('for the site at http://shop.example.com/welcome?access_token=***:');
      // The fingerprint carries the masked URL: the same in the report and the baseline.
      const fingerprints = (JSON.parse(readFileSync(join(dir, 'baseline.json'), 'utf8')) as { fingerprints: string[] }).fingerprints;
      expect(fingerprints).toContain('auth_redirect_url_wildcard:supabase/config.toml.auth.additional_redirect_urls:https://*.vercel.app/**?token=***');
      expect(report.findings.map((f) => f.fingerprint)).toContain('auth_redirect_url_wildcard:supabase/config.toml.auth.additional_redirect_urls:https://*.vercel.app/**?token=***');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
