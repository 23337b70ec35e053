import type { AclItem, Relation, RelationKind, ReplicaIdentity, SequenceInfo, TableStats } from '../model/snapshot.ts';
import type { Session } from './session.ts';
import { aclText, parseAcl, extensionOwned, NAMESPACE_FILTER } from './sql.ts';

/** Tables, views, materialized views, foreign tables and sequences, with their statistics. Columns come separately. */
function sql(withStats: boolean): string {
  const statsSource = withStats
    ? 'pg_stat_all_tables'
    : `(select null::oid as relid, null::int8 as seq_scan, null::int8 as idx_scan, null::int8 as n_tup_ins, null::int8 as n_tup_upd,
        null::int8 as n_tup_del, null::int8 as n_tup_hot_upd, null::int8 as n_live_tup, null::int8 as n_dead_tup,
        null::timestamptz as last_analyze, null::timestamptz as last_autoanalyze)`;
  return `
select n.nspname::text as schema, c.relname::text as name, c.relkind::text as kind,
  pg_get_userbyid(c.relowner)::text as owner,
  c.relrowsecurity as rls_enabled, c.relforcerowsecurity as rls_forced,
  c.reltuples::float8 as row_estimate, c.relpages::float8 as pages,
  c.relpages::float8 * current_setting('block_size')::float8 as size_bytes,
  c.relreplident::text as replica_identity,
  coalesce(c.reloptions, '{}')::text[] as options,
  c.relispartition as is_partition,
  ${aclText('c.relacl', `(case when c.relkind = 'S' then 's' else 'r' end)::"char"`, 'c.relowner')} as acl,
  descr.description as comment,
  ext.extname::text as extension,
  c.relhastriggers and exists (select 1 from pg_trigger tg where tg.tgrelid = c.oid and not tg.tgisinternal) as has_triggers,
  case when c.relhastriggers then array(select tn.nspname::text || '.' || tp.proname::text
      from pg_trigger tg join pg_proc tp on tp.oid = tg.tgfoid join pg_namespace tn on tn.oid = tp.pronamespace
     where tg.tgrelid = c.oid and not tg.tgisinternal and tg.tgenabled <> 'D'
       and (tg.tgtype & 1) = 1 and (tg.tgtype & 2) = 2 and (tg.tgtype & 4) = 4
     order by tg.tgname) end as before_insert_functions,
  case when c.relhastriggers then array(select tn.nspname::text || '.' || tp.proname::text
      from pg_trigger tg join pg_proc tp on tp.oid = tg.tgfoid join pg_namespace tn on tn.oid = tp.pronamespace
     where tg.tgrelid = c.oid and not tg.tgisinternal and tg.tgenabled <> 'D'
       and (tg.tgtype & 1) = 1 and (tg.tgtype & 2) = 2 and (tg.tgtype & 16) = 16
     order by tg.tgname) end as before_update_functions,
  case when c.relhastriggers then array(select tn.nspname::text || '.' || tp.proname::text
      from pg_trigger tg join pg_proc tp on tp.oid = tg.tgfoid join pg_namespace tn on tn.oid = tp.pronamespace
     where tg.tgrelid = c.oid and not tg.tgisinternal and tg.tgenabled <> 'D'
       and (tg.tgtype & 2) = 0 and (tg.tgtype & 64) = 0 and (tg.tgtype & 28) <> 0
     order by tg.tgname) end as after_write_functions,
  s.seq_scan::float8 as seq_scan, s.idx_scan::float8 as idx_scan,
  s.n_tup_ins::float8 as n_tup_ins, s.n_tup_upd::float8 as n_tup_upd, s.n_tup_del::float8 as n_tup_del,
  s.n_tup_hot_upd::float8 as n_tup_hot_upd, s.n_live_tup::float8 as n_live_tup, s.n_dead_tup::float8 as n_dead_tup,
  greatest(s.last_analyze, s.last_autoanalyze)::text as last_analyze,
  s.relid is not null as has_stats
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
left join ${extensionOwned('pg_class')} ext on ext.objid = c.oid
left join pg_description descr on descr.objoid = c.oid and descr.classoid = 'pg_class'::regclass and descr.objsubid = 0
left join ${statsSource} s on s.relid = c.oid
where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S') and ${NAMESPACE_FILTER}
order by n.nspname, c.relname`;
}

