import { Command, CommanderError, Option } from 'commander';
import { accessSync, constants, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { FORMAT_NAMES, isFormat, type FormatName } from '../../reports/formats.ts';
import type { AuditOptions, AuditResult, LoadSettings } from '../engine/audit.ts';
import type { resolveTarget } from '../introspect/targets/index.ts';
import { MAX_TIMER_MS, UserError } from '../model/errors.ts';
import { LEVELS } from '../model/level.ts';
import { displayPath } from '../model/paths.ts';
import { redact } from '../model/redact.ts';
import { terminalSafe, terminalSafeMultiline } from '../model/visible.ts';
import { VERSION } from '../version.ts';
import { checkDoc } from '../docs.ts';
import { splitList } from './lists.ts';
import type { Settings } from './settings.ts';

// Only what parsing the command line needs is imported up front: `--version` and `--help` load no
// database driver, parser, check or reporter. Each command imports what it uses when it runs.

export const EXIT = { ok: 0, findings: 1, usage: 2, internal: 3, cancelled: 130 } as const;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly isTTY: boolean;
  /** Aborted on Ctrl-C: the audit cancels its running query and closes the connection. */
  readonly signal?: AbortSignal;
}

/** Flags every command that runs an audit takes: target, config, session, probes. */
interface TargetFlags {
  dbUrl?: string;
  migrations?: string;
  demo?: boolean;
  project?: string;
  schemas?: string;
  config?: string;
  ignoreFile?: string;
  statementTimeout: string;
  lockTimeout: string;
  connectTimeout: string;
  debug?: boolean;
  quiet?: boolean;
  probe?: boolean;
  probeWrites?: boolean;
  probeTriggers?: boolean;
  strict?: boolean;
  verbose?: boolean;
  explain?: boolean;
  apiUrl?: string;
  anonKey?: string;
  userJwt?: string;
  tui?: boolean;
  realtimeSubscribers?: string;
  /** `--app <dir>`, or false for `--no-app`. */
  app?: string | false;
  /** false for `--no-lab`. */
  lab?: boolean;
  /** false for `--no-cache`. */
  cache?: boolean;
  /** Set by `supaudit load`. */
  load?: LoadSettings;
}

interface LoadFlags extends AuditFlags {
  tables?: string[];
  maxTables: string;
  concurrency: string;
  duration: string;
  samples: string;
  sloMs: string;
}

interface AuditFlags extends TargetFlags {
  format: string[];
  out?: string;
  fixOut?: string;
  failOn?: string;
  baseline?: string;
  color: boolean;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...splitList(value)];
}

function milliseconds(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UserError('usage', `${name} must be a positive whole number of milliseconds, got "${value}"`);
  if (n > MAX_TIMER_MS) throw new UserError('usage', `${name} must be at most ${MAX_TIMER_MS} milliseconds (about 24 days), got "${value}"`);
  return n;
}

function useColor(flags: { color: boolean }, io: CliIo): boolean {
  if (!flags.color) return false;
  if (io.env['NO_COLOR'] !== undefined && io.env['NO_COLOR'] !== '') return false;
  if (io.env['FORCE_COLOR'] !== undefined && io.env['FORCE_COLOR'] !== '0') return true;
  return io.isTTY;
}

function apiProbeOptions(flags: TargetFlags, io: CliIo): { url: string; anonKey: string; userJwt?: string } {
  const url = flags.apiUrl ?? io.env['SUPABASE_URL'];
  const anonKey = flags.anonKey ?? io.env['SUPABASE_ANON_KEY'];
  if (!url || !anonKey) throw new UserError('usage', 'the API probe needs both --api-url (or SUPABASE_URL) and --anon-key (or SUPABASE_ANON_KEY)');
  try {
    new URL(url);
  } catch {
    // Not echoed: what was pasted where a URL belongs is often a key.
    throw new UserError('usage', `${flags.apiUrl ? '--api-url' : 'SUPABASE_URL'} is not a URL (its value is not shown)`, 'expected https://<project>.supabase.co');
  }
  const userJwt = flags.userJwt ?? io.env['SUPAUDIT_USER_JWT'];
  return { url, anonKey, ...(userJwt ? { userJwt } : {}) };
}

