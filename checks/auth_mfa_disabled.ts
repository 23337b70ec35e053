import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { authEnabled, configFix, configProfiles, deployed, profileSuffix, settingObject } from './_auth_config.ts';
import { clauses, policyLabel, userPolicyAnalyses } from './_policy_checks.ts';

const FACTORS = ['totp', 'phone', 'web_authn'] as const;
/** A policy that reads the session's assurance level (`auth.jwt() ->> 'aal'`). */
const READS_AAL = /'aal'|'aal2'/i;

export default defineCheck({
  meta: {
    id: 'auth_mfa_disabled',
    title: 'No multi-factor authentication',
    level: 'info',
    category: 'security',
    facing: 'external',
    source: 'config.toml',
    description:
      'supabase/config.toml of a deployed site (site_url not localhost) enables no MFA factor ([auth.mfa.totp], [auth.mfa.phone], [auth.mfa.web_authn] verify_enabled); medium when policies require aal2, which no session can then reach.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    for (const profile of configProfiles(ctx)) {
      if (!authEnabled(profile)) continue;
      if (FACTORS.some((f) => profile.get(`auth.mfa.${f}.verify_enabled`) === true)) continue;
      const aal = userPolicyAnalyses(ctx)
        .filter((a) => clauses(a).some(({ analysis }) => READS_AAL.test(analysis.text)))
        .map((a) => policyLabel(a.policy));
      // The local stack (site_url on localhost, as `supabase init` writes it) is not judged.
      const site = deployed(profile);
      if (!site) continue;
      const key = 'auth.mfa.totp.verify_enabled';
      out.push({
        level: aal.length > 0 ? 'medium' : 'info',
        message:
          aal.length > 0
            ? `${aal.slice(0, 3).join(', ')}${aal.length > 3 ? ` and ${aal.length - 3} more` : ''} ${aal.length === 1 ? 'checks' : 'check'} the session's assurance level (aal), but no MFA factor can be verified${profileSuffix(profile)} for the site at ${site.url}: no session ever reaches aal2, so what they guard is closed to everyone (or the check is not doing what was meant).`
            : `No MFA factor is enabled${profileSuffix(profile)} for the site at ${site.url}: every account, admins included, is one password (or one phished magic link) away from being taken over.`,
        object: settingObject(profile, key),
        remediation: { text: configFix(profile, key, 'true', ' (and `enroll_enabled = true`), then require `aal2` for sensitive rows or admin roles') },
        evidence: { factors: Object.fromEntries(FACTORS.map((f) => [f, profile.get(`auth.mfa.${f}.verify_enabled`) === true])), aalPolicies: aal },
      });
    }
    return out;
  },
});
