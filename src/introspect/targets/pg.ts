import net from 'node:net';
import pg from 'pg';
import { MAX_TIMER_MS, UserError } from '../../model/errors.ts';
import { redact } from '../../model/redact.ts';
import { ConnectionLimitError, isConnectionLimit } from '../errors.ts';
import { CountingSession, type Session, type TransactionSpec } from '../session.ts';
import { parseConnInfo, type ConnInfo } from './conninfo.ts';

export interface PgConnectOptions {
  readonly connectTimeoutMs?: number;
}

/** The parsed connection target (conninfo.ts). */
export type ParsedUrl = ConnInfo;

/** Parses a `postgres://` URL or a keyword/value connection string (see conninfo.ts). */
export function parseDatabaseUrl(url: string): ParsedUrl {
  return parseConnInfo(url);
}

/** Turns a driver error on connect into one line a user can act on. */
export function connectionError(error: unknown, target: ParsedUrl): UserError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as { code?: string; message?: string };
  const where = `${target.host}:${target.port}`;
  const message = redact(String(e.message ?? error).split('\n')[0] ?? '');
  // No password in the URL (nor PGPASSWORD): the driver fails inside SCRAM with a message about its own argument types.
  if (target.password === undefined && (/client password must be a string/i.test(message) || (e.code === '28P01' && !process.env['PGPASSWORD']))) {
    return new UserError(
      'connection',
      `the server at ${where} asks for a password for user "${target.user}", and the URL has none`,
      'put it in the URL after the user name, user:<password>@host (percent-encoded), preferably through SUPABASE_DB_URL in the environment; or set PGPASSWORD',
    );
  }
  if (isConnectionLimit(error)) return new ConnectionLimitError(where, message);
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

/** How long one round trip may stay unanswered before the link counts as dead: the statement's own limit plus a grace period. */
export function roundTripDeadlineMs(statementTimeoutMs: number): number {
  // Never past what a timer holds: a longer delay would fire at once and drop a healthy link.
  return Math.min(MAX_TIMER_MS, statementTimeoutMs + Math.min(10_000, Math.max(2_000, Math.floor(statementTimeoutMs / 2))));
}

/** Sends a protocol-level CancelRequest (what psql's Ctrl-C sends): PgBouncer forwards it to the right server. */
function sendCancelRequest(target: ConnInfo, processId: number, secretKey: number, timeoutMs: number): Promise<void> {
  return new Promise((done) => {
    const socket = target.host.startsWith('/') ? net.connect(`${target.host}/.s.PGSQL.${target.port}`) : net.connect(target.port, target.host);
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      done();
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('error', finish);
    socket.on('close', finish);
    socket.on('connect', () => {
      const packet = Buffer.alloc(16);
      packet.writeInt32BE(16, 0);
      packet.writeInt32BE(80877102, 4);
      packet.writeInt32BE(processId, 8);
      packet.writeInt32BE(secretKey, 12);
      // The server closes the socket once it has read the request.
      socket.end(packet);
    });
  });
}

/**
 * Opens a session on a live database through `pg`. Nothing is set for the session: every
 * transaction sets its own limits (see session.ts), so a transaction-mode pooler on any port hands
 * a clean connection back. A watchdog drops the connection when the server stays silent past the
 * transaction's statement_timeout plus a grace period (a dead network path sends no RST), and the
 * server side ends on its own too: idle_in_transaction_session_timeout, tcp_user_timeout and, from
 * PostgreSQL 14, client_connection_check_interval are set in every transaction.
 */
