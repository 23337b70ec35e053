import type { AclItem, FunctionInfo, Volatility } from '../model/snapshot.ts';
import type { Session } from './session.ts';
import { aclText, parseAcl, extensionOwned, NAMESPACE_FILTER } from './sql.ts';

/** Functions and procedures. Bodies are kept for SQL and PL/pgSQL (policy helpers are analysed). */
const SQL = `
select n.nspname::text as schema, p.proname::text as name,
  pg_get_function_identity_arguments(p.oid) as identity_args,
  p.pronargs::int as arg_count,
  coalesce(pg_get_function_result(p.oid), 'void') as return_type,
  p.proretset as returns_set,
  p.prokind::text as kind,
  l.lanname::text as language,
  p.prosecdef as security_definer,
  p.provolatile::text as volatility,
  p.proleakproof as leakproof,
  pg_get_userbyid(p.proowner)::text as owner,
  coalesce(p.proconfig, '{}')::text[] as config,
  ${aclText('p.proacl', `'f'`, 'p.proowner')} as acl,
  ext.extname::text as extension,
  case when l.lanname in ('sql', 'plpgsql') then
    case when p.prosqlbody is not null then pg_get_functiondef(p.oid) else p.prosrc end
  end as source,
  descr.description as comment
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_language l on l.oid = p.prolang
left join ${extensionOwned('pg_proc')} ext on ext.objid = p.oid
left join pg_description descr on descr.objoid = p.oid and descr.classoid = 'pg_proc'::regclass and descr.objsubid = 0
where ${NAMESPACE_FILTER}
order by n.nspname, p.proname, 3`;

const KINDS: Record<string, FunctionInfo['kind']> = { f: 'function', p: 'procedure', a: 'aggregate', w: 'window' };
const VOLATILITY: Record<string, Volatility> = { i: 'immutable', s: 'stable', v: 'volatile' };

interface Row {
  schema: string;
  name: string;
  identity_args: string;
  arg_count: number;
  return_type: string;
  returns_set: boolean;
  kind: string;
  language: string;
  security_definer: boolean;
  volatility: string;
  leakproof: boolean;
  owner: string;
  config: string[];
  acl: string[] | null;
  extension: string | null;
  source: string | null;
  comment: string | null;
}

export async function readFunctions(session: Session): Promise<FunctionInfo[]> {
  const rows = await session.query<Row>(SQL);
  return rows.map((row) => ({
    schema: row.schema,
    name: row.name,
    identityArgs: row.identity_args,
    argCount: Number(row.arg_count),
    returnType: row.return_type,
    returnsSet: row.returns_set,
    kind: KINDS[row.kind] ?? 'function',
    language: row.language,
    securityDefiner: row.security_definer,
    volatility: VOLATILITY[row.volatility] ?? 'volatile',
    leakproof: row.leakproof,
    owner: row.owner,
    config: row.config ?? [],
    acl: parseAcl(row.acl),
    extension: row.extension,
    source: row.source,
    comment: row.comment,
  }));
}