/**
 * The interactive review runs when stdout and stdin are a terminal, `CI` is unset, and no
 * machine output was asked for (`--format`, `--out -`, `--quiet`); `--no-tui` turns it off.
 */
export function interactive(flags: Pick<AuditFlags, 'tui' | 'format' | 'out' | 'quiet'>, io: Pick<CliIo, 'isTTY' | 'env'>, stdinIsTTY = Boolean(process.stdin.isTTY)): boolean {
  if (flags.tui === false || !io.isTTY || !stdinIsTTY) return false;
  if (io.env['CI'] !== undefined && io.env['CI'] !== '' && io.env['CI'] !== 'false') return false;
  return flags.format.length === 0 && flags.out !== '-' && !flags.quiet;
}

/**
 * Reads the config and suppressions and opens the target: what the audit runs on and with.
 * `printsProgress`: lines about a long load may go to stderr (not in the interactive review, whose
 * screen they would break, nor with --quiet).
 */
async function prepareAudit(flags: TargetFlags, settings: Settings, io: CliIo, printsProgress = !flags.quiet): Promise<{ target: ReturnType<typeof resolveTarget>; auditOptions: AuditOptions }> {
  const { resolveTarget } = await import('../introspect/targets/index.ts');
  const { DEFAULT_CHECK_OPTIONS } = await import('../engine/context.ts');
  const targetChoices = [flags.dbUrl ? '--db-url' : null, flags.migrations ? '--migrations' : null, flags.demo ? '--demo' : null].filter(Boolean);
  if (targetChoices.length > 1) throw new UserError('usage', `choose one target, not ${targetChoices.join(' and ')}`);
  // CI runners keep no shell history: there the URL comes from a secret and the warning would be noise.
  if (flags.dbUrl && io.env['CI'] !== 'true' && (/:\/\/[^/@:]*:[^@]+@/.test(flags.dbUrl) || /(^|\s)password\s*=/i.test(flags.dbUrl))) {
    io.stderr('supaudit: warning: a password on the command line lands in shell history; prefer SUPABASE_DB_URL=… in the environment\n');
  }
  // The embedded database's starting point is cached in the user's cache folder (src/introspect/targets/cache.ts).
  (await import('../introspect/targets/cache.ts')).configureCache(io.env, flags.cache !== false);
  const target = resolveTarget({
    dbUrl: flags.dbUrl,
    migrations: flags.migrations,
    demo: flags.demo,
    projectDir: flags.project,
    cwd: io.cwd,
    env: io.env,
    connectTimeoutMs: milliseconds('--connect-timeout', flags.connectTimeout),
  });
  const { appRoot } = await import('../app/root.ts');
  const app = appRoot({ app: flags.app, kind: target.kind, projectDir: target.projectDir, projectGiven: flags.project !== undefined, cwd: io.cwd });
  const subscribers = flags.realtimeSubscribers === undefined ? undefined : Number(flags.realtimeSubscribers);
  if (subscribers !== undefined && !(Number.isInteger(subscribers) && subscribers >= 0)) {
    throw new UserError('usage', `--realtime-subscribers must be a whole number, got "${flags.realtimeSubscribers}"`);
  }
  const auditOptions: AuditOptions = {
    ...settings.options,
    ...(subscribers !== undefined ? { checkOptions: { ...(settings.options.checkOptions ?? DEFAULT_CHECK_OPTIONS), realtimeSubscribers: subscribers } } : {}),
    statementTimeoutMs: milliseconds('--statement-timeout', flags.statementTimeout),
    lockTimeoutMs: milliseconds('--lock-timeout', flags.lockTimeout),
    ...(io.signal ? { signal: io.signal } : {}),
    ...(printsProgress ? { onLoadPlan: (plan: string) => io.stderr(`supaudit: ${plan}\n`) } : {}),
    ...(flags.explain ? { explain: true } : {}),
    ...(flags.strict ? { strict: true } : {}),
    ...(flags.verbose ? { verbose: true } : {}),
    ...(flags.lab === false ? { lab: false } : {}),
    ...(flags.load ? { load: flags.load } : {}),
    ...(app ? { app } : {}),
    ...(flags.apiUrl || flags.anonKey ? { apiProbe: apiProbeOptions(flags, io) } : {}),
    ...(flags.probe || flags.probeWrites
      ? { probe: { writes: Boolean(flags.probeWrites), triggers: Boolean(flags.probeTriggers) }, onProbePlan: (plan: string) => io.stderr(`supaudit: ${plan}\n`) }
      : {}),
  };
  return { target, auditOptions };
}

