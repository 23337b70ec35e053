import type { Constraint, ConstraintType } from '../model/snapshot.ts';
import type { Session } from './session.ts';
import { NAMESPACE_FILTER } from './sql.ts';

/** Column names of an attnum array, in array order. */
function columnNames(rel: string, keys: string): string {
  return `array(select a.attname::text from unnest(${keys}) with ordinality k(attnum, ord)
    join pg_attribute a on a.attrelid = ${rel} and a.attnum = k.attnum order by k.ord)`;
}

/** Constraints on relations; inherited copies on partitions (conparentid <> 0) are left out. */
const SQL = `
select n.nspname::text as schema, c.relname::text as table, con.conname::text as name, con.contype::text as type,
  ${columnNames('con.conrelid', 'con.conkey')} as columns,
  -- Primary, unique and foreign keys print without locking the table; the others (CHECK, EXCLUDE)
  -- lock it, and are printed later, outside this transaction (definitions.ts).
  case when con.contype in ('p', 'u', 'f') then pg_get_constraintdef(con.oid) end as definition,
  con.convalidated as validated,
  rn.nspname::text as ref_schema, rc.relname::text as ref_table,
  case when con.contype = 'f' then ${columnNames('con.confrelid', 'con.confkey')} else '{}'::text[] end as ref_columns,
  ic.relname::text as index_name
from pg_constraint con
join pg_class c on c.oid = con.conrelid
join pg_namespace n on n.oid = c.relnamespace
left join pg_class rc on rc.oid = con.confrelid
left join pg_namespace rn on rn.oid = rc.relnamespace
left join pg_class ic on ic.oid = con.conindid
where con.conrelid <> 0 and con.conparentid = 0 and ${NAMESPACE_FILTER}
order by n.nspname, c.relname, con.conname`;

const TYPES: Record<string, ConstraintType> = {
  p: 'primary_key',
  f: 'foreign_key',
  u: 'unique',
  c: 'check',
  x: 'exclusion',
  n: 'not_null',
  t: 'trigger',
};

/** A constraint as read in the catalog transaction: `definition` is null until definitions.ts prints it. */
export interface BareConstraint extends Omit<Constraint, 'definition' | 'unreadable'> {
  readonly definition: string | null;
}

interface Row {
  schema: string;
  table: string;
  name: string;
  type: string;
  columns: string[];
  definition: string | null;
  validated: boolean;
  ref_schema: string | null;
  ref_table: string | null;
  ref_columns: string[];
  index_name: string | null;
}

export async function readConstraints(session: Session): Promise<BareConstraint[]> {
  const rows = await session.query<Row>(SQL);
  return rows.map((row) => {
    const type = TYPES[row.type] ?? 'check';
    return {
      schema: row.schema,
      table: row.table,
      name: row.name,
      type,
      columns: row.columns ?? [],
      definition: row.definition,
      validated: row.validated,
      refSchema: row.ref_schema,
      refTable: row.ref_table,
      refColumns: row.ref_columns ?? [],
      refIndex: type === 'foreign_key' ? row.index_name : null,
      index: type === 'primary_key' || type === 'unique' || type === 'exclusion' ? row.index_name : null,
    };
  });
}
