import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { authEnabled, configProfiles, hostOf, profileSuffix, settingObject, shownUrl } from './_auth_config.ts';

const KEY = 'auth.additional_redirect_urls';

/** Hosting suffixes where anyone can get a subdomain: a wildcard under them admits strangers' sites. */
const SHARED_SUFFIXES = [
  'vercel.app', 'netlify.app', 'netlify.com', 'github.io', 'pages.dev', 'workers.dev', 'herokuapp.com', 'onrender.com', 'fly.dev',
  'web.app', 'firebaseapp.com', 'azurewebsites.net', 'azurestaticapps.net', 'cloudfront.net', 'amplifyapp.com', 'railway.app',
  'up.railway.app', 'ngrok.io', 'ngrok-free.app', 'ngrok.app', 'glitch.me', 'replit.app', 'repl.co', 'surge.sh', 'deno.dev',
  'supabase.co', 'appspot.com', 'gitlab.io', 'trycloudflare.com', 'loca.lt', 'expo.dev',
];

/** How far a redirect pattern's host wildcard reaches: `any` host, a `shared` hosting suffix, or `own` subdomains. */
function reach(host: string): { kind: 'any' | 'shared' | 'pinned' | 'own'; suffix: string } | null {
  if (!/[*?[]/.test(host)) return null;
  const labels = host.split('.');
  // The part after the last label with a wildcard is what the pattern pins down.
  let last = -1;
  labels.forEach((l, i) => {
    if (/[*?[]/.test(l)) last = i;
  });
  const suffix = labels.slice(last + 1).join('.');
  if (labels.slice(last + 1).length < 2 || host.includes('**')) return { kind: 'any', suffix };
  // `myapp-*-myteam.vercel.app` pins part of the label: narrower, still open to a look-alike project name.
  if (SHARED_SUFFIXES.includes(suffix)) return { kind: labels[last] === '*' ? 'shared' : 'pinned', suffix };
  return { kind: 'own', suffix };
}

export default defineCheck({
  meta: {
    id: 'auth_redirect_url_wildcard',
    title: 'Redirect URL wildcard reaches other sites',
    level: 'high',
    category: 'security',
    facing: 'external',
    source: 'config.toml',
    description:
      'A `[auth] additional_redirect_urls` pattern whose host wildcard matches sites others can own (`https://*.vercel.app/**`, `https://**`): Auth sends magic-link and OAuth tokens to any matching URL an attacker puts in a link.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    for (const profile of configProfiles(ctx)) {
      if (!authEnabled(profile)) continue;
      const urls = profile.get(KEY);
      if (!Array.isArray(urls)) continue;
      for (const raw of urls) {
        if (typeof raw !== 'string') continue;
        const host = hostOf(raw);
        const r = host ? reach(host) : null;
        if (!r) continue;
        const url = shownUrl(raw);
        out.push({
          level: r.kind === 'own' ? 'low' : r.kind === 'pinned' ? 'medium' : 'high',
          detail: url,
          message:
            r.kind === 'pinned'
              ? `The redirect pattern "${url}"${profileSuffix(profile)} admits any site on ${r.suffix} whose name fits the pattern, and anyone can deploy there under a chosen name: a look-alike project receives users' sign-in tokens.`
              : r.kind === 'own'
              ? `The redirect pattern "${url}"${profileSuffix(profile)} admits every subdomain of ${r.suffix}: a forgotten or taken-over subdomain (a dangling CNAME) receives users' sign-in tokens.`
              : `The redirect pattern "${url}"${profileSuffix(profile)} admits ${r.kind === 'any' ? 'almost any host' : `every site on ${r.suffix}, where anyone can deploy one`}: an attacker sends a victim a sign-in link with redirect_to pointing at their own site and receives the victim's access and refresh tokens — account takeover.`,
          object: settingObject(profile, KEY),
          remediation: {
            text:
              `In ${profile.file}, replace "${url}" in \`additional_redirect_urls\` with the exact URLs you deploy to (preview deployments: exact URLs on a domain you control); ship it with \`supabase config push\` ` +
              '(or Authentication → URL Configuration in the dashboard).',
          },
          evidence: { setting: profile.keyOf(KEY), url, host, reach: r.kind, suffix: r.suffix },
        });
      }
    }
    return out;
  },
});
