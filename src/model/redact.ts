/**
 * Secrets never reach output. Redaction works on structure, never on the value: a connection
 * string's password is dropped where it is parsed (introspect/targets/conninfo.ts) and never
 * echoed, and text that may carry secrets (reports, error lines) has its URL passwords, JWTs,
 * Supabase and Stripe keys and key-like query parameters masked by their shape. No value is searched for and
 * replaced as a substring: a short password like "postgres" or "admin" would otherwise rewrite
 * unrelated text (a URL scheme, a table name) and make fingerprints depend on the password.
 */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@\s]*)@/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g;
/**
 * A query or fragment parameter whose name says it holds a credential (`token`, `access_token`,
 * `apikey`, `client_secret`, `password`, …; the names redactUrl masks), after `?`, `&`, `#` or the
 * `;` of an HTML-escaped `&amp;`. The value ends where the URL would in any report format: at the
 * next parameter, whitespace, or a quote, bracket or backslash of the JSON, HTML, Markdown or SQL
 * around it, and not on the punctuation of the sentence it stands in (so the masking never eats the
 * closing quote of a JSON string or the colon after the URL, and masking twice changes nothing).
 */
const KEY_PARAM = /([?&#;][a-z0-9_.-]*(?:pass|key|token|secret)[a-z0-9_.-]*=)[^&#\s"'<>`|()\\]*[^&#\s"'<>`|()\\.,:;!?]/gi;
const SUPABASE_KEY = /\bsb_(?:secret|publishable)_[A-Za-z0-9_-]{8,}/g;
/** Stripe secret and restricted keys (`sk_live_…`, `rk_test_…`), the other key shape hardcoded_secret reports. */
const STRIPE_KEY = /\b([sr]k_(?:live|test)_)[A-Za-z0-9]{10,}/g;

export function redact(text: string): string {
  // Cheap pre-test: most report text holds none of these shapes.
  if (!text.includes('://') && !text.includes('eyJ') && !text.includes('sb_') && !text.includes('=') && !text.includes('k_live_') && !text.includes('k_test_')) return text;
  return text
    .replace(URL_PASSWORD, '$1***@')
    .replace(JWT, 'eyJ***')
    .replace(KEY_PARAM, '$1***')
    .replace(SUPABASE_KEY, 'sb_***')
    .replace(STRIPE_KEY, '$1***');
}

/** A URL for display: password and key-like parameters masked, everything else kept; unparseable input is not shown. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    for (const key of [...parsed.searchParams.keys()]) {
      if (/pass|key|token|secret/i.test(key)) parsed.searchParams.set(key, '***');
    }
    return redact(parsed.toString());
  } catch {
    return '(a URL that does not parse; not shown)';
  }
}