/** Reads the config and suppressions, opens the target and runs the audit. */
async function runConfiguredAudit(flags: TargetFlags, settings: Settings, io: CliIo): Promise<AuditResult> {
  const { target, auditOptions } = await prepareAudit(flags, settings, io);
  const { runAudit } = await import('../engine/audit.ts');
  return runAudit(target, auditOptions);
}

/** A folder reports can be written to, made now: a wrong --out must not cost a whole audit. */
function prepareOutDir(dir: string, io: CliIo): void {
  const shown = displayPath(dir, io.cwd);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UserError('usage', `--out ${shown} is a file, not a folder`, 'give a folder for the report files, or "-" for stdout');
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new UserError('usage', `cannot write reports to ${shown} (${(error as { code?: string }).code ?? 'not writable'})`, 'choose a writable folder with --out');
  }
}

/** The file's folder exists (or is made) and is writable, and the path is not a folder: checked before the audit. */
function prepareOutFile(file: string, io: CliIo, what: string): void {
  const shown = displayPath(file, io.cwd);
  if (existsSync(file) && statSync(file).isDirectory()) throw new UserError('usage', `${what} ${shown} is a folder, not a file`);
  try {
    mkdirSync(dirname(file), { recursive: true });
    accessSync(dirname(file), constants.W_OK);
    if (existsSync(file)) accessSync(file, constants.W_OK);
  } catch (error) {
    throw new UserError('usage', `cannot write ${what} ${shown} (${(error as { code?: string }).code ?? 'not writable'})`, 'choose a writable path');
  }
}

function writeOutput(file: string, text: string, io: CliIo, what: string): void {
  try {
    writeFileSync(file, text);
  } catch (error) {
    throw new UserError('usage', `cannot write ${what} ${displayPath(file, io.cwd)} (${(error as { code?: string }).code ?? 'failed'})`);
  }
}

/**
 * `--fix-out <file>`: the fix SQL of every finding as one migration (merged per policy, indexes
 * deduplicated; see planFixes), and the CONCURRENTLY statements in `<file>.concurrently.sql`.
 */
async function writeFixOut(file: string, report: AuditResult['report'], snapshot: AuditResult['snapshot'], io: CliIo): Promise<string[]> {
  const { initPolicyParser } = await import('../policy/index.ts');
  const { planFixes } = await import('../engine/fix-plan.ts');
  await initPolicyParser();
  const categories = new Map(report.checks.map((c) => [c.id, c.category]));
  const plan = planFixes(report.findings, {
    header: [`Fixes for ${report.findings.filter((f) => f.remediation.sql).length} findings of supaudit ${VERSION} on ${report.target.description ?? report.target.kind}.`, 'Review each statement before applying it: they change grants, policies and indexes.'],
    categoryOf: (id) => categories.get(id),
    snapshot,
  });
  writeOutput(file, plan.migration, io, '--fix-out');
  const files = [file];
  if (plan.concurrent) {
    const concurrent = file.replace(/(\.sql)?$/, '.concurrently.sql');
    writeOutput(concurrent, plan.concurrent, io, '--fix-out');
    files.push(concurrent);
  }
  return files;
}

