import type { CheckContext } from '../src/model/check.ts';
import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { authEnabled, configFix, configProfiles, deployed, profileSuffix, settingObject, settingText } from './_auth_config.ts';
import { clauses, policyEffectiveRoles, policyLabel, userPolicyAnalyses } from './_policy_checks.ts';

/** Reads the caller's e-mail address: auth.email(), the JWT's email claim, or auth.users.email. */
const READS_EMAIL = /\bauth\s*\.\s*email\s*\(|->>?\s*'email'|#>>?\s*'\{email\}'|\bemail\b[^;]*\bfrom\s+auth\s*\.\s*users\b/i;

/** Policies signed-in users pass through that decide by the caller's e-mail address. */
function emailTrustingPolicies(ctx: CheckContext): string[] {
  return ctx.memo('email-trusting-policies', () =>
    userPolicyAnalyses(ctx)
      .filter((a) => policyEffectiveRoles(ctx, a).granted.includes('authenticated'))
      .filter((a) => clauses(a).some(({ analysis }) => READS_EMAIL.test(analysis.text)))
      .map((a) => policyLabel(a.policy)),
  );
}

export default defineCheck({
  meta: {
    id: 'auth_email_unconfirmed',
    title: 'E-mail addresses are not verified',
    level: 'medium',
    category: 'security',
    facing: 'external',
    source: 'config.toml',
    description:
      'supabase/config.toml lets a user sign up, or change their address, without proving they own the new e-mail address (enable_confirmations, double_confirm_changes), or change the password of a stolen session without signing in again (secure_password_change); high when policies grant access by e-mail address.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    for (const profile of configProfiles(ctx)) {
      if (!authEnabled(profile)) continue;
      const site = deployed(profile);
      const trusting = emailTrustingPolicies(ctx);
      const trustText =
        trusting.length > 0
          ? ` ${trusting.slice(0, 3).join(', ')}${trusting.length > 3 ? ` and ${trusting.length - 3} more` : ''} grant${trusting.length === 1 ? 's' : ''} access by the caller's e-mail address, so whoever claims someone's address gets what that person was invited to or entitled to.`
          : '';
      const signup = profile.get('auth.enable_signup') !== false && profile.get('auth.email.enable_signup') !== false;
      // The default (off) is the local stack's: it matters once the config is for a deployed site.
      if (signup && site && profile.get('auth.email.enable_confirmations') === false) {
        const key = 'auth.email.enable_confirmations';
        out.push({
          level: trusting.length > 0 ? 'high' : 'medium',
          detail: key,
          message:
            `${settingText(profile, key)} is false${profileSuffix(profile)} for the site at ${site.url}: anyone can sign up with someone else's e-mail address and is signed in at once, with that address in their token.` +
            trustText,
          object: settingObject(profile, key),
          remediation: { text: configFix(profile, key, 'true', ' (and configure SMTP under [auth.email.smtp] so the mails go out)') },
          evidence: { setting: profile.keyOf(key), value: false, siteUrl: site.url, emailPolicies: trusting },
        });
      }
      // double_confirm_changes is on by default: turning it off is a choice worth flagging anywhere.
      if (profile.get('auth.email.double_confirm_changes') === false) {
        const key = 'auth.email.double_confirm_changes';
        out.push({
          level: trusting.length > 0 ? 'high' : 'medium',
          detail: key,
          message:
            `${settingText(profile, key)} is false${profileSuffix(profile)}: a stolen session can move the account to the attacker's address after confirming only the new one, locking the owner out of password recovery.` +
            trustText,
          object: settingObject(profile, key),
          remediation: { text: configFix(profile, key, 'true') },
          evidence: { setting: profile.keyOf(key), value: false, emailPolicies: trusting },
        });
      }
      if (site && profile.get('auth.email.secure_password_change') === false) {
        const key = 'auth.email.secure_password_change';
        out.push({
          level: 'low',
          detail: key,
          message:
            `${settingText(profile, key)} is false${profileSuffix(profile)} for the site at ${site.url}: whoever holds a session (a shared computer, a stolen token) can set a new password without the current one or a recent sign-in, and keeps the account.`,
          object: settingObject(profile, key),
          remediation: { text: configFix(profile, key, 'true') },
          evidence: { setting: profile.keyOf(key), value: false, siteUrl: site.url },
        });
      }
    }
    return out;
  },
});