interface Row {
  schema: string;
  name: string;
  kind: string;
  owner: string;
  rls_enabled: boolean;
  rls_forced: boolean;
  row_estimate: number;
  pages: number;
  size_bytes: number;
  replica_identity: string;
  options: string[];
  is_partition: boolean;
  acl: string[] | null;
  comment: string | null;
  extension: string | null;
  has_triggers: boolean;
  before_insert_functions: string[] | null;
  before_update_functions: string[] | null;
  after_write_functions: string[] | null;
  seq_scan: number | null;
  idx_scan: number | null;
  n_tup_ins: number | null;
  n_tup_upd: number | null;
  n_tup_del: number | null;
  n_tup_hot_upd: number | null;
  n_live_tup: number | null;
  n_dead_tup: number | null;
  last_analyze: string | null;
  has_stats: boolean;
}

const KINDS: Record<string, RelationKind> = {
  r: 'table',
  p: 'partitioned_table',
  v: 'view',
  m: 'materialized_view',
  f: 'foreign_table',
};

const REPLICA: Record<string, ReplicaIdentity> = { d: 'default', n: 'nothing', f: 'full', i: 'index' };

function parseOptions(options: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const option of options) {
    const eq = option.indexOf('=');
    if (eq > 0) out[option.slice(0, eq).toLowerCase()] = option.slice(eq + 1);
    else out[option.toLowerCase()] = 'true';
  }
  return out;
}

function stats(row: Row): TableStats | null {
  if (!row.has_stats) return null;
  return {
    seqScan: row.seq_scan ?? 0,
    idxScan: row.idx_scan ?? 0,
    inserts: row.n_tup_ins ?? 0,
    updates: row.n_tup_upd ?? 0,
    deletes: row.n_tup_del ?? 0,
    hotUpdates: row.n_tup_hot_upd ?? 0,
    liveTuples: row.n_live_tup ?? 0,
    deadTuples: row.n_dead_tup ?? 0,
    lastAnalyze: row.last_analyze,
  };
}

export type RelationWithoutColumns = Omit<Relation, 'columns'>;

export async function readRelations(
  session: Session,
  withStats = true,
): Promise<{ relations: RelationWithoutColumns[]; sequences: SequenceInfo[] }> {
  const rows = await session.query<Row>(sql(withStats));
  const relations: RelationWithoutColumns[] = [];
  const sequences: SequenceInfo[] = [];
  for (const row of rows) {
    if (row.kind === 'S') {
      sequences.push({ schema: row.schema, name: row.name, owner: row.owner, acl: parseAcl(row.acl) });
      continue;
    }
    const kind = KINDS[row.kind];
    if (!kind) continue;
    relations.push({
      schema: row.schema,
      name: row.name,
      kind,
      owner: row.owner,
      rlsEnabled: row.rls_enabled,
      rlsForced: row.rls_forced,
      rowEstimate: Number(row.row_estimate),
      pages: Number(row.pages),
      sizeBytes: Number(row.size_bytes),
      replicaIdentity: REPLICA[row.replica_identity] ?? 'default',
      options: parseOptions(row.options ?? []),
      isPartition: row.is_partition,
      acl: parseAcl(row.acl),
      comment: row.comment,
      extension: row.extension,
      viewDefinition: null,
      hasTriggers: row.has_triggers,
      ...(row.before_insert_functions && row.before_insert_functions.length > 0 ? { beforeInsertFunctions: row.before_insert_functions } : {}),
      ...(row.before_update_functions && row.before_update_functions.length > 0 ? { beforeUpdateFunctions: row.before_update_functions } : {}),
      ...(row.after_write_functions && row.after_write_functions.length > 0 ? { afterWriteFunctions: row.after_write_functions } : {}),
      stats: stats(row),
    });
  }
  return { relations, sequences };
}
