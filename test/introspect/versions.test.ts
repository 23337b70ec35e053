/**
 * Introspection must be right on PostgreSQL 15, 17 and 18: the demo project loaded on each engine
 * gives the same catalog picture and the same findings (statistics-driven checks aside).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import type { Snapshot } from '../../src/model/snapshot.ts';
import { auditSession, loadOn, testEngines, type AuditOutcome, type Engine } from '../support/audit.ts';

const DEMO = join(import.meta.dirname, '..', '..', 'supabase');
const demoSql = [
  ...readdirSync(join(DEMO, 'migrations'))
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => readFileSync(join(DEMO, 'migrations', f), 'utf8')),
  readFileSync(join(DEMO, 'seed.sql'), 'utf8'),
];

/** Checks whose answer depends on runtime statistics, which differ between engines by nature. */
const STATISTICAL = new Set(['unused_index', 'table_bloat', 'realtime_over_capacity']);

function shape(s: Snapshot) {
  const user = (schema: string) => schema === 'public' || schema === 'private';
  return {
    relations: s.relations.filter((r) => user(r.schema)).map((r) => `${r.schema}.${r.name}:${r.kind}:rls=${r.rlsEnabled}:${r.replicaIdentity}:${r.columns.map((c) => `${c.name} ${c.type}${c.notNull ? ' nn' : ''}`).join(',')}`),
    constraints: s.constraints.filter((c) => user(c.schema) && c.type !== 'not_null').map((c) => `${c.schema}.${c.table}.${c.name}:${c.type}:${c.columns.join(',')}->${c.refSchema ?? ''}.${c.refTable ?? ''}(${c.refColumns.join(',')})`),
    indexes: s.indexes.filter((i) => user(i.schema)).map((i) => `${i.schema}.${i.table}.${i.name}:${i.columns.join(',')}:${i.unique}:${i.primary}:${i.predicate ?? ''}`),
    policies: s.policies.filter((p) => user(p.schema) || p.schema === 'storage').map((p) => `${p.schema}.${p.table}.${p.name}:${p.command}:${p.permissive}:${p.roles.join(',')}`),
    functions: s.functions.filter((f) => user(f.schema)).map((f) => `${f.schema}.${f.name}(${f.identityArgs}):${f.securityDefiner}:${f.volatility}:${f.config.join(';')}`),
    views: s.viewDependencies.filter((v) => user(v.schema)).map((v) => `${v.schema}.${v.view}->${v.refSchema}.${v.refName}`),
    publications: s.publications.map((p) => `${p.name}:${p.tables.map((t) => `${t.schema}.${t.name}`).join(',')}`),
    buckets: s.buckets,
    subscribers: s.realtimeSubscriptions,
    memberships: s.memberships.filter((m) => ['anon', 'authenticated', 'service_role'].includes(m.role)).map((m) => `${m.member}->${m.role}`),
  };
}

describe('the demo project on every engine', () => {
  const outcomes = new Map<Engine, AuditOutcome>();
  beforeAll(async () => {
    for (const engine of testEngines()) {
      const session = await loadOn(engine, ...demoSql);
      try {
        outcomes.set(engine, await auditSession(session, { exposedSchemas: ['public', 'graphql_public'] }));
      } finally {
        await session.close();
      }
    }
  }, 300_000);

  test('three engines: PostgreSQL 18 (PGlite), 15 (system) and 17 (embedded)', () => {
    const majors = [...outcomes.values()].map((o) => Math.floor(o.snapshot.serverVersionNum / 10000)).sort();
    expect(majors).toEqual(expect.arrayContaining([17, 18]));
    expect(majors.length).toBeGreaterThanOrEqual(2);
  });

  test('the catalog reads the same on each', () => {
    const [first, ...rest] = [...outcomes.entries()];
    const reference = shape(first![1].snapshot);
    expect(reference.relations.length).toBeGreaterThan(15);
    expect(reference.policies.length).toBeGreaterThan(20);
    for (const [engine, outcome] of rest) expect({ engine, ...shape(outcome.snapshot) }).toEqual({ engine, ...reference });
  });

  test('and gives the same findings', () => {
    // Roles are cluster-wide: login roles other test files create on the shared clusters are real
    // custom roles to the audit, so only roles every engine has are compared.
    const everywhere = (role: string) => [...outcomes.values()].every((o) => o.snapshot.roles.some((r) => r.name === role));
    const fingerprints = (o: AuditOutcome) =>
      o.findings
        .filter((f) => !STATISTICAL.has(f.check))
        .filter((f) => f.check !== 'blast_radius_custom_role' || (f.roles ?? []).every(everywhere))
        .map((f) => `${f.level} ${f.fingerprint}`);
    const [first, ...rest] = [...outcomes.entries()];
    for (const [engine, outcome] of rest) expect({ engine, findings: fingerprints(outcome) }).toEqual({ engine, findings: fingerprints(first![1]) });
  });
});
