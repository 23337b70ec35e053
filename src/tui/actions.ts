/**
 * What the review's keys write to disk: a fixes migration, an accepted finding in the suppression
 * file, the reports. Plain functions (no Ink), each returning what it wrote.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { reporters, type Reporter } from '../../reports/index.ts';
import { planFixes, type FixPlan } from '../engine/fix-plan.ts';
import type { Suppression } from '../engine/suppress.ts';
import { UserError } from '../model/errors.ts';
import type { Finding } from '../model/finding.ts';
import type { Report } from '../model/report.ts';
import { VERSION } from '../version.ts';

/** Where fixes go: the project's migrations, except for the bundled demo, which is never touched. */
export function fixesDir(target: { readonly kind: string; readonly projectDir: string | undefined }, cwd: string): string {
  if (target.kind === 'demo') return join(cwd, 'supaudit-fixes');
  return join(target.projectDir ?? join(cwd, 'supabase'), 'migrations');
}

/** `YYYYMMDDHHMMSS` in UTC, the Supabase CLI's migration prefix. */
export function migrationTimestamp(now: Date): string {
  return now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

export function fixesPath(dir: string, now: Date): string {
  return join(dir, `${migrationTimestamp(now)}_supaudit_fixes.sql`);
}

/**
 * The selected fixes as one migration (merged per policy, deduplicated; see planFixes), and the
 * CONCURRENTLY statements apart.
 */
export function fixesMigration(findings: readonly Finding[], now: Date, categoryOf: (check: string) => string | undefined = () => undefined): FixPlan {
  return planFixes(findings, {
    header: [`Fixes selected in the supaudit ${VERSION} interactive review, ${now.toISOString()}.`, 'Review each statement before applying it: they change grants, policies and indexes.'],
    categoryOf,
  });
}

/**
 * Where the CONCURRENTLY statements go: not in a migrations folder (the Supabase CLI would run them
 * in a transaction and fail), but in `supaudit-fixes/` beside it.
 */
export function concurrentPath(path: string): string {
  const dir = dirname(path);
  const name = basename(path).replace(/\.sql$/, '.concurrently.sql');
  return basename(dir) === 'migrations' ? join(dirname(dir), 'supaudit-fixes', name) : join(dir, name);
}

/** Writes the migration (and the CONCURRENTLY file when there is one); never overwrites an existing file. */
export function writeFixes(path: string, findings: readonly Finding[], now: Date, categoryOf?: (check: string) => string | undefined): string[] {
  const plan = fixesMigration(findings, now, categoryOf);
  const files: [string, string][] = [[path, plan.migration]];
  if (plan.concurrent) files.push([concurrentPath(path), plan.concurrent]);
  for (const [file, text] of files) {
    mkdirSync(dirname(file), { recursive: true });
    try {
      writeFileSync(file, text, { flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new UserError('usage', `${file} already exists; try again in a second`);
      throw error;
    }
  }
  return files.map(([file]) => file);
}

/** One entry of `supaudit.ignore.json`, the suppression file CI runs read. */
export type IgnoreEntry = Omit<Suppression, 'file'>;

export const IGNORE_FILE = 'supaudit.ignore.json';

function currentUser(env: NodeJS.ProcessEnv): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return env['USER'] ?? env['USERNAME'];
  }
}

/** Appends an accepted finding to the suppression file (a JSON array), keeping what is there. */
export function appendIgnore(path: string, fingerprint: string, reason: string, env: NodeJS.ProcessEnv): IgnoreEntry {
  const trimmed = reason.trim();
  if (!trimmed) throw new UserError('usage', 'a reason is required to accept a finding');
  let entries: unknown[] = [];
  if (existsSync(path)) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
      if (!Array.isArray(parsed)) throw new Error('not a JSON array');
      entries = parsed;
    } catch (error) {
      throw new UserError('config', `${path} is not a JSON array of suppressions (${(error as Error).message}); left unchanged`);
    }
  }
  const by = currentUser(env);
  const entry: IgnoreEntry = { fingerprint, reason: trimmed, ...(by ? { by } : {}) };
  writeFileSync(path, JSON.stringify([...entries, entry], null, 2) + '\n');
  return entry;
}

/** Writes every registered report format into `dir` as `supaudit.<extension>`. */
export function writeReports(report: Report, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.values(reporters as Record<string, Reporter>).map((reporter) => {
    const path = join(dir, `supaudit.${reporter.extension}`);
    writeFileSync(path, reporter.render(report, { color: false }));
    return path;
  });
}
