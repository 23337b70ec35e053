/** Helpers shared by checks: API reach, object descriptors, SQL building. Pure functions. */
import type { CheckContext } from '../src/model/check.ts';
import type { FindingObject, ObjectType } from '../src/model/finding.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import { API_ROLES } from '../src/model/schemas.ts';
import type { LabCell } from '../src/model/report.ts';
import type { FunctionInfo, Policy, Privilege, Relation, RelationKind } from '../src/model/snapshot.ts';

const OBJECT_TYPE: Record<RelationKind, ObjectType> = {
  table: 'table',
  partitioned_table: 'table',
  view: 'view',
  materialized_view: 'materialized_view',
  foreign_table: 'foreign_table',
};

export function relationObject(relation: Relation, extra: Partial<FindingObject> = {}): FindingObject {
  return { schema: relation.schema, name: relation.name, type: OBJECT_TYPE[relation.kind], ...extra };
}

export function functionObject(fn: FunctionInfo): FindingObject {
  return { schema: fn.schema, name: fn.name, type: 'function', function: `${fn.name}(${fn.identityArgs})` };
}

/** `schema.name(args)` as SQL, for ALTER/REVOKE statements. */
export function functionSignature(fn: FunctionInfo): string {
  return `${qualified(fn.schema, fn.name)}(${fn.identityArgs})`;
}

export function relationKeyword(relation: Relation): string {
  switch (relation.kind) {
    case 'view':
      return 'VIEW';
    case 'materialized_view':
      return 'MATERIALIZED VIEW';
    case 'foreign_table':
      return 'FOREIGN TABLE';
    default:
      return 'TABLE';
  }
}

/**
 * API roles (anon, authenticated) that hold any of the privileges on the relation and can reach
 * its schema. Grants through PUBLIC and role membership count.
 */
export function apiRolesWith(ctx: CheckContext, relation: Relation, privileges: readonly Privilege[]): string[] {
  return API_ROLES.filter(
    (role) =>
      ctx.privileges.role(role) !== undefined &&
      ctx.privileges.hasSchemaUsage(relation.schema, role) &&
      privileges.some((p) => ctx.privileges.hasOnRelation(relation, role, p)),
  );
}

/** Roles that may call the function over the API: EXECUTE on it and USAGE on its schema. */
export function apiRolesExecuting(ctx: CheckContext, fn: FunctionInfo): string[] {
  return API_ROLES.filter(
    (role) =>
      ctx.privileges.role(role) !== undefined &&
      ctx.privileges.hasSchemaUsage(fn.schema, role) &&
      ctx.privileges.has(fn.acl, role, 'EXECUTE'),
  );
}

/** User tables (ordinary and partitioned) outside system schemas and extensions. */
export function userTables(ctx: CheckContext): Relation[] {
  return ctx.snapshot.relations.filter(
    (r) => (r.kind === 'table' || r.kind === 'partitioned_table') && ctx.isUserObject(r.schema, r.extension),
  );
}

/** Policies of a table, from a per-snapshot index (checks call this once per table). */
export function policiesOn(ctx: CheckContext, relation: Relation): readonly Policy[] {
  const byTable = ctx.memo('policies-by-table', () => {
    const map = new Map<string, Policy[]>();
    for (const p of ctx.snapshot.policies) {
      const key = `${p.schema}\u0000${p.table}`;
      const list = map.get(key);
      if (list) list.push(p);
      else map.set(key, [p]);
    }
    return map;
  });
  return byTable.get(`${relation.schema}\u0000${relation.name}`) ?? [];
}

export function enableRlsSql(relation: Relation): string {
  return `ALTER TABLE ${qualified(relation.schema, relation.name)} ENABLE ROW LEVEL SECURITY;`;
}

export function revokeSql(relation: Relation, privileges: string, roles: readonly string[]): string {
  return `REVOKE ${privileges} ON ${qualified(relation.schema, relation.name)} FROM ${roles.map(quoteIdent).join(', ')};`;
}

/** The rows a lab cell reached, whoever's (0 when the statement was refused or failed). */
export function cellRows(c: LabCell): number {
  return typeof c === 'object' ? c.own + c.tenant + c.other_tenants + c.ownerless : 0;
}

export function roleList(roles: readonly string[]): string {
  return roles.join(' and ');
}

/** `about 1,234 rows`, or `row count unknown` for a table never analyzed. */
export function rowsText(relation: Relation): string {
  if (relation.rowEstimate < 0) return 'row count unknown: never analyzed';
  const n = Math.round(relation.rowEstimate);
  return `about ${n.toLocaleString('en-US')} row${n === 1 ? '' : 's'}`;
}

export { literalPattern } from '../src/model/sql-text.ts';

/** Buckets whose files are meant for everyone, by their name: pictures shown on public pages, assets. */
export const PUBLIC_CONTENT = /avatar|profile|image|img|photo|picture|logo|icon|banner|cover|thumbnail|public|asset|static|gallery|product|media|brand|emoji|sticker/i;
