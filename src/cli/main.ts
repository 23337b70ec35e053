import { Command, CommanderError, Option } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isFormat, reporters, type FormatName } from '../../reports/index.ts';
import { runAudit } from '../engine/audit.ts';
import { DEFAULT_CHECK_OPTIONS } from '../engine/context.ts';
import { resolveTarget } from '../introspect/targets/index.ts';
import { UserError } from '../model/errors.ts';
import { atLeast, isLevel, LEVELS, type Level } from '../model/level.ts';
import { redact, registerSecret } from '../model/redact.ts';
import { VERSION } from '../version.ts';

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

interface AuditFlags {
  dbUrl?: string;
  migrations?: string;
  demo?: boolean;
  project?: string;
  schemas?: string;
  format: string[];
  out?: string;
  failOn: string;
  color: boolean;
  statementTimeout: string;
  lockTimeout: string;
  connectTimeout: string;
  debug?: boolean;
  quiet?: boolean;
  probe?: boolean;
  probeWrites?: boolean;
  probeTriggers?: boolean;
  apiUrl?: string;
  anonKey?: string;
  userJwt?: string;
  realtimeSubscribers?: string;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((v) => v.trim()).filter(Boolean)];
}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UserError('usage', `${name} must be a positive whole number of milliseconds, got "${value}"`);
  return n;
}

function useColor(flags: AuditFlags, io: CliIo): boolean {
  if (!flags.color) return false;
  if (io.env['NO_COLOR'] !== undefined && io.env['NO_COLOR'] !== '') return false;
  if (io.env['FORCE_COLOR'] !== undefined && io.env['FORCE_COLOR'] !== '0') return true;
  return io.isTTY;
}

function apiProbeOptions(flags: AuditFlags, io: CliIo): { url: string; anonKey: string; userJwt?: string } {
  const url = flags.apiUrl ?? io.env['SUPABASE_URL'];
  const anonKey = flags.anonKey ?? io.env['SUPABASE_ANON_KEY'];
  if (!url || !anonKey) throw new UserError('usage', 'the API probe needs both --api-url (or SUPABASE_URL) and --anon-key (or SUPABASE_ANON_KEY)');
  try {
    new URL(url);
  } catch {
    throw new UserError('usage', `--api-url is not a URL: ${url}`, 'expected https://<project>.supabase.co');
  }
  registerSecret(anonKey);
  const userJwt = flags.userJwt ?? io.env['SUPAUDIT_USER_JWT'];
  registerSecret(userJwt);
  return { url, anonKey, ...(userJwt ? { userJwt } : {}) };
}

async function audit(flags: AuditFlags, io: CliIo): Promise<number> {
  const formats = flags.format.length > 0 ? flags.format : ['text'];
  for (const f of formats) {
    if (!isFormat(f)) throw new UserError('usage', `unknown format "${f}"`, `choose from ${Object.keys(reporters).join(', ')}`);
  }
  const failOn = flags.failOn.toLowerCase();
  if (failOn !== 'none' && !isLevel(failOn)) {
    throw new UserError('usage', `--fail-on must be one of ${LEVELS.join(', ')} or none, got "${flags.failOn}"`);
  }
  const targetChoices = [flags.dbUrl ? '--db-url' : null, flags.migrations ? '--migrations' : null, flags.demo ? '--demo' : null].filter(Boolean);
  if (targetChoices.length > 1) throw new UserError('usage', `choose one target, not ${targetChoices.join(' and ')}`);
  if (flags.dbUrl && /:\/\/[^/@:]*:[^@/]+@/.test(flags.dbUrl)) {
    io.stderr('supaudit: warning: a password on the command line lands in shell history; prefer SUPABASE_DB_URL=… in the environment\n');
  }
  const target = resolveTarget({
    dbUrl: flags.dbUrl,
    migrations: flags.migrations,
    demo: flags.demo,
    projectDir: flags.project,
    cwd: io.cwd,
    env: io.env,
    connectTimeoutMs: positiveInt('--connect-timeout', flags.connectTimeout),
  });
  const subscribers = flags.realtimeSubscribers === undefined ? undefined : Number(flags.realtimeSubscribers);
  if (subscribers !== undefined && !(Number.isInteger(subscribers) && subscribers >= 0)) {
    throw new UserError('usage', `--realtime-subscribers must be a whole number, got "${flags.realtimeSubscribers}"`);
  }
  const { report } = await runAudit(target, {
    ...(subscribers !== undefined ? { checkOptions: { ...DEFAULT_CHECK_OPTIONS, realtimeSubscribers: subscribers } } : {}),
    exposedSchemas: flags.schemas ? collect(flags.schemas, []) : undefined,
    statementTimeoutMs: positiveInt('--statement-timeout', flags.statementTimeout),
    lockTimeoutMs: positiveInt('--lock-timeout', flags.lockTimeout),
    ...(io.signal ? { signal: io.signal } : {}),
    ...(flags.apiUrl || flags.anonKey ? { apiProbe: apiProbeOptions(flags, io) } : {}),
    ...(flags.probe || flags.probeWrites
      ? { probe: { writes: Boolean(flags.probeWrites), triggers: Boolean(flags.probeTriggers) }, onProbePlan: (plan: string) => io.stderr(`supaudit: ${plan}\n`) }
      : {}),
  });
  const color = useColor(flags, io);
  const outDir = flags.out === '-' ? null : resolve(io.cwd, flags.out ?? 'reports');
  const written: string[] = [];
  for (const name of formats as FormatName[]) {
    const reporter = reporters[name];
    if (name === 'text' && !flags.quiet) io.stdout(reporter.render(report, { color }));
    if (outDir === null) {
      if (name !== 'text') io.stdout(reporter.render(report, { color: false }));
      continue;
    }
    // Text goes to the terminal; it is written to a file only when --out was asked for explicitly.
    if (name === 'text' && flags.out === undefined) continue;
    mkdirSync(outDir, { recursive: true });
    const path = join(outDir, `supaudit.${reporter.extension}`);
    writeFileSync(path, reporter.render(report, { color: false }));
    written.push(path);
  }
  if (written.length > 0 && !flags.quiet) io.stderr(`supaudit: wrote ${written.join(', ')}\n`);
  if (failOn === 'none') return EXIT.ok;
  const threshold = failOn as Level;
  const failing = report.findings.filter((f) => atLeast(f.level, threshold)).length;
  if (failing > 0) {
    io.stderr(`supaudit: ${failing} finding${failing === 1 ? '' : 's'} at or above ${threshold} (--fail-on ${threshold})\n`);
    return EXIT.findings;
  }
  return EXIT.ok;
}

