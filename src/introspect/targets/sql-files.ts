/**
 * SQL files as the Supabase CLI sees them: which files of a migrations folder it runs, and each
 * file split into statements with the real Postgres parser (with the line each starts on). Used to
 * load migrations into the embedded database and, for a live database, to point findings at the
 * migration that created their object. No database here: importing this loads no PGlite.
 */
import { parseSync } from 'libpg-query';
import { closeSync, constants, existsSync, fstatSync, openSync, readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { UserError } from '../../model/errors.ts';

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

/** The Supabase CLI applies only files named `<version>_<name>.sql` (version: digits); it skips the rest. */
const MIGRATION_NAME = /^\d+_.*\.sql$/;

/**
 * `<version>-<name>.sql`: how Lovable (and some other tools) name the migrations they apply to the
 * project's database themselves. The Supabase CLI skips them, but the database has them: loaded in
 * version order with the rest, and said in a note.
 */
const HYPHEN_NAME = /^\d+-.*\.sql$/;

/**
 * Migration files in file-name order (`supabase db reset` order): `<digits>_<name>.sql`, and
 * `<digits>-<name>.sql` among them. A folder with none at its top but some in sub-folders (a
 * project that keeps them by feature and copies them flat before `db push`): those, ordered by
 * file name as the copy would be (`nestedMigrations` says so).
 */
export function migrationFiles(dir: string): string[] {
  if (!existsSync(dir)) throw new UserError('usage', `migrations folder not found: ${dir}`);
  if (!statSync(dir).isDirectory()) throw new UserError('usage', `${dir} is not a folder`, 'give the folder that holds the migrations, e.g. supabase/migrations');
  const top = readdirSync(dir)
    .filter((f) => MIGRATION_NAME.test(f) || HYPHEN_NAME.test(f))
    .sort()
    .map((f) => join(dir, f));
  return top.length > 0 ? top : nestedMigrations(dir).map((f) => join(dir, f));
}

/** Migration files in sub-folders of `dir` (paths relative to it), ordered by file name, then path. */
export function nestedMigrations(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const key = (f: string) => `${basename(f)}\u0000${f}`;
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f !== basename(f) && (MIGRATION_NAME.test(basename(f)) || HYPHEN_NAME.test(basename(f))))
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** `.sql` files in the migrations folder that are not migrations at all (e.g. `seed.sql`, `schema.sql`): not loaded. */
export function ignoredMigrationFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql') && !MIGRATION_NAME.test(f) && !HYPHEN_NAME.test(f))
    .sort();
}

/** Migrations named `<version>-<name>.sql`: loaded, though the Supabase CLI would skip them. */
export function hyphenMigrationFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => HYPHEN_NAME.test(f))
    .sort();
}

const unreadable = (display: string, why: string) =>
  new UserError('migration', `cannot read ${display}: ${why}`, 'migrations and seed files must be readable SQL files; fix or remove it');

function describeStatError(error: unknown): string {
  const code = (error as { code?: string }).code;
  // The name came from the folder listing, so a missing target is a symbolic link that points nowhere.
  return code === 'ENOENT' ? 'ENOENT (a broken symbolic link?)' : (code ?? 'unreadable');
}

/**
 * Refuses a migration or seed "file" that is a folder, FIFO, socket or device, or cannot be
 * looked at: checked for every file before the embedded database starts, so a bad one costs nothing.
 */
export function checkSqlFile(path: string, display: string): void {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (error) {
    throw unreadable(display, describeStatError(error));
  }
  if (st.isDirectory()) throw unreadable(display, 'it is a folder, not a file');
  // Reading a FIFO would wait for a writer forever, deaf to Ctrl-C.
  if (!st.isFile()) throw unreadable(display, 'it is not a regular file (a FIFO, socket or device)');
}

/** The text of a migration or seed file (see checkSqlFile), or an error that names it. */
export function readSqlFile(path: string, display: string): string {
  checkSqlFile(path, display);
  let fd: number;
  try {
    // Non-blocking, in case it was swapped for a FIFO since the check: the fstat below refuses it then.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw unreadable(display, describeStatError(error));
  }
  try {
    if (!fstatSync(fd).isFile()) throw unreadable(display, 'it is not a regular file (a FIFO, socket or device)');
    return readFileSync(fd, 'utf8');
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw unreadable(display, (error as { code?: string }).code ?? 'unreadable');
  } finally {
    closeSync(fd);
  }
}

function lineAt(text: string, byteOffset: number): number {
  const prefix = Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8');
  return prefix.split('\n').length;
}

export interface SplitStatement {
  readonly sql: string;
  readonly line: number;
  /** `begin` opens a transaction block, `end` closes it (COMMIT, ROLLBACK, PREPARE TRANSACTION). */
  readonly transaction?: 'begin' | 'end';
}

