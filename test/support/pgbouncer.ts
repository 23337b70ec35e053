/**
 * PgBouncer from Debian (`pgbouncer`) in front of one database, for tests. `.ci/run` installs it and
 * sets SUPAUDIT_REQUIRE_TOOLS=1, so in CI its absence fails the tests that need it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../harness/postgres.ts';

export const PGBOUNCER = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find((p) => existsSync(p)) ?? null;

export interface PgBouncer {
  readonly port: number;
  stop(): void;
}

/**
 * Starts PgBouncer in transaction mode on a free port (not 6543, and without any URL flag).
 * `settings` adds or overrides `[pgbouncer]` lines (e.g. `max_client_conn`, `admin_users`).
 */
export async function startPgBouncer(
  host: string,
  port: number,
  database: string,
  user: string,
  password: string,
  poolSize = 3,
  settings: Readonly<Record<string, string | number>> = {},
): Promise<PgBouncer> {
  if (!PGBOUNCER) throw new Error('pgbouncer is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'supaudit-pgbouncer-'));
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
      `default_pool_size = ${poolSize}`,
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      ...Object.entries(settings).map(([key, value]) => `${key} = ${value}`),
      '',
    ].join('\n'),
  );
  for (const f of ['userlist.txt', 'pgbouncer.ini']) chmodSync(join(dir, f), 0o644);
  // PgBouncer refuses to run as root.
  const asRoot = process.getuid?.() === 0;
  const child: ChildProcess = asRoot ? spawn('runuser', ['-u', 'postgres', '--', PGBOUNCER, join(dir, 'pgbouncer.ini')], { stdio: 'ignore' }) : spawn(PGBOUNCER, [join(dir, 'pgbouncer.ini')], { stdio: 'ignore' });
  const stop = () => {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100; i++) {
    const probe = spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${listen}`], { stdio: 'ignore' });
    if (probe.status === 0) return { port: listen, stop };
    await new Promise((r) => setTimeout(r, 100));
  }
  stop();
  throw new Error('pgbouncer did not start listening');
}

/** True when the test may run; false (skip the body) only where pgbouncer is missing and not required. */
export function havePgBouncer(): boolean {
  if (PGBOUNCER) return true;
  if (process.env['SUPAUDIT_REQUIRE_TOOLS'] === '1') throw new Error('pgbouncer is required in CI (SUPAUDIT_REQUIRE_TOOLS=1)');
  return false;
}
