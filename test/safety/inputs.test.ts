/**
 * Bad and hostile inputs: each gives one line and exit 2 before any connection (or a correct
 * result on a real server), never a hang, a crash or a different SQL identifier. Audits of a live
 * URL run with --no-lab: the lab's embedded copy says nothing about input handling and costs
 * seconds per run (it has tests of its own).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { globMatch, parseIgnoreDirectives } from '../../src/engine/suppress.ts';
import type { Report } from '../../src/model/report.ts';
import { cluster, freshDatabase, realEnginesOrFail, runSql, urlOf } from '../harness/db.ts';
import { freePort } from '../harness/postgres.ts';
import { runCli } from '../support/cli.ts';

const BASE = readFileSync(new URL('../../src/introspect/targets/supabase-base.sql', import.meta.url), 'utf8');
const BIN = new URL('../../bin/supaudit.js', import.meta.url).pathname;
const RTL = 'rtl\u202egnp.exe';

const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
});

/**
 * The CLI as a real process, killed after `limitMs`: opening a FIFO blocks the whole thread, so a
 * run that hangs on one must not take the test worker with it.
 */
function runBin(args: readonly string[], cwd: string, limitMs = 60_000): Promise<{ code: number | null; stderr: string; hung: boolean }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', CI: 'true' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let hung = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stderr, hung });
    });
  });
}

/** A Supabase project: one migration and a seed, in a fresh temp folder. */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'supaudit-inputs-'));
  mkdirSync(join(dir, 'supabase', 'migrations'), { recursive: true });
  writeFileSync(join(dir, 'supabase', 'migrations', '20260101000000_init.sql'), 'create table public.t (id int primary key);\n');
  return dir;
}

function mkfifo(path: string): void {
  const made = spawnSync('mkfifo', [path]);
  if (made.status !== 0) throw new Error(`mkfifo ${path} failed: ${made.stderr}`);
}

