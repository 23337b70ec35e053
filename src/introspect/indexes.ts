import type { Index } from '../model/snapshot.ts';
import type { Session } from './session.ts';
import { NAMESPACE_FILTER } from './sql.ts';

/** Every index with key columns in order (NULL for expression columns), INCLUDE columns, opclasses and scan counts. */
function sql(withStats: boolean): string {
  const stats = withStats ? 'pg_stat_all_indexes' : '(select null::oid as indexrelid, null::int8 as idx_scan)';
  return `
select n.nspname::text as schema, t.relname::text as table, i.relname::text as name,
  array(select case when k.attnum = 0 then null else a.attname::text end
          from unnest(x.indkey::int2[]) with ordinality k(attnum, ord)
          left join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.attnum
         where k.ord <= x.indnkeyatts order by k.ord) as columns,
  array(select a.attname::text
          from unnest(x.indkey::int2[]) with ordinality k(attnum, ord)
          join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.attnum
         where k.ord > x.indnkeyatts order by k.ord) as include_columns,
  pg_get_expr(x.indexprs, x.indrelid) as expressions,
  pg_get_expr(x.indpred, x.indrelid) as predicate,
  am.amname::text as method,
  x.indisunique as unique, x.indisprimary as primary, x.indisvalid as valid, x.indisready as ready,
  con.conname::text as constraint_name,
  pg_get_indexdef(x.indexrelid) as definition,
  i.relpages::float8 * current_setting('block_size')::float8 as size_bytes,
  s.idx_scan::float8 as scans,
  i.relkind = 'I' as partitioned_parent,
  array(select coalesce(opc.opcname::text, '')
          from unnest(x.indclass::oid[]) with ordinality k(opc_oid, ord)
          left join pg_opclass opc on opc.oid = k.opc_oid order by k.ord) as opclasses,
  x.indoption::int2[]::int[] as options,
  array(select coalesce(col.collname::text, '')
          from unnest(x.indcollation::oid[]) with ordinality k(coll_oid, ord)
          left join pg_collation col on col.oid = k.coll_oid order by k.ord) as collations
from pg_index x
join pg_class i on i.oid = x.indexrelid
join pg_class t on t.oid = x.indrelid
join pg_namespace n on n.oid = t.relnamespace
join pg_am am on am.oid = i.relam
left join pg_constraint con on con.conindid = x.indexrelid and con.contype in ('p', 'u', 'x')
left join ${stats} s on s.indexrelid = x.indexrelid
where ${NAMESPACE_FILTER}
order by n.nspname, t.relname, i.relname`;
}

interface Row {
  schema: string;
  table: string;
  name: string;
  columns: (string | null)[];
  include_columns: string[];
  expressions: string | null;
  predicate: string | null;
  method: string;
  unique: boolean;
  primary: boolean;
  valid: boolean;
  ready: boolean;
  constraint_name: string | null;
  definition: string;
  size_bytes: number;
  scans: number | null;
  partitioned_parent: boolean;
  opclasses: string[];
  options: number[];
  collations: string[];
}

export async function readIndexes(session: Session, withStats = true): Promise<Index[]> {
  const rows = await session.query<Row>(sql(withStats));
  return rows.map((row) => ({
    schema: row.schema,
    table: row.table,
    name: row.name,
    columns: row.columns ?? [],
    includeColumns: row.include_columns ?? [],
    expressions: row.expressions,
    predicate: row.predicate,
    method: row.method,
    unique: row.unique,
    primary: row.primary,
    valid: row.valid,
    ready: row.ready,
    constraint: row.constraint_name,
    definition: row.definition,
    sizeBytes: Number(row.size_bytes),
    scans: row.scans === null ? null : Number(row.scans),
    partitionedParent: row.partitioned_parent,
    opclasses: row.opclasses ?? [],
    options: (row.options ?? []).map(Number),
    collations: row.collations ?? [],
  }));
}
