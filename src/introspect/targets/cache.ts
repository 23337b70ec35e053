/**
 * A disk cache for the embedded database's starting point: PGlite's initdb and the Supabase base
 * take about 3 s, restoring their data directory about 1 s. Only supaudit's own embedded copy is
 * cached, never anything read from an audited database; an entry is keyed by everything that makes
 * it (the PGlite build, the extension list, the base SQL, supaudit's version), so a stale entry is
 * never read, only left for pruning. Any failure to read or write an entry falls back to building
 * the database afresh: the cache changes how long a run takes, never what it reports.
 *
 * Where: `SUPAUDIT_CACHE_DIR` (`off` disables it), else the platform's user cache folder
 * (`$XDG_CACHE_HOME/supaudit`, `~/.cache/supaudit`, `%LOCALAPPDATA%\supaudit\Cache`); `--no-cache`
 * disables it for one run.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

/** Bumped when what an entry holds changes shape. */
const FORMAT = 1;
/** Entries of one kind kept (most recently used first): a few supaudit or PGlite versions side by side. */
const KEEP = 3;

let configured: { dir: string | null } | undefined;

/** The cache folder for this process, from the environment given (the CLI's) and `--no-cache`. */
export function configureCache(env: NodeJS.ProcessEnv, enabled = true): void {
  configured = { dir: enabled ? cacheDirFrom(env) : null };
}

function cacheDirFrom(env: NodeJS.ProcessEnv): string | null {
  const given = env['SUPAUDIT_CACHE_DIR'];
  if (given !== undefined && given !== '') return given === 'off' ? null : given;
  if (process.platform === 'win32') return env['LOCALAPPDATA'] ? join(env['LOCALAPPDATA'], 'supaudit', 'Cache') : null;
  if (env['XDG_CACHE_HOME']) return join(env['XDG_CACHE_HOME'], 'supaudit');
  const home = env['HOME'] ?? safeHomedir();
  return home ? join(home, '.cache', 'supaudit') : null;
}

function safeHomedir(): string | null {
  try {
    return homedir() || null;
  } catch {
    return null;
  }
}

/** The folder in use, or null when caching is off (unset: read from process.env). */
export function cacheDir(): string | null {
  configured ??= { dir: cacheDirFrom(process.env) };
  return configured.dir;
}

/** A key from the parts that make an entry: any change to one gives another file name. */
export function cacheKey(kind: string, parts: readonly string[]): string {
  const hash = createHash('sha256').update(String(FORMAT));
  for (const part of parts) hash.update('\0').update(part);
  return `${kind}-${hash.digest('hex').slice(0, 32)}`;
}

/**
 * The entry's bytes (a data directory as a tar), or undefined when absent, off or unreadable. gzip's
 * CRC says the bytes are those written; the tar header and PG_VERSION say they are a data directory
 * (PGlite, handed anything else, can fail outside any promise the caller holds).
 */
export function readEntry(key: string): Uint8Array | undefined {
  const dir = cacheDir();
  if (!dir) return undefined;
  const path = join(dir, `${key}.tar.gz`);
  try {
    const bytes = gunzipSync(readFileSync(path));
    if (!isDataDirTar(bytes)) {
      rmSync(path, { force: true });
      return undefined;
    }
    // Used now: the pruning below keeps the entries read most recently.
    const now = new Date();
    utimesSync(path, now, now);
    return bytes;
  } catch {
    return undefined;
  }
}

function isDataDirTar(bytes: Buffer): boolean {
  return bytes.length > 1024 && bytes.toString('latin1', 257, 262) === 'ustar' && bytes.indexOf('/PG_VERSION\0', 0, 'latin1') !== -1;
}

/** Drops an entry that could not be used (a database did not start from it). */
export function dropEntry(key: string): void {
  const dir = cacheDir();
  if (dir) rmSync(join(dir, `${key}.tar.gz`), { force: true });
}

/**
 * Stores an entry: written beside its final name and renamed, so a reader (another supaudit
 * running at the same time) sees all of it or nothing; the oldest entries of its kind beyond the
 * few kept are removed. Never throws.
 */
export function writeEntry(key: string, bytes: Uint8Array): void {
  const dir = cacheDir();
  if (!dir) return;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, `${key}.tar.gz`);
    const partial = `${path}.${process.pid}.partial`;
    writeFileSync(partial, gzipSync(bytes, { level: 1 }), { mode: 0o600 });
    renameSync(partial, path);
    prune(dir, key.slice(0, key.indexOf('-') + 1));
  } catch {
    // A read-only home, a full disk: the run goes on without a cache.
  }
}

function prune(dir: string, prefix: string): void {
  const entries = readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.tar.gz'))
    .map((f) => ({ f, used: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.used - a.used);
  for (const old of entries.slice(KEEP)) rmSync(join(dir, old.f), { force: true });
}
