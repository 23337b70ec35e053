/**
 * Test support: load SQL into a real database (PGlite here; real servers through the harness)
 * on top of the Supabase base, introspect it exactly as the CLI does, and run checks.
 */
import type { PGlite } from '@electric-sql/pglite';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allChecks } from '../../checks/index.ts';
import { buildReport, proveFindings, withProofs } from '../../src/engine/audit.ts';
import { introspect } from '../../src/introspect/index.ts';
import type { Session } from '../../src/introspect/session.ts';
import { initPolicyParser } from '../../src/policy/index.ts';
import { createBaseDatabase, MIGRATION_SEARCH_PATH, startEmbedded } from '../../src/introspect/targets/embedded.ts';
import { loadMigrations, type LoadResult } from '../../src/introspect/targets/migrate.ts';
import { connectPg } from '../../src/introspect/targets/pg.ts';
import { clusters, freshDatabase, runSql, withClient } from '../harness/db.ts';
import type { ClusterEngine } from '../harness/postgres.ts';
import type { Check } from '../../src/model/check.ts';
import type { Finding } from '../../src/model/finding.ts';
import type { Report } from '../../src/model/report.ts';
import type { Snapshot } from '../../src/model/snapshot.ts';

export interface AuditOutcome {
  readonly snapshot: Snapshot;
  readonly report: Report;
  readonly findings: readonly Finding[];
}

export interface AuditSqlOptions {
  readonly checks?: readonly Check[];
  readonly exposedSchemas?: readonly string[];
  /** Run the exploit proofs (and verify fixes), as the embedded target does. */
  readonly prove?: boolean;
}

let base: Promise<PGlite> | undefined;

/** One base database per test worker; every test gets a clone (about 1 s instead of 4). */
export function pgliteBase(): Promise<PGlite> {
  base ??= createBaseDatabase();
  return base;
}

/** Introspects an open session and builds the report, as `runAudit` does. */
export async function auditSession(session: Session, options: AuditSqlOptions = {}): Promise<AuditOutcome> {
  const started = performance.now();
  const snapshot = await introspect(session, { exposedSchemas: options.exposedSchemas ?? ['public'] });
  await initPolicyParser();
  const report = buildReport(
    snapshot,
    { kind: 'migrations', description: 'test' },
    { checks: options.checks ?? allChecks },
    { started, introspectionMs: performance.now() - started, queries: session.roundTrips },
  );
  if (!options.prove) return { snapshot, report, findings: report.findings };
  const proved = withProofs(report, await proveFindings(session, snapshot, { checks: options.checks ?? allChecks }));
  return { snapshot, report: proved, findings: proved.findings };
}

/** Loads `sql` into a fresh PGlite (PostgreSQL 18) on the Supabase base; the caller closes the session. */
export async function loadPglite(...sql: string[]): Promise<Session> {
  const dir = mkdtempSync(join(tmpdir(), 'supaudit-test-'));
  try {
    const files = sql.map((text, i) => {
      const path = join(dir, `${String(i).padStart(3, '0')}_fixture.sql`);
      writeFileSync(path, text);
      return path;
    });
    const db = await startEmbedded(files, dir, { base: await pgliteBase() });
    return db.session;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Loads SQL into PGlite, audits it, closes it. */
export async function auditPglite(sql: string, options: AuditSqlOptions = {}): Promise<AuditOutcome> {
  const session = await loadPglite(sql);
  try {
    return await auditSession(session, options);
  } finally {
    await session.close();
  }
}

/** Findings of one check, as `schema.name` (plus `.column` / ` policy` when set) for terse assertions. */
export function objectsOf(findings: readonly Finding[], check: string): string[] {
  return findings
    .filter((f) => f.check === check)
    .map((f) => {
      let s = `${f.object.schema}.${f.object.name}`;
      if (f.object.column) s += `.${f.object.column}`;
      if (f.object.policy) s += `:${f.object.policy}`;
      return s;
    })
    .sort();
}

/** The databases a check test runs on: PGlite (PG 18) always, plus the real servers the global setup started (PG 15 system, PG 17 embedded here). */
export type Engine = 'pglite' | ClusterEngine;

export function testEngines(): Engine[] {
  return ['pglite', ...realEngines()];
}

export function realEngines(): ClusterEngine[] {
  return clusters().map((c) => c.engine);
}

const BASE_SQL = readFileSync(new URL('../../src/introspect/targets/supabase-base.sql', import.meta.url), 'utf8');

/** Loads SQL on the Supabase base in a fresh database of the engine and returns an open (read-only) session. */
export async function loadOn(engine: Engine, ...sql: string[]): Promise<Session> {
  if (engine === 'pglite') return loadPglite(...sql);
  const url = await freshDatabase(engine);
  await runSql(url, BASE_SQL);
  for (const text of sql) await runSql(url, text);
  await runSql(url, 'analyze');
  return connectPg(url);
}

/**
 * Loads migration files (name → SQL, in name order) on the Supabase base the way the migrations
 * target does: statement by statement, with the hosted search_path, stand-ins for missing
 * extensions and failures recorded. PGlite goes through the embedded target itself; a real server
 * through the same loader on a superuser connection. Returns an open session and what loading said.
 */
export async function loadMigrationsOn(engine: Engine, files: Readonly<Record<string, string>>): Promise<{ session: Session; loaded: LoadResult }> {
  const names = Object.keys(files).sort();
  if (engine === 'pglite') {
    const dir = mkdtempSync(join(tmpdir(), 'supaudit-test-'));
    try {
      const paths = names.map((name) => {
        writeFileSync(join(dir, name), files[name]!);
        return join(dir, name);
      });
      const db = await startEmbedded(paths, dir, { base: await pgliteBase() });
      return { session: db.session, loaded: db };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const url = await freshDatabase(engine);
  await runSql(url, BASE_SQL);
  const loaded = await withClient(url, async (client) => {
    await client.query(MIGRATION_SEARCH_PATH);
    return loadMigrations(
      { exec: async (sql) => void (await client.query(sql)), query: async <T>(sql: string) => (await client.query(sql)).rows as T[] },
      names.map((name) => ({ path: name, display: name, text: files[name]! })),
      { fileSettings: MIGRATION_SEARCH_PATH },
    );
  });
  await runSql(url, 'analyze');
  return { session: await connectPg(url), loaded };
}

/** Loads SQL on the engine, audits it, closes the session. */
export async function auditOn(engine: Engine, sql: string, options: AuditSqlOptions = {}): Promise<AuditOutcome> {
  const session = await loadOn(engine, sql);
  try {
    return await auditSession(session, options);
  } finally {
    await session.close();
  }
}

/** The user id the `*As` helpers sign in as. */
export const TEST_USER = '00000000-0000-0000-0000-000000000001';

/**
 * Runs `sql` as `role` with a signed-in user's claims (as PostgREST sets them) in a transaction
 * that is rolled back: its rows, or the error (with its SQLSTATE in `code`) thrown.
 */
export async function queryAs<T extends Record<string, unknown>>(session: Session, role: string, sql: string, sub: string = TEST_USER): Promise<T[]> {
  await session.exec(`begin; set local role ${role}; select set_config('request.jwt.claims', '{"sub":"${sub}","role":"${role}"}', true)`);
  try {
    return await session.query<T>(sql);
  } finally {
    await session.exec('rollback');
  }
}

/** `queryAs`, reduced to 'ok' or the error's SQLSTATE. */
export async function outcomeAs(session: Session, role: string, sql: string): Promise<string> {
  try {
    await queryAs(session, role, sql);
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}
