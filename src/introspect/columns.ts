import type { Column } from '../model/snapshot.ts';
import type { Session } from './session.ts';
import { aclText, parseAcl, NAMESPACE_FILTER, rlsAppliesToCurrentUser } from './sql.ts';

/** Columns of every relation read by `relations.ts`, with column grants and average widths. */
function sql(withStats: boolean): string {
  const stats = withStats
    ? `(select schemaname, tablename, attname, max(avg_width) as avg_width
             from pg_stats group by schemaname, tablename, attname)`
    : `(select null::name as schemaname, null::name as tablename, null::name as attname, null::int as avg_width)`;
  return `
select n.nspname::text as schema, c.relname::text as table,
  a.attname::text as name, a.attnum::int as position,
  format_type(a.atttypid, a.atttypmod) as type,
  tn.nspname::text || '.' || t.typname::text as type_name,
  a.attnotnull as not_null,
  -- The text is printed later, outside this transaction: pg_get_expr locks the table (definitions.ts).
  ad.oid is not null as has_default,
  a.attidentity <> '' as identity,
  a.attgenerated <> '' as generated,
  ${aclText('a.attacl')} as acl,
  st.avg_width::float8 as avg_width,
  ${withStats ? `c.relkind in ('r', 'p', 'm') and not (has_column_privilege(c.oid, a.attnum, 'select') and not ${rlsAppliesToCurrentUser('c')})` : 'false'} as stats_hidden,
  descr.description as comment
from pg_attribute a
join pg_class c on c.oid = a.attrelid
join pg_namespace n on n.oid = c.relnamespace
join pg_type t on t.oid = a.atttypid
join pg_namespace tn on tn.oid = t.typnamespace
left join pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
left join pg_description descr on descr.objoid = c.oid and descr.classoid = 'pg_class'::regclass and descr.objsubid = a.attnum
left join ${stats} st
  on st.schemaname = n.nspname and st.tablename = c.relname and st.attname = a.attname
where a.attnum > 0 and not a.attisdropped
  and c.relkind in ('r', 'p', 'v', 'm', 'f') and ${NAMESPACE_FILTER}
order by n.nspname, c.relname, a.attnum`;
}

/** A column as read in the catalog transaction: its default's text comes from definitions.ts. */
export interface BareColumn extends Omit<Column, 'default' | 'defaultUnreadable'> {
  readonly hasDefault: boolean;
}

interface Row extends Omit<BareColumn, 'typeName' | 'notNull' | 'avgWidth' | 'acl' | 'hasDefault'> {
  has_default: boolean;
  acl: string[] | null;
  schema: string;
  table: string;
  type_name: string;
  not_null: boolean;
  avg_width: number | null;
  stats_hidden: boolean;
}

/** Columns keyed by `schema.table` (joined with a NUL so no name can collide). */
export async function readColumns(session: Session, withStats = true): Promise<Map<string, BareColumn[]>> {
  const rows = await session.query<Row>(sql(withStats));
  const byRelation = new Map<string, BareColumn[]>();
  for (const row of rows) {
    const key = relationKey(row.schema, row.table);
    let list = byRelation.get(key);
    if (!list) byRelation.set(key, (list = []));
    list.push({
      name: row.name,
      position: Number(row.position),
      type: row.type,
      typeName: row.type_name,
      notNull: row.not_null,
      hasDefault: row.has_default,
      identity: row.identity,
      generated: row.generated,
      acl: parseAcl(row.acl),
      avgWidth: row.avg_width === null ? null : Number(row.avg_width),
      ...(row.stats_hidden ? { statsHidden: true } : {}),
      comment: row.comment,
    });
  }
  return byRelation;
}

export function relationKey(schema: string, name: string): string {
  return `${schema}\u0000${name}`;
}