async function audit(flags: AuditFlags, io: CliIo): Promise<number> {
  const formats = flags.format.length > 0 ? flags.format : ['text'];
  for (const f of formats) {
    if (!isFormat(f)) throw new UserError('usage', `unknown format "${f}"`, `choose from ${FORMAT_NAMES.join(', ')}`);
  }
  const { failLevel, resolveSettings } = await import('./settings.ts');
  const { readBaseline } = await import('../config/load.ts');
  const settings = resolveSettings(flags, io.cwd);
  const failOn = failLevel(flags.failOn, settings.config.config.failOn);
  // The baseline is read before the audit: a wrong path should not cost a whole run.
  const baselinePath = flags.baseline !== undefined ? resolve(io.cwd, flags.baseline) : settings.config.config.baseline;
  const baseline = baselinePath !== undefined ? readBaseline(baselinePath, io.cwd) : undefined;
  const outDir = flags.out === '-' ? null : resolve(io.cwd, flags.out ?? 'reports');
  // Only a run that writes files needs the folder; check it before connecting.
  const writesFiles = outDir !== null && (flags.out !== undefined || formats.some((f) => f !== 'text'));
  const review = interactive(flags, io);
  if (writesFiles && !review) prepareOutDir(outDir, io);
  if (review) {
    // Ink and React load only here: piped, CI and --format runs never import them.
    const { target, auditOptions } = await prepareAudit(flags, settings, io, false);
    const { runTui } = await import('../tui/index.ts');
    const reportsDir = flags.out === undefined ? undefined : resolve(io.cwd, flags.out);
    return runTui({ target, auditOptions, cwd: io.cwd, env: io.env, color: useColor(flags, io), failOn: failOn === 'none' ? undefined : failOn, reportsDir, ...(settings.ignoreFile ? { ignorePath: settings.ignoreFile } : {}), ...(baseline ? { baseline } : {}) });
  }
  const fixOut = flags.fixOut !== undefined ? resolve(io.cwd, flags.fixOut) : undefined;
  if (fixOut) prepareOutFile(fixOut, io, '--fix-out');
  const result = await runConfiguredAudit(flags, settings, io);
  const { baselineLine, failsRun, newFingerprints, withBaseline } = await import('../engine/baseline.ts');
  const { withSchemaFile, SCHEMA_FILE_NAME } = await import('../engine/schema-file.ts');
  const { reporters, githubStepSummary } = await import('../../reports/index.ts');
  const { renderGithub } = await import('../../reports/github.ts');
  const { publishToGithub } = await import('./github.ts');
  let report = baseline ? withBaseline(result.report, baseline, baseline.file) : result.report;
  const color = useColor(flags, io);
  const written: string[] = [];
  const alsoWritten: string[] = [];
  // Report files get a file and line for every finding (code scanning rejects results without
  // one): the migration that created the object, else a line of a schema file written beside them.
  if (writesFiles && outDir !== null) {
    const schemaPath = join(outDir, SCHEMA_FILE_NAME);
    const located = withSchemaFile(report, result.snapshot, relative(io.cwd, schemaPath).split(sep).join('/'));
    report = located.report;
    if (located.text !== null) {
      writeOutput(schemaPath, located.text, io, 'schema file');
      alsoWritten.push(schemaPath);
    }
  }
  if (fixOut) alsoWritten.push(...(await writeFixOut(fixOut, report, result.snapshot, io)));
  for (const name of formats as FormatName[]) {
    const reporter = reporters[name];
    if (name === 'text' && !flags.quiet) io.stdout(reporter.render(report, { color }));
    if (outDir === null) {
      if (name !== 'text') io.stdout(reporter.render(report, { color: false }));
      continue;
    }
    // Text goes to the terminal; it is written to a file only when --out was asked for explicitly.
    if (name === 'text' && flags.out === undefined) continue;
    const path = join(outDir, `supaudit.${reporter.extension}`);
    writeOutput(path, reporter.render(report, { color: false }), io, 'report');
    written.push(path);
  }
  written.push(...alsoWritten);
  if (written.length > 0 && !flags.quiet) io.stderr(`supaudit: wrote ${written.join(', ')}\n`);
  if (report.baseline && !flags.quiet) io.stderr(`supaudit: ${baselineLine(report.baseline)} (${report.baseline.file})\n`);
  // In GitHub Actions: job summary and annotations, unless -f github already printed the annotations.
  publishToGithub(report, io.env, io.stdout, {
    summary: githubStepSummary,
    ...(formats.includes('github') ? {} : { annotations: renderGithub }),
  });
  if (failOn === 'none') return EXIT.ok;
  // With a baseline only new findings can fail the run.
  const fresh = newFingerprints(report);
  const failing = report.findings.filter(failsRun(report, failOn)).length;
  const inconclusive = report.inconclusive?.length ?? 0;
  if (failing > 0) {
    const what = `${failing}${fresh ? ' new' : ''} finding${failing === 1 ? '' : 's'}`;
    io.stderr(`supaudit: ${what} at or above ${failOn}${fresh ? ' since the baseline' : ''} (--fail-on ${failOn})\n`);
  }
  // A check that could not read what it needs may hide a finding: under --fail-on that fails the run too.
  if (inconclusive > 0) {
    io.stderr(`supaudit: ${inconclusive} check${inconclusive === 1 ? '' : 's'} inconclusive: part of the catalog could not be read (see the notes) (--fail-on ${failOn})\n`);
  }
  return failing > 0 || inconclusive > 0 ? EXIT.findings : EXIT.ok;
}

