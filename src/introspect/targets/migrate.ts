/**
 * Loads migration and seed files into a database statement by statement, as `supabase db reset`
 * would, going on past what fails: the embedded database (PGlite) uses it, and the tests load the
 * same way into real servers. A `CREATE EXTENSION` the server cannot satisfy loads a stand-in
 * (./stand-ins) when there is one; else it is skipped with a note when Supabase has that extension
 * (with what then fails for want of it), or reported as a failed statement when no one has it.
 */
import { loadModule } from 'libpg-query';
import { InferredTables } from './inferred-tables.ts';
import type { FailedStatement } from '../../model/snapshot.ts';
import { UserError } from '../../model/errors.ts';
import { quoteLiteral } from '../../model/ident.ts';
import { describePgErrorSafely } from '../errors.ts';
import { statementsOf, type LoadedStatement } from './sql-files.ts';
import { createExtensionOf, loadStandIn, standInNote, SUPABASE_EXTENSIONS } from './stand-ins/index.ts';

/** The database the files load into. */
export interface MigrationDatabase {
  exec(sql: string): Promise<void>;
  query<T>(sql: string): Promise<T[]>;
}

export interface MigrationFile {
  readonly path: string;
  /** The path as the report shows it. */
  readonly display: string;
  readonly text: string;
}

export interface LoadOptions {
  /** Stop at the first statement that fails (`--strict`); otherwise it is recorded and loading goes on. */
  readonly strict?: boolean;
  /** Awaited before each statement: yields to the event loop, and throws to stop the load. */
  readonly beforeStatement?: () => Promise<void>;
  /**
   * The session's settings each file starts with, after `RESET ALL`: what one file SETs for the
   * session (a pg_dump's empty search_path) does not carry over into the next, as the Supabase CLI
   * resets between migrations.
   */
  readonly fileSettings?: string;
  /**
   * Tables made as stand-ins before the migrations (made in the dashboard; see typegen.ts) at their
   * final shape: a statement on one of them that fails only because it is already there (a column,
   * an index, a constraint the migration adds) is counted in `alreadyThere`, not reported.
   */
  readonly standInTables?: ReadonlySet<string>;
  /** Tables no file creates get a stand-in when a statement first needs one (see inferred-tables.ts). */
  readonly inferTables?: boolean;
}

export interface LoadResult {
  readonly statements: readonly LoadedStatement[];
  /** Statements skipped because the database lacks an extension Supabase has (said in the report). */
  readonly skipped: readonly string[];
  /** Statements that failed and were passed over (not `strict`). */
  readonly failed: readonly FailedStatement[];
  /** Extensions loaded as stand-ins, each with what it imitates (said in the report). */
  readonly standIns: readonly string[];
  /** Statements on a stand-in table that failed only because the stand-in already has what they add. */
  readonly alreadyThere?: number;
}

/**
 * `CREATE EXTENSION` of something the server does not ship (pg_net, pg_cron…): its name, to load
 * a stand-in or skip the statement; undefined for any other statement or error.
 */
function unavailableExtension(sql: string, error: unknown): string | undefined {
  const code = (error as { code?: string }).code;
  if (code !== '0A000' && code !== '58P01' && code !== '42704') return undefined;
  return createExtensionOf(sql)?.name;
}

/** Extensions every hosted project has without a CREATE EXTENSION, by the schema their objects live in. */
const PREINSTALLED: Readonly<Record<string, string>> = { vault: 'supabase_vault', pgsodium: 'pgsodium' };

