import type { Index } from '../model/snapshot.ts';
import type { Session } from './session.ts';
import { qualified, quoteIdent } from '../model/ident.ts';
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
  -- Expressions and predicates are printed later, outside this transaction: printing them locks
  -- the table (definitions.ts).
  x.indexprs is not null or x.indpred is not null as printed_later,
  am.amname::text as method,
  x.indisunique as unique, x.indisprimary as primary, x.indisvalid as valid, x.indisready as ready,
  con.conname::text as constraint_name,
  i.relpages::float8 * current_setting('block_size')::float8 as size_bytes,
  s.idx_scan::float8 as scans,
  i.relkind = 'I' as partitioned_parent,
  -- Operator classes and collations as OIDs: they are only compared for equality, and looking
  -- the names up per index costs more than the rest of the query.
  x.indclass::oid[]::text[] as opclasses,
  x.indoption::int2[]::int[] as options,
  x.indcollation::oid[]::text[] as collations
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
  printed_later: boolean;
  method: string;
  unique: boolean;
  primary: boolean;
  valid: boolean;
  ready: boolean;
  constraint_name: string | null;
  size_bytes: number;
  scans: number | null;
  partitioned_parent: boolean;
  opclasses: string[];
  options: number[];
  collations: string[];
}

/** `CREATE INDEX` text of an index on plain columns (what pg_get_indexdef prints, default operator classes assumed). */
function plainDefinition(row: Row): string {
  const keys = row.columns.map((c, i) => {
    const option = row.options?.[i] ?? 0;
    const desc = (option & 1) !== 0;
    const nullsFirst = (option & 2) !== 0;
    return `${quoteIdent(c ?? '?')}${desc ? ' DESC' : ''}${nullsFirst && !desc ? ' NULLS FIRST' : ''}${!nullsFirst && desc ? ' NULLS LAST' : ''}`;
  });
  const include = row.include_columns?.length ? ` INCLUDE (${row.include_columns.map(quoteIdent).join(', ')})` : '';
  return `CREATE ${row.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdent(row.name)} ON ${row.partitioned_parent ? 'ONLY ' : ''}${qualified(row.schema, row.table)} USING ${row.method} (${keys.join(', ')})${include}`;
}

/**
 * An index as read in the catalog transaction. One with expressions or a predicate (`printedLater`)
 * gets its expressions, predicate and definition from definitions.ts; the others are complete.
 */
export interface BareIndex extends Omit<Index, 'unreadable'> {
  readonly printedLater: boolean;
}

export async function readIndexes(session: Session, withStats = true): Promise<BareIndex[]> {
  const rows = await session.query<Row>(sql(withStats));
  return rows.map((row) => ({
    schema: row.schema,
    table: row.table,
    name: row.name,
    columns: row.columns ?? [],
    includeColumns: row.include_columns ?? [],
    expressions: null,
    predicate: null,
    printedLater: row.printed_later,
    method: row.method,
    unique: row.unique,
    primary: row.primary,
    valid: row.valid,
    ready: row.ready,
    constraint: row.constraint_name,
    definition: plainDefinition(row),
    sizeBytes: Number(row.size_bytes),
    scans: row.scans === null ? null : Number(row.scans),
    partitionedParent: row.partitioned_parent,
    opclasses: row.opclasses ?? [],
    options: (row.options ?? []).map(Number),
    collations: row.collations ?? [],
  }));
}
