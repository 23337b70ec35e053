/** Per-test access to the clusters the global setup started. */
import { inject } from 'vitest';
import type { ClusterEngine, ClusterInfo } from './postgres.ts';
import pg from 'pg';

export function clusters(): ClusterInfo[] {
  return inject('pgClusters') ?? [];
}

export function cluster(engine: ClusterEngine): ClusterInfo {
  const found = clusters().find((c) => c.engine === engine);
  if (!found) throw new Error(`no ${engine} cluster in this test run`);
  return found;
}

export function urlOf(info: ClusterInfo, database: string, user = info.superUser, password = info.password): string {
  return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${info.host}:${info.port}/${encodeURIComponent(database)}`;
}

let counter = 0;

/** A fresh empty database on the engine's cluster; returns its superuser URL. */
export async function freshDatabase(engine: ClusterEngine): Promise<string> {
  const info = cluster(engine);
  const name = `t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const client = new pg.Client({ connectionString: urlOf(info, 'postgres') });
  await client.connect();
  try {
    await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
  return urlOf(info, name);
}

/** Runs SQL (many statements) as the superuser. */
export async function runSql(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The real-server engines of this run; fails (never skips) when none could be started. */
export function realEnginesOrFail(): ClusterEngine[] {
  const engines = clusters().map((c) => c.engine);
  if (engines.length === 0) throw new Error('no real PostgreSQL cluster was started for this run');
  return engines;
}
