/**
 * View definitions, policy expressions, column defaults, CHECK and exclusion constraints, and the
 * expressions and predicates of indexes. Postgres prints them (`pg_get_viewdef`, `pg_get_expr`,
 * `pg_get_constraintdef`, `pg_get_indexdef`) only after taking an ACCESS SHARE lock on every relation
 * they read (views and policies keep theirs until the transaction ends). So they are read last, in a
 * transaction of their own that lasts one statement, and an object is not printed at all when
 * another session holds or awaits an ACCESS EXCLUSIVE lock on a relation it reads (a migration's
 * ALTER TABLE, a REFRESH MATERIALIZED VIEW): supaudit would wait behind it and make every query
 * queued after it wait too. Such objects are named in a note.
 */
import type { Column, Constraint, Index } from '../model/snapshot.ts';
import { relationKey, type BareColumn } from './columns.ts';
import type { BareConstraint } from './constraints.ts';
import type { BareIndex } from './indexes.ts';
import type { Session } from './session.ts';
import { NAMESPACE_FILTER } from './sql.ts';

export type DefinitionKind = 'view' | 'policy' | 'default' | 'constraint' | 'index';

export interface Definitions {
  /** `schema\0view` → definition. */
  readonly views: ReadonlyMap<string, string>;
  /** `schema\0table\0policy` → expressions. */
  readonly policies: ReadonlyMap<string, { readonly using: string | null; readonly withCheck: string | null }>;
  /** `schema\0table\0column` → the default expression. */
  readonly defaults: ReadonlyMap<string, string>;
  /** `schema\0table\0constraint` → `pg_get_constraintdef` (constraints other than primary, unique and foreign keys, which print without a lock). */
  readonly constraints: ReadonlyMap<string, string>;
  /** `schema\0index` → expressions, predicate and `pg_get_indexdef` of indexes that have expressions or a predicate. */
  readonly indexes: ReadonlyMap<string, { readonly expressions: string | null; readonly predicate: string | null; readonly definition: string }>;
  /**
   * Objects not printed, with the locked relations that stopped it. Column defaults are skipped a
   * table at a time (`key` is then `schema\0table`).
   */
  readonly skipped: readonly { readonly kind: DefinitionKind; readonly key: string; readonly label: string; readonly lockedBy: readonly string[] }[];
}

export const EMPTY_DEFINITIONS: Definitions = { views: new Map(), policies: new Map(), defaults: new Map(), constraints: new Map(), indexes: new Map(), skipped: [] };

