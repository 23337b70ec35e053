/** SQL fragments shared by the catalog queries. */

/** Schemas never read: the Postgres catalogs, toast and temp schemas (names starting `pg_` are reserved). */
export const NAMESPACE_FILTER = `n.nspname <> 'information_schema' and n.nspname !~ '^pg_'`;

/**
 * An ACL column exploded to a JSON array of `{grantee, grantor, privilege, grantable}`.
 * `kindExpr` is a SQL expression for the `acldefault` object kind (`'r'`, `'s'`, `'f'`, `'n'`…); with it,
 * a NULL ACL means the owner's default privileges, as Postgres itself reads it. Without it, NULL means no grants.
 */
export function aclJson(aclExpr: string, kindExpr?: string, ownerExpr?: string): string {
  const source =
    kindExpr && ownerExpr
      ? `coalesce(${aclExpr}, acldefault(${kindExpr}, ${ownerExpr}))`
      : aclExpr; // aclexplode is strict: NULL yields no rows (an empty aclitem[] would be rejected)
  return `(select coalesce(json_agg(json_build_object(
      'grantee', case when a.grantee = 0 then 'PUBLIC' else pg_get_userbyid(a.grantee)::text end,
      'grantor', pg_get_userbyid(a.grantor)::text,
      'privilege', a.privilege_type,
      'grantable', a.is_grantable)), '[]'::json)
    from aclexplode(${source}) a)`;
}

/** Objects owned by an extension, by catalog: join `ext.objid = <oid>` to get `ext.extname`. */
export function extensionOwned(catalog: string): string {
  return `(select d.objid, e.extname from pg_depend d join pg_extension e on e.oid = d.refobjid
     where d.deptype = 'e' and d.classid = '${catalog}'::regclass and d.refclassid = 'pg_extension'::regclass)`;
}

/**
 * Whether row-level security filters what the current user reads from relation `c` (alias of a
 * pg_class row), as check_enable_rls decides, from catalog columns only: `row_security_active()`
 * would build each table's relcache entry (reading pg_policy) and so wait behind any lock on it.
 */
export function rlsAppliesToCurrentUser(c: string, readRoles = true): string {
  // Without pg_roles, BYPASSRLS is unknown: assume RLS applies (the answer is then "unknown", never "all rows").
  const bypass = readRoles ? `coalesce((select r.rolbypassrls from pg_roles r where r.rolname = current_user), false)` : 'false';
  return `(${c}.relrowsecurity and not (current_setting('is_superuser') = 'on'
    or ${bypass}
    or (pg_has_role(${c}.relowner, 'USAGE') and not ${c}.relforcerowsecurity)))`;
}
