/** SQL fragments shared by the catalog queries. */
import { PUBLIC_ROLE, type AclItem, type Privilege } from '../model/snapshot.ts';

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

/**
 * An ACL as its items' text (`anon=arw/postgres`, `=r/postgres` for PUBLIC), parsed by `parseAcl`:
 * far cheaper on the server than expanding every item with aclexplode (a correlated subquery per
 * row) when thousands of relations and columns are read. NULL (no column grants) reads as [].
 */
export function aclText(aclExpr: string, kindExpr?: string, ownerExpr?: string): string {
  const source = kindExpr && ownerExpr ? `coalesce(${aclExpr}, acldefault(${kindExpr}, ${ownerExpr}))` : aclExpr;
  return `(${source})::text[]`;
}

/** Privilege letters in aclitem's text, in the order Postgres prints them (and aclexplode returns them). */
const PRIVILEGE_LETTERS: Record<string, string> = {
  a: 'INSERT', r: 'SELECT', w: 'UPDATE', d: 'DELETE', D: 'TRUNCATE', x: 'REFERENCES', t: 'TRIGGER',
  X: 'EXECUTE', U: 'USAGE', C: 'CREATE', T: 'TEMPORARY', c: 'CONNECT', s: 'SET', A: 'ALTER SYSTEM', m: 'MAINTAIN',
};

/** A role name as aclitem prints it (putid): double-quoted, quotes doubled, when it has other than [A-Za-z0-9_]. */
function readName(text: string, at: number, stop: string): [string, number] {
  if (text[at] !== '"') {
    const end = stop === '' ? text.length : text.indexOf(stop, at);
    return [text.slice(at, end < 0 ? text.length : end), end < 0 ? text.length : end];
  }
  let name = '';
  let i = at + 1;
  for (; i < text.length; i++) {
    if (text[i] === '"') {
      if (text[i + 1] === '"') {
        name += '"';
        i++;
      } else break;
    } else name += text[i];
  }
  return [name, i + 1];
}

/** `aclText` rows back to the snapshot's AclItem list (grantee `PUBLIC` for the empty name). */
export function parseAcl(items: readonly string[] | null): AclItem[] {
  const out: AclItem[] = [];
  for (const item of items ?? []) {
    const [grantee, eq] = readName(item, 0, '=');
    const slash = item.indexOf('/', eq + 1);
    const letters = item.slice(eq + 1, slash < 0 ? item.length : slash);
    const [grantor] = slash < 0 ? [''] : readName(item, slash + 1, '');
    for (let i = 0; i < letters.length; i++) {
      const privilege = PRIVILEGE_LETTERS[letters[i]!];
      if (!privilege) continue;
      const grantable = letters[i + 1] === '*';
      if (grantable) i++;
      out.push({ grantee: grantee === '' ? PUBLIC_ROLE : grantee, grantor, privilege: privilege as Privilege, grantable });
    }
  }
  return out;
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