async function writeBaseline(flags: TargetFlags & { outFile?: string }, io: CliIo): Promise<number> {
  const { resolveSettings } = await import('./settings.ts');
  const { createBaseline } = await import('../engine/baseline.ts');
  const settings = resolveSettings(flags, io.cwd);
  const file = flags.outFile !== undefined ? resolve(io.cwd, flags.outFile) : (settings.config.config.baseline ?? resolve(io.cwd, 'supaudit.baseline.json'));
  prepareOutFile(file, io, 'baseline');
  const result = await runConfiguredAudit(flags, settings, io);
  const baseline = createBaseline(result.report, new Date().toISOString());
  writeOutput(file, JSON.stringify(baseline, null, 2) + '\n', io, 'baseline');
  const n = baseline.fingerprints.length;
  io.stderr(`supaudit: wrote a baseline of ${n} finding${n === 1 ? '' : 's'} to ${displayPath(file, io.cwd)}\n`);
  return EXIT.ok;
}

async function diff(oldPath: string, newPath: string, flags: { format: string; failOn?: string; color: boolean }, io: CliIo): Promise<number> {
  const { failLevel } = await import('./settings.ts');
  const { diffReports } = await import('../engine/diff.ts');
  const { newAtLeast, readReport, renderDiffText } = await import('./diff.ts');
  const format = flags.format.toLowerCase();
  if (format !== 'text' && format !== 'json') throw new UserError('usage', `diff --format must be text or json, got "${flags.format}"`);
  const failOn = failLevel(flags.failOn, 'none');
  const result = diffReports(readReport(oldPath, io.cwd), readReport(newPath, io.cwd));
  io.stdout(format === 'json' ? redact(JSON.stringify(result, null, 2)) + '\n' : renderDiffText(result, { old: oldPath, new: newPath }, useColor(flags, io)));
  if (failOn === 'none') return EXIT.ok;
  const failing = newAtLeast(result, failOn);
  if (failing > 0) {
    io.stderr(`supaudit: ${failing} new finding${failing === 1 ? '' : 's'} at or above ${failOn} (--fail-on ${failOn})\n`);
    return EXIT.findings;
  }
  return EXIT.ok;
}

async function listChecks(json: boolean, io: CliIo): Promise<number> {
  const { allChecks } = await import('../../checks/index.ts');
  const rows = allChecks.map((c) => ({ id: c.meta.id, level: c.meta.level, category: c.meta.category, facing: c.meta.facing, splinter: c.meta.splinter ?? null, title: c.meta.title }));
  if (json) {
    io.stdout(JSON.stringify(rows, null, 2) + '\n');
    return EXIT.ok;
  }
  const head = { id: 'CHECK', level: 'LEVEL', category: 'CATEGORY', facing: 'FACING', splinter: 'SPLINTER', title: 'WHAT IT FINDS' };
  const width = (k: keyof typeof head) => Math.max(head[k].length, ...rows.map((r) => String(r[k] ?? '-').length));
  const cols = ['id', 'level', 'category', 'facing', 'splinter'] as const;
  const line = (r: Record<string, string | null>) => cols.map((k) => String(r[k] ?? '-').padEnd(width(k))).join('  ') + '  ' + (r['title'] ?? '');
  io.stdout([line(head), ...rows.map(line)].join('\n') + `\n\n${rows.length} checks. supaudit explain <check> prints one's documentation.\n`);
  return EXIT.ok;
}