const SQL = `
with locked as (
  select distinct l.relation
  from pg_locks l
  where l.locktype = 'relation' and l.mode = 'AccessExclusiveLock' and l.pid <> pg_backend_pid()
    and l.database = (select oid from pg_database where datname = current_database())
),
objects as (
  select 'view'::text as kind, c.oid as relid, n.nspname::text as schema, c.relname::text as rel, null::text as name, null::oid as objid,
    array(select d.refobjid from pg_rewrite rw join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = rw.oid
           and d.refclassid = 'pg_class'::regclass where rw.ev_class = c.oid) || c.oid as reads
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('v', 'm') and ${NAMESPACE_FILTER}
  union all
  select 'policy', c.oid, n.nspname::text, c.relname::text, p.polname::text, p.oid,
    array(select d.refobjid from pg_depend d where d.classid = 'pg_policy'::regclass and d.objid = p.oid
           and d.refclassid = 'pg_class'::regclass) || c.oid
  from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
  where ${NAMESPACE_FILTER}
  union all
  select 'default', c.oid, n.nspname::text, c.relname::text, a.attname::text, ad.oid, array[c.oid]
  from pg_attrdef ad
  join pg_attribute a on a.attrelid = ad.adrelid and a.attnum = ad.adnum and a.attnum > 0 and not a.attisdropped
  join pg_class c on c.oid = ad.adrelid join pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p', 'v', 'm', 'f') and ${NAMESPACE_FILTER}
  union all
  select 'constraint', c.oid, n.nspname::text, c.relname::text, con.conname::text, con.oid,
    array[c.oid] || case when con.conindid <> 0 then array[con.conindid] else '{}'::oid[] end
  from pg_constraint con join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace
  where con.contype not in ('p', 'u', 'f') and con.conrelid <> 0 and con.conparentid = 0 and ${NAMESPACE_FILTER}
  union all
  select 'index', t.oid, n.nspname::text, t.relname::text, i.relname::text, x.indexrelid, array[t.oid, x.indexrelid]
  from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid join pg_namespace n on n.oid = t.relnamespace
  where (x.indexprs is not null or x.indpred is not null) and ${NAMESPACE_FILTER}
),
checked as (
  select o.*, array(select l.relation::regclass::text from locked l where l.relation = any (o.reads) order by 1) as locked_by
  from objects o
)
select kind, schema, rel, name, locked_by,
  case when cardinality(locked_by) = 0 then
    case kind
      when 'view' then pg_get_viewdef(relid)
      when 'default' then (select pg_get_expr(ad.adbin, ad.adrelid) from pg_attrdef ad where ad.oid = objid)
      when 'constraint' then pg_get_constraintdef(objid)
      when 'index' then pg_get_indexdef(objid)
    end
  end as definition,
  case when cardinality(locked_by) = 0 and kind = 'policy' then (select pg_get_expr(p.polqual, p.polrelid) from pg_policy p where p.oid = objid) end as using_expr,
  case when cardinality(locked_by) = 0 and kind = 'policy' then (select pg_get_expr(p.polwithcheck, p.polrelid) from pg_policy p where p.oid = objid) end as check_expr,
  case when cardinality(locked_by) = 0 and kind = 'index' then (select pg_get_expr(x.indexprs, x.indrelid) from pg_index x where x.indexrelid = objid) end as expressions,
  case when cardinality(locked_by) = 0 and kind = 'index' then (select pg_get_expr(x.indpred, x.indrelid) from pg_index x where x.indexrelid = objid) end as predicate
from checked
order by kind, schema, rel, name`;

interface Row {
  kind: DefinitionKind;
  schema: string;
  rel: string;
  name: string | null;
  locked_by: string[];
  definition: string | null;
  using_expr: string | null;
  check_expr: string | null;
  expressions: string | null;
  predicate: string | null;
}

export const viewKey = (schema: string, view: string) => `${schema}\u0000${view}`;
export const policyKey = (schema: string, table: string, policy: string) => `${schema}\u0000${table}\u0000${policy}`;
export const columnKey = (schema: string, table: string, column: string) => `${schema}\u0000${table}\u0000${column}`;
export const constraintKey = (schema: string, table: string, constraint: string) => `${schema}\u0000${table}\u0000${constraint}`;
export const indexKey = (schema: string, index: string) => `${schema}\u0000${index}`;

function skippedLabel(row: Row): string {
  switch (row.kind) {
    case 'view':
      return `view ${row.schema}.${row.rel}`;
    case 'policy':
      return `policy "${row.name}" on ${row.schema}.${row.rel}`;
    case 'default':
      return `column defaults of ${row.schema}.${row.rel}`;
    case 'constraint':
      return `constraint "${row.name}" on ${row.schema}.${row.rel}`;
    case 'index':
      return `index ${row.schema}.${row.name} on ${row.schema}.${row.rel}`;
  }
}

