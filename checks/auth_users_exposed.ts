import { defineCheck } from '../src/model/check.ts';
import { isTrueOption } from '../src/model/options.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified } from '../src/model/ident.ts';
import type { CheckContext } from '../src/model/check.ts';
import { PUBLIC_ROLE, type Relation } from '../src/model/snapshot.ts';
import { apiRolesWith, policiesOn, relationKeyword, relationObject, revokeSql, roleList } from './_shared.ts';

/**
 * What the role reads through a `security_invoker` view over auth.users: the view runs with the
 * caller's rights, so USAGE on auth, SELECT on auth.users and its RLS decide. `rows`: every account
 * (RLS off, or bypassed), `some` (a permissive SELECT policy applies to the role), `none` (RLS on and
 * no policy for the role), `denied` (no grant today: RLS off, so one GRANT would open every account).
 */
function invokerReach(ctx: CheckContext, users: Relation, role: string): 'rows' | 'some' | 'none' | 'denied' {
  const granted = ctx.privileges.hasSchemaUsage('auth', role) && ctx.privileges.hasOnRelation(users, role, 'SELECT');
  if (!users.rlsEnabled || ctx.privileges.bypassesRls(users, role)) return granted ? 'rows' : 'denied';
  const holders = ctx.privileges.privilegeHolders(role);
  const opens = policiesOn(ctx, users).some(
    (p) => p.permissive && (p.command === 'SELECT' || p.command === 'ALL') && p.roles.some((r) => r === PUBLIC_ROLE || holders.has(r)),
  );
  return opens && granted ? 'some' : 'none';
}

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
      const invoker = isTrueOption(view.options['security_invoker']) && view.kind === 'view';
      const name = qualified(view.schema, view.name);
      let level: 'critical' | 'high' | 'medium' | 'low' = 'critical';
      let tail = ': user emails, phone numbers and metadata of every account may leak.';
      if (invoker) {
        const users = ctx.relation('auth', 'users');
        const reach = users ? roles.map((role) => invokerReach(ctx, users, role)) : ['denied' as const];
        if (reach.every((r) => r === 'none')) continue; // RLS on auth.users with no policy for these roles: nothing to read
        if (reach.includes('rows')) {
          level = 'high';
          tail = ' with security_invoker set, and they can read auth.users themselves (SELECT granted, RLS off): every account leaks.';
        } else if (reach.includes('some')) {
          level = 'medium';
          tail = ' with security_invoker set; they read the auth.users rows its RLS policies allow.';
        } else {
          level = 'low';
          tail = ' with security_invoker set: they hold no SELECT on auth.users today, but RLS is off on it, so one GRANT would expose every account.';
        }
      }
      out.push({
        level,
        message: `${relationKeyword(view).toLowerCase()} ${name} reads auth.users and ${roleList(roles)} can select from it through the API` + tail,
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