export async function connectPg(url: string, options: PgConnectOptions = {}): Promise<Session> {
  const target = parseDatabaseUrl(url);
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const client = new pg.Client({
    host: target.host,
    port: target.port,
    user: target.user,
    ...(target.password !== undefined ? { password: target.password } : {}),
    database: target.database,
    ssl: target.ssl,
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: 'supaudit',
  });
  // A dropped connection later surfaces as a failing query; don't crash on the emitter.
  client.on('error', () => undefined);
  const socket = () => (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
  try {
    await client.connect();
  } catch (error) {
    socket()?.destroy();
    await client.end().catch(() => undefined);
    throw connectionError(error, target);
  }
  const where = `${target.host}:${target.port}`;
  let spec: TransactionSpec | null = null;
  let silentFor: number | null = null;
  let closed = false;
  /** Once the link is known dead, every later call fails with the reason (not a bare "closed"). */
  let fatal: UserError | null = null;
  const kill = () => {
    closed = true;
    socket()?.destroy();
  };
  /** The longest the server may take to answer one round trip before the link counts as dead. */
  const deadline = () => roundTripDeadlineMs(spec?.statementTimeoutMs ?? connectTimeoutMs);
  // A connection that drops (server restart, proxy timeout, silent link) is a connection error
  // naming the target, not an internal one; SQL errors pass through for their stage to describe.
  const guard = async <T>(run: () => Promise<T>): Promise<T> => {
    if (fatal) throw fatal;
    if (closed) throw new UserError('connection', `the connection to ${where} is closed`);
    const limit = deadline();
    const timer = setTimeout(() => {
      silentFor = limit;
      kill();
    }, limit);
    try {
      return await run();
    } catch (error) {
      if (silentFor !== null) {
        fatal ??= new UserError(
          'connection',
          `no answer from ${where} for ${Math.round(silentFor / 1000)} s: the connection was dropped`,
          'the network path went silent (firewall, NAT or VPN drop); the server ends the session on its own (idle_in_transaction_session_timeout), so nothing stays locked',
          { cause: error },
        );
        throw fatal;
      }
      const e = error as { code?: string; message?: string };
      if (e.code === undefined && /Connection terminated|connection error|ECONNRESET|socket|not queryable/i.test(String(e.message ?? ''))) {
        throw new UserError('connection', `the server at ${where} closed the connection during the audit`, 'the server restarted or a proxy dropped the session; run the audit again', { cause: error });
      }
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') throw connectionError(error, target);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };
  /** Belt and braces: CountingSession only ever sends statements inside a transaction that `begin` opened. */
  const inTransaction = (sql: string) => {
    if (spec === null) throw new Error(`supaudit sent a statement outside a transaction: ${sql.slice(0, 40)}`);
  };
  const { processID, secretKey } = client as unknown as { processID?: number; secretKey?: number };
  return new CountingSession({
    run: async (sql, params) => {
      inTransaction(sql);
      return (await guard(() => client.query(sql, params as unknown[] | undefined))).rows;
    },
    runMany: async (sql) => {
      if (!/^\s*(BEGIN|ROLLBACK|COMMIT)\b/i.test(sql)) inTransaction(sql);
      await guard(() => client.query(sql));
    },
    close: async () => {
      if (closed) return;
      closed = true;
      const ended = client.end().catch(() => undefined);
      // A silent link never acknowledges the goodbye: don't wait for it.
      await Promise.race([ended, new Promise((r) => setTimeout(r, 1_000).unref())]);
      socket()?.destroy();
    },
    cancel: async () => {
      if (!closed && processID !== undefined && secretKey !== undefined) await sendCancelRequest(target, processID, secretKey, 2_000);
      kill();
    },
    kill,
    localSettings: (s) =>
      [
        // The server gives up sending to a client that stopped acknowledging (a silent link).
        `SET LOCAL tcp_user_timeout = ${roundTripDeadlineMs(s.statementTimeoutMs)}`,
        // From PostgreSQL 14 the server notices a closed client during a long query and stops it.
        `SELECT set_config('client_connection_check_interval', '1000', true) WHERE current_setting('server_version_num')::int >= 140000`,
      ].join('; '),
    onTransaction: (s) => {
      spec = s;
    },
  });
}
