/**
 * Through a pooler in transaction mode (PgBouncer, as Supavisor on port 6543): every statement may
 * land on another server connection, so the audit must rely on no session state and no named
 * prepared statements. The same database audited directly and through PgBouncer gives the same
 * findings.
 *
 * PgBouncer comes from Debian (`pgbouncer`); `.ci/run` installs it and sets
 * SUPAUDIT_REQUIRE_TOOLS=1, so in CI its absence fails the test instead of passing silently.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { cluster, freshDatabase, realEnginesOrFail, runSql } from '../harness/db.ts';
import { freePort } from '../harness/postgres.ts';
import { runCli } from '../support/cli.ts';
import type { Report } from '../../src/model/report.ts';

const BASE = new URL('../../src/introspect/targets/supabase-base.sql', import.meta.url);
const PGBOUNCER = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find((p) => existsSync(p)) ?? null;
const FIXTURE = `
create table public.profiles (id uuid primary key, email text, phone text);
create table public.notes (id bigint primary key, user_id uuid not null, body text);
alter table public.notes enable row level security;
create policy notes_own on public.notes for select using (auth.uid() = user_id);
`;

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGTERM');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function startPgBouncer(host: string, port: number, database: string, user: string, password: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'supaudit-pgbouncer-'));
  dirs.push(dir);
  chmodSync(dir, 0o777);
  const listen = await freePort();
  writeFileSync(join(dir, 'userlist.txt'), `"${user}" "${password}"\n`);
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `${database} = host=${host} port=${port} dbname=${database}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${listen}`,
      'unix_socket_dir =',
      'auth_type = scram-sha-256',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      'default_pool_size = 3',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      '',
    ].join('\n'),
  );
  for (const f of ['userlist.txt', 'pgbouncer.ini']) chmodSync(join(dir, f), 0o644);
  // PgBouncer refuses to run as root.
  const asRoot = process.getuid?.() === 0;
  const child = asRoot ? spawn('runuser', ['-u', 'postgres', '--', PGBOUNCER!, join(dir, 'pgbouncer.ini')], { stdio: 'ignore' }) : spawn(PGBOUNCER!, [join(dir, 'pgbouncer.ini')], { stdio: 'ignore' });
  children.push(child);
  for (let i = 0; i < 100; i++) {
    const probe = spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${listen}`], { stdio: 'ignore' });
    if (probe.status === 0) return listen;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('pgbouncer did not start listening');
}

describe('through PgBouncer in transaction mode', () => {
  test('an audit gives the same findings as a direct connection', async () => {
    if (!PGBOUNCER) {
      expect(process.env['SUPAUDIT_REQUIRE_TOOLS'], 'pgbouncer is required in CI').not.toBe('1');
      return;
    }
    const engine = realEnginesOrFail()[0]!;
    const info = cluster(engine);
    const url = await freshDatabase(engine);
    const database = new URL(url).pathname.slice(1);
    await runSql(url, (await import('node:fs')).readFileSync(BASE, 'utf8'));
    await runSql(url, FIXTURE);
    const listen = await startPgBouncer(info.host, info.port, database, info.superUser, info.password);
    const pooled = `postgres://${info.superUser}:${encodeURIComponent(info.password)}@127.0.0.1:${listen}/${database}?pgbouncer=true`;
    const args = ['--schemas', 'public', '-f', 'json', '-o', '-', '-q'];
    const direct = await runCli(['--db-url', url, ...args], { env: {} });
    const through = await runCli(['--db-url', pooled, ...args], { env: {} });
    expect(direct.code).toBe(0);
    expect(through.stderr).toBe('supaudit: warning: a password on the command line lands in shell history; prefer SUPABASE_DB_URL=… in the environment\n');
    expect(through.code).toBe(0);
    const fingerprints = (stdout: string) => (JSON.parse(stdout) as Report).findings.map((f) => f.fingerprint);
    expect(fingerprints(through.stdout)).toEqual(fingerprints(direct.stdout));
    expect(fingerprints(through.stdout)).toContain('rls_disabled_in_public:public.profiles');
    expect(fingerprints(through.stdout)).toContain('auth_rls_initplan:public.notes.notes_own');
  });
});
