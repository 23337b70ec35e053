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
import { readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../model/errors.ts';
import { VERSION } from '../../version.ts';
import { cacheDir, cacheKey, dropEntry, readEntry, writeEntry } from './cache.ts';
import { CountingSession, type Session } from '../session.ts';
import { createdTables } from './base-schema.ts';
import { loadMigrations, pgMessage, type LoadResult } from './migrate.ts';
import { readSqlFile } from './sql-files.ts';
import { findGeneratedTypes, parseGeneratedTypes, standInDdl } from './typegen.ts';

const BASE_SQL = fileURLToPath(new URL('./supabase-base.sql', import.meta.url));

/**
 * Extensions of Supabase's list that PGlite can load (each is fetched only when a migration creates
 * it). Missing: pg_net, pg_cron, pgmq, vault, pgsodium, http… load as stand-ins (./stand-ins);
 * plv8, postgis and the like are skipped with a note.
 */
const EXTENSIONS = {
  bloom, btree_gin, btree_gist, citext, cube, earthdistance, fuzzystrmatch, hstore, intarray, isn, lo, ltree, moddatetime,
  pg_stat_statements, pg_trgm, pgcrypto, seg, tablefunc, unaccent, uuid_ossp, vector,
};

/**
 * The hosted search_path, and function bodies not checked at CREATE time (as pg_dump and restores
 * do): a function whose body names an object of an extension the embedded database lacks still loads.
 */
export const MIGRATION_SEARCH_PATH = `set search_path = "$user", public, extensions; set check_function_bodies = off`;

export interface EmbeddedDatabase extends LoadResult {
  readonly session: Session;
  readonly files: readonly string[];
}

/** The installed version of a package, read from the package.json above one of its exported files. */
function packageVersion(exported: string): string {
  try {
    let dir = dirname(fileURLToPath(import.meta.resolve(exported)));
    for (let up = 0; up < 4; up++, dir = dirname(dir)) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string };
        if (pkg.version) return pkg.version;
      } catch {
        // not this folder
      }
    }
  } catch {
    // unresolvable: the key below still differs from any resolvable one
  }
  return 'unknown';
}

/**
 * A fresh PGlite with the commonly used extensions and the Supabase base loaded: restored from the
 * cache when an entry made by this PGlite, extension list, base SQL and supaudit version is there
 * (about 1 s), else built (initdb and the base, about 3 s) and stored for the next run.
 */
export async function createBaseDatabase(): Promise<PGlite> {
  const baseSql = readFileSync(BASE_SQL, 'utf8');
  const key = cacheKey('base', [
    VERSION,
    packageVersion('@electric-sql/pglite'),
    packageVersion('@electric-sql/pglite-pgvector'),
    Object.keys(EXTENSIONS).sort().join(','),
    baseSql,
  ]);
  const cached = readEntry(key);
  if (cached) {
    try {
      return await PGlite.create({ extensions: EXTENSIONS, loadDataDir: new Blob([cached]) });
    } catch {
      dropEntry(key);
    }
  }
  const db = await PGlite.create({ extensions: EXTENSIONS });
  try {
    await db.exec(baseSql);
  } catch (error) {
    await db.close().catch(() => undefined);
    throw new Error(`loading the Supabase base schema failed: ${pgMessage(error)}`);
  }
  try {
    if (cacheDir()) writeEntry(key, new Uint8Array(await (await db.dumpDataDir('none')).arrayBuffer()));
  } catch {
    // not stored: the next run builds it again
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
  /** The app's root, where its generated types may say what tables made in the dashboard hold (see typegen.ts). */
  readonly typesRoot?: string;
  /**
   * The first file is the project's base schema (see base-schema.ts), which creates these tables
   * the migrations use and never create: a migration that fails only because one of them already
   * has what it adds is passed over, as for a stand-in.
   */
  readonly baseSchema?: { readonly display: string; readonly tables: readonly string[] };
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
  let loaded: LoadResult;
  try {
    const dashboard = options.typesRoot !== undefined && !options.strict ? await dashboardTables(db, options.typesRoot, texts) : undefined;
    const base = options.strict ? undefined : options.baseSchema;
    const already = new Set([...(dashboard?.tables ?? []), ...(base?.tables ?? [])]);
    loaded = await loadMigrations(
      { exec: async (sql) => void (await db.exec(sql)), query: async <T>(sql: string) => (await db.query<T>(sql)).rows },
      texts,
      { ...(options.strict ? { strict: true } : {}), beforeStatement: breathe, fileSettings: MIGRATION_SEARCH_PATH, inferTables: true, ...(already.size > 0 ? { standInTables: already } : {}) },
    );
    const skipped = loaded.alreadyThere ?? 0;
    const passed = skipped > 0 ? `; ${skipped} statement${skipped === 1 ? ' that adds' : 's that add'} what ${base && dashboard ? 'the base schema or the stand-ins already have' : base ? 'the base schema already has' : 'the stand-ins already have'} passed over` : '';
    const notes = [
      ...(base ? [`${base.display} loaded before the migrations: they use tables it creates and none of them creates (${base.tables.slice(0, 8).join(', ')}${base.tables.length > 8 ? `, and ${base.tables.length - 8} more` : ''}), so it is the base they were written on${dashboard ? '' : passed}`] : []),
      ...(dashboard ? [`${dashboard.note}${passed}`] : []),
    ];
    if (notes.length > 0) loaded = { ...loaded, standIns: [...loaded.standIns, ...notes] };
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
  return { ...loaded, session, files: texts.map((f) => f.display) };
}

/**
 * Tables the migrations use but never create (made in the dashboard) that the app's generated
 * types describe: a stand-in for each, made before the migrations run, at the shape the types say
 * (see typegen.ts), so the policies, functions and ALTERs the migrations give them load in their
 * order. Undefined where there are no types or no such table.
 */
async function dashboardTables(
  db: { exec(sql: string): Promise<unknown> },
  root: string,
  files: readonly { text: string }[],
): Promise<{ tables: ReadonlySet<string>; note: string } | undefined> {
  const found = findGeneratedTypes(root);
  if (!found) return undefined;
  const types = parseGeneratedTypes(found.text);
  const sql = files.map((f) => f.text).join('\n');
  const created = createdTables(sql);
  const words = new Set([...sql.matchAll(/[A-Za-z_][\w$]*/g)].map((m) => m[0].toLowerCase()));
  const tables = types.tables.filter((t) => !created.has(t.name.toLowerCase()) && words.has(t.name.toLowerCase()));
  if (tables.length === 0) return undefined;
  const ddl = standInDdl(types, tables, new Set());
  const made: string[] = [];
  // The enums they use are made too (a migration that creates one again is passed over like an ALTER).
  const enums: string[] = [];
  for (const statement of ddl.create) {
    try {
      await db.exec(statement);
      const object = /^create (table|type) public\.("(?:[^"]|"")+"|\w+)/.exec(statement);
      const name = object?.[2]!.replace(/^"|"$/g, '').replaceAll('""', '"');
      if (name !== undefined) (object![1] === 'table' ? made : enums).push(name);
    } catch {
      // a type the stand-in cannot take: that table stays missing, as before
    }
  }
  for (const statement of ddl.keys) await db.exec(statement).catch(() => undefined);
  if (made.length === 0) return undefined;
  return {
    tables: new Set([...made, ...enums]),
    note: `tables made in the dashboard (the migrations use them, none creates them), from ${found.display}: ${made.join(', ')}; columns as the generated types say, RLS on`,
  };
}
