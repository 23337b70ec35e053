import { RE2JS } from 're2js';
import { guardedSnapshot, InconclusiveError, type CheckContext, type CheckOptions } from '../model/check.ts';
import { PrivilegeModel } from '../model/privileges.ts';
import { isSystemSchema } from '../model/schemas.ts';
import type { Relation, Snapshot } from '../model/snapshot.ts';

/**
 * Column names that hold secrets or personal data. Each is a case-insensitive regular expression
 * matched against whole words of the name (snake_case or camelCase), so `otp` matches `otp_code`
 * but not `footprint`.
 */
export const DEFAULT_SENSITIVE_PATTERNS: readonly string[] = [
  'passw(or)?d',
  '^pass$',
  'pwd',
  'secret',
  'token',
  'api_?key',
  'private_?key',
  'access_?key',
  'salt',
  'otp',
  'mfa',
  'totp',
  'ssn',
  'social_?security',
  'tax_?id',
  'national_?id',
  'passport',
  'driver_?licen[cs]e',
  'credit_?card',
  'card_?number',
  'cc_?num',
  'cvv',
  'cvc',
  'iban',
  'bank_?account',
  'account_?number',
  'routing_?number',
  'swift',
  'phone',
  'mobile',
  'e_?mail',
  'dob',
  'date_?of_?birth',
  'birth_?date',
  'birthday',
  'address',
  'zip_?code',
  'postal_?code',
  'ip_?addr',
  'salary',
  'medical',
  'diagnosis',
];

export const DEFAULT_CHECK_OPTIONS: CheckOptions = {
  sensitiveColumnPatterns: DEFAULT_SENSITIVE_PATTERNS,
  realtimeSubscribers: 100,
};

export function createContext(snapshot: Snapshot, options: CheckOptions = DEFAULT_CHECK_OPTIONS): CheckContext {
  const exposed = new Set(snapshot.exposedSchemas);
  const relations = new Map<string, Relation>();
  for (const r of snapshot.relations) relations.set(`${r.schema}\u0000${r.name}`, r);
  const memo = new Map<string, unknown>();
  const guarded = guardedSnapshot(snapshot);
  let privileges: PrivilegeModel | undefined;
  return {
    snapshot: guarded,
    // Built on first use: building it reads roles, which may be unavailable (then only the checks that use it are inconclusive).
    get privileges() {
      return (privileges ??= new PrivilegeModel(guarded));
    },
    options,
    isExposed: (schema) => exposed.has(schema),
    isUserObject: (schema, extension) => extension === null && !isSystemSchema(schema),
    relation: (schema, name) => {
      if (snapshot.unavailable?.relations !== undefined) throw new InconclusiveError('relations', snapshot.unavailable.relations);
      return relations.get(`${schema}\u0000${name}`);
    },
    memo<T>(key: string, compute: () => T): T {
      if (!memo.has(key)) memo.set(key, compute());
      return memo.get(key) as T;
    },
  };
}

/**
 * A user-supplied pattern (config `sensitiveColumns`) compiled for RE2: matching takes linear time
 * whatever the pattern, so `(a+)+b` cannot hang an audit. Backreferences and lookaround, which RE2
 * does not have, are refused when the config is read.
 */
export function compileUserPattern(source: string): (text: string) => boolean {
  const re = RE2JS.compile(`(?:^|_)(?:${source})(?:_|$)`, RE2JS.CASE_INSENSITIVE);
  return (text) => re.matcher(text).find();
}

/**
 * Words that may follow a sensitive word in a column name and still name the same value, in
 * another form or a part of it: `password_hash`, `phone_number`, `otp_code`, `ssn_last4`,
 * `medical_notes`, `address_line1`. Any other word turns the name into something about the value
 * (`token_expires_at`, `email_verified`, `mfa_enabled`, `api_key_id`, `drought_salt_tolerance`),
 * which holds no secret and no personal data.
 */
const VALUE_FORMS = new Set([
  'hash', 'hashed', 'digest', 'encrypted', 'enc', 'crypt', 'cipher', 'ciphertext', 'iv', 'plain', 'plaintext', 'raw',
  'value', 'val', 'text', 'json', 'data', 'info', 'details', 'detail', 'notes', 'note', 'history', 'record', 'records',
  'number', 'num', 'no', 'nr', 'code', 'e164', 'last', 'last4', 'first', 'hint', 'secret', 'key',
  'line', 'street', 'city', 'full',
]);

/** Whether the words after a sensitive word (none, or forms of its value) keep the name sensitive. */
function valueTail(words: readonly string[]): boolean {
  return words.every((w) => VALUE_FORMS.has(w) || /^\d+$/.test(w) || /^line\d+$/.test(w));
}

/**
 * Compiled sensitive-column matcher; null when the name is not sensitive, else the pattern that
 * matched. A pattern matches a run of whole words of the name (snake_case or camelCase) that is the
 * name's last, or is followed only by words naming a form of the same value (VALUE_FORMS). A
 * pattern with its own anchors (`^pass$`) is matched against the whole name as written.
 */
export function sensitiveMatcher(patterns: readonly string[]): (column: string) => string | null {
  const compiled = patterns.map((p) => {
    if (/[\^$]/.test(p)) {
      const test = compileUserPattern(p);
      return { p, test: (words: readonly string[]) => test(words.join('_')) };
    }
    const whole = RE2JS.compile(`^(?:${p})$`, RE2JS.CASE_INSENSITIVE);
    return {
      p,
      test: (words: readonly string[]) => {
        for (let i = 0; i < words.length; i++) {
          for (let j = i + 1; j <= words.length; j++) {
            if (whole.matcher(words.slice(i, j).join('_')).matches() && valueTail(words.slice(j))) return true;
          }
        }
        return false;
      },
    };
  });
  const cache = new Map<string, string | null>();
  return (column) => {
    const cached = cache.get(column);
    if (cached !== undefined) return cached;
    const words = column
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .replace(/[^A-Za-z0-9]+/g, '_')
      .toLowerCase()
      .split('_')
      .filter((w) => w !== '');
    const found = compiled.find(({ test }) => test(words))?.p ?? null;
    cache.set(column, found);
    return found;
  };
}