async function unixSocket(path: string): Promise<void> {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((r) => server.listen(path, r));
}

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
      const r = await runCli(['--db-url', url, '--no-lab', flag, '/dev/zero'], { env: { CI: 'true' } });
      expect(r.code, flag).toBe(2);
      expect(oneLine(r.stderr)).toBe(`supaudit: error: ${what} /dev/zero is not a regular file`);
    }
  });

  test('timeouts beyond what a timer holds (2^31 - 1 ms) are refused with one line before connecting (the watchdog fired after 1 ms and blamed the network)', async () => {
    // Nothing listens on this port: an option that got through would end in "connection refused".
    const url = `postgres://u:p@127.0.0.1:${await freePort()}/db?sslmode=disable`;
    for (const flag of ['--statement-timeout', '--lock-timeout', '--connect-timeout']) {
      for (const value of ['2147483648', '1e12']) {
        const r = await runCli(['--db-url', url, '--no-lab', flag, value, '-q'], { env: { CI: 'true' } });
        expect(r.code, `${flag} ${value}`).toBe(2);
        expect(oneLine(r.stderr)).toBe(`supaudit: error: ${flag} must be at most 2147483647 milliseconds (about 24 days), got "${value}"`);
      }
    }
    const load = await runCli(['load', '--db-url', url, '--statement-timeout', '9999999999', '-q'], { env: { CI: 'true' } });
    expect(load.code).toBe(2);
    expect(oneLine(load.stderr)).toBe('supaudit: error: --statement-timeout must be at most 2147483647 milliseconds (about 24 days), got "9999999999"');
    // load's own durations were bounded already (seconds, and milliseconds for the SLO): still one line.
    const duration = await runCli(['load', '--db-url', url, '--duration', '3000000', '-q'], { env: { CI: 'true' } });
    expect(oneLine(duration.stderr)).toBe('supaudit: error: --duration must be a number from 0.05 to 600, got "3000000"');
    const slo = await runCli(['load', '--db-url', url, '--slo-ms', '2147483648', '-q'], { env: { CI: 'true' } });
    expect(oneLine(slo.stderr)).toBe('supaudit: error: --slo-ms must be a number from 0.001 to 3600000, got "2147483648"');
  });

  test('a FIFO as config, suppressions, baseline, migration or seed: one line, exit 2 (a FIFO config blocked forever, deaf to Ctrl-C)', async () => {
    const dir = project();
    mkfifo(join(dir, 'fifo'));
    const url = `postgres://u:p@127.0.0.1:${await freePort()}/db?sslmode=disable`;
    for (const [flag, what] of [['--config', 'config file'], ['--ignore-file', 'suppressions file'], ['--baseline', 'baseline file']] as const) {
      const r = await runBin(['--db-url', url, flag, 'fifo', '-q'], dir);
      expect(r.hung, flag).toBe(false);
      expect(r.code, flag).toBe(2);
      expect(oneLine(r.stderr)).toBe(`supaudit: error: ${what} fifo is not a regular file`);
    }
    const migration = join(dir, 'supabase', 'migrations', '20260101000001_fifo.sql');
    mkfifo(migration);
    const m = await runBin(['--migrations', 'supabase/migrations', '-q'], dir);
    expect(m.hung).toBe(false);
    expect(m.code).toBe(2);
    expect(m.stderr).toBe(
      'supaudit: error: cannot read supabase/migrations/20260101000001_fifo.sql: it is not a regular file (a FIFO, socket or device)\n' +
        '  hint: migrations and seed files must be readable SQL files; fix or remove it\n',
    );
    const seeded = project();
    mkfifo(join(seeded, 'supabase', 'seed.sql'));
    const seed = await runBin(['--migrations', 'supabase/migrations', '-q'], seeded);
    expect(seed.hung).toBe(false);
    expect(seed.code).toBe(2);
    expect(oneLine(seed.stderr)).toBe('supaudit: error: cannot read supabase/seed.sql: it is not a regular file (a FIFO, socket or device)');
  }, 120_000);

  test('a socket or a device as config or migration: one line, exit 2', async () => {
    const dir = project();
    await unixSocket(join(dir, 'sock'));
    const url = `postgres://u:p@127.0.0.1:${await freePort()}/db?sslmode=disable`;
    const config = await runCli(['--db-url', url, '--no-lab', '-c', 'sock', '-q'], { env: { CI: 'true' }, cwd: dir });
    expect(config.code).toBe(2);
    expect(oneLine(config.stderr)).toBe('supaudit: error: config file sock is not a regular file');
    // /dev/null read as an empty migration, loaded as nothing at all.
    symlinkSync('/dev/null', join(dir, 'supabase', 'migrations', '20260101000001_null.sql'));
    const device = await runCli(['--migrations', 'supabase/migrations', '-q'], { cwd: dir });
    expect(device.code).toBe(2);
    expect(oneLine(device.stderr)).toBe('supaudit: error: cannot read supabase/migrations/20260101000001_null.sql: it is not a regular file (a FIFO, socket or device)');
    const socketSeed = project();
    await unixSocket(join(socketSeed, 'supabase', 'seed.sql'));
    const seed = await runCli(['--migrations', 'supabase/migrations', '-q'], { cwd: socketSeed });
    expect(seed.code).toBe(2);
    expect(oneLine(seed.stderr)).toBe('supaudit: error: cannot read supabase/seed.sql: it is not a regular file (a FIFO, socket or device)');
  });

  test('a migration that cannot be read (a folder named like one, a broken symbolic link): exit 2 with the path and a hint (was an internal error, exit 3)', async () => {
    // Tests run as root, for whom chmod 000 changes nothing: these are the unreadable files root meets too.
    const folder = project();
    mkdirSync(join(folder, 'supabase', 'migrations', '20260101000001_x.sql'));
    const a = await runCli(['--migrations', 'supabase/migrations', '-q'], { cwd: folder });
    expect(a.code).toBe(2);
    expect(a.stderr).toBe(
      'supaudit: error: cannot read supabase/migrations/20260101000001_x.sql: it is a folder, not a file\n  hint: migrations and seed files must be readable SQL files; fix or remove it\n',
    );
    const dangling = project();
    symlinkSync(join(dangling, 'nowhere.sql'), join(dangling, 'supabase', 'migrations', '20260101000001_y.sql'));
    const b = await runCli(['--migrations', 'supabase/migrations', '-q'], { cwd: dangling });
    expect(b.code).toBe(2);
    expect(oneLine(b.stderr)).toBe('supaudit: error: cannot read supabase/migrations/20260101000001_y.sql: ENOENT (a broken symbolic link?)');
    const notAFolder = await runCli(['--migrations', 'supabase/migrations/20260101000000_init.sql', '-q'], { cwd: dangling });
    expect(notAFolder.code).toBe(2);
    expect(oneLine(notAFolder.stderr)).toMatch(/^supaudit: error: \/.*\/supabase\/migrations\/20260101000000_init\.sql is not a folder$/);
  });

  test('a malformed %-escape or a missing sslrootcert: one line, exit 2 (was an internal error, exit 3)', async () => {
    const bad = await runCli(['--db-url', 'postgres://u:pa%zzword@127.0.0.1:1/db', '--no-lab'], { env: { CI: 'true' } });
    expect(bad.code).toBe(2);
    expect(oneLine(bad.stderr)).toBe('supaudit: error: not a valid database URL: the password has a malformed %-escape');
    const cert = await runCli(['--db-url', 'postgres://u@127.0.0.1:1/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem', '--no-lab'], { env: { CI: 'true' } });
    expect(cert.code).toBe(2);
    expect(oneLine(cert.stderr)).toBe('supaudit: error: cannot read sslrootcert "/nonexistent/ca.pem" (ENOENT)');
  });

  test('-o naming a file, or a baseline path that cannot be written: exit 2 before connecting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'supaudit-inputs-'));
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    // Nothing listens on this port: reaching it would fail with "connection refused" instead.
    const url = `postgres://u@127.0.0.1:${await freePort()}/db?sslmode=disable`;
    const out = await runCli(['--db-url', url, '--no-lab', '-f', 'json', '-o', file], { env: { CI: 'true' }, cwd: dir });
    expect(out.code).toBe(2);
    expect(oneLine(out.stderr)).toBe('supaudit: error: --out a-file is a file, not a folder');
    const baseline = await runCli(['baseline', 'write', '--db-url', url, '--out-file', join(file, 'baseline.json')], { env: { CI: 'true' }, cwd: dir });
    expect(baseline.code).toBe(2);
    expect(oneLine(baseline.stderr)).toMatch(/^supaudit: error: cannot write baseline a-file\/baseline\.json \((ENOTDIR|EEXIST)\)$/);
  });

  test('a backreference in sensitiveColumns is refused (patterns run on RE2, in linear time)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'supaudit-inputs-'));
    writeFileSync(join(dir, 'supaudit.config.json'), JSON.stringify({ sensitiveColumns: ['(a)\\1'] }));
    const r = await runCli(['--db-url', 'postgres://u@127.0.0.1:1/db', '--no-lab'], { env: { CI: 'true' }, cwd: dir });
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
    const r = await runCli(['--db-url', url, '--no-lab', '--schemas', 'public', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' }, cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Report).findings.map((f) => f.fingerprint)).toContain(`rls_disabled_in_public:public.${'a'.repeat(62)}c`);
  });

  test('a right-to-left override in a name: fix SQL names it byte-exactly (U&"…"), JUnit and SARIF spell it out, the fix applies', async () => {
    const url = await freshDatabase(engine);
    await runSql(url, BASE);
    await runSql(url, `create table public."${RTL}" (id int primary key)`);
    const r = await runCli(['--db-url', url, '--no-lab', '--schemas', 'public', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
    const finding = (JSON.parse(r.stdout) as Report).findings.find((f) => f.check === 'rls_disabled_in_public')!;
    expect(finding.object.name).toBe(RTL);
    expect(finding.remediation.sql).toBe('ALTER TABLE public.U&"rtl\\202Egnp.exe" ENABLE ROW LEVEL SECURITY;');
    for (const format of ['junit', 'sarif']) {
      const out = await runCli(['--db-url', url, '--no-lab', '--schemas', 'public', '-f', format, '-o', '-', '-q'], { env: { CI: 'true' } });
      expect(out.stdout, format).not.toContain('\u202e');
      expect(out.stdout, format).toContain('rtl\\u202egnp.exe');
    }
    // The fix SQL, as printed, is the same table for Postgres.
    await runSql(url, finding.remediation.sql!);
    const after = await runCli(['--db-url', url, '--no-lab', '--schemas', 'public', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
    expect((JSON.parse(after.stdout) as Report).findings.map((f) => f.check)).not.toContain('rls_disabled_in_public');
  });

  test('a URL with a user and no password against a SCRAM server: one line with a hint (was the driver\'s "client password must be a string")', async () => {
    // pg falls back to PGPASSWORD: the case is a URL without a password and no PGPASSWORD either.
    expect(process.env['PGPASSWORD']).toBeUndefined();
    const info = cluster(engine);
    const url = await freshDatabase(engine);
    const database = new URL(url).pathname.slice(1);
    const r = await runCli(['--db-url', `postgres://${info.superUser}@127.0.0.1:${info.port}/${database}?sslmode=disable`, '--no-lab', '-q'], { env: { CI: 'true' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `supaudit: error: the server at 127.0.0.1:${info.port} asks for a password for user "${info.superUser}", and the URL has none\n` +
        '  hint: put it in the URL after the user name, user:<password>@host (percent-encoded), preferably through SUPABASE_DB_URL in the environment; or set PGPASSWORD\n',
    );
  });

  test('the longest statement timeout a timer holds: the audit runs (the watchdog\'s grace period no longer overflows the timer)', async () => {
    const url = await freshDatabase(engine);
    await runSql(url, BASE);
    await runSql(url, 'create table public.t (id int primary key)');
    const r = await runCli(['--db-url', url, '--no-lab', '--schemas', 'public', '--statement-timeout', '2147483647', '--lock-timeout', '2147483647', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as Report).findings.map((f) => f.fingerprint)).toContain('rls_disabled_in_public:public.t');
  });

  test('probes that could not run are not reported as "0 disagreements"', async () => {
    const info = cluster(engine);
    const url = await freshDatabase(engine);
    const database = new URL(url).pathname.slice(1);
    await runSql(url, BASE);
    await runSql(url, 'create table public.t (id int primary key)');
    await runSql(url, `do $$ begin if not exists (select 1 from pg_roles where rolname = 'supaudit_noprobe') then create role supaudit_noprobe login password 'np-pw'; end if; end $$; grant connect on database "${database}" to supaudit_noprobe`);
    const r = await runCli(['--db-url', urlOf(info, database, 'supaudit_noprobe', 'np-pw'), '--no-lab', '--schemas', 'public', '--probe', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
    expect(r.code).toBe(0);
    const notes = (JSON.parse(r.stdout) as Report).notes.filter((n) => n.area === 'probes').map((n) => n.message);
    expect(notes).toContain('no probe could run (see the notes above): the blast-radius model is unverified');
    expect(notes.join('\n')).not.toMatch(/disagreement/);
  });
});