async function explain(idOrFingerprint: string, io: CliIo): Promise<number> {
  const id = idOrFingerprint.split(':')[0]!.trim();
  const doc = checkDoc(id);
  if (doc === null) {
    const { allChecks } = await import('../../checks/index.ts');
    const near = allChecks.map((c) => c.meta.id).filter((c) => c.includes(id) || id.includes(c));
    throw new UserError('usage', `no check named ${JSON.stringify(id.slice(0, 80))}`, near.length > 0 ? `did you mean ${near.slice(0, 3).join(', ')}?` : 'run supaudit checks for the list');
  }
  io.stdout(doc.endsWith('\n') ? doc : `${doc}\n`);
  return EXIT.ok;
}

function addTargetOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--db-url <url>', 'live database to audit (or SUPABASE_DB_URL / DATABASE_URL)'))
    .addOption(new Option('--migrations <dir>', 'audit migrations loaded into the embedded database (default ./supabase/migrations)'))
    .addOption(new Option('--demo', 'audit the bundled demo project in the embedded database'))
    .addOption(new Option('--project <dir>', 'Supabase project folder holding config.toml (default ./supabase)'))
    .addOption(new Option('--schemas <list>', 'exposed schemas, comma-separated (overrides the config file, pgrst.db_schemas and config.toml)'))
    .addOption(new Option('--verbose', 'also list the static suspicions the lab refuted (by default only counted in the notes)'))
    .addOption(new Option('--strict', 'stop at the first migration statement that fails (default: report it as a finding and go on)'))
    .addOption(new Option('-c, --config <file>', 'config file (default supaudit.config.json or .supaudit.json in the current folder)'))
    .addOption(new Option('--ignore-file <file>', 'suppressions file (default supaudit.ignore.json in the current folder)'))
    .addOption(new Option('--statement-timeout <ms>', 'per-statement timeout on the audited database').default('30000'))
    .addOption(new Option('--lock-timeout <ms>', 'lock wait timeout on the audited database').default('3000'))
    .addOption(new Option('--connect-timeout <ms>', 'connection timeout').default('10000'))
    .addOption(new Option('--probe', 'verify the blast-radius model by reading as anon, authenticated and service_role (rolled back)'))
    .addOption(new Option('--probe-writes', 'also probe INSERT/UPDATE/DELETE of one row per table, in savepoints rolled back (implies --probe)'))
    .addOption(new Option('--probe-triggers', 'with --probe-writes, include tables that have triggers (they fire, then roll back)'))
    .addOption(new Option('--explain', 'EXPLAIN SELECT * as authenticated on tables with policies (rolled back); with hypopg, the cost with each suggested index'))
    .addOption(new Option('--api-url <url>', 'probe the REST API as the internet sees it (or SUPABASE_URL)'))
    .addOption(new Option('--anon-key <key>', 'anon key for the API probe (or SUPABASE_ANON_KEY)'))
    .addOption(new Option('--user-jwt <jwt>', "a signed-in user's access token, to probe as authenticated too (or SUPAUDIT_USER_JWT)"))
    .addOption(new Option('--realtime-subscribers <n>', 'Realtime subscribers assumed per published table when realtime.subscription has none (default 100)'))
    .addOption(new Option('--app <dir>', "application code to read for supabase calls (default: the folder above the project's supabase/; for --db-url only with --project)"))
    .addOption(new Option('--no-app', 'do not read the application code'))
    .addOption(new Option('--no-lab', "no lab: no accounts, rows, access matrix or attack search in supaudit's own copy of the schema"))
    .addOption(new Option('--no-cache', "build the embedded database afresh: do not read or write supaudit's cache (SUPAUDIT_CACHE_DIR, else the user cache folder)"))
    .addOption(new Option('--debug', 'print stack traces of internal errors'));
}

