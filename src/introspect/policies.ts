import type { Policy, PolicyCommand } from '../model/snapshot.ts';
import type { Session } from './session.ts';
import { NAMESPACE_FILTER } from './sql.ts';

/** Row-level security policies with their expressions as Postgres prints them, and their COMMENT. Role OID 0 is PUBLIC. */
const SQL = `
select n.nspname::text as schema, c.relname::text as table, p.polname::text as name,
  p.polcmd::text as cmd, p.polpermissive as permissive,
  array(select case when r.oid = 0 then 'PUBLIC' else coalesce(ro.rolname::text, 'unknown') end
          from unnest(p.polroles) r(oid) left join pg_roles ro on ro.oid = r.oid
         order by 1) as roles,
  pg_get_expr(p.polqual, p.polrelid) as using_expr,
  pg_get_expr(p.polwithcheck, p.polrelid) as check_expr,
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
  using_expr: string | null;
  check_expr: string | null;
  comment: string | null;
}

export async function readPolicies(session: Session): Promise<Policy[]> {
  const rows = await session.query<Row>(SQL);
  return rows.map((row) => ({
    schema: row.schema,
    table: row.table,
    name: row.name,
    command: COMMANDS[row.cmd] ?? 'ALL',
    permissive: row.permissive,
    roles: row.roles,
    using: row.using_expr,
    withCheck: row.check_expr,
    comment: row.comment,
  }));
}
