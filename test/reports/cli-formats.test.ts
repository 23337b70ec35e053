import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Log } from 'sarif';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LEVELS } from '../../src/model/level.ts';
import type { Report } from '../../src/model/report.ts';
import { runCli, type CliRun } from '../support/cli.ts';
import { parseXml } from './_xml.ts';

const out = mkdtempSync(join(tmpdir(), 'supaudit-formats-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** One CLI run writes every file format; they must all tell the same story. */
describe('supaudit --demo -f md -f html -f sarif -f junit -f json -o <dir>', () => {
  let run: CliRun;
  let report: Report;
  const read = (name: string) => readFileSync(join(out, name), 'utf8');
  beforeAll(async () => {
    run = await runCli(['--demo', '-f', 'md', '-f', 'html', '-f', 'sarif', '-f', 'junit', '-f', 'json', '-o', out]);
    report = JSON.parse(read('supaudit.json')) as Report;
  }, 180_000);

  test('exit 0, every file written and named on stderr', () => {
    expect(run.code).toBe(0);
    // …and the schema file that gives the findings no migration created a file and line
    const files = ['supaudit.md', 'supaudit.html', 'supaudit.sarif', 'supaudit.junit.xml', 'supaudit.json', 'supaudit-schema.sql'];
    expect(readdirSync(out).sort()).toEqual([...files].sort());
    for (const f of report.findings) expect(f.location).toBeDefined();
    for (const f of files) expect(run.stderr).toContain(join(out, f));
    expect(report.findings.length).toBeGreaterThan(20);
  });

  test('the same findings in every format', () => {
    const n = report.findings.length;
    const md = read('supaudit.md');
    for (const level of LEVELS) expect(md).toContain(`| ${level[0]!.toUpperCase()}${level.slice(1)} | ${report.summary[level]} |`);
    expect(md).toContain(`| **Total** | **${n}** |`);
    expect(md.match(/^\*\*Check:\*\* /gm)).toHaveLength(n);
    expect(read('supaudit.html').match(/<article class="finding /g)).toHaveLength(n);
    const sarif = JSON.parse(read('supaudit.sarif')) as Log;
    expect(sarif.runs[0]!.results!.map((r) => r.partialFingerprints!['supauditFingerprint/v1'])).toEqual(report.findings.map((f) => f.fingerprint));
    const junit = parseXml(read('supaudit.junit.xml'));
    expect(Number(junit.attributes['failures'])).toBe(n);
    expect(Number(junit.attributes['tests'])).toBe(n + report.checks.filter((c) => !report.findings.some((f) => f.check === c.id)).length);
    for (const level of LEVELS) {
      expect(sarif.runs[0]!.results!.filter((r) => (r.properties as { supauditLevel: string }).supauditLevel === level)).toHaveLength(report.summary[level]);
    }
  });
});
