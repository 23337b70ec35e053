import pg from 'pg';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { UserError } from '../../model/errors.ts';
import { redact, redactUrl, registerSecret } from '../../model/redact.ts';
import { CountingSession, type Session } from '../session.ts';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '']);

export interface PgConnectOptions {
  readonly connectTimeoutMs?: number;
  readonly statementTimeoutMs?: number;
}

interface ParsedUrl {
  readonly connectionString: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly ssl: false | ConnectionOptions;
  readonly sslExplicit: boolean;
  readonly pooled: boolean;
}

/**
 * Parses a `postgres://` URL. TLS follows libpq's `sslmode` (require = encrypted, unverified;
 * verify-ca/verify-full = verified); without it, non-local hosts get TLS (Supabase requires it).
 */
export function parseDatabaseUrl(url: string): ParsedUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError('usage', `not a valid database URL: ${redactUrl(url)}`, 'expected a URL like postgres://user@host:5432/database?sslmode=require');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new UserError('usage', `not a Postgres URL (scheme ${parsed.protocol}): ${redactUrl(url)}`, 'expected a URL like postgres://user@host:5432/database?sslmode=require');
  }
  registerSecret(decodeURIComponent(parsed.password));
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const sslmode = parsed.searchParams.get('sslmode');
  const rootCert = parsed.searchParams.get('sslrootcert');
  for (const key of ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'uselibpqcompat', 'pgbouncer']) parsed.searchParams.delete(key);
  const local = LOCAL_HOSTS.has(host) || host.startsWith('/');
  let ssl: false | ConnectionOptions;
  switch (sslmode) {
    case 'disable':
      ssl = false;
      break;
    case 'allow':
    case 'prefer':
      ssl = local ? false : { rejectUnauthorized: false };
      break;
    case 'require':
      ssl = { rejectUnauthorized: false };
      break;
    case 'verify-ca':
    case 'verify-full':
      ssl = { rejectUnauthorized: true, ...(rootCert ? { ca: readFileSync(rootCert, 'utf8') } : {}) };
      break;
    case null:
      ssl = local ? false : { rejectUnauthorized: false };
      break;
    default:
      throw new UserError('usage', `unknown sslmode "${sslmode}"`, 'use disable, require, verify-ca or verify-full');
  }
  const port = parsed.port ? Number(parsed.port) : 5432;
  return {
    connectionString: parsed.toString(),
    host,
    port,
    user: decodeURIComponent(parsed.username || 'postgres'),
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '') || parsed.username || 'postgres'),
    ssl,
    sslExplicit: sslmode !== null,
    // Supavisor/PgBouncer transaction mode: session-level SET would leak to other clients.
    pooled: port === 6543 || /(^|\.)pooler\.supabase\.com$/i.test(host) || url.includes('pgbouncer=true'),
  };
}

