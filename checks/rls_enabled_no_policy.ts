import { defineCheck } from '../src/model/check.ts';
import { qualified } from '../src/model/ident.ts';
import { apiRolesWith, policiesOn, relationObject, userTables } from './_shared.ts';

export default defineCheck({
  meta: {
    id: 'rls_enabled_no_policy',
    title: 'RLS enabled without any policy',
    level: 'info',
    category: 'security',
    facing: 'external',
    splinter: 'rls_enabled_no_policy',
    description: 'Row Level Security is on but no policy exists, so every non-owner, non-BYPASSRLS role is denied every row.',
  },
  run(ctx) {
    return userTables(ctx)
      .filter((t) => t.rlsEnabled && !policiesOn(ctx, t).some((p) => p.permissive))
      .flatMap((table) => {
        // Without API grants the deny-all is explicit (a server-only table): nothing to report.
        const roles = ctx.isExposed(table.schema) ? apiRolesWith(ctx, table, ['SELECT', 'INSERT', 'UPDATE', 'DELETE']) : [];
        if (roles.length === 0) return [];
        const restrictiveOnly = policiesOn(ctx, table).length > 0;
        return [{
          message:
            `${qualified(table.schema, table.name)} has RLS enabled and ${restrictiveOnly ? 'only restrictive policies (they can only narrow, never grant)' : 'no policy'}: ` +
            `${roles.join(' and ')} see no rows and cannot write. Fine if intended (server-only table); otherwise add policies.`,
          object: relationObject(table),
          roles,
          remediation: {
            text: 'If the table is server-only, revoke the API grants to make that explicit; otherwise add the policies the app needs.',
            sql: `REVOKE ALL ON ${qualified(table.schema, table.name)} FROM ${roles.join(', ')};`,
          },
        }];
      });
  },
});
