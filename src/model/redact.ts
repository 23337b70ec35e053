/**
 * Secrets never reach output: connection-string passwords, API keys and JWTs are masked in
 * every message, report and log line.
 */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@\s]*)@/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g;
const KEY_PARAM = /([?&](?:password|apikey|api_key|key|token|sslpassword)=)[^&\s]+/gi;
const SUPABASE_KEY = /\bsb_(?:secret|publishable)_[A-Za-z0-9_-]{8,}/g;

const registered = new Set<string>();

/** Remember a secret value (password, key) so that it is masked wherever it appears later. */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 4) registered.add(value);
}

export function redact(text: string): string {
  let out = text
    .replace(URL_PASSWORD, '$1***@')
    .replace(JWT, 'eyJ***')
    .replace(KEY_PARAM, '$1***')
    .replace(SUPABASE_KEY, 'sb_***');
  for (const secret of registered) {
    if (out.includes(secret)) out = out.split(secret).join('***');
  }
  return out;
}

/** A connection URL for display: password masked, everything else kept. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    for (const key of [...parsed.searchParams.keys()]) {
      if (/pass|key|token|secret/i.test(key)) parsed.searchParams.set(key, '***');
    }
    return redact(parsed.toString());
  } catch {
    return redact(url);
  }
}