function number(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new UserError('usage', `${name} must be a number from ${min} to ${max}, got "${value}"`);
  return n;
}

/** `supaudit load`: the audit plus the load measurement, with progress on stderr. */
async function load(flags: LoadFlags, io: CliIo): Promise<number> {
  const concurrency = splitList(flags.concurrency).map((c) => number('--concurrency', c, 1, 500));
  if (concurrency.length === 0) throw new UserError('usage', '--concurrency needs at least one client count, e.g. 1,10,50');
  let lastTable = '';
  // In the review the progress view shows the stage; the per-cell lines are for terminals and logs.
  const review = interactive(flags, io);
  const settings: LoadSettings = {
    ...(flags.tables && flags.tables.length > 0 ? { tables: flags.tables } : {}),
    maxTables: number('--max-tables', flags.maxTables, 1, 10_000),
    concurrency: concurrency.map(Math.floor),
    durationMs: Math.round(number('--duration', flags.duration, 0.05, 600) * 1000),
    maxSamples: Math.floor(number('--samples', flags.samples, 1, 1_000_000)),
    sloMs: number('--slo-ms', flags.sloMs, 0.001, 3_600_000),
    onPlan: (text) => {
      if (!flags.quiet && !review) io.stderr(`supaudit: load: ${terminalSafe(text)}\n`);
    },
    onProgress: (raw) => {
      if (flags.quiet || review) return;
      // Table names are the database's: a newline in one would start a line of its own (a CI runner
      // acts on `::warning …` lines), an escape sequence would rewrite the terminal.
      const text = terminalSafe(raw);
      if (io.isTTY) {
        io.stderr(`\r\x1b[2K${text.slice(0, 118)}`);
        return;
      }
      // Piped: one line per table, not one per cell.
      const table = /: (\S+) /.exec(text)?.[1] ?? text;
      if (table !== lastTable) io.stderr(`supaudit: ${text}\n`);
      lastTable = table;
    },
  };
  try {
    return await audit({ ...flags, load: settings }, io);
  } finally {
    if (io.isTTY && !flags.quiet && !review) io.stderr('\r\x1b[2K');
  }
}

/** The report options the audit and `load` share: formats, the output folder, the failing level. */
function addReportOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('-f, --format <format>', `output format, repeatable: ${FORMAT_NAMES.join(', ')}`).argParser(collect).default([], 'text'))
    .addOption(new Option('-o, --out <dir>', 'folder for report files; "-" prints them to stdout').default(undefined, 'reports/'))
    .addOption(new Option('--fail-on <level>', `exit 1 when a finding is at or above this level (${LEVELS.join(', ')}, none)`).default(undefined, 'none, or failOn in the config'));
}

