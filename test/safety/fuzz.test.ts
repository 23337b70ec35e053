/**
 * Property test: random identifiers (quotes, spaces, unicode, newlines, keywords) and random
 * policy expressions through the whole pipeline — policy analysis, every check, every reporter.
 * Nothing may crash, no check may error, and every fix SQL must parse with the real Postgres parser.
 */
import { loadModule, parseSync } from 'libpg-query';
import { describe, expect, test } from 'vitest';
import { allChecks } from '../../checks/index.ts';
import { reporters } from '../../reports/index.ts';
import { buildReport } from '../../src/engine/audit.ts';
import { quoteIdent } from '../../src/model/ident.ts';
import type { AclItem, Policy, Relation, Snapshot } from '../../src/model/snapshot.ts';
import { initPolicyParser } from '../../src/policy/index.ts';
import { fn, policy, relation, snapshot } from '../policy/fixtures.ts';

/** Deterministic PRNG (mulberry32) so a failure can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['a', 'user_id', 'Owner Id', 'sélect', '表', 'x"y', "o'k", 'line\nfeed', '\u001b[1m', 'select', 'from', '<b>', '|', '`', ' ', '-- c', '$1', 'ünï'];

function ident(r: () => number): string {
  const n = 1 + Math.floor(r() * 3);
  let s = '';
  for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)];
  return s.slice(0, 63) || 'z';
}

function expression(r: () => number, columns: readonly string[], tables: readonly Relation[], depth = 0): string {
  const col = () => quoteIdent(columns[Math.floor(r() * columns.length)]!);
  const leaf = () => {
    const choice = Math.floor(r() * 9);
    switch (choice) {
      case 0:
        return 'true';
      case 1:
        return `(auth.uid() = ${col()})`;
      case 2:
        return `((select auth.uid()) = ${col()})`;
      case 3:
        return `(${col()} = 'it''s'::text)`;
      case 4:
        return `((auth.jwt() -> 'user_metadata'::text) ->> 'role'::text) = 'admin'::text`;
      case 5:
        return `(auth.uid() IS NULL)`;
      case 6:
        return `(current_setting('request.jwt.claims'::text, true)::json ->> 'sub'::text) = ${col()}::text`;
      case 7: {
        const t = tables[Math.floor(r() * tables.length)]!;
        const c = quoteIdent(t.columns[0]!.name);
        return `(EXISTS ( SELECT 1 FROM ${quoteIdent(t.schema)}.${quoteIdent(t.name)} x WHERE ((x.${c} = ${col()}) AND (x.${c} = auth.uid()))))`;
      }
      default:
        return `(${col()} IN ( SELECT ${quoteIdent(tables[0]!.columns[0]!.name)} FROM ${quoteIdent(tables[0]!.schema)}.${quoteIdent(tables[0]!.name)}))`;
    }
  };
  if (depth > 3 || r() < 0.4) return leaf();
  const op = r() < 0.5 ? 'AND' : 'OR';
  const not = r() < 0.1 ? 'NOT ' : '';
  return `${not}(${expression(r, columns, tables, depth + 1)} ${op} ${expression(r, columns, tables, depth + 1)})`;
}

function randomSnapshot(seed: number): Snapshot {
  const r = rng(seed);
  const grant = (grantee: string, privilege: AclItem['privilege']): AclItem => ({ grantee, grantor: 'postgres', privilege, grantable: false });
  const relations: Relation[] = [];
  const policies: Policy[] = [];
  const tableCount = 2 + Math.floor(r() * 4);
  for (let i = 0; i < tableCount; i++) {
    const columns = Array.from({ length: 2 + Math.floor(r() * 4) }, () => ident(r));
    const unique = [...new Set(['id', ...columns])];
    const rel = relation(r() < 0.8 ? 'public' : ident(r), `${ident(r)}_${i}`, unique, { rlsEnabled: r() < 0.6, rowEstimate: Math.floor(r() * 100000) - 1 });
    relations.push({ ...rel, acl: [grant('anon', 'SELECT'), grant('authenticated', 'INSERT'), grant('PUBLIC', 'UPDATE')] });
  }
  for (const rel of relations) {
    const n = Math.floor(r() * 4);
    for (let j = 0; j < n; j++) {
      const command = (['ALL', 'SELECT', 'INSERT', 'UPDATE', 'DELETE'] as const)[Math.floor(r() * 5)]!;
      const expr = expression(r, rel.columns.map((c) => c.name), relations);
      policies.push(
        policy(rel.name, ident(r), {
          schema: rel.schema,
          command,
          roles: r() < 0.5 ? ['PUBLIC'] : ['authenticated'],
          permissive: r() < 0.85,
          using: command === 'INSERT' ? null : expr,
          withCheck: command === 'INSERT' || command === 'UPDATE' ? expression(r, rel.columns.map((c) => c.name), relations) : null,
        }),
      );
    }
  }
  const functions = [
    fn('auth', 'uid', { volatility: 'stable', returnType: 'uuid' }),
    fn('auth', 'jwt', { volatility: 'stable', returnType: 'jsonb' }),
    fn('public', ident(r), { securityDefiner: true, source: `select 1 from ${quoteIdent(relations[0]!.name)}` }),
  ];
  const base = snapshot({ relations, policies, functions });
  return {
    ...base,
    roles: [
      { name: 'anon', superuser: false, bypassRls: false, canLogin: false, inherit: true },
      { name: 'authenticated', superuser: false, bypassRls: false, canLogin: false, inherit: true },
      { name: 'service_role', superuser: false, bypassRls: true, canLogin: false, inherit: true },
    ],
    schemas: [...new Set(relations.map((x) => x.schema))].map((name) => ({ name, owner: 'postgres', acl: [grant('PUBLIC', 'USAGE')], comment: null, extension: null })),
    exposedSchemas: ['public'],
  };
}

describe('fuzz: random identifiers and policies through the whole pipeline', () => {
  test('300 random schemas: no crash, no check error, every fix SQL parses, every reporter renders', async () => {
    await loadModule();
    await initPolicyParser();
    let fixes = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const snap = randomSnapshot(seed);
      const report = buildReport(snap, { kind: 'url', description: 'fuzz' }, { checks: allChecks }, { started: performance.now(), introspectionMs: 0, queries: 0 });
      expect(report.checkErrors, `seed ${seed}`).toEqual([]);
      for (const f of report.findings) {
        if (!f.remediation.sql) continue;
        fixes++;
        expect(() => parseSync(f.remediation.sql!), `seed ${seed} ${f.check}: ${f.remediation.sql}`).not.toThrow();
      }
      for (const [name, reporter] of Object.entries(reporters)) {
        expect(() => reporter.render(report, { color: false }), `seed ${seed} ${name}`).not.toThrow();
      }
    }
    expect(fixes).toBeGreaterThan(300);
  });
});
