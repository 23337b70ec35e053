import { defineCheck, type Check, type CheckContext } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified } from '../src/model/ident.ts';
import { apiRolesWith, relationObject } from './_shared.ts';
import { revokeSelectSql } from './materialized_view_in_api.ts';

const KIND_NOUN = { table: 'table', partitioned_table: 'table', view: 'view', materialized_view: 'materialized view', foreign_table: 'foreign table' } as const;

/**
 * Relations `role` can SELECT in any schema it has USAGE on, when pg_graphql is installed: its
 * introspection reflects every such relation (names, columns, relationships), whether or not the
 * schema is exposed to /rest/v1. The /graphql/v1 endpoint itself is PostgREST calling
 * graphql_public.graphql(), so it is off when the exposed schemas are known and leave graphql_public out.
 */
export function graphqlExposure<Id extends string>(id: Id, role: 'anon' | 'authenticated', description: string): Check<Id> {
  const who = role === 'anon' ? 'anyone with the public anon key' : 'every signed-in user';
  return defineCheck({
    meta: {
      id,
      title: `pg_graphql shows a relation to ${role}`,
      level: 'low',
      category: 'security',
      facing: 'external',
      splinter: id,
      description,
    },
    run(ctx: CheckContext) {
      if (!ctx.snapshot.extensions.some((e) => e.name === 'pg_graphql')) return [];
      if (ctx.snapshot.exposedSchemasSource !== 'default' && !ctx.isExposed('graphql_public')) return [];
      const out: FindingDraft[] = [];
      for (const relation of ctx.snapshot.relations) {
        // pg_graphql's own rule: it reflects the partitions (ordinary tables) and not the partitioned root.
        if (relation.kind === 'partitioned_table' || !ctx.isUserObject(relation.schema, relation.extension)) continue;
        if (!apiRolesWith(ctx, relation, ['SELECT']).includes(role)) continue;
        const noun = KIND_NOUN[relation.kind];
        out.push({
          message:
            `pg_graphql is installed and ${role} can select from ${noun} ${qualified(relation.schema, relation.name)}: it is visible in the GraphQL schema ` +
            `at /graphql/v1 to ${who} (name, columns, types and relationships)${relation.rlsEnabled ? ', even though RLS limits its rows' : ''}.`,
          object: relationObject(relation),
          roles: [role],
          remediation: {
            text:
              `If ${role} should not see this ${noun}, revoke SELECT (this also closes it in /rest/v1); if it should, this is expected: suppress the finding with a reason. ` +
              'If the project does not use GraphQL at all, DROP EXTENSION pg_graphql removes the whole surface.',
            sql: revokeSelectSql(relation, [role]),
          },
          evidence: { rlsEnabled: relation.rlsEnabled, exposedSchema: ctx.isExposed(relation.schema) },
        });
      }
      return out;
    },
  });
}

export default graphqlExposure(
  'pg_graphql_anon_table_exposed',
  'anon',
  'With pg_graphql installed, a table, view or materialized view that anon can select is visible in GraphQL introspection to anyone with the anon key.',
);
