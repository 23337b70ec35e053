import { beforeAll, describe, expect, test } from 'vitest';
import type { Report } from '../../src/model/report.ts';
import { renderJunit, xmlEscape } from '../../reports/junit.ts';
import { objectPath } from '../../reports/_report.ts';
import { auditHostileDemo, HOSTILE_TABLE, withSuppressionAndBaseline } from './_demo.ts';
import { parseXml, type XmlElement } from './_xml.ts';

let report: Report;
let doc: XmlElement;
beforeAll(async () => {
  report = await auditHostileDemo();
  doc = parseXml(renderJunit(report));
}, 180_000);

const all = (el: XmlElement, name: string): XmlElement[] => [...(el.name === name ? [el] : []), ...el.children.flatMap((c) => all(c, name))];

describe('junit reporter on the demo project (+ hostile migration)', () => {
  test('well-formed XML: testsuites > testsuite per category > one testcase per finding, one per clean check', () => {
    expect(doc.name).toBe('testsuites');
    const categories = [...new Set(report.checks.map((c) => c.category))];
    expect(doc.children.map((s) => s.attributes['name'])).toEqual(['security', 'performance', 'schema'].filter((c) => categories.includes(c as never)).map((c) => `supaudit.${c}`));
    const cases = all(doc, 'testcase');
    const clean = report.checks.filter((c) => !report.findings.some((f) => f.check === c.id)).map((c) => c.id);
    const expected = [...report.findings.map((f) => `${f.check}: ${objectPath(f.object)}`), ...clean];
    expect(cases.map((c) => c.attributes['name']).sort()).toEqual(expected.sort());
    for (const suite of doc.children) {
      for (const c of suite.children) {
        const check = c.attributes['classname']!.split('.').at(-1)!;
        expect(c.attributes['classname']).toBe(`${suite.attributes['name']}.${check}`);
        expect(c.attributes['name']!.startsWith(check)).toBe(true);
      }
      expect(Number(suite.attributes['tests'])).toBe(suite.children.length);
      expect(Number(suite.attributes['failures'])).toBe(all(suite, 'failure').length);
    }
    expect(Number(doc.attributes['tests'])).toBe(report.findings.length + clean.length);
  });

  test('failure count equals the findings count, one per testcase; type is the level', () => {
    const failures = all(doc, 'failure');
    expect(failures).toHaveLength(report.findings.length);
    expect(Number(doc.attributes['failures'])).toBe(report.findings.length);
    for (const f of report.findings) {
      const c = all(doc, 'testcase').filter((x) => x.attributes['name'] === `${f.check}: ${objectPath(f.object)}`);
      expect(c.flatMap((x) => x.children.filter((y) => y.name === 'failure').map((y) => y.attributes['type']))).toContain(f.level);
    }
  });

  test('failure body: object, message, fingerprint and fix SQL, escaped and read back intact', () => {
    const f = report.findings.find((x) => x.check === 'rls_disabled_in_public' && x.object.name === HOSTILE_TABLE)!;
    const failure = all(doc, 'failure').find((x) => x.text.includes(`fingerprint: ${f.fingerprint}`))!;
    expect(failure.attributes['message']).toBe(f.message);
    expect(failure.text).toContain(`CRITICAL rls_disabled_in_public on public.${HOSTILE_TABLE} (table)`);
    expect(failure.text).toContain(f.remediation.sql!);
    expect(failure.text).toMatch(/docs: (https:\/\/.+\/checks\/rls_disabled_in_public\.md|supaudit explain rls_disabled_in_public)$/);
  });

  test('suppressed findings are <skipped message="suppressed: reason">', () => {
    const { report: r, suppressedFingerprint } = withSuppressionAndBaseline(report);
    const d = parseXml(renderJunit(r));
    const skipped = all(d, 'skipped');
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.attributes['message']).toBe('suppressed: staging only <b>, | not | a table');
    expect(skipped[0]!.text).toBe(suppressedFingerprint);
    expect(all(d, 'failure')).toHaveLength(r.findings.length);
    expect(Number(d.attributes['skipped'])).toBe(1);
  });

  test('check errors are <error>; characters XML cannot carry are shown escaped', () => {
    const d = parseXml(renderJunit({ ...report, checkErrors: [{ check: 'duplicate_index', message: 'boom \u0000\u001b[31m <&> "q" \ud800' }] }));
    const errors = all(d, 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.attributes['message']).toBe('boom \\u0000\\u001b[31m <&> "q" \\ud800');
    expect(xmlEscape('a\nb\t"c"')).toBe('a&#10;b&#9;&quot;c&quot;');
    expect(() => parseXml('<a><b></a></b>')).toThrow(/mismatched/);
    expect(() => parseXml('<a x="1 & 2"/>')).toThrow(/unterminated reference/);
    expect(() => parseXml('<a>x < y</a>')).toThrow();
  });
});
