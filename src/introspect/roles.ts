import type { Membership, Role } from '../model/snapshot.ts';
import type { Session } from './session.ts';

/** PG16 made INHERIT and SET per membership; before, INHERIT is the member role's `rolinherit`. */
function sql(versionNum: number): string {
  const inherit = versionNum >= 160000 ? 'am.inherit_option' : 'm.rolinherit';
  const canSet = versionNum >= 160000 ? 'am.set_option' : 'true';
  return `
select
  (select json_agg(json_build_object(
      'name', r.rolname::text, 'superuser', r.rolsuper, 'bypassRls', r.rolbypassrls,
      'canLogin', r.rolcanlogin, 'inherit', r.rolinherit) order by r.rolname)
     from pg_roles r) as roles,
  (select coalesce(json_agg(json_build_object(
      'role', g.rolname::text, 'member', m.rolname::text, 'inherit', ${inherit}, 'canSet', ${canSet})
      order by g.rolname, m.rolname), '[]'::json)
     from pg_auth_members am
     join pg_roles g on g.oid = am.roleid
     join pg_roles m on m.oid = am.member) as memberships`;
}

export async function readRoles(session: Session, versionNum: number): Promise<{ roles: Role[]; memberships: Membership[] }> {
  const [row] = await session.query<{ roles: Role[] | null; memberships: Membership[] }>(sql(versionNum));
  return { roles: row?.roles ?? [], memberships: row?.memberships ?? [] };
}
