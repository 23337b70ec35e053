/**
 * Reading the files a CI run depends on: config, suppressions, baseline. Every problem is a
 * UserError naming the file and the key (exit 2); nothing here is silently ignored.
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { UserError } from '../model/errors.ts';
import { compileUserPattern } from '../engine/context.ts';
import type { Level } from '../model/level.ts';
import type { Baseline } from '../engine/baseline.ts';
import type { Suppression } from '../engine/suppress.ts';
import { validateBaseline, validateConfig, validateIgnore } from './validate.ts';

export const CONFIG_FILES = ['supaudit.config.json', '.supaudit.json'] as const;
export const IGNORE_FILE = 'supaudit.ignore.json';

export interface SupauditConfig {
  readonly schemas?: readonly string[];
  readonly levels?: Readonly<Record<string, Level>>;
  readonly disable?: readonly string[];
  readonly roles?: readonly string[];
  readonly sensitiveColumns?: readonly string[];
  readonly realtimeSubscribers?: number;
  readonly failOn?: Level | 'none';
  /** Absolute path (resolved against the config file's folder). */
  readonly baseline?: string;
  /** Absolute path (resolved against the config file's folder). */
  readonly ignoreFile?: string;
}

export interface LoadedConfig {
  /** The config file read, or null when there is none. */
  readonly file: string | null;
  readonly config: SupauditConfig;
}

/** A path for messages: relative to the working folder when inside it. */
import { displayPath } from '../model/paths.ts';
export { displayPath };

/** Config, suppressions and baselines are small: anything larger (or endless, like /dev/zero) is refused before it is read. */
export const MAX_INPUT_BYTES = 16 * 1024 * 1024;

/** A folder, FIFO, socket or device where a file is expected: refused before anything waits on it. */
function refuseIrregular(st: Stats, shown: string, what: string): void {
  if (st.isDirectory()) throw new UserError('config', `${what} ${shown} is a folder, not a file`);
  if (!st.isFile()) throw new UserError('config', `${what} ${shown} is not a regular file`, 'give the path of a file (not a FIFO, socket or device)');
}

/**
 * Reads a small text input: a regular file of at most `MAX_INPUT_BYTES`, read through a bounded
 * buffer so that a device or a file that grows cannot exhaust memory.
 */
export function readSmallFile(file: string, shown: string, what: string, maxBytes = MAX_INPUT_BYTES): string {
  let fd: number;
  try {
    // Looked at before opening: opening a FIFO for reading waits for a writer, forever and deaf to Ctrl-C.
    refuseIrregular(statSync(file), shown, what);
    // Non-blocking in case it was swapped for a FIFO since: the fstat below then refuses it.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError('config', `cannot read ${what} ${shown} (${(error as { code?: string }).code ?? 'unreadable'})`);
  }
  try {
    const st = fstatSync(fd);
    refuseIrregular(st, shown, what);
    if (st.size > maxBytes) throw new UserError('config', `${what} ${shown} is too large (${st.size} bytes; at most ${maxBytes})`);
    const buffer = Buffer.alloc(Math.min(st.size, maxBytes) + 1);
    let n = 0;
    for (let got = -1; got !== 0 && n < buffer.length; n += got) got = readSync(fd, buffer, n, buffer.length - n, n);
    if (n > maxBytes) throw new UserError('config', `${what} ${shown} is too large (at most ${maxBytes} bytes)`);
    return buffer.subarray(0, n).toString('utf8');
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError('config', `cannot read ${what} ${shown} (${(error as { code?: string }).code ?? 'unreadable'})`);
  } finally {
    closeSync(fd);
  }
}

function readJson(file: string, shown: string, what: string, hint: string): unknown {
  if (!existsSync(file)) throw new UserError('config', `${what} not found: ${shown}`, hint);
  const text = readSmallFile(file, shown, what);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UserError('config', `${shown}: invalid JSON (${(error as Error).message.split('\n')[0]})`, 'fix the JSON syntax');
  }
}

/** Closest known id, for "did you mean". */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: { id: string; d: number } | undefined;
  for (const id of known) {
    const d = editDistance(name, id);
    if (!best || d < best.d) best = { id, d };
  }
  return best && best.d <= Math.max(2, Math.floor(name.length / 4)) ? best.id : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

