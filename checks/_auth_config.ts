/**
 * Shared by the config.toml checks: the project's settings per profile (the file itself and each
 * `[remotes.<name>]` override, as `supabase config push` would apply them), the Supabase CLI's
 * defaults for keys the file leaves out, and the finding object of a setting.
 */
import type { CheckContext } from '../src/model/check.ts';
import type { FindingDraft, FindingObject } from '../src/model/finding.ts';
import { redact } from '../src/model/redact.ts';

/**
 * What `supabase init` writes (pkg/config/templates/config.toml) and what the CLI uses for a key the
 * file omits. The config checks are silent on every one of these values.
 */
export const CONFIG_DEFAULTS: Readonly<Record<string, unknown>> = {
  'api.enabled': true,
  'api.max_rows': 1000,
  'auth.enabled': true,
  'auth.site_url': 'http://127.0.0.1:3000',
  'auth.additional_redirect_urls': ['https://127.0.0.1:3000'],
  'auth.jwt_expiry': 3600,
  'auth.enable_signup': true,
  'auth.enable_anonymous_sign_ins': false,
  'auth.minimum_password_length': 6,
  'auth.password_requirements': '',
  'auth.email.enable_signup': true,
  'auth.email.double_confirm_changes': true,
  'auth.email.enable_confirmations': false,
  'auth.email.secure_password_change': false,
  'auth.email.otp_expiry': 3600,
  'auth.mfa.totp.enroll_enabled': false,
  'auth.mfa.totp.verify_enabled': false,
  'auth.mfa.phone.enroll_enabled': false,
  'auth.mfa.phone.verify_enabled': false,
  'auth.mfa.web_authn.enroll_enabled': false,
  'auth.mfa.web_authn.verify_enabled': false,
};

/** One set of settings: the file's, or a remote's (its overrides on top of the file's). */
export interface ConfigProfile {
  /** null for the file itself, else the `[remotes.<name>]` name. */
  readonly remote: string | null;
  /** The file holding the settings (`supabase/config.toml`). */
  readonly file: string;
  get(key: string): unknown;
  /** The dotted key a finding about `key` points at: the remote's own when it sets it. */
  keyOf(key: string): string;
  /** The file (or the remote) sets the key explicitly. */
  sets(key: string): boolean;
}

