import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { configFix, configProfiles, num, profileSuffix, settingObject, settingText } from './_auth_config.ts';

const KEY = 'api.max_rows';

export default defineCheck({
  meta: {
    id: 'api_max_rows_high',
    title: 'API responses may be very large',
    level: 'low',
    category: 'performance',
    facing: 'external',
    source: 'config.toml',
    description:
      '`[api] max_rows` in supabase/config.toml is above the default 1,000: one anonymous request can make the database read, serialise and send that many rows.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    for (const profile of configProfiles(ctx)) {
      const rows = num(profile.get(KEY));
      if (profile.get('api.enabled') === false || rows === null || rows <= 1000) continue;
      out.push({
        level: rows >= 100_000 ? 'medium' : 'low',
        message:
          `${settingText(profile, KEY)} is ${rows.toLocaleString('en-US')}${profileSuffix(profile)}: every GET without a range may return that many rows, so a script with the public anon key ` +
          'can keep the database busy reading and serialising whole tables (and run up egress) with a handful of requests.',
        object: settingObject(profile, KEY),
        remediation: { text: configFix(profile, KEY, '1000', ' and page through larger results with .range()') },
        evidence: { setting: profile.keyOf(KEY), value: rows, default: 1000 },
      });
    }
    return out;
  },
});
