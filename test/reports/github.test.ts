import { beforeAll, describe, expect, test } from 'vitest';
import type { Finding } from '../../src/model/finding.ts';
import type { Report } from '../../src/model/report.ts';
import { annotation, annotationCommand, escapeData, escapeProperty, githubStepSummary, renderGithub } from '../../reports/github.ts';
import { githubStepSummary as fromIndex } from '../../reports/index.ts';
import { renderMarkdown } from '../../reports/md.ts';
import { auditHostileDemo, HOSTILE_MIGRATION, HOSTILE_POLICY, HOSTILE_TABLE, withSuppressionAndBaseline } from './_demo.ts';

let report: Report;
let out: string;
beforeAll(async () => {
  report = await auditHostileDemo();
  out = renderGithub(report);
}, 180_000);

/** Reverses GitHub's escaping of a command's message. */
const unescapeData = (s: string) => s.replaceAll('%0D', '\r').replaceAll('%0A', '\n').replaceAll('%3A', ':').replaceAll('%2C', ',').replaceAll('%25', '%');

describe('github reporter on the demo project (+ hostile migration)', () => {
  test('one workflow command per finding, one line each, then a summary notice', () => {
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(report.findings.length + 1);
    for (const [i, f] of report.findings.entries()) expect(lines[i]!.startsWith(`::${annotationCommand(f.level)} title=`)).toBe(true);
    const s = report.summary;
    expect(lines.at(-1)).toBe(`::notice title=supaudit summary::supaudit: ${report.findings.length} findings (${s.critical} critical, ${s.high} high, ${s.medium} medium, ${s.low} low, ${s.info} info)`);
  });

  test('levels: critical/high → error, medium → warning, low/info → notice', () => {
    expect((['critical', 'high', 'medium', 'low', 'info'] as const).map(annotationCommand)).toEqual(['error', 'error', 'warning', 'notice', 'notice']);
    const count = (cmd: string) => out.split('\n').filter((l) => l.startsWith(`::${cmd} title=`) && !l.includes('title=supaudit summary')).length;
    expect(count('error')).toBe(report.summary.critical + report.summary.high);
    expect(count('warning')).toBe(report.summary.medium);
    expect(count('notice')).toBe(report.summary.low + report.summary.info);
  });

  test('file and line from the migrations; properties and message escaped', () => {
    const f = report.findings.find((x) => x.check === 'policy_exists_rls_disabled' && x.object.name === HOSTILE_TABLE)!;
    expect(f.message).toContain(HOSTILE_POLICY);
    const line = out.split('\n').find((l) => l.includes(`file=supabase/migrations/${HOSTILE_MIGRATION}`) && l.includes('policy_exists_rls_disabled'))!;
    const m = /^::error title=([^,]*),file=([^,]*),line=(\d+)::(.*)$/.exec(line)!;
    expect(m).not.toBeNull();
    expect(unescapeData(m[1]!)).toBe(`CRITICAL policy_exists_rls_disabled: public.${HOSTILE_TABLE}`);
    expect(m[1]).not.toMatch(/[,:\n]/);
    expect(Number(m[3])).toBe(f.location!.line);
    expect(unescapeData(m[4]!)).toBe(`${f.message}\nFix:\n${f.remediation.sql}`);
    expect(m[4]).not.toMatch(/[\r\n]/);
    expect(m[4]).toContain('%25');
  });

  test('escaping: % first, then CR/LF; properties also , and :', () => {
    expect(escapeData('100% done\r\nnext: a, b')).toBe('100%25 done%0D%0Anext: a, b');
    expect(escapeProperty('100% done\r\nnext: a, b')).toBe('100%25 done%0D%0Anext%3A a%2C b');
    expect(escapeData('%0A')).toBe('%250A');
    const base = report.findings[0]!;
    const crafted: Finding = {
      ...base,
      level: 'medium',
      check: 'x',
      object: { schema: 'public', name: 'a,b:c', type: 'table' },
      message: 'line one\nline two: 50%, done\r\n::error::injected',
      remediation: { text: 'do it' },
      location: { file: 'supabase/migrations/a,b:c.sql', line: 7 },
    };
    expect(annotation(crafted)).toBe(
      // Line breaks inside the message come from names: shown as \n text, so no line can start a new command.
      '::warning title=MEDIUM x%3A public.a%2Cb%3Ac,file=supabase/migrations/a%2Cb%3Ac.sql,line=7::line one\\nline two: 50%25, done\\r\\n::error::injected%0AFix: do it',
    );
    const { location: _l, ...unlocated } = crafted;
    expect(annotation({ ...unlocated, level: 'info' })).toMatch(/^::notice title=INFO x%3A public\.a%2Cb%3Ac::/);
  });

  test('step summary is the Markdown report (exported from the registry for the CLI), with baseline and suppressed', () => {
    expect(githubStepSummary(report)).toBe(renderMarkdown(report));
    expect(fromIndex).toBe(githubStepSummary);
    const { report: r } = withSuppressionAndBaseline(report);
    const summary = githubStepSummary(r);
    expect(summary).toContain('3 new, 2 fixed since baseline');
    expect(summary).toContain('## Suppressed (1)');
    expect(renderGithub(r).trimEnd().split('\n').at(-1)).toMatch(/, 1 suppressed; 3 new, 2 fixed since baseline$/);
  });
});
