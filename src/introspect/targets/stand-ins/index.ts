/**
 * Stand-ins for Supabase extensions the embedded database lacks (pg_net, pg_cron, pgmq, vault…).
 * When a migration's `CREATE EXTENSION` of one fails because the server has no such extension, the
 * stand-in's script (`<name>.sql` beside this file: plain SQL and PL/pgSQL, nothing that can reach
 * outside the transaction) creates the schema and objects with the real names and signatures, and
 * the objects are then registered as members of an extension of that name (`pg_extension` and
 * `pg_depend` rows, as CREATE EXTENSION records them). So the catalog reads as on a hosted project:
 * the checks skip extension members as they do there, `extension_in_public` sees where it went,
 * the effect gate judges the functions by their extension, and `DROP EXTENSION` drops them. Each
 * script's header says what is real and what is imitated.
 *
 * The registration writes system catalogs, which only a superuser may: the embedded database
 * (PGlite) and the test servers run migrations as one. A stand-in never runs on a live database.
 */
import { parseSync } from 'libpg-query';
import { readFileSync } from 'node:fs';
import { quoteIdent, quoteLiteral } from '../../../model/ident.ts';
import type { MigrationDatabase } from '../migrate.ts';

interface StandIn {
  /** The schema the real extension's control file fixes (WITH SCHEMA does not move it); absent: the chosen schema. */
  readonly schema?: string;
  /** What the stand-in does not do, for the report's note. */
  readonly imitated: string;
}

/** Keyed by extension name; the script is `<name>.sql`. */
const STAND_INS: Readonly<Record<string, StandIn>> = {
  pg_net: { imitated: 'requests are recorded in net.http_request_queue, never sent' },
  pg_cron: { schema: 'pg_catalog', imitated: 'jobs are recorded in cron.job, never run' },
  pgmq: { schema: 'pgmq', imitated: 'queues are plain tables, without partitioning or notifications' },
  supabase_vault: { schema: 'vault', imitated: 'secrets are stored unencrypted' },
  pgsodium: { schema: 'pgsodium', imitated: 'nothing is encrypted' },
  http: { imitated: 'requests are recorded, never sent, and get an empty response' },
  pg_jsonschema: { imitated: 'every document matches its schema' },
  pgjwt: { imitated: 'tokens are signed with a SHA-256 digest, not HMAC' },
  pg_hashids: { imitated: 'ids are encoded in hexadecimal, not as hashids' },
  pg_graphql: { schema: 'graphql', imitated: 'graphql.resolve answers every query with an error' },
  wrappers: { imitated: 'foreign tables cannot be read' },
};

/**
 * Extensions a hosted Supabase project can create. One of these that the embedded database lacks
 * and has no stand-in for (plv8, postgis…) is skipped with a note, with what then fails for want of
 * it; any other name would fail on Supabase too, and is reported as a failed statement.
 */
export const SUPABASE_EXTENSIONS: ReadonlySet<string> = new Set([
  'address_standardizer', 'address_standardizer_data_us', 'amcheck', 'autoinc', 'bloom', 'btree_gin', 'btree_gist', 'citext',
  'cube', 'dblink', 'dict_int', 'dict_xsyn', 'earthdistance', 'fuzzystrmatch', 'hstore', 'http', 'hypopg', 'index_advisor',
  'insert_username', 'intarray', 'isn', 'lo', 'ltree', 'moddatetime', 'old_snapshot', 'orioledb', 'pageinspect', 'pg_buffercache',
  'pg_cron', 'pg_freespacemap', 'pg_graphql', 'pg_hashids', 'pg_jsonschema', 'pg_net', 'pg_partman', 'pg_prewarm', 'pg_repack',
  'pg_stat_monitor', 'pg_stat_statements', 'pg_surgery', 'pg_tle', 'pg_trgm', 'pg_visibility', 'pg_walinspect', 'pgaudit',
  'pgcrypto', 'pgjwt', 'pgmq', 'pgroonga', 'pgroonga_database', 'pgrouting', 'pgrowlocks', 'pgsodium', 'pgstattuple', 'pgtap',
  'plcoffee', 'plls', 'plpgsql', 'plpgsql_check', 'plv8', 'postgis', 'postgis_raster', 'postgis_sfcgal', 'postgis_tiger_geocoder',
  'postgis_topology', 'postgres_fdw', 'refint', 'rum', 'seg', 'sslinfo', 'supabase_vault', 'supautils', 'tablefunc', 'tcn',
  'timescaledb', 'tsm_system_rows', 'tsm_system_time', 'unaccent', 'uuid-ossp', 'vector', 'wrappers', 'xml2',
]);

export interface CreateExtension {
  readonly name: string;
  /** `WITH SCHEMA s` / `SCHEMA s`. */
  readonly schema: string | undefined;
}

/** The extension a `CREATE EXTENSION` statement creates (any quoting and options), or undefined for any other statement. */
export function createExtensionOf(sql: string): CreateExtension | undefined {
  let stmt: { CreateExtensionStmt?: { extname: string; options?: { DefElem: { defname: string; arg?: { String?: { sval: string } } } }[] } } | undefined;
  try {
    const parsed = parseSync(sql) as { stmts?: { stmt: typeof stmt }[] };
    if (parsed.stmts?.length !== 1) return undefined;
    stmt = parsed.stmts[0]!.stmt;
  } catch {
    return undefined;
  }
  const create = stmt?.CreateExtensionStmt;
  if (!create) return undefined;
  const schema = create.options?.find((o) => o.DefElem.defname === 'schema')?.DefElem.arg?.String?.sval;
  return { name: create.extname, schema };
}

