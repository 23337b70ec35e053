import { existsSync, lstatSync, readFileSync, statSync, type Stats } from 'node:fs';
import { readSmallFile } from '../../config/load.ts';
import { dirname, join, relative, resolve } from 'node:path';
import { baseSchemaFile } from './base-schema.ts';
import { fileURLToPath } from 'node:url';
import { parse as parseToml } from 'smol-toml';
import { globSync, isDynamicPattern } from 'tinyglobby';
import { UserError } from '../../model/errors.ts';
import type { TargetKind } from '../../model/report.ts';
import type { FailedStatement, ProjectConfig, SeededAccount } from '../../model/snapshot.ts';
import type { Session } from '../session.ts';
import { connectPg, parseDatabaseUrl } from './pg.ts';
import { checkSqlFile, ignoredMigrationFiles, hyphenMigrationFiles, migrationFiles, nestedMigrations, readStatements, type LoadedStatement } from './sql-files.ts';

/** The repository's bundled demo project. */
export const DEMO_PROJECT = fileURLToPath(new URL('../../../supabase/', import.meta.url));

export interface OpenedTarget {
  readonly session: Session;
  /**
   * Statements of the migrations, for locating objects: those loaded (embedded targets), or those of
   * the project's `migrations/` folder, parsed but not run (a live database with a project folder).
   */
  readonly statements: readonly LoadedStatement[];
  readonly notes: readonly { area: string; message: string }[];
  /** The database ran no application workload (embedded: migrations and seed only). */
  readonly noWorkload?: boolean;
  /** Another connection to the same database (live targets: `supaudit load`'s concurrent clients). */
  readonly connect?: () => Promise<Session>;
  /** Embedded targets: statements of the migrations or seed that failed and were passed over. */
  readonly failedStatements?: readonly FailedStatement[];
  readonly seededAccounts?: readonly SeededAccount[];
}

/** Where an audit reads from: a live database, or migrations loaded into the embedded database. */
export interface Target {
  readonly kind: TargetKind;
  /** For display: a redacted URL or a folder. */
  readonly description: string;
  /** `[api] schemas` from the project's `config.toml`, when there is one. */
  readonly configTomlSchemas: readonly string[] | undefined;
  /** The `supabase/` folder the target came from, if any. */
  readonly projectDir: string | undefined;
  /** The project's `config.toml`, parsed (undefined when there is none). */
  readonly projectConfig: ProjectConfig | undefined;
  /**
   * A live database audited with `--project <dir>` whose folder has migrations: those migrations,
   * as an embedded target, for the lab's copy (and to compare with the live catalog).
   */
  readonly projectMigrations?: Target;
  open(options?: OpenOptions): Promise<OpenedTarget>;
}

export interface OpenOptions {
  /** Embedded targets: checked between statements of the migrations and seed (Ctrl-C stops a large load). */
  readonly signal?: AbortSignal;
  /** Embedded targets: told what loads, when it is large enough to take a while. */
  readonly onPlan?: (text: string) => void;
  /** Embedded targets: stop at the first statement that fails (`--strict`). */
  readonly strict?: boolean;
}

export interface TargetOptions {
  readonly dbUrl?: string;
  readonly migrations?: string;
  readonly demo?: boolean;
  /** Folder holding `config.toml` (default: `./supabase` when present). */
  readonly projectDir?: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly connectTimeoutMs?: number;
}

function readConfigToml(projectDir: string): Record<string, unknown> | undefined {
  const path = join(projectDir, 'config.toml');
  if (!existsSync(path)) return undefined;
  const text = readSmallFile(path, path, 'config.toml');
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (error) {
    throw new UserError('config', `${path}: ${(error as Error).message.split('\n')[0]}`, 'fix the TOML syntax');
  }
}

/**
 * The 1-based line of each key (dotted: `auth.email.otp_expiry`) and table header (`auth.email`) of a
 * TOML text. Lines inside multi-line arrays and strings are skipped; quoted key parts are unquoted.
 */
