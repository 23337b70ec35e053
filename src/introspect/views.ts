import type { ViewDependency } from '../model/snapshot.ts';
import type { Session } from './session.ts';
import { NAMESPACE_FILTER } from './sql.ts';

/** Which relations each view and materialized view reads (through its rewrite rule), any schema. */
const SQL = `
select distinct n.nspname::text as schema, v.relname::text as view, rn.nspname::text as ref_schema, r.relname::text as ref_name
from pg_depend d
join pg_rewrite rw on rw.oid = d.objid
join pg_class v on v.oid = rw.ev_class
join pg_namespace n on n.oid = v.relnamespace
join pg_class r on r.oid = d.refobjid
join pg_namespace rn on rn.oid = r.relnamespace
where d.classid = 'pg_rewrite'::regclass and d.refclassid = 'pg_class'::regclass
  and v.relkind in ('v', 'm') and r.oid <> v.oid and ${NAMESPACE_FILTER}
order by 1, 2, 3, 4`;

export async function readViewDependencies(session: Session): Promise<ViewDependency[]> {
  const rows = await session.query<{ schema: string; view: string; ref_schema: string; ref_name: string }>(SQL);
  return rows.map((r) => ({ schema: r.schema, view: r.view, refSchema: r.ref_schema, refName: r.ref_name }));
}
