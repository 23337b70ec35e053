/**
 * A database session as introspection sees it: parameterised single statements and
 * multi-statement `exec`. Two drivers implement it: `pg` (live databases) and PGlite (embedded).
 *
 * Every statement supaudit sends runs inside a transaction opened with `begin`, which carries its
 * own limits as `SET LOCAL` settings: nothing is ever set for the session, so nothing can outlive the
 * transaction on a pooled server connection (PgBouncer, Supavisor), whatever port or flag is used.
 */
import { UserError } from '../model/errors.ts';

/** Thrown between round trips once the user pressed Ctrl-C (or the process got SIGTERM). */
export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new UserError('cancelled', 'cancelled: the running query was stopped and the connection closed');
}

export interface TransactionSpec {
  readonly access: 'read only' | 'read write';
  readonly isolation?: 'repeatable read';
  readonly statementTimeoutMs: number;
  readonly lockTimeoutMs: number;
  /** `SET LOCAL search_path` (introspection prints names qualified against pg_catalog only). */
  readonly searchPath?: string;
}

export interface Session {
  /** One statement, optional `$n` parameters, rows as plain objects. Counts as one round trip. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements, no parameters, no results. Counts as one round trip. */
  exec(sql: string): Promise<void>;
  /** Opens a transaction with its timeouts (one round trip). End it with `exec('ROLLBACK')`. */
  begin(spec: TransactionSpec): Promise<void>;
  /** Round trips made so far. */
  readonly roundTrips: number;
  /** Cancel the statement in flight and close the connection, if the driver can. */
  cancel?(): Promise<void>;
  /** Drop the connection at once (synchronous; for a second Ctrl-C or SIGTERM). */
  kill?(): void;
  close(): Promise<void>;
}

/** How long a transaction may sit idle between two of our statements before the server ends it. */
export function idleTimeoutMs(spec: TransactionSpec): number {
  return Math.min(5_000, Math.max(1_000, Math.floor(spec.statementTimeoutMs)));
}

/** The `BEGIN …; SET LOCAL …` every transaction starts with, plus the driver's own settings. */
export function beginSql(spec: TransactionSpec, extra = ''): string {
  const ms = (n: number) => Math.max(1, Math.floor(n));
  return (
    `BEGIN${spec.isolation ? ' ISOLATION LEVEL REPEATABLE READ' : ''} ${spec.access.toUpperCase()}; ` +
    `SET LOCAL statement_timeout = ${ms(spec.statementTimeoutMs)}; ` +
    `SET LOCAL lock_timeout = ${ms(spec.lockTimeoutMs)}; ` +
    // A client that vanishes between statements (a dropped network path) leaves the server idle in
    // this transaction: the server ends the session on its own and frees every lock.
    `SET LOCAL idle_in_transaction_session_timeout = ${idleTimeoutMs(spec)}; ` +
    // Catalog queries over thousands of tables cross the JIT thresholds and gain nothing from it.
    `SET LOCAL jit = off` +
    (spec.searchPath !== undefined ? `; SET LOCAL search_path = ${spec.searchPath}` : '') +
    (extra ? `; ${extra}` : '')
  );
}

export interface SessionDriver {
  run(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  runMany(sql: string): Promise<void>;
  close(): Promise<void>;
  cancel?(): Promise<void>;
  kill?(): void;
  /** Extra `SET LOCAL …` statements for every transaction (e.g. TCP timeouts on a live server). */
  localSettings?(spec: TransactionSpec): string;
  /** Told when a transaction starts (with its limits) and ends. */
  onTransaction?(spec: TransactionSpec | null): void;
}

/** Sessions not yet closed, so that a second signal can drop them all. */
const liveSessions = new Set<Session>();

/** Drops every open connection at once: for a second Ctrl-C or a SIGTERM, before the process exits. */
export function killOpenSessions(): void {
  for (const session of liveSessions) session.kill?.();
  liveSessions.clear();
}

/** The limits of a statement sent with no transaction open: it gets one of its own. */
export const DEFAULT_SPEC: TransactionSpec = { access: 'read only', statementTimeoutMs: 30_000, lockTimeoutMs: 3_000 };

/** Statements that open, end or work inside the current transaction (savepoints): never wrapped. */
const TRANSACTION_CONTROL = /^\s*(BEGIN|START\s+TRANSACTION|ROLLBACK|COMMIT|END|ABORT|SAVEPOINT|RELEASE)\b/i;
const OPENS = /^\s*(BEGIN|START\s+TRANSACTION)\b/i;
const ENDS = /^\s*(ROLLBACK|COMMIT|END|ABORT)\s*;?\s*$/i;

/**
 * Wraps a driver and counts round trips. A statement sent while no transaction is open runs in a
 * read-only transaction of its own (with the default limits) that is rolled back: nothing ever
 * runs in autocommit, and no setting is ever made for the session.
 */
export class CountingSession implements Session {
  private count = 0;
  private open: TransactionSpec | null = null;
  /** A statement is in flight: a second one at the same time would interleave two transactions. */
  private busy = false;
  readonly cancel?: () => Promise<void>;
  readonly kill?: () => void;
  constructor(private readonly driver: SessionDriver) {
    if (driver.cancel) this.cancel = () => driver.cancel!();
    if (driver.kill) this.kill = () => driver.kill!();
    liveSessions.add(this);
  }

  get roundTrips(): number {
    return this.count;
  }

  /** One round trip at a time: concurrent callers get an error, not an interleaved transaction. */
  private async step<T>(run: () => Promise<T>): Promise<T> {
    if (this.busy) throw new Error('internal: two statements at once on one database session (each client needs its own session)');
    this.busy = true;
    try {
      return await run();
    } finally {
      this.busy = false;
    }
  }

  private async alone<T>(run: () => Promise<T>): Promise<T> {
    await this.begin(DEFAULT_SPEC);
    try {
      return await run();
    } finally {
      await this.exec('ROLLBACK').catch(() => undefined);
    }
  }

  async query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    if (this.open === null) return this.alone(() => this.query<T>(sql, params));
    this.count++;
    return (await this.step(() => this.driver.run(sql, params))) as T[];
  }

  async exec(sql: string): Promise<void> {
    const control = TRANSACTION_CONTROL.test(sql);
    if (this.open === null && !control) return this.alone(() => this.exec(sql));
    this.count++;
    if (OPENS.test(sql)) {
      // A hand-written BEGIN (tests that set up their own transaction): supaudit itself uses begin().
      this.open = DEFAULT_SPEC;
      this.driver.onTransaction?.(DEFAULT_SPEC);
    }
    try {
      await this.step(() => this.driver.runMany(sql));
    } finally {
      if (ENDS.test(sql)) {
        this.open = null;
        this.driver.onTransaction?.(null);
      }
    }
  }

  async begin(spec: TransactionSpec): Promise<void> {
    this.count++;
    this.open = spec;
    this.driver.onTransaction?.(spec);
    try {
      await this.step(() => this.driver.runMany(beginSql(spec, this.driver.localSettings?.(spec) ?? '')));
    } catch (error) {
      // The transaction may be open on the server: end it, so the session is clean for the next one.
      await this.driver.runMany('ROLLBACK').catch(() => undefined);
      this.open = null;
      this.driver.onTransaction?.(null);
      throw error;
    }
  }

  close(): Promise<void> {
    liveSessions.delete(this);
    return this.driver.close();
  }
}