export function tomlKeyLines(text: string): Record<string, number> {
  const lines: Record<string, number> = {};
  const unquote = (k: string) => k.split('.').map((p) => p.trim().replace(/^"(.*)"$|^'(.*)'$/, '$1$2')).join('.');
  let table = '';
  let open: string | null = null;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (open !== null) {
      if (line.includes(open)) open = null;
      return;
    }
    if (line === '' || line.startsWith('#')) return;
    const header = /^\[\[?\s*([^\]]+?)\s*\]\]?/.exec(line);
    if (header) {
      table = unquote(header[1]!);
      lines[table] ??= i + 1;
      return;
    }
    const kv = /^((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=\s*(.*)$/.exec(line);
    if (!kv) return;
    const key = (table ? `${table}.` : '') + unquote(kv[1]!);
    lines[key] ??= i + 1;
    const value = kv[2]!;
    if (value.startsWith('"""') && value.indexOf('"""', 3) < 0) open = '"""';
    else if (value.startsWith("'''") && value.indexOf("'''", 3) < 0) open = "'''";
    else if (value.startsWith('[') && !balanced(value)) open = ']';
  });
  return lines;
}

function balanced(value: string): boolean {
  let depth = 0;
  for (const ch of value.replace(/"(?:[^"\\]|\\.)*"|'[^']*'|#.*$/g, '')) {
    if (ch === '[') depth++;
    else if (ch === ']') depth--;
  }
  return depth <= 0;
}

/** The project's `config.toml` with its key lines, or undefined when the folder has none. */
export function readProjectConfig(projectDir: string): ProjectConfig | undefined {
  const path = join(projectDir, 'config.toml');
  const values = readConfigToml(projectDir);
  if (!values) return undefined;
  const file = relative(dirname(resolve(projectDir)), path).split('\\').join('/');
  return { file, values, lines: tomlKeyLines(readSmallFile(path, path, 'config.toml')) };
}

