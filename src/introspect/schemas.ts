import type { SchemaInfo } from '../model/snapshot.ts';
import type { Session } from './session.ts';
import { aclJson, extensionOwned, NAMESPACE_FILTER } from './sql.ts';

const SQL = `
select n.nspname::text as name,
  pg_get_userbyid(n.nspowner)::text as owner,
  ${aclJson('n.nspacl', `'n'`, 'n.nspowner')} as acl,
  obj_description(n.oid, 'pg_namespace') as comment,
  ext.extname::text as extension
from pg_namespace n
left join ${extensionOwned('pg_namespace')} ext on ext.objid = n.oid
where ${NAMESPACE_FILTER}
order by n.nspname`;

export async function readSchemas(session: Session): Promise<SchemaInfo[]> {
  return session.query<SchemaInfo>(SQL);
}
