import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { clauses, hasLeadingIndex, shapesOf, policyLabel, policyObject, userPolicyAnalyses } from './_policy_checks.ts';

export default defineCheck({
  meta: {
    id: 'policy_join_slow_shape',
    title: 'Policy shape that defeats the planner',
    level: 'medium',
    category: 'performance',
    facing: 'internal',
    description:
      'A policy ORs a subquery with other conditions (which can stop index use altogether), correlates a subquery on an unindexed column, or calls a SECURITY INVOKER helper that reads an RLS table (so that table\'s RLS runs again for every row).',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    for (const a of userPolicyAnalyses(ctx)) {
      const reasons: string[] = [];
      for (const { analysis } of clauses(a)) {
        if (analysis.parseError !== null) continue;
        if (analysis.orMixesSubquery) reasons.push('an OR mixes a subquery with other conditions, which can keep Postgres from using any index');
        for (const sub of analysis.subqueries) {
          if (!sub.known || (sub.via !== 'exists' && sub.via !== 'in')) continue;
          const unindexed = sub.predicates
            .filter((p) => p.kind === 'join' || p.kind === 'eq_auth_uid')
            .map((p) => p.column)
            .filter((c, i, all) => all.indexOf(c) === i && !hasLeadingIndex(ctx, sub.schema, sub.name, c, shapesOf(ctx, a)));
          if (unindexed.length > 0) reasons.push(`the ${sub.via === 'exists' ? 'EXISTS' : 'IN'} subquery on ${sub.schema}.${sub.name} filters on unindexed ${unindexed.join(', ')}, so it scans that table for every row`);
        }
        for (const fn of analysis.functionCalls) {
          if (fn.securityDefiner === false && fn.readsRlsTables.length > 0 && fn.perRow) {
            reasons.push(`${fn.schema ?? ''}${fn.schema ? '.' : ''}${fn.name}() is SECURITY INVOKER and reads ${fn.readsRlsTables.join(', ')}, whose RLS is then evaluated for every row`);
          }
        }
      }
      const unique = [...new Set(reasons)];
      if (unique.length === 0) continue;
      out.push({
        message: `${policyLabel(a.policy)}: ${unique.join('; ')}.`,
        object: policyObject(a.policy),
        roles: a.policy.roles,
        remediation: {
          text:
            'Rewrite the membership test as `col in (select … where user_id = (select auth.uid()))` without OR, index the subquery\'s filter columns, ' +
            'and make helpers SECURITY DEFINER with a fixed search_path in a schema the API does not expose, called as `(select helper())`.',
        },
        evidence: { reasons: unique, using: a.using?.text ?? null, withCheck: a.withCheck?.text ?? null },
      });
    }
    return out;
  },
});
