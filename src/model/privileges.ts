import type { AclItem, Privilege, Relation, Snapshot, Role } from './snapshot.ts';
import { PUBLIC_ROLE } from './snapshot.ts';

/**
 * Effective privileges: what a role holds directly, through PUBLIC, and through every role it
 * inherits from (memberships with INHERIT, transitively). Built once per snapshot.
 */
export class PrivilegeModel {
  private readonly inheritedCache = new Map<string, ReadonlySet<string>>();
  private readonly rolesByName: ReadonlyMap<string, Role>;
  private readonly parents: ReadonlyMap<string, readonly { role: string; inherit: boolean }[]>;

  constructor(private readonly snapshot: Snapshot) {
    this.rolesByName = new Map(snapshot.roles.map((r) => [r.name, r]));
    const parents = new Map<string, { role: string; inherit: boolean }[]>();
    for (const m of snapshot.memberships) {
      const list = parents.get(m.member) ?? [];
      list.push({ role: m.role, inherit: m.inherit });
      parents.set(m.member, list);
    }
    this.parents = parents;
  }

  role(name: string): Role | undefined {
    return this.rolesByName.get(name);
  }

  /** The role itself, PUBLIC, and all roles whose privileges it uses without SET ROLE. */
  privilegeHolders(role: string): ReadonlySet<string> {
    const cached = this.inheritedCache.get(role);
    if (cached) return cached;
    const seen = new Set<string>([role, PUBLIC_ROLE]);
    const queue = [role];
    while (queue.length > 0) {
      const current = queue.pop()!;
      for (const parent of this.parents.get(current) ?? []) {
        if (parent.inherit && !seen.has(parent.role)) {
          seen.add(parent.role);
          queue.push(parent.role);
        }
      }
    }
    this.inheritedCache.set(role, seen);
    return seen;
  }

  /** The grant that gives `role` the privilege, if any (first match: direct, then PUBLIC, then inherited). */
  grantFor(acl: readonly AclItem[], role: string, privilege: Privilege): AclItem | undefined {
    const holders = this.privilegeHolders(role);
    let found: AclItem | undefined;
    for (const item of acl) {
      if (item.privilege !== privilege || !holders.has(item.grantee)) continue;
      if (item.grantee === role) return item;
      if (!found || (item.grantee === PUBLIC_ROLE && found.grantee !== role)) found = item;
    }
    return found;
  }

  has(acl: readonly AclItem[], role: string, privilege: Privilege): boolean {
    if (this.rolesByName.get(role)?.superuser) return true;
    return this.grantFor(acl, role, privilege) !== undefined;
  }

  /** Table-level privilege, or column-level privilege on at least one column. */
  hasOnRelation(relation: Relation, role: string, privilege: Privilege): boolean {
    if (this.has(relation.acl, role, privilege)) return true;
    if (privilege === 'SELECT' || privilege === 'INSERT' || privilege === 'UPDATE' || privilege === 'REFERENCES') {
      return relation.columns.some((c) => this.has(c.acl, role, privilege));
    }
    return false;
  }

  /** Columns of the relation the role can read (all when it has table-level SELECT). */
  readableColumns(relation: Relation, role: string): readonly string[] {
    if (this.has(relation.acl, role, 'SELECT')) return relation.columns.map((c) => c.name);
    return relation.columns.filter((c) => this.has(c.acl, role, 'SELECT')).map((c) => c.name);
  }

  /** USAGE on the schema (needed for anything inside it). */
  hasSchemaUsage(schema: string, role: string): boolean {
    const info = this.snapshot.schemas.find((s) => s.name === schema);
    if (!info) return false;
    return this.has(info.acl, role, 'USAGE') || this.isOwnerOrMember(info.owner, role);
  }

  /** True when `role` is `owner` or inherits its privileges. */
  isOwnerOrMember(owner: string, role: string): boolean {
    return this.privilegeHolders(role).has(owner);
  }

  /** Whether the role skips RLS on this relation: superuser, BYPASSRLS, or owner of a non-forced table. */
  bypassesRls(relation: Relation, role: string): boolean {
    const r = this.rolesByName.get(role);
    if (r?.superuser || r?.bypassRls) return true;
    return !relation.rlsForced && this.isOwnerOrMember(relation.owner, role);
  }
}