export function buildProgram(io: CliIo, onExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name('supaudit')
    .description('Security and performance audit of a Supabase / PostgREST Postgres database.')
    .version(VERSION, '-v, --version')
    // Options belong to the command they follow: `supaudit baseline write --db-url …` is the subcommand's.
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run supaudit --help for usage)');
  addReportOptions(addTargetOptions(program))
    .addOption(new Option('--baseline <file>', 'compare with a baseline (supaudit baseline write): --fail-on counts only new findings'))
    .addOption(new Option('--fix-out <file>', 'write the fix SQL of every finding as one migration (CONCURRENTLY statements in <file>.concurrently.sql)'))
    .addOption(new Option('--no-color', 'plain text output (also NO_COLOR=1)'))
    .addOption(new Option('-q, --quiet', 'no terminal report, only files and the exit code'))
    .addOption(new Option('--tui', 'interactive review (the default in a terminal; not with --format, --out -, --quiet or CI)'))
    .addOption(new Option('--no-tui', 'print the text report even in a terminal'))
    .action(async (flags: AuditFlags) => {
      onExit(await audit(flags, io));
    });

  addReportOptions(
    addTargetOptions(
      program
        .command('load')
        .description('measure the policies as real users: PostgREST request shapes per table, as authenticated (real users\' claims) and anon, at a concurrency sweep, against the same requests with RLS bypassed (read-only, rolled back)'),
    ),
  )
    .addOption(new Option('--tables <list>', 'tables to measure (schema.table or table, comma-separated; default: the exposed tables API roles can read, largest first)').argParser(collect))
    .addOption(new Option('--max-tables <n>', 'measure at most this many tables').default('20'))
    .addOption(new Option('--concurrency <list>', 'clients at once, comma-separated (capped at half the free connection slots, or half of what a full server or pooler accepted; the embedded database has one)').default('1,10,50'))
    .addOption(new Option('--duration <s>', 'seconds per measurement (table × shape × role × concurrency), at most').default('1'))
    .addOption(new Option('--samples <n>', 'requests per measurement, at most').default('100'))
    .addOption(new Option('--slo-ms <ms>', 'flag a request shape whose p99 is above this many milliseconds').default('200'))
    .addOption(new Option('--no-color', 'plain text output (also NO_COLOR=1)'))
    .addOption(new Option('-q, --quiet', 'no terminal report or progress, only files and the exit code'))
    .addOption(new Option('--tui', 'interactive review with a load view (the default in a terminal)'))
    .addOption(new Option('--no-tui', 'print the text report even in a terminal'))
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .action(async (flags: LoadFlags) => {
      onExit(await load(flags, io));
    });

  const baseline = program.command('baseline').description('store the fingerprints of the current findings, so CI fails only on new ones');
  baseline.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  addTargetOptions(baseline.command('write').description('audit the target and write its findings\' fingerprints (sorted) to a baseline file'))
    .addOption(new Option('--out-file <file>', 'baseline file to write').default(undefined, 'supaudit.baseline.json, or baseline in the config'))
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .action(async (flags: TargetFlags & { outFile?: string }) => {
      onExit(await writeBaseline(flags, io));
    });

  program
    .command('diff')
    .description('compare two JSON reports (-f json): new, fixed and changed findings, blast-radius score per role')
    .argument('<old>', 'the earlier report (JSON)')
    .argument('<new>', 'the later report (JSON)')
    .addOption(new Option('-f, --format <format>', 'text or json').default('text'))
    .addOption(new Option('--fail-on <level>', `exit 1 when a new finding is at or above this level (${LEVELS.join(', ')}, none)`).default(undefined, 'none'))
    .addOption(new Option('--no-color', 'plain text output (also NO_COLOR=1)'))
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .action(async (oldPath: string, newPath: string, flags: { format: string; failOn?: string; color: boolean }) => {
      onExit(await diff(oldPath, newPath, flags, io));
    });

  program
    .command('checks')
    .description('list every check: id, level, category, what it faces, the splinter lint it matches')
    .addOption(new Option('--json', 'as JSON'))
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .action(async (flags: { json?: boolean }) => {
      onExit(await listChecks(Boolean(flags.json), io));
    });

  program
    .command('explain')
    .description("print a check's documentation: why it matters, how to fix it, bad and good SQL, false positives")
    .argument('<check>', 'check id (see supaudit checks), or a fingerprint')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .action(async (id: string) => {
      onExit(await explain(id, io));
    });
  return program;
}

/** Runs the CLI; never throws: every failure becomes a one-line message and an exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const debug = argv.includes('--debug');
  try {
    await buildProgram(io, (c) => (code = c)).parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof UserError) {
      // Messages may quote names from the database: one line each, escaped like every other output.
      if (error.kind === 'cancelled') {
        io.stderr(`supaudit: ${terminalSafe(redact(error.message))}\n`);
        return EXIT.cancelled;
      }
      io.stderr(`supaudit: error: ${terminalSafe(redact(error.message))}\n`);
      if (error.hint) io.stderr(`  hint: ${terminalSafe(redact(error.hint))}\n`);
      return EXIT.usage;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`supaudit: internal error: ${terminalSafe(redact(message.split('\n')[0] ?? ''))}${debug ? '' : ' (run with --debug for details)'}\n`);
    if (debug && error instanceof Error && error.stack) io.stderr(terminalSafeMultiline(redact(error.stack)) + '\n');
    return EXIT.internal;
  }
}