function lookup(values: unknown, key: string): unknown {
  let at: unknown = values;
  for (const part of key.split('.')) {
    if (at === null || typeof at !== 'object' || Array.isArray(at)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** The profiles of the project's config.toml (the file, then each remote); none without a config file. */
export function configProfiles(ctx: CheckContext): readonly ConfigProfile[] {
  const config = ctx.snapshot.projectConfig;
  if (!config) return [];
  return ctx.memo('config-profiles', () => {
    const base = config.values;
    const profile = (remote: string | null): ConfigProfile => {
      const own = remote === null ? undefined : lookup(base, `remotes.${remote}`);
      const ownValue = (key: string) => (own === undefined ? undefined : lookup(own, key));
      return {
        remote,
        file: config.file,
        get: (key) => ownValue(key) ?? lookup(base, key) ?? CONFIG_DEFAULTS[key],
        keyOf: (key) => (ownValue(key) !== undefined ? `remotes.${remote}.${key}` : key),
        sets: (key) => ownValue(key) !== undefined || lookup(base, key) !== undefined,
      };
    };
    const remotes = lookup(base, 'remotes');
    const names = remotes && typeof remotes === 'object' && !Array.isArray(remotes) ? Object.keys(remotes) : [];
    return [profile(null), ...names.map(profile)];
  });
}

export function settingObject(profile: ConfigProfile, key: string): FindingObject {
  return { schema: profile.file, name: profile.keyOf(key), type: 'setting' };
}

/** `[auth] site_url = …` with the profile named when it is a remote's. */
export function settingText(profile: ConfigProfile, key: string): string {
  const parts = profile.keyOf(key).split('.');
  const name = parts.pop()!;
  return `\`[${parts.join('.')}] ${name}\``;
}

/** "" for the file, " (remote production)" for a remote's settings. */
export function profileSuffix(profile: ConfigProfile): string {
  return profile.remote === null ? '' : ` (remote "${profile.remote}")`;
}

/** The fix line: where to change it and how to ship it. */
export function configFix(profile: ConfigProfile, key: string, value: string, extra = ''): string {
  const parts = profile.keyOf(key).split('.');
  const name = parts.pop()!;
  return (
    `In ${profile.file}, under [${parts.join('.')}], set \`${name} = ${value}\`${extra}; ship it with \`supabase config push\` ` +
    '(or the same setting in the dashboard: Authentication → Settings).'
  );
}

export function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** `env(NAME)`: the value comes from the environment at `config push` time. */
export function fromEnv(value: unknown): boolean {
  return typeof value === 'string' && /^env\(\s*\w+\s*\)$/.test(value.trim());
}

/**
 * Hosts that only a developer's machine or network reaches: loopback, private IPv4 ranges, and the
 * names reserved for local use (`.localhost`, `.local` mDNS, `.test`, `.internal`, `.lan`,
 * `.home.arpa`, `.example`, `.invalid`).
 */
const LOOPBACK =
  /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|0\.0\.0\.0|10(?:\.\d{1,3}){3}|192\.168(?:\.\d{1,3}){2}|172\.(?:1[6-9]|2\d|3[01])(?:\.\d{1,3}){2}|[\w.-]+\.(?:localhost|local|test|internal|lan|home\.arpa|example|invalid))$/i;

/** Host of a URL or URL pattern (`https://*.example.com/**` → `*.example.com`), lower case, without port. */
export function hostOf(url: string): string | null {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?(\[[^\]]*\]|[^/:?#]*)/i.exec(url.trim());
  return m ? m[1]!.toLowerCase() : null;
}

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.test(host);
}

/**
 * The settings are meant for a deployed site: `site_url` is a non-loopback address, or comes from
 * the environment. A config whose site is localhost is the local development stack (Inbucket
 * catches the e-mails), where e-mail confirmation, MFA and password rules do not matter.
 */
export function deployed(profile: ConfigProfile): { readonly url: string } | null {
  const site = profile.get('auth.site_url');
  if (typeof site !== 'string' || site.trim() === '') return null;
  if (fromEnv(site)) return { url: site.trim() };
  const host = hostOf(site);
  return host && !isLoopbackHost(host) ? { url: shownUrl(site.trim()) } : null;
}

/**
 * A URL of config.toml as a finding shows it (message, fix, evidence, fingerprint detail): its
 * password and key-like parameters (`?access_token=…`, `#token=…`) masked. Masked here, not only
 * when a report is written: the fingerprint reaches baselines and the review too.
 */
export function shownUrl(url: string): string {
  return redact(url);
}

export function authEnabled(profile: ConfigProfile): boolean {
  return profile.get('auth.enabled') !== false;
}

export function durationText(seconds: number): string {
  const unit = (n: number, name: string) => `${+n.toFixed(1)} ${name}${+n.toFixed(1) === 1 ? '' : 's'}`;
  if (seconds >= 86_400 && seconds % 3600 === 0) return unit(seconds / 86_400, 'day');
  if (seconds >= 3600) return unit(seconds / 3600, 'hour');
  if (seconds >= 60) return unit(seconds / 60, 'minute');
  return unit(seconds, 'second');
}

/**
 * A lifetime setting above Supabase's hour (`jwt_expiry`, `otp_expiry`): low, medium from a day. `risk`
 * says what a stolen token or link does for that long.
 */
export function lifetimeFindings(ctx: CheckContext, key: string, risk: string, fixExtra = ''): FindingDraft[] {
  const out: FindingDraft[] = [];
  for (const profile of configProfiles(ctx)) {
    const seconds = num(profile.get(key));
    if (!authEnabled(profile) || seconds === null || seconds <= 3600) continue;
    out.push({
      level: seconds >= 86_400 ? 'medium' : 'low',
      message: `${settingText(profile, key)} is ${seconds} (${durationText(seconds)})${profileSuffix(profile)}: ${risk}`,
      object: settingObject(profile, key),
      remediation: { text: configFix(profile, key, '3600', fixExtra) },
      evidence: { setting: profile.keyOf(key), value: seconds, default: 3600 },
    });
  }
  return out;
}
