import { defineCheck, type Check, type CheckContext } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import { PUBLIC_ROLE, type Relation, type RelationKind } from '../src/model/snapshot.ts';
import { apiRolesWith, relationObject, roleList, rowsText } from './_shared.ts';

/**
 * `REVOKE SELECT … FROM <roles>`, plus PUBLIC when a PUBLIC grant gives it (revoking from the roles
 * alone would leave that). Revoking table SELECT also revokes column-level SELECT.
 */
export function revokeSelectSql(relation: Relation, roles: readonly string[]): string {
  const viaPublic = [relation.acl, ...relation.columns.map((c) => c.acl)].some((acl) =>
    acl.some((a) => a.grantee === PUBLIC_ROLE && a.privilege === 'SELECT'),
  );
  const grantees = [...(viaPublic ? [PUBLIC_ROLE] : []), ...roles.map(quoteIdent)];
  return `REVOKE SELECT ON ${qualified(relation.schema, relation.name)} FROM ${grantees.join(', ')};`;
}

/** Relations of one kind that have no RLS at all, in an exposed schema, readable by anon/authenticated. */
export function noRlsRelationInApi<Id extends string>(spec: { id: Id; kind: RelationKind; noun: string; title: string; description: string }): Check<Id> {
  return defineCheck({
    meta: {
      id: spec.id,
      title: spec.title,
      level: 'medium',
      category: 'security',
      facing: 'external',
      splinter: spec.id,
      description: spec.description,
    },
    run(ctx: CheckContext) {
      const out: FindingDraft[] = [];
      for (const relation of ctx.snapshot.relations) {
        if (relation.kind !== spec.kind || !ctx.isExposed(relation.schema) || !ctx.isUserObject(relation.schema, relation.extension)) continue;
        const roles = apiRolesWith(ctx, relation, ['SELECT']);
        if (roles.length === 0) continue;
        const name = qualified(relation.schema, relation.name);
        out.push({
          message:
            `${spec.noun} ${name} is in an exposed schema and ${roleList(roles)} can select from it: ${spec.noun.toLowerCase()}s have no Row Level Security, ` +
            `so every row it returns (${rowsText(relation)}) is readable through the API.`,
          object: relationObject(relation),
          roles,
          remediation: {
            text:
              `Revoke SELECT from the API roles and serve the data through a view with security_invoker = true or a function that checks the caller, ` +
              `or move the ${spec.noun.toLowerCase()} to a schema the API does not expose.`,
            sql: revokeSelectSql(relation, roles),
          },
          evidence: { rowEstimate: relation.rowEstimate },
        });
      }
      return out;
    },
  });
}

export default noRlsRelationInApi({
  id: 'materialized_view_in_api',
  kind: 'materialized_view',
  noun: 'Materialized view',
  title: 'Materialized view readable through the API',
  description: 'A materialized view in an exposed schema is selectable by anon or authenticated; materialized views have no RLS.',
});
