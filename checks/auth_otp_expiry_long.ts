import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { authEnabled, configFix, configProfiles, durationText, num, profileSuffix, settingObject, settingText } from './_auth_config.ts';

const KEY = 'auth.email.otp_expiry';

export default defineCheck({
  meta: {
    id: 'auth_otp_expiry_long',
    title: 'E-mail links and codes stay valid long',
    level: 'low',
    category: 'security',
    facing: 'external',
    source: 'config.toml',
    description:
      '`[auth.email] otp_expiry` in supabase/config.toml is above the default hour: magic links, sign-up confirmations and recovery codes work for longer in an inbox someone else can read.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    for (const profile of configProfiles(ctx)) {
      const seconds = num(profile.get(KEY));
      if (!authEnabled(profile) || seconds === null || seconds <= 3600) continue;
      out.push({
        level: seconds >= 86_400 ? 'medium' : 'low',
        message:
          `${settingText(profile, KEY)} is ${seconds} (${durationText(seconds)})${profileSuffix(profile)}: a magic link, recovery link or OTP found in a forwarded mail, ` +
          'a mail archive or a shared mailbox signs its reader in as the user for that long.',
        object: settingObject(profile, KEY),
        remediation: { text: configFix(profile, KEY, '3600') },
        evidence: { setting: profile.keyOf(KEY), value: seconds, default: 3600 },
      });
    }
    return out;
  },
});
