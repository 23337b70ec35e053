import { defineCheck } from '../src/model/check.ts';
import { isTrueOption } from '../src/model/options.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified } from '../src/model/ident.ts';
import { apiRolesWith, relationKeyword, relationObject, revokeSql, roleList } from './_shared.ts';

export default defineCheck({
  meta: {
    id: 'auth_users_exposed',
    title: 'auth.users exposed through a view',
    level: 'critical',
    category: 'security',
    facing: 'external',
    splinter: 'auth_users_exposed',
    description: 'A view or materialized view in an exposed schema reads auth.users and anon or authenticated may select from it.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    const readsAuthUsers = new Set(
      ctx.snapshot.viewDependencies
        .filter((d) => d.refSchema === 'auth' && d.refName === 'users')
        .map((d) => `${d.schema}\u0000${d.view}`),
    );
    for (const view of ctx.snapshot.relations) {
      if (view.kind !== 'view' && view.kind !== 'materialized_view') continue;
      if (!readsAuthUsers.has(`${view.schema}\u0000${view.name}`) || !ctx.isExposed(view.schema)) continue;
      const roles = apiRolesWith(ctx, view, ['SELECT']);
      if (roles.length === 0) continue;
      const invoker = isTrueOption(view.options['security_invoker']);
      const name = qualified(view.schema, view.name);
      out.push({
        level: invoker && view.kind === 'view' ? 'high' : 'critical',
        message:
          `${relationKeyword(view).toLowerCase()} ${name} reads auth.users and ${roleList(roles)} can select from it through the API` +
          (invoker ? ' (security_invoker is set, so access depends on grants on auth.users).' : ': user emails, phone numbers and metadata of every account may leak.'),
        object: relationObject(view),
        roles,
        remediation: {
          text: 'Do not expose auth.users: revoke API access, or move the view to a schema that is not exposed and keep only the columns the app needs in a table of your own with RLS.',
          sql: revokeSql(view, 'SELECT', roles),
        },
        evidence: { securityInvoker: invoker },
      });
    }
    return out;
  },
});
