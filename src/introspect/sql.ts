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
