import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { alterPolicySql, rewritePerRowCalls } from '../src/policy/index.ts';
import { clauses, policyLabel, policyObject, userPolicyAnalyses } from './_policy_checks.ts';

export default defineCheck({
  meta: {
    id: 'auth_rls_initplan',
    title: 'Policy re-evaluates auth functions for every row',
    level: 'medium',
    category: 'performance',
    facing: 'internal',
    splinter: 'auth_rls_initplan',
    description:
      'A policy calls auth.uid(), auth.jwt(), auth.role(), auth.email(), current_setting() or a STABLE helper per row, at any depth, where a (select …) wrapper would evaluate it once per query.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    for (const a of userPolicyAnalyses(ctx)) {
      // Policies of a table with RLS off are never evaluated: they cost nothing (the finding there is RLS being off).
      if (a.relation && !a.relation.rlsEnabled) continue;
      const calls = clauses(a).flatMap(({ clause, analysis }) =>
        analysis.authCalls.filter((c) => c.perRow && c.wrappable).map((c) => ({ clause, text: c.text, location: c.location, length: c.length, kind: c.kind })),
      );
      if (calls.length === 0) continue;
      const options = { snapshot: ctx.snapshot, schema: a.policy.schema, table: a.policy.table };
      const using = a.using ? rewritePerRowCalls(a.using.text, options) : null;
      const withCheck = a.withCheck ? rewritePerRowCalls(a.withCheck.text, options) : null;
      const changes = {
        ...(using?.status === 'rewritten' ? { using: using.text } : {}),
        ...(withCheck?.status === 'rewritten' ? { withCheck: withCheck.text } : {}),
      };
      const failed = using?.status === 'failed' || withCheck?.status === 'failed';
      const names = [...new Set(calls.map((c) => c.text))];
      out.push({
        message:
          `${policyLabel(a.policy)} calls ${names.join(', ')} once per row${calls.some((c) => c.clause === 'withCheck') ? ' (USING/WITH CHECK)' : ''}; ` +
          `wrapped as (select …) Postgres evaluates ${names.length > 1 ? 'them' : 'it'} once per query (Supabase measured 179 ms → 9 ms on 100k rows).`,
        object: policyObject(a.policy),
        roles: a.policy.roles,
        remediation:
          Object.keys(changes).length > 0 && !failed
            ? { text: 'Wrap each call in a scalar sub-select so it becomes an initplan.', sql: alterPolicySql(a.policy, changes) }
            : { text: 'Wrap each call in a scalar sub-select, e.g. `(select auth.uid()) = user_id`, so it becomes an initplan.' },
        evidence: { calls, using: a.using?.text ?? null, withCheck: a.withCheck?.text ?? null },
      });
    }
    return out;
  },
});