function unknownCheck(shown: string, where: string, id: string, known: readonly string[]): UserError {
  const guess = closest(id, known);
  return new UserError('config', `${shown}: unknown check "${id}" in "${where}"`, guess ? `did you mean "${guess}"?` : 'check ids are the file names in checks/, e.g. rls_disabled_in_public');
}

/**
 * The config file: `explicit` (`--config`), else `supaudit.config.json` or `.supaudit.json` in
 * `cwd`. No file is fine (empty config); an explicit file that is missing is an error.
 */
export function loadConfig(options: { cwd: string; explicit?: string; knownChecks: readonly string[] }): LoadedConfig {
  const file = options.explicit !== undefined ? resolve(options.cwd, options.explicit) : CONFIG_FILES.map((f) => resolve(options.cwd, f)).find((f) => existsSync(f));
  if (file === undefined) return { file: null, config: {} };
  const shown = displayPath(file, options.cwd);
  const raw = readJson(file, shown, 'config file', 'check the --config path');
  validateConfig(raw, shown);
  const config = raw as SupauditConfig & { $schema?: string };
  for (const id of Object.keys(config.levels ?? {})) if (!options.knownChecks.includes(id)) throw unknownCheck(shown, 'levels', id, options.knownChecks);
  for (const id of config.disable ?? []) if (!options.knownChecks.includes(id)) throw unknownCheck(shown, 'disable', id, options.knownChecks);
  (config.sensitiveColumns ?? []).forEach((source, i) => {
    try {
      compileUserPattern(source);
    } catch (error) {
      throw new UserError(
        'config',
        `${shown}: "sensitiveColumns[${i}]" is not a valid regular expression: ${(error as Error).message.split('\n')[0]}`,
        'patterns use RE2 syntax (linear-time matching): no backreferences or lookaround',
      );
    }
  });
  const dir = dirname(file);
  const { $schema: _schema, ...rest } = config;
  return {
    file,
    config: {
      ...rest,
      ...(config.baseline !== undefined ? { baseline: resolve(dir, config.baseline) } : {}),
      ...(config.ignoreFile !== undefined ? { ignoreFile: resolve(dir, config.ignoreFile) } : {}),
    },
  };
}

/** Suppressions from `file` (validated; unknown check ids and impossible dates are errors). */
export function loadSuppressions(file: string, cwd: string, knownChecks: readonly string[]): Suppression[] {
  const shown = displayPath(file, cwd);
  const raw = readJson(file, shown, 'suppressions file', 'check the --ignore-file path (or "ignoreFile" in the config)');
  validateIgnore(raw, shown);
  const entries = raw as Omit<Suppression, 'file'>[];
  entries.forEach((e, i) => {
    if (e.check !== undefined && !knownChecks.includes(e.check)) throw unknownCheck(shown, `entry ${i + 1}, check`, e.check, knownChecks);
    if (e.expires !== undefined && !isRealDate(e.expires)) throw new UserError('config', `${shown}: entry ${i + 1}, "expires" is not a real date: ${e.expires}`);
  });
  return entries.map((e) => ({ ...e, file: shown }));
}

function isRealDate(day: string): boolean {
  const d = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === day;
}

/** The suppressions file to use: explicit (`--ignore-file`, config `ignoreFile`) or `supaudit.ignore.json` in cwd when present. */
export function suppressionsFile(cwd: string, explicit: string | undefined, fromConfig: string | undefined): string | undefined {
  if (explicit !== undefined) return resolve(cwd, explicit);
  if (fromConfig !== undefined) return fromConfig;
  const implicit = resolve(cwd, IGNORE_FILE);
  return existsSync(implicit) ? implicit : undefined;
}

export function readBaseline(file: string, cwd: string): Baseline & { readonly file: string } {
  const shown = displayPath(file, cwd);
  const raw = readJson(file, shown, 'baseline file', `create it with: supaudit baseline write --out-file ${shown}`);
  validateBaseline(raw, shown);
  const b = raw as Baseline;
  return { ...b, file: shown };
}
