import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { authEnabled, configFix, configProfiles, deployed, num, profileSuffix, settingObject, settingText } from './_auth_config.ts';

const LENGTH = 'auth.minimum_password_length';
const RULES = 'auth.password_requirements';

export default defineCheck({
  meta: {
    id: 'auth_password_policy_weak',
    title: 'Weak password rules on a deployed site',
    level: 'low',
    category: 'security',
    facing: 'external',
    source: 'config.toml',
    description:
      'The config.toml of a deployed site (site_url not localhost) accepts passwords shorter than 8 characters with no character rules, so accounts fall to guessing and credential stuffing.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    for (const profile of configProfiles(ctx)) {
      const site = deployed(profile);
      if (!site || !authEnabled(profile) || profile.get('auth.enable_signup') === false || profile.get('auth.email.enable_signup') === false) continue;
      // Auth never accepts fewer than 6 characters, whatever the file says.
      const length = Math.max(6, num(profile.get(LENGTH)) ?? 6);
      const rules = profile.get(RULES);
      if (length >= 8 || (typeof rules === 'string' && rules.trim() !== '')) continue;
      out.push({
        message:
          `The site at ${site.url}${profileSuffix(profile)} lets users sign up with ${length}-character passwords and no character rules (${settingText(profile, LENGTH)} = ${length}, ${settingText(profile, RULES)} empty): ` +
          'short passwords fall to online guessing and to lists of leaked passwords.',
        object: settingObject(profile, LENGTH),
        remediation: { text: configFix(profile, LENGTH, '8', ` and \`password_requirements = "lower_upper_letters_digits"\`; on a paid plan also turn on leaked-password protection`) },
        evidence: { setting: profile.keyOf(LENGTH), value: length, requirements: rules ?? '', siteUrl: site.url },
      });
    }
    return out;
  },
});
