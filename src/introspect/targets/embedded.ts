import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { bloom } from '@electric-sql/pglite/contrib/bloom';
import { btree_gin } from '@electric-sql/pglite/contrib/btree_gin';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { citext } from '@electric-sql/pglite/contrib/citext';
import { cube } from '@electric-sql/pglite/contrib/cube';
import { earthdistance } from '@electric-sql/pglite/contrib/earthdistance';
import { fuzzystrmatch } from '@electric-sql/pglite/contrib/fuzzystrmatch';
import { hstore } from '@electric-sql/pglite/contrib/hstore';
import { intarray } from '@electric-sql/pglite/contrib/intarray';
import { isn } from '@electric-sql/pglite/contrib/isn';
import { lo } from '@electric-sql/pglite/contrib/lo';
import { ltree } from '@electric-sql/pglite/contrib/ltree';
import { moddatetime } from '@electric-sql/pglite/contrib/moddatetime';
import { pg_stat_statements } from '@electric-sql/pglite/contrib/pg_stat_statements';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { pgcrypto } from '@electric-sql/pglite/contrib/pgcrypto';
import { seg } from '@electric-sql/pglite/contrib/seg';
import { tablefunc } from '@electric-sql/pglite/contrib/tablefunc';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';
import { uuid_ossp } from '@electric-sql/pglite/contrib/uuid_ossp';
import { loadModule } from 'libpg-query';
import { readFileSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FailedStatement } from '../../model/snapshot.ts';
import { UserError } from '../../model/errors.ts';
import { describePgErrorSafely } from '../errors.ts';
import { CountingSession, type Session } from '../session.ts';
import { readSqlFile, statementsOf, type LoadedStatement } from './sql-files.ts';

const BASE_SQL = fileURLToPath(new URL('./supabase-base.sql', import.meta.url));

/**
 * Extensions of Supabase's list that PGlite can load (each is fetched only when a migration creates
 * it). Missing, and so skipped with a note: pg_net, pg_cron, pgsodium, vault, plv8, postgis, http…
 */
const EXTENSIONS = {
  bloom, btree_gin, btree_gist, citext, cube, earthdistance, fuzzystrmatch, hstore, intarray, isn, lo, ltree, moddatetime,
  pg_stat_statements, pg_trgm, pgcrypto, seg, tablefunc, unaccent, uuid_ossp, vector,
};

/**
 * The hosted search_path, and function bodies not checked at CREATE time (as pg_dump and restores
 * do): a function whose body names an object of an extension the embedded database lacks still loads.
 */
const MIGRATION_SEARCH_PATH = `set search_path = "$user", public, extensions; set check_function_bodies = off`;

export interface EmbeddedDatabase {
  readonly session: Session;
  /** Statements skipped because the embedded database lacks an extension (said in the report). */
  readonly skipped: readonly string[];
  /** Statements that failed and were passed over (not `strict`). */
  readonly failed: readonly FailedStatement[];
  readonly statements: readonly LoadedStatement[];
  readonly files: readonly string[];
}

/**
 * `CREATE EXTENSION` of something the embedded build does not ship (pg_net, pg_cron…): its name, to
 * skip the statement rather than fail; undefined for any other statement or error.
 */
function unavailableExtension(sql: string, error: unknown): string | undefined {
  const code = (error as { code?: string }).code;
  if (code !== '0A000' && code !== '58P01' && code !== '42704') return undefined;
  const m = /^\s*create\s+extension\s+(?:if\s+not\s+exists\s+)?("(?:[^"]|"")+"|[^\s;]+)/i.exec(sql.replace(/^(\s*--[^\n]*\n|\s*\/\*[\s\S]*?\*\/)*/, ''));
  if (!m) return undefined;
  return m[1]!.startsWith('"') ? m[1]!.slice(1, -1).replaceAll('""', '"') : m[1]!.toLowerCase();
}

/**
 * Errors a statement gets when something it uses was never created: a type, language, function,
 * schema, table or column. After an extension was skipped, such a statement most likely needs it
 * (`vector(1536)`, `language plv8`, `cron.schedule(…)`, an index on a skipped table): it is skipped
 * too, with a note, instead of stopping the whole audit. Without a skipped extension it is a real
 * error in the migration and stops the load.
 */
const MISSING_OBJECT_CODES = new Set(['42704', '42883', '42P01', '3F000', '42703']);

function isMissingDependency(error: unknown): boolean {
  return MISSING_OBJECT_CODES.has((error as { code?: string }).code ?? '');
}

/**
 * What a failed statement of the project says: the server's message for schema errors (class 42:
 * an object that exists or is missing, a syntax error; 0A: not supported), which name only schema
 * objects; for any other error (a seed row refused, a RAISE) the condition and names only, which
 * cannot carry row values.
 */
