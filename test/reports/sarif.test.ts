import { Ajv } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import { readFileSync } from 'node:fs';
import type { Log, Result } from 'sarif';
import { beforeAll, describe, expect, test } from 'vitest';
import type { Report } from '../../src/model/report.ts';
import { DOCS_BASE, linksFrom, PROJECT_URL } from '../../reports/_links.ts';
import { checkDoc } from '../../src/docs.ts';
import { redact } from '../../src/model/redact.ts';
import { FINGERPRINT_KEY, renderSarif, sarifLevel } from '../../reports/sarif.ts';
import { auditHostileDemo, demoLine, HOSTILE_MIGRATION, HOSTILE_TABLE, withSuppressionAndBaseline } from './_demo.ts';

// ajv-formats is CommonJS; under NodeNext its default import is the module namespace.
const addFormats = addFormatsPlugin as unknown as (ajv: Ajv) => Ajv;

/** The official SARIF 2.1.0 schema (OASIS, via SchemaStore; see test/data/README.md). */
const schema = JSON.parse(readFileSync(new URL('../data/sarif-schema-2.1.0.json', import.meta.url), 'utf8')) as object;
// `unicodeRegExp: false`: the official schema's `language` pattern (`…-[a-zA-Z]{2}]?$`, a stray `]`) is a
// syntax error with the `u` flag; without it, it is the plain RegExp the schema authors meant.
const ajv = addFormats(new Ajv({ allErrors: true, strict: false, unicodeRegExp: false }));
const validate = ajv.compile(schema);

let report: Report;
let text: string;
let log: Log;
beforeAll(async () => {
  report = await auditHostileDemo();
  text = renderSarif(report);
  log = JSON.parse(text) as Log;
}, 180_000);

function expectValid(doc: unknown): void {
  const ok = validate(doc);
  expect(ok ? [] : validate.errors?.map((e) => `${e.instancePath} ${e.message}`)).toEqual([]);
}