function transactionEffect(node: unknown): SplitStatement['transaction'] {
  const t = (node as { TransactionStmt?: { kind?: string; chain?: boolean } } | undefined)?.TransactionStmt;
  if (!t) return undefined;
  if (t.kind === 'TRANS_STMT_BEGIN' || t.kind === 'TRANS_STMT_START') return 'begin';
  if (t.kind === 'TRANS_STMT_COMMIT' || t.kind === 'TRANS_STMT_ROLLBACK' || t.kind === 'TRANS_STMT_PREPARE') return t.chain ? undefined : 'end';
  return undefined;
}

/** Splits a SQL file into statements with the real Postgres parser (dollar quotes, comments and all). */
export function splitStatements(file: SqlFile, displayPath: string): SplitStatement[] {
  return [...statementsOf(file, displayPath)];
}

/** About how much of a file is parsed at once: a 50 MB seed parsed whole blocks the process for seconds. */
const CHUNK_BYTES = 1024 * 1024;

/** The end of the first `;` that ends a line at or after `from`, or the end of the text. */
function lineEndingSemicolon(bytes: Buffer, from: number): number {
  if (from >= bytes.length) return bytes.length;
  const found = [bytes.indexOf(';\n', from), bytes.indexOf(';\r\n', from)].filter((i) => i >= 0);
  return found.length > 0 ? Math.min(...found) + 1 : bytes.length;
}

function parseError(error: unknown, displayPath: string, lineOf: (byteOffset: number) => number, offset: number): UserError {
  const details = (error as { sqlDetails?: { cursorPosition?: number; message?: string } }).sqlDetails;
  const line = details?.cursorPosition !== undefined ? lineOf(offset + details.cursorPosition) : lineOf(offset);
  const message = details?.message ?? (error as Error).message;
  return new UserError('migration', `${displayPath}:${line}: ${message}`, 'fix the SQL in that file');
}

/**
 * The statements of a file, parsed about a megabyte at a time, so a caller loading a large seed can
 * stop between two of them. A chunk ends at a `;` that ends a line; it is a real statement boundary
 * when the chunk parses (a cut inside a string, comment, dollar quote or BEGIN ATOMIC body does not),
 * else the chunk grows until it does, or is the rest of the file and its error is the file's.
 */
export function* statementsOf(file: SqlFile, displayPath: string): Generator<SplitStatement> {
  const bytes = Buffer.from(file.text, 'utf8');
  // Lines counted forward once (statements come in order): lineAt on every statement was quadratic.
  let counted = 0;
  let line = 1;
  const lineOf = (byteOffset: number): number => {
    if (byteOffset < counted) return lineAt(file.text, byteOffset);
    for (let i = bytes.indexOf(10, counted); i >= 0 && i < byteOffset; i = bytes.indexOf(10, i + 1)) line++;
    counted = byteOffset;
    return line;
  };
  let start = 0;
  while (start < bytes.length) {
    let size = CHUNK_BYTES;
    let end = lineEndingSemicolon(bytes, start + size);
    let parsed: ReturnType<typeof parseSync> | null = null;
    let text = '';
    while (parsed === null) {
      text = bytes.subarray(start, end).toString('utf8');
      // Nothing but comments and blanks (a fresh project's seed.sql): nothing to run.
      if (text.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, '').trim() === '') break;
      try {
        parsed = parseSync(text);
      } catch (error) {
        if (end >= bytes.length) throw parseError(error, displayPath, lineOf, start);
        size *= 2;
        end = lineEndingSemicolon(bytes, start + size);
      }
    }
    const chunk = bytes.subarray(start, end);
    for (const stmt of parsed?.stmts ?? []) {
      const from = stmt.stmt_location ?? 0;
      const to = stmt.stmt_len ? from + stmt.stmt_len : chunk.length;
      const sql = chunk.subarray(from, to).toString('utf8');
      // The statement text may start with comments/blank lines; point at its first real line.
      const leading = sql.length - sql.trimStart().length;
      const transaction = transactionEffect(stmt.stmt);
      yield { sql, line: lineOf(start + from) + (sql.slice(0, leading).split('\n').length - 1), ...(transaction ? { transaction } : {}) };
    }
    start = end;
  }
}

/**
 * Statements of the files, for locating objects only (nothing runs): a file the parser rejects
 * locates nothing rather than failing the audit of a live database.
 */
export function readStatements(files: readonly string[], root: string): LoadedStatement[] {
  const out: LoadedStatement[] = [];
  for (const path of files) {
    const display = relative(root, path) || basename(path);
    try {
      for (const s of splitStatements({ path, text: readSqlFile(path, display) }, display)) out.push({ file: display, line: s.line, sql: s.sql });
    } catch {
      // unparseable or unreadable: no locations from this file
    }
  }
  return out;
}
