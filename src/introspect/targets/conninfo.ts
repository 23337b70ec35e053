/**
 * Connection strings, both forms libpq takes: `postgres://user:password@host:port/db?sslmode=…` and
 * keyword/value `host=… port=… user=… password=… dbname=… sslmode=…`. The input is parsed into parts
 * and every display of it is built from those parts with the password left out, so a password can
 * never be echoed, whatever characters it holds and whether or not the string parses.
 */
import type { ConnectionOptions } from 'node:tls';
import { readSmallFile } from '../../config/load.ts';
import { UserError } from '../../model/errors.ts';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '']);
const USAGE_HINT =
  'expected postgres://user:password@host:5432/database?sslmode=require (percent-encode @ : / ? # % and spaces in the password) or host=… port=… user=… dbname=…';

export interface ConnInfo {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Never displayed; only handed to the driver. */
  readonly password: string | undefined;
  readonly database: string;
  readonly ssl: false | ConnectionOptions;
  /** `user@host:port/database`, with `:***` where a password was given: safe to print. */
  readonly display: string;
}

/** The keywords libpq takes; another one is a typo (or a password that lost its quotes). */
const KEYWORDS = new Set(
  (
    'host hostaddr port dbname user password passfile connect_timeout client_encoding options application_name ' +
    'fallback_application_name keepalives keepalives_idle keepalives_interval keepalives_count tcp_user_timeout ' +
    'sslmode sslrootcert sslcert sslkey sslpassword sslcrl sslcrldir sslsni sslcompression requiressl ssl_min_protocol_version ' +
    'ssl_max_protocol_version gssencmode krbsrvname gsslib channel_binding require_auth target_session_attrs load_balance_hosts service replication'
  ).split(' '),
);

/** libpq keyword/value: `key = value` pairs, values optionally single-quoted with `\'` and `\\` escapes. */
function parseKeywordValue(input: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const n = input.length;
  const space = (c: string | undefined) => c !== undefined && /\s/.test(c);
  while (i < n) {
    while (space(input[i])) i++;
    if (i >= n) break;
    let key = '';
    while (i < n && input[i] !== '=' && !space(input[i])) key += input[i++];
    while (space(input[i])) i++;
    if (input[i] !== '=' || key === '') throw new UserError('usage', 'not a valid connection string: expected keyword=value pairs (not shown: it may hold a password)', USAGE_HINT);
    i++;
    while (space(input[i])) i++;
    let value = '';
    if (input[i] === "'") {
      i++;
      let closed = false;
      while (i < n) {
        const c = input[i++]!;
        if (c === '\\' && i < n) value += input[i++];
        else if (c === "'") {
          closed = true;
          break;
        } else value += c;
      }
      if (!closed) throw new UserError('usage', `not a valid connection string: the quoted value of ${KEYWORDS.has(key.toLowerCase()) ? key.toLowerCase() : 'a keyword'} is not closed`, USAGE_HINT);
    } else {
      while (i < n && !space(input[i])) {
        const c = input[i++]!;
        if (c === '\\' && i < n) value += input[i++];
        else value += c;
      }
    }
    // The key is not shown: an unquoted password with "=" in it would be split into one.
    if (!KEYWORDS.has(key.toLowerCase())) throw new UserError('usage', 'not a valid connection string: it has an unknown keyword (not shown: it may hold a password)', USAGE_HINT);
    out.set(key.toLowerCase(), value);
  }
  return out;
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    // The part itself is never shown: it may be (or contain) the password.
    throw new UserError('usage', `not a valid database URL: the ${what} has a malformed %-escape`, USAGE_HINT);
  }
}

/** The parts of a `postgres://` URL, or null when the input is not URL-shaped. */
function parseUrlForm(input: string): Map<string, string> | null {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(input);
  if (!scheme) return null;
  const protocol = scheme[1]!.toLowerCase();
  if (protocol !== 'postgres' && protocol !== 'postgresql') {
    throw new UserError('usage', `not a Postgres URL (scheme ${protocol}:)`, USAGE_HINT);
  }
  let parsed: URL;
  try {
    parsed = new URL(input);
  } catch {
    throw new UserError('usage', 'not a valid database URL (it is not shown: it may hold a password)', USAGE_HINT);
  }
  const out = new Map<string, string>();
  if (parsed.username) out.set('user', decode(parsed.username, 'user name'));
  if (parsed.password) out.set('password', decode(parsed.password, 'password'));
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (host) out.set('host', decode(host, 'host'));
  if (parsed.port) out.set('port', parsed.port);
  const db = parsed.pathname.replace(/^\//, '');
  if (db) out.set('dbname', decode(db, 'database name'));
  for (const [key, value] of parsed.searchParams) out.set(key.toLowerCase(), value);
  return out;
}

function readCert(path: string, what: string): string {
  try {
    return readSmallFile(path, `"${path}"`, what, 1024 * 1024);
  } catch (error) {
    throw new UserError('usage', (error as Error).message, 'give the path of a PEM file, or drop the parameter');
  }
}

/**
 * Parses either form. TLS follows libpq's `sslmode` (require = encrypted, unverified;
 * verify-ca/verify-full = verified); without it, non-local hosts get TLS (Supabase requires it).
 */
export function parseConnInfo(input: string): ConnInfo {
  const trimmed = input.trim();
  if (trimmed === '') throw new UserError('usage', 'the database URL is empty', USAGE_HINT);
  const parts = parseUrlForm(trimmed) ?? (trimmed.includes('=') ? parseKeywordValue(trimmed) : null);
  if (!parts) throw new UserError('usage', 'not a database URL or connection string (it is not shown: it may hold a password)', USAGE_HINT);
  const host = parts.get('host') ?? parts.get('hostaddr') ?? 'localhost';
  const portText = parts.get('port') ?? '5432';
  const port = Number(portText);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new UserError('usage', `not a valid port "${portText.slice(0, 20)}"`, USAGE_HINT);
  const user = parts.get('user') ?? 'postgres';
  const password = parts.get('password');
  const database = parts.get('dbname') ?? user;
  const sslmode = parts.get('sslmode') ?? null;
  const local = LOCAL_HOSTS.has(host) || host.startsWith('/');
  let ssl: false | ConnectionOptions;
  switch (sslmode) {
    case 'disable':
      ssl = false;
      break;
    case 'allow':
    case 'prefer':
    case null:
      ssl = local ? false : { rejectUnauthorized: false };
      break;
    case 'require':
      ssl = { rejectUnauthorized: false };
      break;
    case 'verify-ca':
    case 'verify-full': {
      const rootCert = parts.get('sslrootcert');
      ssl = {
        rejectUnauthorized: true,
        ...(rootCert ? { ca: readCert(rootCert, 'sslrootcert') } : {}),
        ...(sslmode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
      };
      break;
    }
    default:
      throw new UserError('usage', `unknown sslmode "${sslmode.slice(0, 20)}"`, 'use disable, require, verify-ca or verify-full');
  }
  const hostShown = host.includes(':') && !host.startsWith('/') ? `[${host}]` : host;
  return {
    host,
    port,
    user,
    password,
    database,
    ssl,
    display: `postgres://${encodeURIComponent(user)}${password !== undefined ? ':***' : ''}@${hostShown}:${port}/${encodeURIComponent(database)}`,
  };
}
