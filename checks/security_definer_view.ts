import { defineCheck } from '../src/model/check.ts';
import { isTrueOption } from '../src/model/options.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified } from '../src/model/ident.ts';
import { apiRolesWith, relationObject, roleList } from './_shared.ts';

export default defineCheck({
  meta: {
    id: 'security_definer_view',
    title: 'View runs with its owner\'s rights',
    level: 'high',
    category: 'security',
    facing: 'external',
    splinter: 'security_definer_view',
    labClaim: 'read',
    description:
      'A view in an exposed schema without security_invoker = true runs with its owner\'s privileges and bypasses the RLS of the tables it reads.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    for (const view of ctx.snapshot.relations) {
      if (view.kind !== 'view' || !ctx.isExposed(view.schema) || !ctx.isUserObject(view.schema, view.extension)) continue;
      if (isTrueOption(view.options['security_invoker'])) continue;
      const roles = apiRolesWith(ctx, view, ['SELECT']);
      if (roles.length === 0) continue;
      const rlsTables = ctx.snapshot.viewDependencies
        .filter((d) => d.schema === view.schema && d.view === view.name)
        .map((d) => ctx.relation(d.refSchema, d.refName))
        .filter((r) => r !== undefined && r.rlsEnabled && ctx.privileges.bypassesRls(r, view.owner))
        .map((r) => qualified(r!.schema, r!.name));
      const name = qualified(view.schema, view.name);
      out.push({
        level: rlsTables.length > 0 && roles.includes('anon') ? 'critical' : 'high',
        message:
          `View ${name} runs as its owner ${view.owner}, so ${roleList(roles)} read through it with the owner's rights` +
          (rlsTables.length > 0 ? `, bypassing the RLS of ${rlsTables.join(', ')}.` : '.'),
        object: relationObject(view),
        roles,
        remediation: {
          text: 'Make the view run with the caller\'s rights (PostgreSQL 15+), so the RLS of the underlying tables applies.',
          sql: `ALTER VIEW ${name} SET (security_invoker = true);`,
        },
        evidence: { owner: view.owner, bypassedRls: rlsTables },
      });
    }
    return out;
  },
});
