/**
 * Bad and hostile inputs: each gives one line and exit 2 before any connection (or a correct
 * result on a real server), never a hang, a crash or a different SQL identifier.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { globMatch, parseIgnoreDirectives } from '../../src/engine/suppress.ts';
import type { Report } from '../../src/model/report.ts';
import { cluster, freshDatabase, realEnginesOrFail, runSql, urlOf } from '../harness/db.ts';
import { freePort } from '../harness/postgres.ts';
import { runCli } from '../support/cli.ts';

const BASE = readFileSync(new URL('../../src/introspect/targets/supabase-base.sql', import.meta.url), 'utf8');
const RTL = 'rtl\u202egnp.exe';

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines.length, stderr).toBeLessThanOrEqual(2);
  if (lines[1] !== undefined) expect(lines[1]).toMatch(/^ {2}hint: /);
  return lines[0]!;
}

describe('inputs that fail before connecting', () => {
  test('/dev/zero as config, suppressions or baseline: one line, exit 2 (was an out-of-memory abort)', async () => {
    const port = await freePort();
    const url = `postgres://u@127.0.0.1:${port}/db?sslmode=disable`;
    for (const [flag, what] of [['--config', 'config file'], ['--ignore-file', 'suppressions file'], ['--baseline', 'baseline file']] as const) {
      const r = await runCli(['--db-url', url, flag, '/dev/zero'], { env: { CI: 'true' } });
      expect(r.code, flag).toBe(2);
      expect(oneLine(r.stderr)).toBe(`supaudit: error: ${what} /dev/zero is not a regular file`);
    }
  });

  test('a malformed %-escape or a missing sslrootcert: one line, exit 2 (was an internal error, exit 3)', async () => {
    const bad = await runCli(['--db-url', 'postgres://u:pa%zzword@127.0.0.1:1/db'], { env: { CI: 'true' } });
    expect(bad.code).toBe(2);
    expect(oneLine(bad.stderr)).toBe('supaudit: error: not a valid database URL: the password has a malformed %-escape');
    const cert = await runCli(['--db-url', 'postgres://u@127.0.0.1:1/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem'], { env: { CI: 'true' } });
    expect(cert.code).toBe(2);
    expect(oneLine(cert.stderr)).toBe('supaudit: error: cannot read sslrootcert "/nonexistent/ca.pem" (ENOENT)');
  });

  test('-o naming a file, or a baseline path that cannot be written: exit 2 before connecting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'supaudit-inputs-'));
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    // Nothing listens on this port: reaching it would fail with "connection refused" instead.
    const url = `postgres://u@127.0.0.1:${await freePort()}/db?sslmode=disable`;
    const out = await runCli(['--db-url', url, '-f', 'json', '-o', file], { env: { CI: 'true' }, cwd: dir });
    expect(out.code).toBe(2);
    expect(oneLine(out.stderr)).toBe('supaudit: error: --out a-file is a file, not a folder');
    const baseline = await runCli(['baseline', 'write', '--db-url', url, '--out-file', join(file, 'baseline.json')], { env: { CI: 'true' }, cwd: dir });
    expect(baseline.code).toBe(2);
    expect(oneLine(baseline.stderr)).toMatch(/^supaudit: error: cannot write baseline a-file\/baseline\.json \((ENOTDIR|EEXIST)\)$/);
  });

  test('a backreference in sensitiveColumns is refused (patterns run on RE2, in linear time)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'supaudit-inputs-'));
    writeFileSync(join(dir, 'supaudit.config.json'), JSON.stringify({ sensitiveColumns: ['(a)\\1'] }));
    const r = await runCli(['--db-url', 'postgres://u@127.0.0.1:1/db'], { env: { CI: 'true' }, cwd: dir });
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/^supaudit: error: supaudit\.config\.json: "sensitiveColumns\[0\]" is not a valid regular expression: /);
  });

  test('ignore directives count only on a line of their own; globs match in linear time', () => {
    expect(parseIgnoreDirectives('Public read by design. To silence it, add -- supaudit-ignore rls_policy_always_true: reason to the comment')).toEqual([]);
    expect(parseIgnoreDirectives('Public read by design.\n  -- supaudit-ignore rls_policy_always_true: catalogue data\nmore prose')).toEqual([{ check: 'rls_policy_always_true', reason: 'catalogue data' }]);
    const started = performance.now();
    expect(globMatch('*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b', 'public.' + 'a'.repeat(5_000))).toBe(false);
    expect(globMatch('public.*_users', 'public.admin_users')).toBe(true);
    expect(globMatch('public.?dmin*', 'public.admin_users')).toBe(true);
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe.each(realEnginesOrFail())('hostile inputs on a real server (%s)', (engine) => {
  test('a catastrophic pattern and a many-star glob: the audit completes', async () => {
    const url = await freshDatabase(engine);
    await runSql(url, BASE);
    await runSql(url, `create table public.${'a'.repeat(62)}c (id int primary key, ${'a'.repeat(60)}c text)`);
    const dir = mkdtempSync(join(tmpdir(), 'supaudit-inputs-'));
    writeFileSync(join(dir, 'supaudit.config.json'), JSON.stringify({ sensitiveColumns: ['(a+)+b', '(a|aa)*b'] }));
    writeFileSync(join(dir, 'supaudit.ignore.json'), JSON.stringify([{ check: 'no_primary_key', object: '*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b', reason: 'never matches' }]));
    const r = await runCli(['--db-url', url, '--schemas', 'public', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' }, cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Report).findings.map((f) => f.fingerprint)).toContain(`rls_disabled_in_public:public.${'a'.repeat(62)}c`);
  });

  test('a right-to-left override in a name: fix SQL names it byte-exactly (U&"…"), JUnit and SARIF spell it out, the fix applies', async () => {
    const url = await freshDatabase(engine);
    await runSql(url, BASE);
    await runSql(url, `create table public."${RTL}" (id int primary key)`);
    const r = await runCli(['--db-url', url, '--schemas', 'public', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
    const finding = (JSON.parse(r.stdout) as Report).findings.find((f) => f.check === 'rls_disabled_in_public')!;
    expect(finding.object.name).toBe(RTL);
    expect(finding.remediation.sql).toBe('ALTER TABLE public.U&"rtl\\202Egnp.exe" ENABLE ROW LEVEL SECURITY;');
    for (const format of ['junit', 'sarif']) {
      const out = await runCli(['--db-url', url, '--schemas', 'public', '-f', format, '-o', '-', '-q'], { env: { CI: 'true' } });
      expect(out.stdout, format).not.toContain('\u202e');
      expect(out.stdout, format).toContain('rtl\\u202egnp.exe');
    }
    // The fix SQL, as printed, is the same table for Postgres.
    await runSql(url, finding.remediation.sql!);
    const after = await runCli(['--db-url', url, '--schemas', 'public', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
    expect((JSON.parse(after.stdout) as Report).findings.map((f) => f.check)).not.toContain('rls_disabled_in_public');
  });

  test('probes that could not run are not reported as "0 disagreements"', async () => {
    const info = cluster(engine);
    const url = await freshDatabase(engine);
    const database = new URL(url).pathname.slice(1);
    await runSql(url, BASE);
    await runSql(url, 'create table public.t (id int primary key)');
    await runSql(url, `do $$ begin if not exists (select 1 from pg_roles where rolname = 'supaudit_noprobe') then create role supaudit_noprobe login password 'np-pw'; end if; end $$; grant connect on database "${database}" to supaudit_noprobe`);
    const r = await runCli(['--db-url', urlOf(info, database, 'supaudit_noprobe', 'np-pw'), '--schemas', 'public', '--probe', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
    expect(r.code).toBe(0);
    const notes = (JSON.parse(r.stdout) as Report).notes.filter((n) => n.area === 'probes').map((n) => n.message);
    expect(notes).toContain('no probe could run (see the notes above): the blast-radius model is unverified');
    expect(notes.join('\n')).not.toMatch(/disagreement/);
  });
});
