/**
 * The shared shape of the advisor-parity check tests, on every engine: an empty database reports
 * nothing; the check's fixture (positives and near misses) reports exactly the expected
 * fingerprints; the fix SQL the findings carry, applied for real, clears them.
 */
import { describe, expect, it } from 'vitest';
import { buildReport } from '../../src/engine/audit.ts';
import { introspect } from '../../src/introspect/index.ts';
import type { Session } from '../../src/introspect/session.ts';
import type { Check, CheckOptions } from '../../src/model/check.ts';
import type { Finding } from '../../src/model/finding.ts';
import type { Report } from '../../src/model/report.ts';
import type { Snapshot } from '../../src/model/snapshot.ts';
import { initPolicyParser } from '../../src/policy/index.ts';
import { expectedFingerprints, fixtureFor, fixtureSql, FIXTURE_EXPOSED_SCHEMAS, withPgGraphql } from '../fixtures/advisor/index.ts';
import { loadOn, testEngines, type Engine } from './audit.ts';

export interface FixtureAuditOptions {
  readonly checks?: readonly Check[];
  readonly exposedSchemas?: readonly string[];
  readonly pgGraphql?: boolean;
  readonly checkOptions?: CheckOptions;
}

/** Introspects, optionally adds pg_graphql to the snapshot, and builds the report as `runAudit` does. */
export async function auditFixtureSession(session: Session, options: FixtureAuditOptions = {}): Promise<{ snapshot: Snapshot; report: Report }> {
  const started = performance.now();
  let snapshot = await introspect(session, { exposedSchemas: options.exposedSchemas ?? FIXTURE_EXPOSED_SCHEMAS });
  if (options.pgGraphql) snapshot = withPgGraphql(snapshot);
  await initPolicyParser();
  const report = buildReport(
    snapshot,
    { kind: 'migrations', description: 'test' },
    { ...(options.checks ? { checks: options.checks } : {}), ...(options.checkOptions ? { checkOptions: options.checkOptions } : {}) },
    { started, introspectionMs: performance.now() - started, queries: session.roundTrips },
  );
  expect(report.checkErrors).toEqual([]);
  return { snapshot, report };
}

export async function auditFixture(engine: Engine, sql: readonly string[], options: FixtureAuditOptions = {}): Promise<{ snapshot: Snapshot; report: Report }> {
  const session = await loadOn(engine, ...sql);
  try {
    return await auditFixtureSession(session, options);
  } finally {
    await session.close();
  }
}

export const fingerprintsOf = (findings: readonly Finding[], check: string) =>
  findings
    .filter((f) => f.check === check)
    .map((f) => f.fingerprint)
    .sort();

/**
 * The three standard cases for `check` on every engine. `afterFix` lists the fingerprints that may
 * remain after the fix SQL ran (findings that carry no SQL); `extra` adds engine-specific cases.
 */
export function describeAdvisorCheck(
  check: Check,
  spec: { afterFix?: readonly string[]; extra?: (engine: Engine) => void } = {},
): void {
  const id = check.meta.id;
  const fixture = fixtureFor(id);
  const options: FixtureAuditOptions = { checks: [check], pgGraphql: fixture.pgGraphql ?? false };
  describe.each(testEngines())(`${id} on %s`, (engine) => {
    it('reports nothing on an empty database', async () => {
      const { report } = await auditFixture(engine, ['select 1;'], options);
      expect(fingerprintsOf(report.findings, id)).toEqual([]);
    });

    let findings: readonly Finding[] = [];
    it('reports exactly the positives of its fixture, none of the near misses', async () => {
      const { report } = await auditFixture(engine, [fixtureSql(fixture.file)], options);
      findings = report.findings.filter((f) => f.check === id);
      expect(fingerprintsOf(findings, id)).toEqual(expectedFingerprints(id));
      for (const f of findings) expect(f.message.length).toBeGreaterThan(40);
    });

    it('is silent once the fix SQL the findings carry has run', async () => {
      expect(findings.length).toBeGreaterThan(0);
      const fixes = findings.flatMap((f) => (f.remediation.sql ? [f.remediation.sql] : []));
      const { report } = await auditFixture(engine, [fixtureSql(fixture.file), ...fixes], options);
      expect(fingerprintsOf(report.findings, id)).toEqual([...(spec.afterFix ?? [])].sort());
    });

    spec.extra?.(engine);
  });
}

/** The fix SQL `check` gives for the object named `name` of an advisor fixture file, on `engine`. */
export async function fixtureFix(engine: Engine, check: Check, file: string, name: string): Promise<string> {
  const session = await loadOn(engine, fixtureSql(file));
  try {
    const { report } = await auditFixtureSession(session, { checks: [check] });
    return report.findings.find((f) => f.object.name === name)!.remediation.sql!;
  } finally {
    await session.close();
  }
}
