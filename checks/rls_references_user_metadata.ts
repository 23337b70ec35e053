import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { clauses, policyLabel, policyObject, userPolicyAnalyses } from './_policy_checks.ts';

export default defineCheck({
  meta: {
    id: 'rls_references_user_metadata',
    title: 'Policy trusts user-editable metadata',
    level: 'high',
    category: 'security',
    facing: 'external',
    splinter: 'rls_references_user_metadata',
    description:
      'A policy reads user_metadata (raw_user_meta_data), which every signed-in user can change for themselves, in any form: ->, ->>, #>, #>>, jsonb_extract_path, from auth.jwt(), the request.jwt.claims setting or auth.users.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    for (const a of userPolicyAnalyses(ctx)) {
      const reading = clauses(a).filter(({ analysis }) => analysis.readsUserMetadata);
      if (reading.length === 0) continue;
      out.push({
        message:
          `${policyLabel(a.policy)} decides access from user_metadata, which any user can set with supabase.auth.updateUser(): ` +
          `a user can grant themselves whatever it checks.`,
        object: policyObject(a.policy),
        roles: a.policy.roles,
        remediation: {
          text: 'Read authorization data from app_metadata (only the service role can change it) or from a table the user cannot write, e.g. `(auth.jwt() -> \'app_metadata\' ->> \'role\') = \'admin\'`.',
        },
        evidence: {
          clauses: reading.map(({ clause, analysis }) => ({ clause, text: analysis.text, locations: analysis.userMetadataLocations })),
        },
      });
    }
    return out;
  },
});