export function buildProgram(io: CliIo, onExit: (code: number) => void): Command {
  const program = new Command();
  program
    .name('supaudit')
    .description('Security and performance audit of a Supabase / PostgREST Postgres database.')
    .version(VERSION, '-v, --version')
    .addOption(new Option('--db-url <url>', 'live database to audit (or SUPABASE_DB_URL / DATABASE_URL)'))
    .addOption(new Option('--migrations <dir>', 'audit migrations loaded into the embedded database (default ./supabase/migrations)'))
    .addOption(new Option('--demo', 'audit the bundled demo project in the embedded database'))
    .addOption(new Option('--project <dir>', 'Supabase project folder holding config.toml (default ./supabase)'))
    .addOption(new Option('--schemas <list>', 'exposed schemas, comma-separated (overrides pgrst.db_schemas and config.toml)'))
    .addOption(new Option('-f, --format <format>', `output format, repeatable: ${Object.keys(reporters).join(', ')}`).argParser(collect).default([], 'text'))
    .addOption(new Option('-o, --out <dir>', 'folder for report files; "-" prints them to stdout').default(undefined, 'reports/'))
    .addOption(new Option('--fail-on <level>', `exit 1 when a finding is at or above this level (${LEVELS.join(', ')}, none)`).default('none'))
    .addOption(new Option('--no-color', 'plain text output (also NO_COLOR=1)'))
    .addOption(new Option('--statement-timeout <ms>', 'per-statement timeout on the audited database').default('30000'))
    .addOption(new Option('--lock-timeout <ms>', 'lock wait timeout on the audited database').default('3000'))
    .addOption(new Option('--connect-timeout <ms>', 'connection timeout').default('10000'))
    .addOption(new Option('--probe', 'verify the blast-radius model by reading as anon, authenticated and service_role (rolled back)'))
    .addOption(new Option('--probe-writes', 'also probe INSERT/UPDATE/DELETE of one row per table, in savepoints rolled back (implies --probe)'))
    .addOption(new Option('--probe-triggers', 'with --probe-writes, include tables that have triggers (they fire, then roll back)'))
    .addOption(new Option('--api-url <url>', 'probe the REST API as the internet sees it (or SUPABASE_URL)'))
    .addOption(new Option('--anon-key <key>', 'anon key for the API probe (or SUPABASE_ANON_KEY)'))
    .addOption(new Option('--user-jwt <jwt>', "a signed-in user's access token, to probe as authenticated too (or SUPAUDIT_USER_JWT)"))
    .addOption(new Option('--realtime-subscribers <n>', 'Realtime subscribers assumed per published table when realtime.subscription has none (default 100)'))
    .addOption(new Option('-q, --quiet', 'no terminal report, only files and the exit code'))
    .addOption(new Option('--debug', 'print stack traces of internal errors'))
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run supaudit --help for usage)')
    .action(async (flags: AuditFlags) => {
      onExit(await audit(flags, io));
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
      if (error.kind === 'cancelled') {
        io.stderr(`supaudit: ${redact(error.message)}\n`);
        return EXIT.cancelled;
      }
      io.stderr(`supaudit: error: ${redact(error.message)}\n`);
      if (error.hint) io.stderr(`  hint: ${redact(error.hint)}\n`);
      return EXIT.usage;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`supaudit: internal error: ${redact(message.split('\n')[0] ?? '')}${debug ? '' : ' (run with --debug for details)'}\n`);
    if (debug && error instanceof Error && error.stack) io.stderr(redact(error.stack) + '\n');
    return EXIT.internal;
  }
}
