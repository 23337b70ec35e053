/**
 * The config.toml checks on real data: the weak fixture project (config.toml + migrations, loaded in
 * the embedded database through the CLI) fires each of them at the expected level, with SARIF
 * locations at the setting's line; `supabase init`'s own config.toml is silent over the same schema.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseToml } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { allChecks } from '../../checks/index.ts';
import { evaluate } from '../../src/engine/evaluate.ts';
import { introspect } from '../../src/introspect/index.ts';
import { tomlKeyLines } from '../../src/introspect/targets/index.ts';
import type { Finding } from '../../src/model/finding.ts';
import type { Report } from '../../src/model/report.ts';
import type { Snapshot } from '../../src/model/snapshot.ts';
import { initPolicyParser } from '../../src/policy/index.ts';
import { loadOn, testEngines } from '../support/audit.ts';
import { runCli } from '../support/cli.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/config/', import.meta.url));
const CONFIG_CHECKS = allChecks.filter((c) => c.meta.source === 'config.toml');
const WEAK_SQL = readFileSync(join(FIXTURES, 'weak/migrations/20260101000000_app.sql'), 'utf8');

function withConfig(snapshot: Snapshot, toml: string): Finding[] {
  const projectConfig = { file: 'supabase/config.toml', values: parseToml(toml) as Record<string, unknown>, lines: tomlKeyLines(toml) };
  const { findings, errors } = evaluate({ ...snapshot, projectConfig }, CONFIG_CHECKS);
  expect(errors).toEqual([]);
  return findings;
}

const brief = (findings: readonly Finding[]) => findings.map((f) => `${f.level} ${f.check} ${f.object.name}${f.check === 'auth_redirect_url_wildcard' || f.check === 'auth_site_url_insecure' ? ` ${String(f.evidence?.['url'])}` : ''}`).sort();

describe('config.toml checks, weak project through the CLI', () => {
  const out = mkdtempSync(join(tmpdir(), 'supaudit-auth-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  let report: Report;
  let sarif: { runs: { results: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[] };
  beforeAll(async () => {
    const run = await runCli(['--migrations', join(FIXTURES, 'weak/migrations'), '-f', 'json', '-f', 'sarif', '-o', out, '--no-tui'], { cwd: FIXTURES });
    expect(run.stderr).not.toMatch(/Error|at \w+ \(/);
    report = JSON.parse(readFileSync(join(out, 'supaudit.json'), 'utf8')) as Report;
    sarif = JSON.parse(readFileSync(join(out, 'supaudit.sarif'), 'utf8'));
  }, 180_000);

  test('every setting class fires at its level, remotes included', () => {
    expect(brief(report.findings.filter((f) => f.object.type === 'setting'))).toEqual([
      'high auth_anonymous_sign_ins auth.enable_anonymous_sign_ins',
      'high auth_email_unconfirmed auth.email.double_confirm_changes',
      'high auth_email_unconfirmed auth.email.enable_confirmations',
      'high auth_redirect_url_wildcard auth.additional_redirect_urls https://*.vercel.app/**',
      'low api_max_rows_high api.max_rows',
      'low auth_email_unconfirmed auth.email.secure_password_change',
      'low auth_password_policy_weak auth.minimum_password_length',
      'low auth_site_url_insecure auth.additional_redirect_urls http://staging.example.com/**',
      'medium auth_jwt_expiry_long auth.jwt_expiry',
      'medium auth_jwt_expiry_long remotes.production.auth.jwt_expiry',
      'medium auth_mfa_disabled auth.mfa.totp.verify_enabled',
      'medium auth_otp_expiry_long auth.email.otp_expiry',
      'medium auth_site_url_insecure remotes.production.auth.site_url http://app.example.com',
    ]);
  });

  test('findings name the policies that make them worse, and carry STRIDE', () => {
    const anon = report.findings.find((f) => f.check === 'auth_anonymous_sign_ins')!;
    // Not the UPDATE policy tied to author_id; not payouts, behind a restrictive aal2 policy anonymous users cannot pass.
    expect(anon.evidence?.['policies']).toEqual([
      { schema: 'public', table: 'posts', policy: 'signed-in users post', command: 'INSERT' },
      { schema: 'public', table: 'posts', policy: 'signed-in users read posts', command: 'SELECT' },
    ]);
    expect(anon.message).toContain('"signed-in users post" on public.posts (INSERT)');
    const confirm = report.findings.find((f) => f.object.name === 'auth.email.enable_confirmations')!;
    expect(confirm.evidence?.['emailPolicies']).toEqual(['policy "invitee reads the invitation" on public.invitations']);
    expect(confirm.stride).toEqual(['S', 'E']);
    expect(report.findings.find((f) => f.check === 'api_max_rows_high')!.stride).toEqual(['D']);
    expect(report.notes.some((n) => n.area === 'auth settings')).toBe(false);
  });

  test('each finding points at its key in config.toml (JSON and SARIF)', () => {
    const lines = readFileSync(join(FIXTURES, 'weak/config.toml'), 'utf8').split('\n');
    for (const f of report.findings.filter((x) => x.object.type === 'setting')) {
      expect(f.location?.file).toBe('weak/config.toml');
      const key = f.object.name.split('.').pop()!;
      expect(lines[f.location!.line - 1], f.fingerprint).toMatch(new RegExp(`^${key} =`));
    }
    const results = sarif.runs[0]!.results.filter((r) => r.ruleId === 'auth_jwt_expiry_long');
    expect(results.map((r) => r.locations[0]!.physicalLocation.region.startLine).sort((a, b) => a - b)).toEqual([
      lines.indexOf('jwt_expiry = 604800') + 1,
      lines.indexOf('jwt_expiry = 86400') + 1,
    ]);
    expect(results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe('weak/config.toml');
  });
});

describe.each(testEngines())('config.toml checks on %s', (engine) => {
  let snapshot: Snapshot;
  beforeAll(async () => {
    await initPolicyParser();
    const session = await loadOn(engine, WEAK_SQL);
    try {
      snapshot = await introspect(session, { exposedSchemas: ['public'] });
    } finally {
      await session.close();
    }
  }, 120_000);

  test("`supabase init`'s config.toml is silent, even over policies that trust e-mail, aal and any account", () => {
    expect(brief(withConfig(snapshot, readFileSync(join(FIXTURES, 'init.toml'), 'utf8')))).toEqual([]);
    // An empty file means the CLI's defaults: silent too.
    expect(brief(withConfig(snapshot, ''))).toEqual([]);
  });

  test('a restrictive is_anonymous policy, or caller-tied policies, keep anonymous sign-ins quiet', async () => {
    const session = await loadOn(
      engine,
      WEAK_SQL,
      `create policy "registered only" on public.posts as restrictive to authenticated using ((select (auth.jwt() ->> 'is_anonymous')::boolean) is false);
       create policy "registered only" on public.payouts as restrictive for select to authenticated using (coalesce((auth.jwt() ->> 'is_anonymous')::boolean, false) = false);`,
    );
    let guarded: Snapshot;
    try {
      guarded = await introspect(session, { exposedSchemas: ['public'] });
    } finally {
      await session.close();
    }
    const toml = '[auth]\nenable_anonymous_sign_ins = true\n';
    expect(brief(withConfig(snapshot, toml))).toEqual(['high auth_anonymous_sign_ins auth.enable_anonymous_sign_ins']);
    expect(brief(withConfig(guarded, toml))).toEqual([]);
  }, 60_000);

  test('auth disabled, e-mail sign-up off, env() site URLs and redirect grades', () => {
    expect(brief(withConfig(snapshot, '[auth]\nenabled = false\nsite_url = "https://x.example.com"\njwt_expiry = 99999\n'))).toEqual([]);
    // A site URL from the environment is a deployed site.
    // Without e-mail sign-up only the password-change rule remains (existing accounts have passwords).
    expect(brief(withConfig(snapshot, '[auth]\nsite_url = "env(SITE_URL)"\n[auth.email]\nenable_signup = false\n[auth.mfa.totp]\nverify_enabled = true\n'))).toEqual([
      'low auth_email_unconfirmed auth.email.secure_password_change',
    ]);
    expect(brief(withConfig(snapshot, '[auth]\nsite_url = "env(SITE_URL)"\n[auth.mfa.totp]\nverify_enabled = true\n'))).toEqual([
      'high auth_email_unconfirmed auth.email.enable_confirmations',
      'low auth_email_unconfirmed auth.email.secure_password_change',
      'low auth_password_policy_weak auth.minimum_password_length',
    ]);
    const redirects = (urls: string[]) =>
      brief(withConfig(snapshot, `[auth]\nadditional_redirect_urls = ${JSON.stringify(urls)}\n`)).filter((b) => b.includes('redirect'));
    expect(redirects(['https://app.example.com/**', 'http://localhost:3000/**', 'http://127.0.0.1:54321', 'http://app.localhost/cb'])).toEqual([]);
    // Names and addresses only a developer's network reaches (postgres-new lists http://database.build.local:3000/).
    const insecure = (urls: string[]) =>
      brief(withConfig(snapshot, `[auth]\nadditional_redirect_urls = ${JSON.stringify(urls)}\n`)).filter((b) => b.includes('insecure'));
    expect(insecure(['http://database.build.local:3000/', 'http://192.168.1.20:3000', 'http://10.0.0.5', 'http://172.20.0.3:8080', 'http://web.internal/', 'http://app.test'])).toEqual([]);
    expect(insecure(['http://172.32.0.1/', 'http://app.example.com/cb'])).toEqual([
      'low auth_site_url_insecure auth.additional_redirect_urls http://172.32.0.1/',
      'low auth_site_url_insecure auth.additional_redirect_urls http://app.example.com/cb',
    ]);
    expect(redirects(['https://**', 'https://*.netlify.app', 'https://myapp-*-team.vercel.app/**', 'https://*.example.com/**'])).toEqual([
      'high auth_redirect_url_wildcard auth.additional_redirect_urls https://**',
      'high auth_redirect_url_wildcard auth.additional_redirect_urls https://*.netlify.app',
      'low auth_redirect_url_wildcard auth.additional_redirect_urls https://*.example.com/**',
      'medium auth_redirect_url_wildcard auth.additional_redirect_urls https://myapp-*-team.vercel.app/**',
    ]);
  });
});

test('tomlKeyLines: tables, dotted and quoted keys, multi-line arrays and strings', () => {
  const text = [
    'a = 1', // 1
    '[auth]', // 2
    'list = [', // 3
    '  "x = 1",', // 4
    ']', // 5
    'site_url = "https://x"', // 6
    "note = '''", // 7
    'fake = 2', // 8
    "'''", // 9
    '[ "auth" . email ]', // 10
    'otp_expiry = 10', // 11
    'mfa.totp.verify_enabled = true # comment', // 12
  ].join('\n');
  expect(tomlKeyLines(text)).toEqual({
    a: 1,
    auth: 2,
    'auth.list': 3,
    'auth.site_url': 6,
    'auth.note': 7,
    'auth.email': 10,
    'auth.email.otp_expiry': 11,
    'auth.email.mfa.totp.verify_enabled': 12,
  });
});
