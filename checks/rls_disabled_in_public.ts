import { defineCheck } from '../src/model/check.ts';
import { qualified } from '../src/model/ident.ts';
import { apiRolesWith, enableRlsSql, relationObject, roleList, rowsText, userTables } from './_shared.ts';

export default defineCheck({
  meta: {
    id: 'rls_disabled_in_public',
    title: 'RLS disabled on a table the API exposes',
    level: 'critical',
    category: 'security',
    facing: 'external',
    splinter: 'rls_disabled_in_public',
    description: 'A table in an exposed schema has Row Level Security off while anon or authenticated hold privileges on it.',
  },
  run(ctx) {
    return userTables(ctx)
      .filter((t) => ctx.isExposed(t.schema) && !t.rlsEnabled)
      .flatMap((table) => {
        const roles = apiRolesWith(ctx, table, ['SELECT', 'INSERT', 'UPDATE', 'DELETE']);
        if (roles.length === 0) return [];
        const writers = apiRolesWith(ctx, table, ['INSERT', 'UPDATE', 'DELETE']);
        const name = qualified(table.schema, table.name);
        return [
          {
            level: roles.includes('anon') ? 'critical' : 'high',
            message:
              `${name} has Row Level Security disabled, so ${roleList(roles)} can ` +
              `${writers.length > 0 ? 'read and change' : 'read'} every row (${rowsText(table)}) through the API.`,
            object: relationObject(table),
            roles,
            remediation: {
              text: 'Enable RLS and add policies for the access you intend; with RLS on and no policy, the API sees nothing.',
              sql: enableRlsSql(table),
            },
            evidence: { rowEstimate: table.rowEstimate, writableBy: writers },
          },
        ];
      });
  },
});
