/**
 * Reading the files a CI run depends on: config, suppressions, baseline. Every problem is a
 * UserError naming the file and the key (exit 2); nothing here is silently ignored.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { UserError } from '../model/errors.ts';
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
export function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

function readJson(file: string, shown: string, what: string, hint: string): unknown {
  if (!existsSync(file)) throw new UserError('config', `${what} not found: ${shown}`, hint);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserError('config', `cannot read ${what} ${shown}: ${(error as Error).message}`);
  }
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
      new RegExp(source, 'i');
    } catch (error) {
      throw new UserError('config', `${shown}: "sensitiveColumns[${i}]" is not a valid regular expression: ${(error as Error).message}`);
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
