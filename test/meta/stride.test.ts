/**
 * Every check's findings carry STRIDE categories, and the reports walk the threat model: per
 * category, the worst finding for an attacker with the anon key and for one with any account.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { allChecks } from '../../checks/index.ts';
import { renderMarkdown } from '../../reports/md.ts';
import { renderText } from '../../reports/text.ts';
import { renderSarif } from '../../reports/sarif.ts';
import { threatModel } from '../../reports/_report.ts';
import type { Report } from '../../src/model/report.ts';
import { STRIDE, strideOf } from '../../src/model/stride.ts';
import { auditPglite } from '../support/audit.ts';
import { readFileSync } from 'node:fs';
import { migrationFiles } from '../../src/introspect/targets/sql-files.ts';

describe('STRIDE', () => {
  test('every check in the registry has at least one category, all of them STRIDE letters', () => {
    for (const check of allChecks) {
      const s = strideOf(check.meta.id);
      expect(s.length, check.meta.id).toBeGreaterThan(0);
      for (const c of s) expect(STRIDE).toContain(c);
    }
  });

  let report: Report;
  beforeAll(async () => {
    const dir = new URL('../../supabase/migrations/', import.meta.url).pathname;
    const sql = migrationFiles(dir).map((f) => readFileSync(f, 'utf8')).join('\n;\n');
    report = (await auditPglite(sql)).report;
  }, 180_000);

  test('on the demo: every finding has its check\'s categories; the threat model names the worst per attacker', () => {
    expect(report.findings.length).toBeGreaterThan(20);
    for (const f of report.findings) expect(f.stride).toEqual(strideOf(f.check));
    const threats = threatModel(report);
    const elevation = threats.find((t) => t.category === 'E')!;
    expect(elevation.findings).toBe(report.findings.filter((f) => f.stride!.includes('E')).length);
    // findings come most severe first: the worst for a user is the first E finding a user can use
    expect(elevation.user).toBe(report.findings.find((f) => f.stride!.includes('E') && (f.roles.includes('authenticated') || f.roles.includes('PUBLIC'))));
    const info = threats.find((t) => t.category === 'I')!;
    expect(info.anon?.roles.some((r) => r === 'anon' || r === 'PUBLIC')).toBe(true);
    const md = renderMarkdown(report);
    expect(md).toContain('## Threat model (STRIDE)');
    expect(md).toMatch(/\| \*\*E\*\* Elevation of privilege \| \d+ (critical|high)/);
    expect(renderText(report, { color: false })).toContain('Threat model (STRIDE)');
    const sarif = JSON.parse(renderSarif(report)) as { runs: { results: { properties: { stride?: string[] } }[] }[] };
    expect(sarif.runs[0]!.results.every((r) => (r.properties.stride ?? []).length > 0)).toBe(true);
  });
});
