import type { SchemaInfo } from '../model/snapshot.ts';
import type { Session } from './session.ts';
import { aclText, parseAcl, extensionOwned, NAMESPACE_FILTER } from './sql.ts';

const SQL = `
select n.nspname::text as name,
  pg_get_userbyid(n.nspowner)::text as owner,
  ${aclText('n.nspacl', `'n'`, 'n.nspowner')} as acl,
  obj_description(n.oid, 'pg_namespace') as comment,
  ext.extname::text as extension
from pg_namespace n
left join ${extensionOwned('pg_namespace')} ext on ext.objid = n.oid
where ${NAMESPACE_FILTER}
order by n.nspname`;

export async function readSchemas(session: Session): Promise<SchemaInfo[]> {
  const rows = await session.query<Omit<SchemaInfo, 'acl'> & { acl: string[] | null }>(SQL);
  return rows.map((r) => ({ ...r, acl: parseAcl(r.acl) }));
}
