import { PGlite } from '@electric-sql/pglite';
import { btree_gin } from '@electric-sql/pglite/contrib/btree_gin';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { citext } from '@electric-sql/pglite/contrib/citext';
import { fuzzystrmatch } from '@electric-sql/pglite/contrib/fuzzystrmatch';
import { hstore } from '@electric-sql/pglite/contrib/hstore';
import { ltree } from '@electric-sql/pglite/contrib/ltree';
import { moddatetime } from '@electric-sql/pglite/contrib/moddatetime';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { pgcrypto } from '@electric-sql/pglite/contrib/pgcrypto';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';
import { uuid_ossp } from '@electric-sql/pglite/contrib/uuid_ossp';
import { loadModule, parseSync } from 'libpg-query';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../model/errors.ts';
import { CountingSession, type Session } from '../session.ts';

const BASE_SQL = fileURLToPath(new URL('./supabase-base.sql', import.meta.url));

export interface SqlFile {
  readonly path: string;
  readonly text: string;
}

/** Where each statement of a loaded file starts, so findings can point at the migration that created an object. */
export interface LoadedStatement {
  readonly file: string;
  readonly line: number;
  readonly sql: string;
}

/** Extensions Supabase projects commonly create that PGlite can load. */
const EXTENSIONS = { btree_gin, btree_gist, citext, fuzzystrmatch, hstore, ltree, moddatetime, pg_trgm, pgcrypto, unaccent, uuid_ossp };

export interface EmbeddedDatabase {
  readonly session: Session;
  /** Statements skipped because the embedded database lacks an extension (said in the report). */
  readonly skipped: readonly string[];
  readonly statements: readonly LoadedStatement[];
  readonly files: readonly string[];
}

/** Migration files in file-name order (`supabase db reset` order): `*.sql` only. */
export function migrationFiles(dir: string): string[] {
  if (!existsSync(dir)) throw new UserError('usage', `migrations folder not found: ${dir}`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => join(dir, f));
}

function lineAt(text: string, byteOffset: number): number {
  const prefix = Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8');
  return prefix.split('\n').length;
}

/** Splits a SQL file into statements with the real Postgres parser (dollar quotes, comments and all). */
export function splitStatements(file: SqlFile, displayPath: string): { sql: string; line: number }[] {
  let parsed: ReturnType<typeof parseSync>;
  try {
    parsed = parseSync(file.text);
  } catch (error) {
    const details = (error as { sqlDetails?: { cursorPosition?: number; message?: string } }).sqlDetails;
    const line = details?.cursorPosition !== undefined ? lineAt(file.text, details.cursorPosition) : 1;
    const message = details?.message ?? (error as Error).message;
    throw new UserError('migration', `${displayPath}:${line}: ${message}`, 'fix the SQL in that file');
  }
  const bytes = Buffer.from(file.text, 'utf8');
  const out: { sql: string; line: number }[] = [];
  for (const stmt of parsed.stmts ?? []) {
    const start = stmt.stmt_location ?? 0;
    const end = stmt.stmt_len ? start + stmt.stmt_len : bytes.length;
    const sql = bytes.subarray(start, end).toString('utf8');
    // The statement text may start with comments/blank lines; point at its first real line.
    const leading = sql.length - sql.trimStart().length;
    out.push({ sql, line: lineAt(file.text, start) + (sql.slice(0, leading).split('\n').length - 1) });
  }
  return out;
}

/** `CREATE EXTENSION` of something the embedded build does not ship (pgvector, pg_net…): skip, don't fail. */
function isUnavailableExtension(sql: string, error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return /^\s*create\s+extension\b/i.test(sql.replace(/^(\s*--[^\n]*\n)*/, '')) && (code === '0A000' || code === '58P01' || code === '42704');
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

export interface StartOptions {
  /** A database made by `createBaseDatabase` to clone instead of starting from scratch (tests reuse one). */
  readonly base?: PGlite;
}

/**
 * Starts PGlite (Postgres in-process), loads the Supabase base, then each file statement by
 * statement so that a failure names the file and line. Ends with ANALYZE so that row
 * estimates are those a live project would have.
 */
export async function startEmbedded(files: readonly string[], root: string, options: StartOptions = {}): Promise<EmbeddedDatabase> {
  await loadModule();
  const db = options.base ? await options.base.clone() : await createBaseDatabase();
  const statements: LoadedStatement[] = [];
  const skipped: string[] = [];
  for (const path of files) {
    const display = relative(root, path) || basename(path);
    const text = readFileSync(path, 'utf8');
    for (const stmt of splitStatements({ path, text }, display)) {
      try {
        await db.exec(stmt.sql);
      } catch (error) {
        if (isUnavailableExtension(stmt.sql, error)) {
          skipped.push(`${display}:${stmt.line}: ${pgMessage(error)}`);
          continue;
        }
        await db.close().catch(() => undefined);
        throw new UserError('migration', `${display}:${stmt.line}: ${pgMessage(error)}`, 'fix the migration; files are applied in file-name order on top of a Supabase base');
      }
      statements.push({ file: display, line: stmt.line, sql: stmt.sql });
    }
  }
  await db.exec('ANALYZE');
  const session = new CountingSession(
    async (sql, params) => (await db.query<Record<string, unknown>>(sql, params as unknown[] | undefined)).rows,
    async (sql) => {
      await db.exec(sql);
    },
    async () => {
      await db.close().catch(() => undefined);
    },
  );
  return { session, statements, skipped, files: files.map((f) => relative(root, f) || basename(f)) };
}