function hasStandIn(name: string): boolean {
  return Object.hasOwn(STAND_INS, name);
}

/** The report's note for a stand-in that was loaded. */
export function standInNote(name: string): string {
  return `${name} loaded as a stand-in: ${STAND_INS[name]!.imitated}`;
}

const script = (name: string) => readFileSync(new URL(`./${name}.sql`, import.meta.url), 'utf8');

/**
 * The objects an extension script can make that CREATE EXTENSION would record as members: schemas,
 * relations (not indexes or TOAST tables), functions, and types other than row and array types.
 * Temporary objects (the list kept before the script runs) are left out.
 */
const MEMBER_CANDIDATES = `
  select 'pg_catalog.pg_namespace'::regclass as classid, n.oid as objid from pg_catalog.pg_namespace n
   where n.nspname !~ '^pg_(toast_)?temp_'
  union all
  select 'pg_catalog.pg_class'::regclass, c.oid from pg_catalog.pg_class c
   where c.relkind in ('r', 'p', 'v', 'm', 'S', 'f') and c.relpersistence <> 't'
  union all
  select 'pg_catalog.pg_proc'::regclass, p.oid from pg_catalog.pg_proc p
  union all
  select 'pg_catalog.pg_type'::regclass, t.oid from pg_catalog.pg_type t
   where (t.typtype in ('b', 'd', 'e', 'r') or (t.typtype = 'c' and exists (select from pg_catalog.pg_class c where c.oid = t.typrelid and c.relkind = 'c')))
     and not exists (select from pg_catalog.pg_type e where e.typarray = t.oid)`;

/**
 * The SQL that loads the stand-in of `name` into `schema` (the chosen schema: `@extschema@` of the
 * script) and registers its objects as the extension's members. Run it in one transaction or savepoint.
 */
function standInSql(name: string, schema: string, extensionSchema: string): string {
  const standIn = STAND_INS[name]!;
  return `
create temp table supaudit_stand_in_before as ${MEMBER_CANDIDATES};
${standIn.schema && standIn.schema !== 'pg_catalog' ? `create schema if not exists ${quoteIdent(standIn.schema)};` : ''}
${script(name).replaceAll('@extschema@', quoteIdent(schema))}
;
do $supaudit_stand_in$
declare
  extension oid := pg_catalog.pg_nextoid('pg_catalog.pg_extension'::regclass, 'oid', 'pg_catalog.pg_extension_oid_index'::regclass);
begin
  insert into pg_catalog.pg_extension (oid, extname, extowner, extnamespace, extrelocatable, extversion, extconfig, extcondition)
  values (extension, ${quoteLiteral(name)}, current_user::regrole::oid,
    (select n.oid from pg_catalog.pg_namespace n where n.nspname = ${quoteLiteral(extensionSchema)}), false, 'stand-in', null, null);
  insert into pg_catalog.pg_depend (classid, objid, objsubid, refclassid, refobjid, refobjsubid, deptype)
  select m.classid, m.objid, 0, 'pg_catalog.pg_extension'::regclass, extension, 0, 'e'
    from (${MEMBER_CANDIDATES}) m
   where not exists (select from pg_temp.supaudit_stand_in_before b where b.classid = m.classid and b.objid = m.objid);
end
$supaudit_stand_in$;
drop table pg_temp.supaudit_stand_in_before;
`;
}

/**
 * Loads the stand-in for the extension `statement` creates, after that statement failed because the
 * server lacks the extension. Returns the extension's name, or undefined when there is no stand-in
 * for it (the caller reports the original failure). Throws the stand-in's own error (a WITH SCHEMA
 * that does not exist), after undoing what it did.
 *
 * `inTransaction`: the migration's own BEGIN … COMMIT is open, so the stand-in runs in a savepoint.
 */
export async function loadStandIn(db: MigrationDatabase, statement: string, inTransaction: boolean): Promise<string | undefined> {
  const create = createExtensionOf(statement);
  if (!create || !hasStandIn(create.name)) return undefined;
  const fixed = STAND_INS[create.name]!.schema;
  // As CREATE EXTENSION: WITH SCHEMA, else the first schema of the search_path that exists.
  const chosen = create.schema ?? (await db.query<{ schema: string | null }>('select current_schema() as schema'))[0]?.schema ?? 'public';
  const sql = standInSql(create.name, chosen, fixed ?? chosen);
  const [open, done, undo] = inTransaction
    ? ['savepoint supaudit_stand_in', 'release savepoint supaudit_stand_in', 'rollback to savepoint supaudit_stand_in']
    : ['begin', 'commit', 'rollback'];
  await db.exec(open);
  try {
    if (create.schema !== undefined && fixed === undefined) {
      const found = await db.query<{ ok: boolean }>(`select exists (select from pg_catalog.pg_namespace where nspname = ${quoteLiteral(create.schema)}) as ok`);
      if (!found[0]?.ok) throw Object.assign(new Error(`schema "${create.schema}" does not exist`), { code: '3F000' });
    }
    await db.exec(sql);
    await db.exec(done);
  } catch (error) {
    await db.exec(undo).catch(() => undefined);
    throw error;
  }
  return create.name;
}