/** The preinstalled extension a statement failed for want of: its schema, table or function does not exist. */
function preinstalledNeeded(error: unknown): string | undefined {
  if (!isMissingDependency(error)) return undefined;
  const m = /(?:^|[\s"(])(vault|pgsodium)(?:"?\.|" does not exist)/.exec((error as Error).message ?? '');
  return m ? PREINSTALLED[m[1]!] : undefined;
}

/**
 * Errors a statement gets when something it uses was never created: a type, language, function,
 * schema, table or column. After an extension was skipped, such a statement most likely needs it
 * (`language plv8`, `st_point(…)`, a column of a PostGIS type, an index on a skipped table): it is skipped
 * too, with a note, instead of stopping the whole audit. Without a skipped extension it is a real
 * error in the migration and stops the load.
 */
const MISSING_OBJECT_CODES = new Set(['42704', '42883', '42P01', '3F000', '42703']);

function isMissingDependency(error: unknown): boolean {
  return MISSING_OBJECT_CODES.has((error as { code?: string }).code ?? '');
}

/**
 * What a failed statement of the project says: the server's message for schema errors (class 42:
 * an object that exists or is missing, a syntax error; 0A: not supported; 3F: a schema that does
 * not exist), which name only schema objects; for any other error (a seed row refused, a RAISE)
 * the condition and names only, which cannot carry row values.
 */
function failureText(error: unknown): string {
  const code = (error as { code?: string }).code ?? '';
  return code.startsWith('42') || code.startsWith('0A') || code.startsWith('3F') ? pgMessage(error) : describePgErrorSafely(error);
}

/**
 * psql meta-commands (`\d+ public.teams`, `\i file`) in a migration: not SQL (the Supabase CLI sends
 * them to the server, which refuses them). Blanked, each recorded as a failed statement, so the rest
 * of the file loads; line numbers and offsets are kept.
 */
function withoutMetaCommands(text: string, display: string, failed: FailedStatement[]): string {
  if (!/^[ \t]*\\/m.test(text)) return text;
  const lines = text.split('\n');
  return lines
    .map((line, i) => {
      if (!/^[ \t]*\\/.test(line)) return line;
      failed.push({ file: display, line: i + 1, code: '42601', message: `a psql meta-command (${line.trim().split(/\s/)[0]}), not SQL: the server refuses it` });
      return ' '.repeat(line.length);
    })
    .join('\n');
}

/** The text before the statement that holds `line`: cut after the last line ending in `;` before it. */
function textBefore(text: string, line: number): string {
  const lines = text.split('\n').slice(0, Math.max(0, line - 1));
  let end = lines.length;
  while (end > 0 && !/;\s*(--.*)?$/.test(lines[end - 1]!)) end--;
  return lines.slice(0, end).join('\n');
}

export function pgMessage(error: unknown): string {
  const e = error as { message?: string; code?: string };
  return `${e.message ?? String(error)}${e.code ? ` (SQLSTATE ${e.code})` : ''}`;
}

/** Runs the files' statements in order on `db`; see the module comment for what happens to a failure. */
export async function loadMigrations(db: MigrationDatabase, files: readonly MigrationFile[], options: LoadOptions = {}): Promise<LoadResult> {
  await loadModule();
  const statements: LoadedStatement[] = [];
  const skipped: string[] = [];
  const failed: FailedStatement[] = [];
  const missingExtensions: string[] = [];
  const standIns: string[] = [];
  let alreadyThere = 0;
  // Inside a file's own BEGIN … COMMIT a skipped statement must not abort the block: each statement
  // there runs under a savepoint, rolled back to when it fails.
  let inBlock = false;
  /** Preinstalled extensions whose stand-in was tried (once each). */
  const preinstalledTried = new Set<string>();
  const inferred = options.inferTables && !options.strict ? new InferredTables(files.map((f) => f.text)) : undefined;
  for (const [index, { path, display, text: original }] of files.entries()) {
    if (options.fileSettings !== undefined && index > 0) await db.exec(`reset all; ${options.fileSettings}`);
    const text = options.strict ? original : withoutMetaCommands(original, display, failed);
    // A syntax error stops the parser: the statements before it are loaded (the text is parsed
    // again up to the statement that holds the error), the rest of the file is passed over.
    let source = text;
    let syntaxError: FailedStatement | null = null;
    let ran = 0;
    parsing: for (;;) {
      const parsed = statementsOf({ path, text: source }, display);
      let seen = 0;
      for (;;) {
        let next: IteratorResult<ReturnType<typeof statementsOf> extends Generator<infer T> ? T : never>;
        try {
          next = parsed.next();
        } catch (error) {
          if (options.strict || !(error instanceof UserError)) throw error;
          const m = /^.*?:(\d+): ([\s\S]*)$/.exec(error.message);
          const earlier = syntaxError as FailedStatement | null;
          const at = Math.min(Number(m?.[1] ?? 1), earlier?.line ?? Infinity);
          // The text before the error may end inside the statement that broke it (a dollar quote
          // opened earlier and closed by a nested one): cut again, earlier each time, until it parses.
          const shorter = textBefore(text, at);
          if (earlier !== null && shorter.length >= source.length) throw error;
          // On one line and short: "at or near" may quote many lines of the file.
          const said = (m?.[2] ?? error.message).replace(/\s+/g, ' ');
          syntaxError = { file: display, line: at, code: '42601', message: `${said.length > 160 ? `${said.slice(0, 157)}...` : said} (the rest of the file was not loaded)` };
          source = shorter;
          continue parsing;
        }
        if (next.done) break parsing;
        const stmt = next.value;
        // Parsed again after a syntax error: the statements that already ran come first, in the same order.
        if (seen++ < ran) continue;
        ran++;
        await options.beforeStatement?.();
        const guarded = inBlock && stmt.transaction === undefined;
        /** Runs the statement, in a savepoint inside the file's own transaction block (rolled back to when it fails). */
        const run = async () => {
          if (guarded) await db.exec('savepoint supaudit_statement');
          try {
            await db.exec(stmt.sql);
          } catch (error) {
            if (guarded) await db.exec('rollback to savepoint supaudit_statement').catch(() => undefined);
            throw error;
          }
          if (guarded) await db.exec('release savepoint supaudit_statement');
        };
        try {
          await run();
          if (stmt.transaction) inBlock = stmt.transaction === 'begin';
        } catch (error) {
          let failure = error;
          const extension = unavailableExtension(stmt.sql, error);
          if (extension !== undefined) {
            try {
              const loaded = await loadStandIn(db, stmt.sql, inBlock);
              if (loaded !== undefined) {
                standIns.push(`${standInNote(loaded)} (${display}:${stmt.line})`);
                statements.push({ file: display, line: stmt.line, sql: stmt.sql });
                continue;
              }
            } catch (standInError) {
              // The stand-in exists but its CREATE EXTENSION cannot load (a WITH SCHEMA that does not exist).
              failure = standInError;
            }
            if (failure === error && SUPABASE_EXTENSIONS.has(extension)) {
              if (!missingExtensions.includes(extension)) missingExtensions.push(extension);
              skipped.push(`${display}:${stmt.line}: extension ${extension} is not available in the embedded database`);
              continue;
            }
          }
          // Extensions a hosted project has from the start (Vault; pgsodium on older projects):
          // migrations use them without creating them. Their stand-in loads, and the statement runs again.
          const preinstalled = failure === error ? preinstalledNeeded(failure) : undefined;
          if (preinstalled !== undefined && !preinstalledTried.has(preinstalled)) {
            preinstalledTried.add(preinstalled);
            const [present] = await db.query<{ ok: boolean }>(`select exists (select from pg_catalog.pg_extension where extname = ${quoteLiteral(preinstalled)}) as ok`);
            if (!present?.ok) {
              try {
                if ((await loadStandIn(db, `create extension ${preinstalled}`, inBlock)) !== undefined) {
                  standIns.push(`${standInNote(preinstalled)}; preinstalled on hosted Supabase (${display}:${stmt.line} uses it)`);
                  await run();
                  statements.push({ file: display, line: stmt.line, sql: stmt.sql });
                  continue;
                }
              } catch (again) {
                failure = again;
              }
            }
          }
          // A table made in the dashboard (no file creates it), or a column of one: made, and the statement runs again.
          if (inferred && isMissingDependency(failure)) {
            let repaired = false;
            for (let tries = 0; tries < 20 && (await inferred.repair(db, stmt.sql, failure)); tries++) {
              try {
                await run();
                repaired = true;
                break;
              } catch (again) {
                failure = again;
              }
            }
            if (repaired) {
              statements.push({ file: display, line: stmt.line, sql: stmt.sql });
              continue;
            }
          }
          if (missingExtensions.length > 0 && isMissingDependency(failure)) {
            skipped.push(`${display}:${stmt.line}: ${pgMessage(failure)} (probably needs ${missingExtensions.join(', ')})`);
            continue;
          }
          if (options.strict) {
            throw new UserError('migration', `${display}:${stmt.line}: ${pgMessage(failure)}`, 'fix the migration; files are applied in file-name order on top of a Supabase base');
          }
          // A real project's history has statements that fail on a fresh database (an object created
          // twice, a syntax Postgres never accepted, an extension no one ships): the audit goes on
          // and reports each one.
          const code = (failure as { code?: string }).code ?? '';
          if (options.standInTables && ALREADY_THERE.has(code) && namesStandIn(stmt.sql, options.standInTables)) {
            alreadyThere++;
            continue;
          }
          failed.push({ file: display, line: stmt.line, code, message: failureText(failure) });
          continue;
        }
        statements.push({ file: display, line: stmt.line, sql: stmt.sql });
      }
    }
    if (syntaxError) failed.push(syntaxError);
  }
  const made = inferred?.note();
  if (made) standIns.push(made);
  return { statements, skipped, failed, standIns, ...(alreadyThere > 0 ? { alreadyThere } : {}) };
}

/** A failure that says the object is already there (a column, a relation, a constraint): a stand-in made at the final shape has it. */
const ALREADY_THERE = new Set(['42701', '42P07', '42710', '42P16']);

/** Whether a statement names one of the stand-in tables (as a word, qualified or not, quoted or not). */
function namesStandIn(sql: string, tables: ReadonlySet<string>): boolean {
  for (const m of sql.matchAll(/"((?:[^"]|"")+)"|([A-Za-z_][\w$]*)/g)) if (tables.has((m[1] ?? m[2]!).replaceAll('""', '"'))) return true;
  return false;
}
