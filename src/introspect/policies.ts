import type { Policy, PolicyCommand } from '../model/snapshot.ts';
import type { Session } from './session.ts';
import { NAMESPACE_FILTER } from './sql.ts';

/**
 * Row-level security policies and their COMMENT. Role OID 0 is PUBLIC. The expressions are printed
 * later, outside the main transaction (definitions.ts): printing them locks the tables they read.
 */
const SQL = `
select n.nspname::text as schema, c.relname::text as table, p.polname::text as name,
  p.polcmd::text as cmd, p.polpermissive as permissive,
  array(select case when r.oid = 0 then 'PUBLIC' else pg_get_userbyid(r.oid)::text end
          from unnest(p.polroles) r(oid) order by 1) as roles,
  p.polqual is not null as has_using, p.polwithcheck is not null as has_check,
  descr.description as comment
from pg_policy p
join pg_class c on c.oid = p.polrelid
join pg_namespace n on n.oid = c.relnamespace
left join pg_description descr on descr.objoid = p.oid and descr.classoid = 'pg_policy'::regclass and descr.objsubid = 0
where ${NAMESPACE_FILTER}
order by n.nspname, c.relname, p.polname`;

const COMMANDS: Record<string, PolicyCommand> = { '*': 'ALL', r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE' };

interface Row {
  schema: string;
  table: string;
  name: string;
  cmd: string;
  permissive: boolean;
  roles: string[];
  has_using: boolean;
  has_check: boolean;
  comment: string | null;
}

/** A policy as read, before its expressions are printed: `hasUsing`/`hasCheck` say whether it has them. */
export type BarePolicy = Policy & { readonly hasUsing: boolean; readonly hasCheck: boolean };

export async function readPolicies(session: Session): Promise<BarePolicy[]> {
  const rows = await session.query<Row>(SQL);
  return rows.map((row) => ({
    schema: row.schema,
    table: row.table,
    name: row.name,
    command: COMMANDS[row.cmd] ?? 'ALL',
    permissive: row.permissive,
    roles: row.roles,
    using: null,
    withCheck: null,
    hasUsing: row.has_using,
    hasCheck: row.has_check,
    comment: row.comment,
  }));
}
