/** What `npm run bench` and `npm run bench:profile` share: loading a generated schema, one timed audit. */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { allChecks } from '../checks/index.ts';
import { buildReport } from '../src/engine/audit.ts';
import { introspect } from '../src/introspect/index.ts';
import { connectPg } from '../src/introspect/targets/pg.ts';
import type { Report } from '../src/model/report.ts';
import type { Snapshot } from '../src/model/snapshot.ts';
import { generateSchemaChunks } from './generate.ts';

const BASE_SQL = readFileSync(new URL('../src/introspect/targets/supabase-base.sql', import.meta.url), 'utf8');

/** The Supabase base, then a generated schema of `size` tables, over one connection. */
export async function loadGenerated(url: string, size: number): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(BASE_SQL);
    for (const chunk of generateSchemaChunks(size)) await client.query(chunk);
  } finally {
    await client.end();
  }
}

export async function introspectUrl(url: string): Promise<{ snapshot: Snapshot; started: number; introspectionMs: number; queries: number }> {
  const started = performance.now();
  const session = await connectPg(url);
  let snapshot;
  try {
    snapshot = await introspect(session, { exposedSchemas: ['public'] });
  } finally {
    await session.close();
  }
  return { snapshot, started, introspectionMs: performance.now() - started, queries: session.roundTrips };
}

/** One full audit of the database (introspection + every check), timed. */
export async function auditUrl(url: string): Promise<{ snapshot: Snapshot; report: Report; introspectionMs: number; queries: number; total: number }> {
  const { snapshot, started, introspectionMs, queries } = await introspectUrl(url);
  const report = buildReport(snapshot, { kind: 'url', description: 'bench' }, { checks: allChecks }, { started, introspectionMs, queries });
  return { snapshot, report, introspectionMs, queries, total: performance.now() - started };
}