describe('sarif reporter on the demo project (+ hostile migration)', () => {
  test('validates against the SARIF 2.1.0 JSON schema', () => {
    expect(log.version).toBe('2.1.0');
    expectValid(log);
    // The validator does reject what the schema forbids.
    expect(validate({ ...log, version: '2.0.0' })).toBe(false);
    expect(validate({ ...log, runs: [{ ...log.runs[0], results: [{ message: {}, level: 'fatal' }] }] })).toBe(false);
  });

  test('tool.driver: name, version, informationUri only when package.json names the project, one rule per check that ran', () => {
    const driver = log.runs[0]!.tool.driver;
    expect(driver.name).toBe('supaudit');
    expect(driver.version).toBe(report.tool.version);
    if (PROJECT_URL === null) expect(driver.informationUri).toBeUndefined();
    else expect(driver.informationUri).toBe(PROJECT_URL);
    expect(driver.rules!.map((r) => r.id)).toEqual(report.checks.map((c) => c.id));
    for (const [i, rule] of driver.rules!.entries()) {
      const check = report.checks[i]!;
      expect(rule.shortDescription?.text).toBe(check.title);
      expect(rule.fullDescription?.text).toBe(check.description);
      if (DOCS_BASE === null) expect(rule.helpUri).toBeUndefined();
      else expect(rule.helpUri).toBe(new URL(`checks/${check.id}.md`, DOCS_BASE).href);
      // the doc that ships with supaudit, whole
      expect(rule.help?.markdown).toBe(redact(checkDoc(check.id)!));
      expect(rule.help?.markdown).toContain('## How to fix');
      expect(rule.defaultConfiguration?.level).toBe(sarifLevel(check.level));
      expect(rule.properties?.tags).toContain(check.category);
      if (check.category === 'security') expect(rule.properties?.['security-severity']).toMatch(/^\d+\.\d$/);
      else expect(rule.properties?.['security-severity']).toBeUndefined();
    }
    const rls = driver.rules!.find((r) => r.id === 'rls_disabled_in_public')!;
    expect(rls.properties?.['security-severity']).toBe('9.5');
  });

  test('one result per finding, ruleIndex pointing at its rule, level mapped, fingerprint kept', () => {
    const run = log.runs[0]!;
    const results = run.results!;
    expect(results).toHaveLength(report.findings.length);
    const expectedLevel = { critical: 'error', high: 'error', medium: 'warning', low: 'note', info: 'note' } as const;
    for (const [i, r] of results.entries()) {
      const f = report.findings[i]!;
      expect(r.ruleId).toBe(f.check);
      expect(run.tool.driver.rules![r.ruleIndex!]!.id).toBe(f.check);
      expect(r.level).toBe(expectedLevel[f.level]);
      expect(r.message.text).toBe(f.message);
      expect(r.partialFingerprints).toEqual({ [FINGERPRINT_KEY]: f.fingerprint, primaryLocationLineHash: expect.stringMatching(/^[0-9a-f]{16}:1$/) });
      expect(r.suppressions).toBeUndefined();
    }
    expect(new Set(results.map((r) => r.level))).toEqual(new Set(['error', 'warning', 'note']));
  });

  test('locations: migration file and line (relative, under SRCROOT) and the logical object', () => {
    const results = log.runs[0]!.results!;
    const byFingerprint = new Map(results.map((r) => [r.partialFingerprints![FINGERPRINT_KEY]!, r]));
    const at = (fp: string) => byFingerprint.get(fp)!.locations![0]!;
    const billing = 'supabase/migrations/20250115093000_billing.sql';
    expect(at('rls_disabled_in_public:public.payment_methods').physicalLocation).toEqual({
      artifactLocation: { uri: billing, uriBaseId: 'SRCROOT' },
      region: { startLine: demoLine(billing, 'create table public.payment_methods') },
    });
    expect(at('rls_disabled_in_public:public.payment_methods').logicalLocations).toEqual([
      { fullyQualifiedName: 'public.payment_methods', name: 'payment_methods', kind: 'table' },
    ]);
    const hostile = at(`rls_disabled_in_public:public.${HOSTILE_TABLE}`);
    expect(hostile.physicalLocation?.artifactLocation?.uri).toBe(`supabase/migrations/${HOSTILE_MIGRATION}`);
    expect(hostile.physicalLocation?.region?.startLine).toBe(demoLine(`supabase/migrations/${HOSTILE_MIGRATION}`, 'create table public."<script>'));
    // Every finding the migrations located has a physical location; the rest a logical one.
    for (const [i, r] of results.entries()) {
      const f = report.findings[i]!;
      if (f.location) expect(r.locations![0]!.physicalLocation?.artifactLocation?.uri).toBe(f.location.file);
      else expect(r.locations![0]!.physicalLocation).toBeUndefined();
      expect(r.locations![0]!.logicalLocations![0]!.fullyQualifiedName!.startsWith(`${f.object.schema}.`)).toBe(true);
    }
    expect(report.findings.filter((f) => f.location).length).toBeGreaterThan(report.findings.length / 2);
  });

  test('a finding without a migration location gets only a logical location (schema.object.policy)', () => {
    const f = report.findings.find((x) => x.object.policy !== undefined)!;
    const { location: _dropped, ...unlocated } = f;
    const single = JSON.parse(renderSarif({ ...report, findings: [unlocated] })) as Log;
    expectValid(single);
    const loc = single.runs[0]!.results![0]!.locations![0]!;
    expect(loc.physicalLocation).toBeUndefined();
    expect(loc.logicalLocations).toEqual([{ fullyQualifiedName: `${f.object.schema}.${f.object.name}.${f.object.policy}`, name: f.object.policy, kind: f.object.type }]);
  });

  test('suppressed findings are results with an accepted suppression and its reason; baseline state per result', () => {
    const { report: r, suppressedFingerprint } = withSuppressionAndBaseline(report);
    const doc = JSON.parse(renderSarif(r)) as Log;
    expectValid(doc);
    const results = doc.runs[0]!.results!;
    expect(results).toHaveLength(r.findings.length + 1);
    const suppressed = results.filter((x) => x.suppressions) as Result[];
    expect(suppressed).toHaveLength(1);
    expect(suppressed[0]!.partialFingerprints![FINGERPRINT_KEY]).toBe(suppressedFingerprint);
    expect(suppressed[0]!.suppressions).toEqual([
      { kind: 'external', status: 'accepted', justification: 'staging only <b>, | not | a table', properties: { by: 'ops@example.com', expires: '2099-01-01' } },
    ]);
    const states = results.filter((x) => !x.suppressions).map((x) => x.baselineState);
    expect(states.filter((s) => s === 'new')).toHaveLength(3);
    expect(states.filter((s) => s === 'unchanged')).toHaveLength(r.findings.length - 3);
  });

  test('helpUri base: package.json repository or homepage; without either no link at all (never a guessed repository)', () => {
    expect(linksFrom({ repository: { url: 'git+https://github.com/acme/supaudit.git' } })?.docsBase).toBe('https://github.com/acme/supaudit/blob/main/');
    expect(linksFrom({ repository: 'github:acme/tool' })?.project).toBe('https://github.com/acme/tool');
    expect(linksFrom({ repository: 'acme/tool' })?.docsBase).toBe('https://github.com/acme/tool/blob/main/');
    expect(linksFrom({ homepage: 'https://supaudit.dev/docs' })?.docsBase).toBe('https://supaudit.dev/docs/');
    expect(linksFrom({ repository: 'https://gitlab.com/acme/tool', homepage: 'https://github.com/acme/tool#readme' })?.project).toBe('https://github.com/acme/tool');
    expect(linksFrom({})).toBeNull();
  });
});
