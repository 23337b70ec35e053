import { defineCheck } from '../src/model/check.ts';
import type { CheckContext } from '../src/model/check.ts';
import { qualified } from '../src/model/ident.ts';
import type { Policy } from '../src/model/snapshot.ts';
import { alterPolicySql, rewritePerRowCalls } from '../src/policy/index.ts';
import { policyCost, type RealtimeTableLoad } from '../src/score/realtime.ts';
import { policiesOn, relationObject } from './_shared.ts';
import { loadEvidence, loadInputs, userRealtimeTables } from './_realtime.ts';

export default defineCheck({
  meta: {
    id: 'realtime_rls_cost',
    title: 'Costly RLS policy on a Realtime table',
    level: 'medium',
    category: 'performance',
    facing: 'external',
    description:
      'A table in the supabase_realtime publication has a SELECT policy that calls a function per row or reads other tables, and Realtime runs it for every change once per subscriber.',
  },
  run(ctx) {
    return userRealtimeTables(ctx).flatMap(({ load, relation }) => {
      if (!load.rlsEnabled || load.cost === null || load.cost === 'cheap') return [];
      const costly = load.policies.filter((p) => p.cost !== 'cheap');
      const name = qualified(relation.schema, relation.name);
      const fix = load.cost === 'per_row_function' ? wrapSql(ctx, policiesOn(ctx, relation), costly.map((p) => p.name)) : null;
      return [
        {
          message:
            `Realtime evaluates the SELECT policies of ${name} for every published change once per subscriber${checksText(load)}, and ` +
            `${costly.map((p) => `"${p.name}" ${p.reason}`).join('; ')}.`,
          object: relationObject(relation),
          remediation: {
            text:
              load.cost === 'subquery_join'
                ? 'Keep policies on published tables to column comparisons: compare a column of the row with (select auth.uid()) or a JWT claim ' +
                  '(put memberships into the token with a custom access token hook), or move high-fan-out updates to Broadcast with private channels, ' +
                  'whose authorization runs once per channel join instead of once per message.'
                : 'Wrap auth.uid() / auth.jwt() and other row-independent calls in (select …) so they are evaluated once per check, ' +
                  'and compare columns of the row with the result.',
            ...(fix !== null ? { sql: fix } : {}),
          },
          evidence: { ...loadEvidence(load), cost: load.cost, costlyPolicies: costly.map((p) => p.name), reasons: costly.map((p) => p.reason) },
        },
      ];
    });
  },
});

function checksText(load: RealtimeTableLoad): string {
  if (load.authorizationChecksPerSecond === null) return '';
  return ` (${loadInputs(load)} ≈ ${Math.round(load.authorizationChecksPerSecond).toLocaleString('en-US')} checks/s)`;
}

/**
 * ALTER POLICY statements that wrap the per-row calls of each costly policy's USING, when every one
 * of them can be rewritten and the result is cheap; otherwise null (the fix needs a human).
 */
function wrapSql(ctx: CheckContext, policies: readonly Policy[], names: readonly string[]): string | null {
  const statements: string[] = [];
  for (const policy of policies.filter((p) => names.includes(p.name))) {
    if (policy.using === null) return null;
    const rewrite = rewritePerRowCalls(policy.using, { snapshot: ctx.snapshot, schema: policy.schema, table: policy.table });
    if (rewrite.status !== 'rewritten') return null;
    if (policyCost({ ...policy, using: rewrite.text }, ctx.snapshot).cost !== 'cheap') return null;
    statements.push(alterPolicySql(policy, { using: rewrite.text }));
  }
  return statements.length > 0 ? statements.join('\n') : null;
}