export async function readDefinitions(session: Session): Promise<Definitions> {
  const rows = await session.query<Row>(SQL);
  const views = new Map<string, string>();
  const policies = new Map<string, { using: string | null; withCheck: string | null }>();
  const defaults = new Map<string, string>();
  const constraints = new Map<string, string>();
  const indexes = new Map<string, { expressions: string | null; predicate: string | null; definition: string }>();
  const skipped: Definitions['skipped'][number][] = [];
  const skippedTables = new Set<string>();
  for (const row of rows) {
    const name = row.name ?? '';
    if (row.locked_by.length > 0) {
      // A table's defaults are all locked by the same lock: one entry (and one note) for the table.
      const key =
        row.kind === 'view'
          ? viewKey(row.schema, row.rel)
          : row.kind === 'default'
            ? relationKey(row.schema, row.rel)
            : row.kind === 'index'
              ? indexKey(row.schema, name)
              : row.kind === 'constraint'
                ? constraintKey(row.schema, row.rel, name)
                : policyKey(row.schema, row.rel, name);
      if (row.kind === 'default' && skippedTables.has(key)) continue;
      if (row.kind === 'default') skippedTables.add(key);
      skipped.push({ kind: row.kind, key, label: skippedLabel(row), lockedBy: row.locked_by });
      continue;
    }
    switch (row.kind) {
      case 'view':
        if (row.definition !== null) views.set(viewKey(row.schema, row.rel), row.definition);
        break;
      case 'policy':
        policies.set(policyKey(row.schema, row.rel, name), { using: row.using_expr, withCheck: row.check_expr });
        break;
      case 'default':
        if (row.definition !== null) defaults.set(columnKey(row.schema, row.rel, name), row.definition);
        break;
      case 'constraint':
        if (row.definition !== null) constraints.set(constraintKey(row.schema, row.rel, name), row.definition);
        break;
      case 'index':
        if (row.definition !== null) indexes.set(indexKey(row.schema, name), { expressions: row.expressions, predicate: row.predicate, definition: row.definition });
        break;
    }
  }
  return { views, policies, defaults, constraints, indexes, skipped };
}

/**
 * The catalog transaction's columns, constraints and indexes with the text printed here. What has
 * no text was skipped for a lock, or not read at all (`fallback`: why), or changed in between: it is
 * marked unreadable, never taken as having no default, no check or no predicate.
 */
export function withDefinitions(
  definitions: Definitions,
  fallback: string | undefined,
  bare: { readonly columns: ReadonlyMap<string, readonly BareColumn[]>; readonly constraints: readonly BareConstraint[]; readonly indexes: readonly BareIndex[] },
): { columns: Map<string, Column[]>; constraints: Constraint[]; indexes: Index[] } {
  const locked = new Map(definitions.skipped.map((s) => [`${s.kind}\u0000${s.key}`, s.lockedBy]));
  const why = (kind: DefinitionKind, key: string, changed: string) => {
    const lockedBy = locked.get(`${kind}\u0000${key}`);
    return lockedBy ? `${lockedBy.join(', ')} was locked by another session` : (fallback ?? changed);
  };
  const columns = new Map<string, Column[]>();
  for (const [relation, list] of bare.columns) {
    columns.set(
      relation,
      list.map(({ hasDefault, ...c }) => {
        if (!hasDefault) return { ...c, default: null };
        const [schema, table] = relation.split('\u0000') as [string, string];
        const text = definitions.defaults.get(columnKey(schema, table, c.name));
        return text !== undefined ? { ...c, default: text } : { ...c, default: null, defaultUnreadable: why('default', relationKey(schema, table), 'the default changed while it was read') };
      }),
    );
  }
  const constraints = bare.constraints.map((c): Constraint => {
    if (c.definition !== null) return { ...c, definition: c.definition };
    const key = constraintKey(c.schema, c.table, c.name);
    const text = definitions.constraints.get(key);
    return text !== undefined ? { ...c, definition: text } : { ...c, definition: '', unreadable: why('constraint', key, 'the constraint changed while it was read') };
  });
  const indexes = bare.indexes.map(({ printedLater, ...i }): Index => {
    if (!printedLater) return i;
    const key = indexKey(i.schema, i.name);
    const text = definitions.indexes.get(key);
    return text !== undefined ? { ...i, ...text } : { ...i, unreadable: why('index', key, 'the index changed while it was read') };
  });
  return { columns, constraints, indexes };
}