/** `[api] schemas` from a Supabase `config.toml`. */
export function readConfigTomlSchemas(projectDir: string): string[] | undefined {
  const api = readConfigToml(projectDir)?.['api'] as { schemas?: unknown; enabled?: unknown } | undefined;
  if (!api || !Array.isArray(api.schemas)) return undefined;
  return api.schemas.filter((s): s is string => typeof s === 'string');
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/**
 * The seed files `supabase db reset` loads after the migrations: `[db.seed] sql_paths` of
 * `config.toml` (globs relative to the project folder, each sorted, in the listed order; none when
 * `enabled = false`), else `seed.sql` when present. Patterns that match nothing are returned apart.
 */
export function seedFiles(projectDir: string): { files: string[]; unmatched: string[] } {
  const seed = (readConfigToml(projectDir)?.['db'] as { seed?: { enabled?: unknown; sql_paths?: unknown } } | undefined)?.seed;
  if (seed?.enabled === false) return { files: [], unmatched: [] };
  const patterns = Array.isArray(seed?.sql_paths) ? seed.sql_paths.filter((p): p is string => typeof p === 'string') : ['./seed.sql'];
  const files: string[] = [];
  const unmatched: string[] = [];
  for (const pattern of patterns) {
    // The glob sees neither FIFOs, sockets and devices nor broken links: a plain path that names one
    // is kept, so that loading refuses it by name (a FIFO seed.sql skipped in silence would surprise).
    const literal = isDynamicPattern(pattern) ? null : resolve(projectDir, pattern);
    const special = literal !== null && lstatOrNull(literal) !== null && !statOrNull(literal)?.isFile() && !statOrNull(literal)?.isDirectory();
    const matched = special ? [literal] : globSync(pattern, { cwd: projectDir, absolute: true, onlyFiles: true, expandDirectories: false }).sort();
    if (matched.length === 0 && (Array.isArray(seed?.sql_paths) || pattern !== './seed.sql')) unmatched.push(pattern);
    for (const file of matched) if (!files.includes(resolve(file))) files.push(resolve(file));
  }
  return { files, unmatched };
}

/**
 * What the migrations folder held besides its top-level migrations: sub-folders the CLI does not
 * read, or nothing at all. Where the loaded files came from is read off the files themselves.
 */
function migrationFolderNotes(dir: string, loaded: readonly string[]): { area: string; message: string }[] {
  if (loaded.length === 0) return [{ area: 'migrations', message: `no migration file in ${dir} (files named <version>_<name>.sql, there or in its sub-folders): only the platform's own schemas were audited` }];
  const nested = nestedMigrations(dir);
  if (dirname(loaded[0]!) !== dir) {
    return [
      {
        area: 'migrations',
        message:
          `loaded ${nested.length} migration${nested.length === 1 ? '' : 's'} from sub-folders of the migrations folder, in file-name order as if copied flat (${nested[0]}${nested.length > 1 ? ', …' : ''}); ` +
          'the Supabase CLI reads only files at the top of supabase/migrations, so this project must copy them there before `supabase db push`',
      },
    ];
  }
  if (nested.length > 0) {
    return [{ area: 'migrations', message: `not loaded: ${nested.length} migration file${nested.length === 1 ? '' : 's'} in sub-folders of the migrations folder (${nested[0]}${nested.length > 1 ? ', …' : ''}); the Supabase CLI reads only files at its top` }];
  }
  return [];
}

/**
 * Migrations loaded into the embedded database. The project folder (config.toml, seed files) is
 * the one given, else the migrations folder's parent, as in a Supabase project.
 */
function embeddedTarget(kind: 'migrations' | 'demo', migrationsDir: string, projectDir: string): Target {
  const dir = resolve(migrationsDir);
  const files = migrationFiles(dir);
  const seeds = seedFiles(projectDir);
  const root = dirname(resolve(projectDir));
  for (const file of [...files, ...seeds.files]) checkSqlFile(file, relative(root, file) || file);
  // A base schema beside the migrations (`supabase/schema.sql`) that they were written on: loaded first.
  const base = kind === 'migrations' ? baseSchemaFile(projectDir, files.map((f) => readFileSync(f, 'utf8')), seeds.files) : undefined;
  if (base) checkSqlFile(base.file, relative(root, base.file) || base.file);
  const all = [...(base ? [base.file] : []), ...files, ...seeds.files];
  return {
    kind,
    description: kind === 'demo' ? 'bundled demo project (supabase/)' : `migrations in ${migrationsDir}`,
    configTomlSchemas: readConfigTomlSchemas(projectDir),
    projectDir,
    projectConfig: readProjectConfig(projectDir),
    async open(options = {}) {
      // PGlite loads only for an embedded target: a --db-url run never imports it.
      const { startEmbedded } = await import('./embedded.ts');
      const db = await startEmbedded(all, root, { ...options, typesRoot: root, ...(base ? { baseSchema: { display: relative(root, base.file) || base.file, tables: base.tables } } : {}) });
      const hyphen = hyphenMigrationFiles(dir);
      return {
        session: db.session,
        statements: db.statements,
        noWorkload: true,
        failedStatements: db.failed,
        // The seed is for local development (`supabase db reset`); migrations reach production.
        seededAccounts: seededAccounts(db.statements.filter((st) => files.includes(resolve(root, st.file)) || (base !== undefined && resolve(root, st.file) === base.file))),
        notes: [
          ...seeds.unmatched.map((p) => ({ area: 'migrations', message: `seed pattern ${p} of config.toml matched no file` })),
          ...migrationFolderNotes(dir, files),
          ...ignoredMigrationFiles(dir).map((f) => ({
            area: 'migrations',
            message: `not loaded: ${f} in the migrations folder (the Supabase CLI runs only files named <version>_<name>.sql)`,
          })),
          ...(hyphen.length > 0
            ? [
                {
                  area: 'migrations',
                  message:
                    `loaded ${hyphen.length} file${hyphen.length === 1 ? '' : 's'} named <version>-<name>.sql in version order (${hyphen[0]}${hyphen.length > 1 ? ', …' : ''}), ` +
                    'as Lovable and some other tools write migrations they apply themselves; `supabase db reset` and `db push` skip them: rename them <version>_<name>.sql',
                },
              ]
            : []),
          ...db.standIns.map((s) => ({ area: 'migrations', message: s })),
          ...db.skipped.map((s) => ({ area: 'migrations', message: `skipped ${s}` })),
        ],
      };
    },
  };
}

/**
 * Statements that create an account in auth.users with a password: `crypt('…', gen_salt(…))` (the
 * password is in the text) or a stored hash (`'$2a$…'`, crackable offline by whoever reads it).
 */
export function seededAccounts(statements: readonly LoadedStatement[]): SeededAccount[] {
  const out: SeededAccount[] = [];
  for (const st of statements) {
    const sql = st.sql.replace(/--[^\n]*/g, '');
    // A function that signs users up takes their password as an argument: only statements that run (INSERT, DO).
    if (!/^\s*(insert|do|with)\b/i.test(sql)) continue;
    if (!/\binsert\s+into\s+(?:"?auth"?\s*\.\s*)"?users"?\b/i.test(sql) || !/\bencrypted_password\b/i.test(sql)) continue;
    const literal = /\bcrypt\s*\(/i.test(sql);
    if (!literal && !/'\$2[aby]?\$\d\d\$/.test(sql)) continue;
    const email = /'([^'\s@]+@[^'\s@]+\.[^'\s@]+)'/.exec(sql)?.[1] ?? null;
    out.push({ file: st.file, line: st.line, email, password: literal ? 'literal' : 'hash' });
  }
  return out;
}

/**
 * Picks the target: `--demo`, `--db-url` (or SUPABASE_DB_URL / DATABASE_URL), `--migrations`,
 * else `./supabase/migrations` when present.
 */
export function resolveTarget(options: TargetOptions): Target {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const projectDir = options.projectDir ? resolve(cwd, options.projectDir) : existsSync(join(cwd, 'supabase', 'config.toml')) ? join(cwd, 'supabase') : undefined;
  if (options.demo) return embeddedTarget('demo', join(DEMO_PROJECT, 'migrations'), DEMO_PROJECT);
  if (options.migrations) {
    const dir = resolve(cwd, options.migrations);
    // config.toml and the seed belong to the migrations' project, not to the folder supaudit runs in.
    return embeddedTarget('migrations', dir, options.projectDir ? resolve(cwd, options.projectDir) : dirname(dir));
  }
  const url = options.dbUrl ?? env['SUPABASE_DB_URL'] ?? env['DATABASE_URL'];
  if (url) {
    const parsed = parseDatabaseUrl(url);
    const given = options.projectDir ? resolve(cwd, options.projectDir) : undefined;
    // `--project` names the supabase/ folder or the folder above it.
    const migrationsDir = given ? [join(given, 'migrations'), join(given, 'supabase', 'migrations')].find((d) => existsSync(d)) : undefined;
    return {
      ...(migrationsDir ? { projectMigrations: embeddedTarget('migrations', migrationsDir, dirname(migrationsDir)) } : {}),
      kind: 'url',
      description: parsed.display,
      configTomlSchemas: projectDir ? readConfigTomlSchemas(projectDir) : undefined,
      projectDir,
      projectConfig: projectDir ? readProjectConfig(projectDir) : undefined,
      async open() {
        const session = await connectPg(url, { connectTimeoutMs: options.connectTimeoutMs });
        const migrations = projectDir ? join(projectDir, 'migrations') : undefined;
        const statements = migrations && existsSync(migrations) ? readStatements(migrationFiles(migrations), dirname(resolve(projectDir!))) : [];
        return { session, statements, notes: [], connect: () => connectPg(url, { connectTimeoutMs: options.connectTimeoutMs }) };
      },
    };
  }
  const local = join(cwd, 'supabase', 'migrations');
  if (existsSync(local)) return embeddedTarget('migrations', local, join(cwd, 'supabase'));
  throw new UserError(
    'usage',
    'nothing to audit: no --db-url, SUPABASE_DB_URL or DATABASE_URL, and no ./supabase/migrations folder',
    'run `supaudit --db-url postgres://…`, `supaudit --migrations <dir>`, or `supaudit --demo`',
  );
}