/** Turns a driver error on connect into one line a user can act on. */
export function connectionError(error: unknown, target: ParsedUrl): UserError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as { code?: string; message?: string };
  const where = `${target.host}:${target.port}`;
  const message = redact(String(e.message ?? error).split('\n')[0] ?? '');
  switch (e.code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UserError('connection', `could not resolve host "${target.host}"`, 'check the host name in the URL');
    case 'ECONNREFUSED':
      return new UserError('connection', `connection refused at ${where}`, 'is the server running and listening on that port?');
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new UserError('connection', `could not reach ${where} (${e.code})`, 'check the host, port and network/firewall');
    case 'ECONNRESET':
      return new UserError('connection', `the server at ${where} closed the connection`, target.ssl ? 'if the server does not use TLS, add ?sslmode=disable' : 'if the server requires TLS, add ?sslmode=require');
    case '28P01':
      return new UserError('connection', `password authentication failed for user "${target.user}"`, 'check the password; prefer passing the URL in SUPABASE_DB_URL rather than on the command line');
    case '28000':
      if (/no pg_hba\.conf entry/i.test(message) && /no encryption/i.test(message)) {
        return new UserError('connection', `the server at ${where} requires TLS`, 'add ?sslmode=require to the URL');
      }
      return new UserError('connection', `the server rejected user "${target.user}": ${message}`, 'check the user name and the server\'s pg_hba.conf');
    case '3D000':
      return new UserError('connection', `database "${target.database}" does not exist on ${where}`, 'check the database name at the end of the URL');
    case '53300':
      return new UserError('connection', `too many connections on ${where}`, 'use the pooler URL or retry later');
    case '57P03':
      return new UserError('connection', `the server at ${where} is starting up or shutting down`, 'retry in a moment');
  }
  if (/does not support SSL/i.test(message)) {
    return new UserError('connection', `the server at ${where} does not support TLS`, 'add ?sslmode=disable to the URL for a local server');
  }
  if (/self[- ]signed|certificate|unable to verify/i.test(message)) {
    return new UserError('connection', `TLS certificate check failed for ${where}: ${message}`, 'use ?sslmode=require (encrypt without verifying) or give the CA with sslrootcert=<file>');
  }
  if (/no pg_hba\.conf entry/i.test(message) && /no encryption/i.test(message)) {
    return new UserError('connection', `the server at ${where} requires TLS`, 'add ?sslmode=require to the URL');
  }
  if (/timeout/i.test(message)) {
    return new UserError('connection', `timed out connecting to ${where}`, 'check the host, port and network/firewall');
  }
  if (/Connection terminated/i.test(message)) {
    return new UserError('connection', `the server at ${where} closed the connection during start-up`, target.ssl ? 'if the server does not use TLS, add ?sslmode=disable' : 'if the server requires TLS, add ?sslmode=require');
  }
  return new UserError('connection', `could not connect to ${where}: ${message}`);
}

/** Opens a read-only session on a live database through `pg`. */
export async function connectPg(url: string, options: PgConnectOptions = {}): Promise<Session> {
  const target = parseDatabaseUrl(url);
  const client = new pg.Client({
    connectionString: target.connectionString,
    ssl: target.ssl,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    application_name: 'supaudit',
  });
  // A dropped connection later surfaces as a failing query; don't crash on the emitter.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => undefined);
    throw connectionError(error, target);
  }
  // A connection that drops after start-up (server restart, proxy timeout) is a connection error
  // naming the target, not an internal one; SQL errors pass through for their stage to describe.
  const guard = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      const e = error as { code?: string; message?: string };
      if (e.code === undefined && /Connection terminated|connection error|ECONNRESET|socket/i.test(String(e.message ?? ''))) {
        throw new UserError('connection', `the server at ${target.host}:${target.port} closed the connection during the audit`, 'the server restarted or a proxy dropped the session; run the audit again', { cause: error });
      }
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') throw connectionError(error, target);
      throw error;
    }
  };
  if (!target.pooled) {
    // Belt and braces: even a statement outside our explicit READ ONLY transactions cannot write.
    await guard(() => client.query('SET default_transaction_read_only = on')).catch(async (error: unknown) => {
      await client.end().catch(() => undefined);
      throw error;
    });
  }
  const processId = (client as unknown as { processID?: number }).processID;
  return new CountingSession(
    async (sql, params) => (await guard(() => client.query(sql, params as unknown[] | undefined))).rows,
    async (sql) => {
      await guard(() => client.query(sql));
    },
    async () => {
      await client.end().catch(() => undefined);
    },
    async () => {
      if (processId === undefined) return;
      // Cancel through a second short-lived connection, as psql's Ctrl-C does.
      const canceller = new pg.Client({ connectionString: target.connectionString, ssl: target.ssl, connectionTimeoutMillis: 5_000 });
      canceller.on('error', () => undefined);
      try {
        await canceller.connect();
        await canceller.query('select pg_cancel_backend($1)', [processId]);
      } finally {
        await canceller.end().catch(() => undefined);
      }
    },
  );
}
