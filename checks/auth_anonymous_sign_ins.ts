import type { CheckContext } from '../src/model/check.ts';
import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import type { ExpressionAnalysis, PolicyAnalysis } from '../src/policy/index.ts';
import { authEnabled, configFix, configProfiles, profileSuffix, settingObject, settingText } from './_auth_config.ts';
import { decidingClause, policyEffectiveRoles, policyLabel, userPolicyAnalyses } from './_policy_checks.ts';

const KEY = 'auth.enable_anonymous_sign_ins';
const IS_ANONYMOUS = /is_anonymous/i;

/**
 * Permissive policies that let any signed-in caller through: for `authenticated` but not for `anon`
 * (which anonymous sign-ins turn into `authenticated`), not tied to the caller's own rows, and not
 * asking `is_anonymous` — themselves or through a restrictive policy on the same table (which also
 * shuts them out by requiring aal2 or the caller's own rows).
 */
export function anyAccountPolicies(ctx: CheckContext): PolicyAnalysis[] {
  return ctx.memo('any-account-policies', () => {
    const all = userPolicyAnalyses(ctx);
    // A restrictive policy shuts anonymous users out when it asks is_anonymous, requires aal2 (they
    // cannot enrol a factor) or ties every row to the caller (a membership they do not have).
    const excludes = (c: ExpressionAnalysis | null) => c !== null && (IS_ANONYMOUS.test(c.text) || /'aal2'/.test(c.text) || c.callerTied);
    const guarded = new Set(
      all
        .filter((a) => !a.policy.permissive && excludes(decidingClause(a)))
        .map((a) => `${a.policy.schema}\u0000${a.policy.table}\u0000${a.policy.command}`),
    );
    return all.filter((a) => {
      if (!a.policy.permissive || !a.relation || !ctx.isExposed(a.policy.schema)) return false;
      const { granted } = policyEffectiveRoles(ctx, a);
      if (!granted.includes('authenticated') || granted.includes('anon')) return false;
      const clause = decidingClause(a);
      if (!clause || clause.parseError !== null || clause.callerTied || IS_ANONYMOUS.test(clause.text)) return false;
      if (a.withCheck && IS_ANONYMOUS.test(a.withCheck.text)) return false;
      const key = (command: string) => `${a.policy.schema}\u0000${a.policy.table}\u0000${command}`;
      return !guarded.has(key(a.policy.command)) && !guarded.has(key('ALL'));
    });
  });
}

export default defineCheck({
  meta: {
    id: 'auth_anonymous_sign_ins',
    title: 'Anonymous sign-ins pass "any signed-in user" policies',
    level: 'high',
    category: 'security',
    facing: 'external',
    source: 'config.toml',
    description:
      '`[auth] enable_anonymous_sign_ins` is on while policies let every `authenticated` caller through without checking `is_anonymous`: any visitor calls signInAnonymously() and gets what those policies meant for registered users.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    for (const profile of configProfiles(ctx)) {
      if (!authEnabled(profile) || profile.get(KEY) !== true) continue;
      const policies = anyAccountPolicies(ctx);
      if (policies.length === 0) continue;
      const writes = policies.filter((a) => a.policy.command !== 'SELECT');
      const named = (writes.length > 0 ? writes : policies).map((a) => `${policyLabel(a.policy)} (${a.policy.command})`);
      const switchOff = configFix(profile, KEY, 'false');
      out.push({
        level: writes.length > 0 ? 'high' : 'medium',
        message:
          `${settingText(profile, KEY)} is true${profileSuffix(profile)}, so anyone can call supabase.auth.signInAnonymously() and become \`authenticated\` without an e-mail address; ` +
          `${named.slice(0, 4).join(', ')}${named.length > 4 ? ` and ${named.length - 4} more` : ''} let every \`authenticated\` caller ${writes.length > 0 ? 'write' : 'read'} without checking is_anonymous ` +
          '— what was meant for registered users is open to any visitor, by script, at the anonymous sign-in rate limit.',
        object: settingObject(profile, KEY),
        remediation: {
          text:
            `Add a restrictive policy to each of these tables: \`CREATE POLICY "registered users only" ON <table> AS RESTRICTIVE TO authenticated USING ((select (auth.jwt() ->> 'is_anonymous')::boolean) IS FALSE)\` ` +
            `(add WITH CHECK for writes), or ${switchOff[0]!.toLowerCase()}${switchOff.slice(1)}`,
        },
        evidence: {
          setting: profile.keyOf(KEY),
          policies: policies.map((a) => ({ schema: a.policy.schema, table: a.policy.table, policy: a.policy.name, command: a.policy.command })),
        },
      });
    }
    return out;
  },
});
