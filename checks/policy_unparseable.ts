import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { clauses, policyLabel, policyObject, userPolicyAnalyses } from './_policy_checks.ts';

export default defineCheck({
  meta: {
    id: 'policy_unparseable',
    title: 'Policy expression could not be analysed',
    level: 'low',
    category: 'security',
    facing: 'internal',
    description:
      'The Postgres parser could not parse a policy expression as supaudit read it, so the parsed-policy checks skip that policy; it is reported instead of being silently ignored.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    for (const a of userPolicyAnalyses(ctx)) {
      for (const { clause, analysis } of clauses(a)) {
        if (analysis.parseError === null) continue;
        out.push({
          message: `could not parse the ${clause === 'using' ? 'USING' : 'WITH CHECK'} expression of ${policyLabel(a.policy)}: ${analysis.parseError}; policy analysis skipped for it.`,
          object: policyObject(a.policy),
          roles: a.policy.roles,
          detail: clause,
          remediation: { text: 'Review this policy by hand; please report the expression so the analyser can learn it.' },
          evidence: { text: analysis.text, position: analysis.parseErrorPosition },
        });
      }
    }
    return out;
  },
});
