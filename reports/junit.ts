/**
 * JUnit XML for CI systems that show test results: one `<testsuite>` per check category, one
 * failing `<testcase>` per finding (type = level), a skipped one per suppressed finding, a passing
 * one per check that found nothing, an `<error>` when the check itself crashed.
 */
import type { Finding } from '../src/model/finding.ts';
import type { Report, ReportCheck } from '../src/model/report.ts';
import { redact } from '../src/model/redact.ts';
import { visibleText } from './_format.ts';
import { absoluteDocsUrl } from './_links.ts';
import { objectPath } from './_report.ts';

/**
 * Escapes text for XML content and attribute values. Characters XML 1.0 cannot carry at all
 * (most C0 controls, lone surrogates, U+FFFE/U+FFFF) are written as `\uXXXX`.
 */
export function xmlEscape(text: string): string {
  // Bidi overrides and other invisible characters are spelled out: a name must not display as another.
  return visibleText(text).replace(/[&<>"'\r\n\t]|[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (ch) => {
    switch (ch) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      case '\n':
        return '&#10;';
      case '\r':
        return '&#13;';
      case '\t':
        return '&#9;';
      default:
        return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  });
}

/** Like `xmlEscape`, but keeps line breaks literal (for element bodies people read). */
function xmlBody(text: string): string {
  return text.split('\n').map(xmlEscape).join('\n');
}

const CATEGORY_ORDER = ['security', 'performance', 'schema'] as const;

function failureBody(f: Finding): string {
  const lines = [`${f.level.toUpperCase()} ${f.check} on ${objectPath(f.object)} (${f.object.type})`, f.message];
  if (f.roles.length > 0) lines.push(`roles: ${f.roles.join(', ')}`);
  if (f.location) lines.push(`defined at: ${f.location.file}:${f.location.line}`);
  lines.push(`fingerprint: ${f.fingerprint}`, `fix: ${f.remediation.text}`);
  if (f.remediation.sql) lines.push('', f.remediation.sql);
  lines.push('', `docs: ${absoluteDocsUrl(f.docs) ?? `supaudit explain ${f.check}`}`);
  return lines.join('\n');
}

/**
 * The report as a JUnit `<testsuites>` document: one `<testsuite>` per category; in it, one failing
 * `<testcase>` per finding (named `check: object`, so CI dashboards count and track findings, not
 * checks), one skipped testcase per suppressed finding, one passing testcase per check that found
 * nothing, and an `<error>` testcase when a check crashed or could not read what it needs.
 */
export function renderJunit(report: Report): string {
  const checks: ReportCheck[] = [...report.checks];
  for (const f of [...report.findings, ...report.suppressed.map((s) => s.finding)]) {
    if (!checks.some((c) => c.id === f.check)) {
      checks.push({ id: f.check, title: f.title, level: f.level, category: 'security', description: f.title, facing: 'external', docs: f.docs });
    }
  }
  const suites: string[] = [];
  const totals = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  for (const category of CATEGORY_ORDER) {
    const inCategory = checks.filter((c) => c.category === category);
    if (inCategory.length === 0) continue;
    const cases: string[] = [];
    const counts = { tests: 0, failures: 0, errors: 0, skipped: 0 };
    const testcase = (classname: string, name: string, child?: string) => {
      counts.tests += 1;
      const open = `    <testcase classname="${xmlEscape(classname)}" name="${xmlEscape(name)}" time="0"`;
      cases.push(child === undefined ? `${open}/>` : `${open}>\n${child}\n    </testcase>`);
    };
    for (const check of inCategory) {
      const findings = report.findings.filter((f) => f.check === check.id);
      const suppressed = report.suppressed.filter((s) => s.finding.check === check.id);
      const errors = [
        ...report.checkErrors.filter((e) => e.check === check.id),
        ...(report.inconclusive ?? []).filter((i) => i.check === check.id).map((i) => ({ check: i.check, message: `inconclusive: ${i.reason}` })),
      ];
      const classname = `supaudit.${category}.${check.id}`;
      for (const f of findings) {
        counts.failures += 1;
        testcase(classname, `${check.id}: ${objectPath(f.object)}`, `      <failure message="${xmlEscape(f.message)}" type="${f.level}">${xmlBody(failureBody(f))}</failure>`);
      }
      for (const s of suppressed) {
        counts.skipped += 1;
        testcase(classname, `${check.id}: ${objectPath(s.finding.object)}`, `      <skipped message="${xmlEscape(`suppressed: ${s.reason}`)}">${xmlBody(s.finding.fingerprint)}</skipped>`);
      }
      for (const e of errors) {
        counts.errors += 1;
        testcase(classname, check.id, `      <error message="${xmlEscape(e.message)}" type="check-error">${xmlBody(`check ${e.check} failed: ${e.message}`)}</error>`);
      }
      if (findings.length === 0 && suppressed.length === 0 && errors.length === 0) testcase(classname, check.id);
    }
    totals.tests += counts.tests;
    totals.failures += counts.failures;
    totals.errors += counts.errors;
    totals.skipped += counts.skipped;
    suites.push(
      `  <testsuite name="supaudit.${category}" tests="${counts.tests}" failures="${counts.failures}" errors="${counts.errors}" skipped="${counts.skipped}" time="0">\n${cases.join('\n')}\n  </testsuite>`,
    );
  }
  const seconds = (report.stats.durationMs / 1000).toFixed(3);
  return (
    redact(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        `<testsuites name="supaudit" tests="${totals.tests}" failures="${totals.failures}" errors="${totals.errors}" skipped="${totals.skipped}" time="${seconds}">`,
        ...suites,
        '</testsuites>',
      ].join('\n'),
    ) + '\n'
  );
}