function failureText(error: unknown): string {
  const code = (error as { code?: string }).code ?? '';
  return code.startsWith('42') || code.startsWith('0A') ? pgMessage(error) : describePgErrorSafely(error);
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

function pgMessage(error: unknown): string {
  const e = error as { message?: string; code?: string };
  return `${e.message ?? String(error)}${e.code ? ` (SQLSTATE ${e.code})` : ''}`;
}

/** A fresh PGlite with the commonly used extensions and the Supabase base loaded. */
export async function createBaseDatabase(): Promise<PGlite> {
  const db = await PGlite.create({ extensions: EXTENSIONS });
  try {
    await db.exec(readFileSync(BASE_SQL, 'utf8'));
  } catch (error) {
    await db.close().catch(() => undefined);
    throw new Error(`loading the Supabase base schema failed: ${pgMessage(error)}`);
  }
  return db;
}

/** SQL that is not a file (the DDL the lab generates from a live catalog), named for the failures it records. */
export interface SqlSource {
  readonly display: string;
  readonly text: string;
}

export interface StartOptions {
  /** A database made by `createBaseDatabase` to clone instead of starting from scratch (tests reuse one). */
  readonly base?: PGlite;
  /** Checked between statements: once aborted, loading stops and the database is discarded. */
  readonly signal?: AbortSignal;
  /** Told, for a large load only, what is about to load (small projects load in a moment). */
  readonly onPlan?: (text: string) => void;
  /** Stop at the first statement that fails (`--strict`); otherwise it is recorded and loading goes on. */
  readonly strict?: boolean;
}

/** From this size on, the load is announced: tens of megabytes of seed take minutes. */
const ANNOUNCE_BYTES = 1024 * 1024;

/** How long PGlite may run statements before the event loop gets a turn (and with it, Ctrl-C). */
const YIELD_EVERY_MS = 50;

const cancelled = () => new UserError('cancelled', 'cancelled: loading the migrations and seed into the embedded database was stopped');

/**
 * Starts PGlite (Postgres in-process), loads the Supabase base, then each file statement by
 * statement so that a failure names the file and line. Ends with ANALYZE so that row
 * estimates are those a live project would have.
 */
export async function startEmbedded(files: readonly (string | SqlSource)[], root: string, options: StartOptions = {}): Promise<EmbeddedDatabase> {
  await loadModule();
  const texts = files.map((f) => {
    if (typeof f !== 'string') return { path: f.display, display: f.display, text: f.text };
    const display = relative(root, f) || basename(f);
    return { path: f, display, text: readSqlFile(f, display) };
  });
  if (options.signal?.aborted) throw cancelled();
  const db = options.base ? await options.base.clone() : await createBaseDatabase();
  await db.exec(MIGRATION_SEARCH_PATH);
  const bytes = texts.reduce((n, f) => n + Buffer.byteLength(f.text), 0);
  if (bytes >= ANNOUNCE_BYTES) options.onPlan?.(`loading ${Math.round(bytes / (1024 * 1024))} MB of migrations and seed into the embedded database (Ctrl-C stops it)`);
  // PGlite runs each statement synchronously in WASM: without a turn of the event loop now and
  // then, a signal is never handled and only SIGKILL stops a large seed.
  let lastYield = 0;
  const breathe = async () => {
    if (performance.now() - lastYield >= YIELD_EVERY_MS) {
      await new Promise((r) => setImmediate(r));
      lastYield = performance.now();
    }
    if (options.signal?.aborted) throw cancelled();
  };
  const statements: LoadedStatement[] = [];
  const skipped: string[] = [];
  const failed: FailedStatement[] = [];
  const missingExtensions: string[] = [];
  // Inside a file's own BEGIN … COMMIT a skipped statement must not abort the block: each statement
  // there runs under a savepoint, rolled back to when it fails.
  let inBlock = false;
  try {
    for (const { path, display, text: original } of texts) {
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
            if (options.strict || !(error instanceof UserError) || syntaxError !== null) throw error;
            const m = /^.*?:(\d+): (.*)$/.exec(error.message);
            syntaxError = { file: display, line: Number(m?.[1] ?? 1), code: '42601', message: `${m?.[2] ?? error.message} (the rest of the file was not loaded)` };
            source = textBefore(text, syntaxError.line);
            continue parsing;
          }
          if (next.done) break parsing;
          const stmt = next.value;
          // Parsed again after a syntax error: the statements that already ran come first, in the same order.
          if (seen++ < ran) continue;
          ran++;
          await breathe();
          const guarded = inBlock && stmt.transaction === undefined;
          try {
            if (guarded) await db.exec('savepoint supaudit_statement');
            await db.exec(stmt.sql);
            if (guarded) await db.exec('release savepoint supaudit_statement');
            if (stmt.transaction) inBlock = stmt.transaction === 'begin';
          } catch (error) {
            if (guarded) await db.exec('rollback to savepoint supaudit_statement').catch(() => undefined);
            const extension = unavailableExtension(stmt.sql, error);
            if (extension !== undefined) {
              if (!missingExtensions.includes(extension)) missingExtensions.push(extension);
              skipped.push(`${display}:${stmt.line}: extension ${extension} is not available in the embedded database`);
              continue;
            }
            if (missingExtensions.length > 0 && isMissingDependency(error)) {
              skipped.push(`${display}:${stmt.line}: ${pgMessage(error)} (probably needs ${missingExtensions.join(', ')})`);
              continue;
            }
            if (options.strict) {
              throw new UserError('migration', `${display}:${stmt.line}: ${pgMessage(error)}`, 'fix the migration; files are applied in file-name order on top of a Supabase base');
            }
            // A real project's history has statements that fail on a fresh database (an object created
            // twice, a syntax Postgres never accepted): the audit goes on and reports each one.
            failed.push({ file: display, line: stmt.line, code: (error as { code?: string }).code ?? '', message: failureText(error) });
            continue;
          }
          statements.push({ file: display, line: stmt.line, sql: stmt.sql });
        }
      }
      if (syntaxError) failed.push(syntaxError);
    }
    await breathe();
    await db.exec('ANALYZE');
  } catch (error) {
    // A failing migration, a parse error or a cancel: the half-loaded database is discarded.
    await db.close().catch(() => undefined);
    throw error;
  }
  const session = new CountingSession({
    run: async (sql, params) => (await db.query<Record<string, unknown>>(sql, params as unknown[] | undefined)).rows,
    runMany: async (sql) => {
      await db.exec(sql);
    },
    close: async () => {
      await db.close().catch(() => undefined);
    },
  });
  return { session, statements, skipped, failed, files: texts.map((f) => f.display) };
}
