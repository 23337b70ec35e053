/**
 * Per-test access to the clusters the global setup started (`test/harness/global-setup.ts`). Each
 * test (file) makes its own empty database(s): databases are isolated from each other, roles are
 * cluster-wide (give them unique names).
 */
import pg from 'pg';
import { inject } from 'vitest';
import { clusterUrl, createDatabaseOn, uniqueDatabaseName, type ClusterEngine, type ClusterInfo } from './postgres.ts';

/** Connection info of every cluster of this run. */
export function clusters(): ClusterInfo[] {
  return inject('pgClusters') ?? [];
}

/** The real-server engines the global setup started (`system`, `embedded`). */
export function engines(): ClusterEngine[] {
  return clusters().map((c) => c.engine);
}

export function cluster(engine: ClusterEngine): ClusterInfo {
  const found = clusters().find((c) => c.engine === engine);
  if (!found) throw new Error(`no ${engine} cluster in this test run (started: ${engines().join(', ') || 'none'})`);
  return found;
}

/** URL of `database` on a cluster, as the superuser unless another user is given. */
export function urlOf(info: ClusterInfo, database: string, user = info.superUser, password = info.password): string {
  return clusterUrl(info, database, user, password);
}

/** A fresh empty database on the engine's cluster; returns its superuser URL. */
export async function freshDatabase(engine: ClusterEngine): Promise<string> {
  return createDatabaseOn(cluster(engine));
}

export interface FreshDatabase {
  readonly engine: ClusterEngine;
  readonly info: ClusterInfo;
  /** The database name. */
  readonly name: string;
  /** Superuser URL of the database. */
  readonly url: string;
  /** A connected superuser client of the database. */
  readonly client: pg.Client;
  /** Ends the client and drops the database. */
  close(): Promise<void>;
}

/** A fresh empty database with a connected superuser client; `close()` ends it and drops the database. */
export async function openFreshDatabase(engine: ClusterEngine): Promise<FreshDatabase> {
  const info = cluster(engine);
  const name = uniqueDatabaseName();
  const url = await createDatabaseOn(info, name);
  const client = new pg.Client({ connectionString: url, ssl: false });
  // A server-side disconnect must fail the query that sees it, not crash the worker.
  client.on('error', () => undefined);
  await client.connect();
  let closed: Promise<void> | undefined;
  return {
    engine,
    info,
    name,
    url,
    client,
    close() {
      closed ??= (async () => {
        await client.end().catch(() => undefined);
        const admin = new pg.Client({ connectionString: info.adminUrl, ssl: false });
        admin.on('error', () => undefined);
        await admin.connect();
        try {
          await admin.query(`drop database if exists "${name.replaceAll('"', '""')}" with (force)`);
        } finally {
          await admin.end().catch(() => undefined);
        }
      })();
      return closed;
    },
  };
}

/** Advisory lock key that serialises cluster-wide DDL across test workers (taken in the `postgres` database). */
const CLUSTER_DDL_LOCK = 7_337_100_001;

/** SQL that changes cluster-wide catalogs (roles, memberships, tablespaces) and so races across databases. */
const CLUSTER_WIDE = /\b(create|alter|drop)\s+(role|user|group|tablespace)\b|\bgrant\b[^;]*\bto\b|\brevoke\b|\breassign\s+owned\b|\bcomment\s+on\s+role\b/i;

/**
 * Runs `fn` while holding a cluster-wide lock shared by every test worker of the run. Roles are
 * cluster-wide: two workers running `alter role anon ...` (or a create-if-missing) at the same moment
 * in their own databases fail with "tuple concurrently updated" / duplicate key, so such SQL goes
 * through here. `target` is an engine, a cluster's info, or any URL of the cluster.
 */
export async function withClusterLock<T>(target: ClusterEngine | ClusterInfo | string, fn: () => Promise<T>): Promise<T> {
  let adminUrl: string;
  if (typeof target === 'string' && (target === 'system' || target === 'embedded')) adminUrl = cluster(target).adminUrl;
  else if (typeof target === 'string') {
    const u = new URL(target);
    u.pathname = '/postgres';
    adminUrl = u.toString();
  } else adminUrl = target.adminUrl;
  const lock = new pg.Client({ connectionString: adminUrl, ssl: false });
  lock.on('error', () => undefined);
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [CLUSTER_DDL_LOCK]);
    return await fn();
  } finally {
    // Ending the session releases the lock even if the unlock is never sent.
    await lock.end().catch(() => undefined);
  }
}

/**
 * Runs SQL (many statements, sent as one simple query) as the superuser. SQL that touches roles or other cluster-wide objects runs under
 * `withClusterLock`, so parallel test files can load the same base (with its roles) safely.
 */
export async function runSql(url: string, sql: string): Promise<void> {
  const exec = async () => {
    const client = new pg.Client({ connectionString: url, ssl: false });
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  await (CLUSTER_WIDE.test(sql) ? withClusterLock(url, exec) : exec());
}

/** The real-server engines of this run; fails (never skips) when none could be started. */
export function realEnginesOrFail(): ClusterEngine[] {
  const started = engines();
  if (started.length === 0) throw new Error('no real PostgreSQL cluster was started for this run');
  return started;
}

/** Runs `fn` with a connected client of `url` (no TLS), and always ends it. */
export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, ssl: false });
  // A server-side disconnect must fail the query that sees it, not crash the worker.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
