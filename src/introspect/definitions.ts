/**
 * View definitions and policy expressions. Postgres prints them (`pg_get_viewdef`, `pg_get_expr`)
 * only after taking an ACCESS SHARE lock on every relation they read, and keeps those locks until the
 * transaction ends. So they are read last, in a transaction of their own that lasts one statement,
 * and an object is not printed at all when another session holds or awaits an ACCESS EXCLUSIVE lock
 * on a relation it reads (a migration's ALTER TABLE, a REFRESH MATERIALIZED VIEW): supaudit would
 * wait behind it and make every query queued after it wait too. Such objects are named in a note.
 */
import type { Session } from './session.ts';
import { NAMESPACE_FILTER } from './sql.ts';

export interface Definitions {
  /** `schema\0view` → definition. */
  readonly views: ReadonlyMap<string, string>;
  /** `schema\0table\0policy` → expressions. */
  readonly policies: ReadonlyMap<string, { readonly using: string | null; readonly withCheck: string | null }>;
  /** Objects not printed, with the locked relations that stopped it. */
  readonly skipped: readonly { readonly kind: 'view' | 'policy'; readonly key: string; readonly label: string; readonly lockedBy: readonly string[] }[];
}

const SQL = `
with locked as (
  select distinct l.relation
  from pg_locks l
  where l.locktype = 'relation' and l.mode = 'AccessExclusiveLock' and l.pid <> pg_backend_pid()
    and l.database = (select oid from pg_database where datname = current_database())
),
objects as (
  select 'view'::text as kind, c.oid as relid, n.nspname::text as schema, c.relname::text as rel, null::text as name, null::oid as polid,
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
),
checked as (
  select o.*, array(select l.relation::regclass::text from locked l where l.relation = any (o.reads) order by 1) as locked_by
  from objects o
)
select kind, schema, rel, name, locked_by,
  case when cardinality(locked_by) = 0 and kind = 'view' then pg_get_viewdef(relid) end as definition,
  case when cardinality(locked_by) = 0 and kind = 'policy' then (select pg_get_expr(p.polqual, p.polrelid) from pg_policy p where p.oid = polid) end as using_expr,
  case when cardinality(locked_by) = 0 and kind = 'policy' then (select pg_get_expr(p.polwithcheck, p.polrelid) from pg_policy p where p.oid = polid) end as check_expr
from checked
order by kind, schema, rel, name`;

interface Row {
  kind: 'view' | 'policy';
  schema: string;
  rel: string;
  name: string | null;
  locked_by: string[];
  definition: string | null;
  using_expr: string | null;
  check_expr: string | null;
}

export const viewKey = (schema: string, view: string) => `${schema}\u0000${view}`;
export const policyKey = (schema: string, table: string, policy: string) => `${schema}\u0000${table}\u0000${policy}`;

export async function readDefinitions(session: Session): Promise<Definitions> {
  const rows = await session.query<Row>(SQL);
  const views = new Map<string, string>();
  const policies = new Map<string, { using: string | null; withCheck: string | null }>();
  const skipped: Definitions['skipped'][number][] = [];
  for (const row of rows) {
    const key = row.kind === 'view' ? viewKey(row.schema, row.rel) : policyKey(row.schema, row.rel, row.name ?? '');
    if (row.locked_by.length > 0) {
      const label = row.kind === 'view' ? `view ${row.schema}.${row.rel}` : `policy "${row.name}" on ${row.schema}.${row.rel}`;
      skipped.push({ kind: row.kind, key, label, lockedBy: row.locked_by });
      continue;
    }
    if (row.kind === 'view') {
      if (row.definition !== null) views.set(key, row.definition);
    } else policies.set(key, { using: row.using_expr, withCheck: row.check_expr });
  }
  return { views, policies, skipped };
}
