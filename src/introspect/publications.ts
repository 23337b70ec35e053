import type { DefaultAclObjectType, DefaultPrivilege, Extension, Publication } from '../model/snapshot.ts';
import type { AclItem } from '../model/snapshot.ts';
import type { Session } from './session.ts';
import { aclJson } from './sql.ts';

/**
 * Publications (with their tables expanded by `pg_publication_tables`), installed extensions and
 * default privileges: three small catalogs read in one round trip.
 */
const SQL = `
select
  (select coalesce(json_agg(json_build_object(
      'name', p.pubname::text, 'owner', pg_get_userbyid(p.pubowner)::text, 'allTables', p.puballtables,
      'insert', p.pubinsert, 'update', p.pubupdate, 'delete', p.pubdelete, 'truncate', p.pubtruncate,
      'tables', (select coalesce(json_agg(json_build_object(
                   'schema', pt.schemaname::text, 'name', pt.tablename::text,
                   'columns', pt.attnames::text[], 'rowFilter', pt.rowfilter) order by pt.schemaname, pt.tablename), '[]'::json)
                 from pg_publication_tables pt where pt.pubname = p.pubname)) order by p.pubname), '[]'::json)
     from pg_publication p) as publications,
  (select coalesce(json_agg(json_build_object(
      'name', e.extname::text, 'schema', n.nspname::text, 'version', e.extversion,
      'defaultVersion', av.default_version, 'relocatable', e.extrelocatable,
      'updatePath', case when av.default_version is not null and av.default_version <> e.extversion
        then (select up.path from pg_extension_update_paths(e.extname) up
               where up.source = e.extversion and up.target = av.default_version) end) order by e.extname), '[]'::json)
     from pg_extension e join pg_namespace n on n.oid = e.extnamespace
     left join pg_available_extensions av on av.name = e.extname) as extensions,
  (select coalesce(json_agg(json_build_object(
      'owner', pg_get_userbyid(d.defaclrole)::text, 'schema', n.nspname::text,
      'objectType', d.defaclobjtype::text, 'acl', ${aclJson('d.defaclacl')}) order by 1), '[]'::json)
     from pg_default_acl d left join pg_namespace n on n.oid = d.defaclnamespace) as default_privileges`;

const DEFAULT_ACL_TYPES: Record<string, DefaultAclObjectType> = {
  r: 'table',
  S: 'sequence',
  f: 'function',
  T: 'type',
  n: 'schema',
};

interface Row {
  publications: (Omit<Publication, 'tables'> & {
    tables: { schema: string; name: string; columns: string[] | null; rowFilter: string | null }[];
  })[];
  extensions: Extension[];
  default_privileges: { owner: string; schema: string | null; objectType: string; acl: AclItem[] }[];
}

export async function readPublicationsExtensionsDefaults(
  session: Session,
): Promise<{ publications: Publication[]; extensions: Extension[]; defaultPrivileges: DefaultPrivilege[] }> {
  const [row] = await session.query<Row>(SQL);
  return {
    publications: row?.publications ?? [],
    extensions: row?.extensions ?? [],
    defaultPrivileges: (row?.default_privileges ?? []).map((d) => ({
      owner: d.owner,
      schema: d.schema,
      objectType: DEFAULT_ACL_TYPES[d.objectType] ?? 'table',
      acl: d.acl,
    })),
  };
}
