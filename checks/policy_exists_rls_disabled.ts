import { defineCheck } from '../src/model/check.ts';
import { qualified } from '../src/model/ident.ts';
import { apiRolesWith, enableRlsSql, policiesOn, relationObject, userTables } from './_shared.ts';

export default defineCheck({
  meta: {
    id: 'policy_exists_rls_disabled',
    title: 'Policies exist but RLS is disabled',
    level: 'high',
    category: 'security',
    facing: 'external',
    splinter: 'policy_exists_rls_disabled',
    description: 'A table has RLS policies, but Row Level Security is not enabled, so none of them is enforced.',
  },
  run(ctx) {
    return userTables(ctx)
      .filter((t) => !t.rlsEnabled)
      .flatMap((table) => {
        const policies = policiesOn(ctx, table);
        if (policies.length === 0) return [];
        const roles = ctx.isExposed(table.schema) ? apiRolesWith(ctx, table, ['SELECT', 'INSERT', 'UPDATE', 'DELETE']) : [];
        const names = policies.map((p) => `"${p.name}"`).join(', ');
        return [
          {
            level: roles.includes('anon') ? 'critical' : 'high',
            message:
              `${qualified(table.schema, table.name)} has ${policies.length} polic${policies.length === 1 ? 'y' : 'ies'} (${names}) ` +
              `but Row Level Security is disabled: the policies are ignored` +
              (roles.length > 0 ? ` and ${roles.join(' and ')} can reach every row.` : '.'),
            object: relationObject(table),
            roles,
            remediation: { text: 'Enable RLS so that the policies take effect.', sql: enableRlsSql(table) },
            evidence: { policies: policies.map((p) => p.name) },
          },
        ];
      });
  },
});
