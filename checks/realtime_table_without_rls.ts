import { defineCheck } from '../src/model/check.ts';
import { qualified } from '../src/model/ident.ts';
import { REALTIME_PUBLICATION } from '../src/score/realtime.ts';
import { apiRolesWith, enableRlsSql, relationObject, roleList } from './_shared.ts';
import { loadEvidence, loadInputs, userRealtimeTables } from './_realtime.ts';

export default defineCheck({
  meta: {
    id: 'realtime_table_without_rls',
    title: 'Realtime publishes a table without RLS',
    level: 'high',
    category: 'security',
    facing: 'external',
    description:
      'A table in the supabase_realtime publication has Row Level Security off, so every subscriber receives every change to every row.',
  },
  run(ctx) {
    return userRealtimeTables(ctx).flatMap(({ load, relation }) => {
      if (relation.rlsEnabled) return [];
      // Realtime checks SELECT as the subscriber's role: without it nobody receives anything.
      const roles = apiRolesWith(ctx, relation, ['SELECT']);
      if (roles.length === 0) return [];
      const name = qualified(relation.schema, relation.name);
      return [
        {
          message:
            `${name} is in the ${REALTIME_PUBLICATION} publication with Row Level Security disabled: any ${roleList(roles)} client ` +
            `that subscribes receives every published change to every row (${loadInputs(load)}), whether or not it may read that row.`,
          object: relationObject(relation),
          roles,
          remediation: {
            text:
              'Enable RLS and add SELECT policies for the rows each subscriber may see (Realtime then checks every change against them), ' +
              `or remove the table from the publication: ALTER PUBLICATION ${REALTIME_PUBLICATION} DROP TABLE ${name};`,
            sql: enableRlsSql(relation),
          },
          evidence: loadEvidence(load),
        },
      ];
    });
  },
});
