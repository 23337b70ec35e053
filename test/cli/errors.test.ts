import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runCli } from '../support/cli.ts';

/** One line on stderr (plus an optional hint line), no stack trace. */
function expectOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split('\n').filter((l) => !l.startsWith('supaudit: warning:'));
  expect(lines[0]).toMatch(/^supaudit: error: /);
  expect(lines[0]).toMatch(pattern);
  expect(lines.length).toBeLessThanOrEqual(2);
  if (lines[1] !== undefined) expect(lines[1]).toMatch(/^  hint: /);
  expect(stderr).not.toMatch(/\n\s+at /);
}

const tmp = mkdtempSync(join(tmpdir(), 'supaudit-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('usage and connection errors: one clear line, exit 2, no secret', () => {
  test('a URL that is not a Postgres URL', async () => {
    const r = await runCli(['--db-url', 'http://user:hunter22@example.com/db']);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /not a Postgres URL/);
    expect(r.stderr).not.toContain('hunter22');
  });

  test('garbage instead of a URL', async () => {
    const r = await runCli(['--db-url', 'not a url at all']);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /not a database URL or connection string \(it is not shown: it may hold a password\)/);
  });

  test('a host name that does not resolve', async () => {
    const r = await runCli(['--db-url', 'postgres://postgres:s3cr3t-pw@no-such-host.invalid:5432/postgres', '--connect-timeout', '5000']);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /could not resolve host "no-such-host\.invalid"|timed out connecting/);
    expect(r.stderr + r.stdout).not.toContain('s3cr3t-pw');
    expect(r.stderr).toContain('password on the command line lands in shell history');
  });

  test('a port nobody listens on', async () => {
    // Take a free port and close it again: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 1));
      });
    });
    const r = await runCli(['--db-url', `postgres://postgres@127.0.0.1:${port}/postgres`]);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, new RegExp(`connection refused at 127\\.0\\.0\\.1:${port}`));
  });

  test('a server that closes the connection during start-up', async () => {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const r = await runCli(['--db-url', `postgres://postgres@127.0.0.1:${port}/postgres`]);
      expect(r.code).toBe(2);
      expectOneLineError(r.stderr, /closed the connection/);
    } finally {
      server.close();
    }
  });

  test('an unknown format, a bad --fail-on, two targets', async () => {
    expect((await runCli(['--demo', '--format', 'xml'])).code).toBe(2);
    const failOn = await runCli(['--demo', '--fail-on', 'severe']);
    expect(failOn.code).toBe(2);
    expectOneLineError(failOn.stderr, /--fail-on must be one of critical, high, medium, low, info or none/);
    const two = await runCli(['--demo', '--migrations', tmp]);
    expect(two.code).toBe(2);
    expectOneLineError(two.stderr, /choose one target/);
  });

  test('an unknown option is a usage error', async () => {
    const r = await runCli(['--no-such-option']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--no-such-option'/);
  });

  test('nothing to audit', async () => {
    const empty = mkdtempSync(join(tmp, 'empty-'));
    const r = await runCli([], { cwd: empty, env: {} });
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /nothing to audit/);
  });

  test('with --strict, a failing migration names the file, the line and the Postgres error (without it: a finding, see migration_statement_failed)', async () => {
    const dir = join(tmp, 'broken', 'migrations');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '20250101000000_ok.sql'), 'create table public.a (id int primary key);\n');
    writeFileSync(join(dir, '20250102000000_bad.sql'), '-- second file\ncreate table public.b (id int primary key);\n\ninsert into public.missing values (1);\n');
    const r = await runCli(['--migrations', dir, '--strict']);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /20250102000000_bad\.sql:4: relation "public\.missing" does not exist \(SQLSTATE 42P01\)/);
  }, 60_000);

  test('with --strict, a migration with a syntax error names the line of the error', async () => {
    const dir = join(tmp, 'syntax', 'migrations');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '20250101000000_bad.sql'), 'create table public.a (id int primary key);\n\ncreate tabel public.b (id int);\n');
    const r = await runCli(['--migrations', dir, '--strict']);
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /20250101000000_bad\.sql:3: syntax error at or near "tabel"/);
  }, 60_000);
});
