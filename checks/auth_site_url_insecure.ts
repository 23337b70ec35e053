import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { authEnabled, configProfiles, hostOf, isLoopbackHost, profileSuffix, settingObject, settingText, shownUrl } from './_auth_config.ts';

const SITE = 'auth.site_url';
const REDIRECTS = 'auth.additional_redirect_urls';

export default defineCheck({
  meta: {
    id: 'auth_site_url_insecure',
    title: 'Sign-in links go over plain HTTP',
    level: 'medium',
    category: 'security',
    facing: 'external',
    source: 'config.toml',
    description:
      '`[auth] site_url` or an `additional_redirect_urls` entry is an http:// address that is not localhost: magic links, e-mail confirmations and OAuth redirects carry tokens to it in clear text.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    for (const profile of configProfiles(ctx)) {
      if (!authEnabled(profile)) continue;
      const site = profile.get(SITE);
      const redirects = profile.get(REDIRECTS);
      const urls: { key: string; url: string }[] = [
        ...(typeof site === 'string' ? [{ key: SITE, url: site }] : []),
        ...(Array.isArray(redirects) ? redirects.filter((u): u is string => typeof u === 'string').map((url) => ({ key: REDIRECTS, url })) : []),
      ];
      for (const { key, url: raw } of urls) {
        const host = hostOf(raw);
        if (!/^http:\/\//i.test(raw.trim()) || !host || isLoopbackHost(host)) continue;
        const url = shownUrl(raw);
        out.push({
          level: key === SITE ? 'medium' : 'low',
          detail: url,
          message:
            `${settingText(profile, key)} ${key === SITE ? 'is' : 'includes'} "${url}"${profileSuffix(profile)}: Auth sends users there with their access and refresh tokens in the URL, ` +
            'readable and replaceable by anyone on the network path (public Wi-Fi, a proxy).',
          object: settingObject(profile, key),
          remediation: {
            text: `In ${profile.file}, use "${url.trim().replace(/^http:/i, 'https:')}" in ${settingText(profile, key)} (serve the site over HTTPS); ship it with \`supabase config push\` (or Authentication → URL Configuration).`,
          },
          evidence: { setting: profile.keyOf(key), url, host },
        });
      }
    }
    return out;
  },
});
