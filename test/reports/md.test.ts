import { DOCS_BASE } from '../../reports/_links.ts';
import { loadModule, parse } from 'libpg-query';
import { beforeAll, describe, expect, test } from 'vitest';
import { LEVELS } from '../../src/model/level.ts';
import type { Report } from '../../src/model/report.ts';
import { mdCode, mdFence, mdText, renderMarkdown } from '../../reports/md.ts';
import { renderText } from '../../reports/text.ts';
import { auditHostileDemo, HOSTILE_TABLE, withSuppressionAndBaseline } from './_demo.ts';

let report: Report;
let md: string;
beforeAll(async () => {
  report = await auditHostileDemo();
  md = renderMarkdown(report);
  await loadModule();
}, 180_000);

/** The ```sql blocks of a Markdown document (fences of three or more backticks). */
function sqlBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  const re = /^(`{3,})sql\n([\s\S]*?)\n\1$/gm;
  for (let m = re.exec(markdown); m; m = re.exec(markdown)) blocks.push(m[2]!);
  return blocks;
}

/** Cells of a Markdown table row, split on pipes that are not backslash-escaped. */
function cells(row: string): string[] {
  return row.replace(/^\|/, '').replace(/\|$/, '').split(/(?<!\\)\|/);
}

describe('md reporter on the demo project (+ hostile migration)', () => {
  test('summary table counts equal report.summary', () => {
    for (const level of LEVELS) {
      const label = level.charAt(0).toUpperCase() + level.slice(1);
      expect(md).toContain(`| ${label} | ${report.summary[level]} |`);
    }
    expect(md).toContain(`| **Total** | **${report.findings.length}** |`);
    expect(report.summary.critical).toBeGreaterThan(0);
  });

  test('every finding appears with its fingerprint, object and docs link', () => {
    for (const f of report.findings) {
      expect(md).toContain(mdCode(f.fingerprint));
      expect(md).toContain(DOCS_BASE === null ? `\`supaudit explain ${f.check}\`` : `/checks/${f.check}.md)`);
    }
    expect(md).toContain('`public.payment_methods`');
    // Headings per level carry the count.
    for (const level of LEVELS) if (report.summary[level] > 0) expect(md).toMatch(new RegExp(`^### ${level[0]!.toUpperCase()}${level.slice(1)} \\(${report.summary[level]}\\)$`, 'm'));
  });

  test('every fix SQL block parses with the Postgres parser, and there is one per finding with SQL', async () => {
    const blocks = sqlBlocks(md);
    expect(blocks.length).toBe(report.findings.filter((f) => f.remediation.sql).length);
    expect(blocks.length).toBeGreaterThan(10);
    for (const sql of blocks) await expect(parse(sql), sql).resolves.toHaveProperty('stmts');
    expect(blocks.some((b) => b.includes('ALTER TABLE public."<script>alert(1)</script>" ENABLE ROW LEVEL SECURITY;'))).toBe(true);
  });

  test('hostile identifiers cannot inject HTML or break tables', () => {
    const outsideCode = md.replace(/^(`{3,})sql\n[\s\S]*?\n\1$/gm, '').replace(/(`+)[^`]*?\1/g, '');
    expect(outsideCode).not.toMatch(/<script|<img|<\/pre/i);
    expect(md).toContain(mdCode(`public.${HOSTILE_TABLE}`));
    // Every table row has as many cells as its header.
    const lines = md.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i]!.startsWith('|---')) continue;
      const width = cells(lines[i - 1]!).length;
      for (let j = i + 1; j < lines.length && lines[j]!.startsWith('|'); j++) expect(cells(lines[j]!), lines[j]).toHaveLength(width);
    }
    expect(mdText('|a| <b> *x* `y`')).toBe('\\|a\\| &lt;b&gt; \\*x\\* \\`y\\`');
    expect(mdCode('a`b``c')).toBe('```a`b``c```');
    expect(mdFence('select 1 -- ```', 'sql')).toBe('````sql\nselect 1 -- ```\n````');
  });

  test('long levels fold into <details>; short ones do not', () => {
    const folded = renderMarkdown(report, { collapseAfter: 10 });
    const foldedLevels = LEVELS.filter((l) => report.summary[l] > 10);
    expect(foldedLevels.length).toBeGreaterThan(0);
    for (const l of foldedLevels) expect(folded).toContain(`<details><summary>${report.summary[l]} ${l} findings</summary>`);
    expect(folded.match(/<details>/g)).toHaveLength(foldedLevels.length);
    expect(md.match(/<details>/g)?.length ?? 0).toBe(LEVELS.filter((l) => report.summary[l] > 20).length);
  });

  test('blast radius per role: score and top paths', () => {
    for (const r of report.blastRadius) {
      expect(md).toMatch(new RegExp(`^\\| ${mdText(r.role).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')} \\| ${r.bypassesRls ? 'bypasses RLS by design' : `${r.score}/100`} \\|`, 'm'));
    }
    const anon = report.blastRadius.find((r) => r.role === 'anon')!;
    expect(md).toContain(`- ${mdText(anon.breakdown![0]!.reason)} — ${anon.breakdown![0]!.points} points`);
  });

  test('suppressed findings are listed with their reason; the baseline line is shown', () => {
    const { report: r, suppressedFingerprint } = withSuppressionAndBaseline(report);
    const out = renderMarkdown(r);
    expect(out).toContain('## Suppressed (1)');
    expect(out).toContain(`| ${mdText(suppressedFingerprint)} | critical | staging only &lt;b&gt;, \\| not \\| a table | ops@example.com | 2099-01-01 | supaudit.ignore.json |`);
    expect(out).toContain('**Baseline:** 3 new, 2 fixed since baseline (`supaudit.baseline.json`)');
    expect(out).toContain('## Fixed since baseline (2)');
    expect(out.split('## Suppressed')[0]).not.toContain(mdCode(suppressedFingerprint));
    // The text reporter shows the same, briefly.
    const text = renderText(r, { color: false });
    expect(text).toContain('Baseline: 3 new, 2 fixed since baseline (supaudit.baseline.json)');
    expect(text).toContain(`Suppressed (1) — not counted, never fail the run\n  - ${suppressedFingerprint} (critical): staging only <b>, | not | a table (suppressions file, by ops@example.com, until 2099-01-01)`);
    expect(renderText(report, { color: false })).not.toMatch(/Suppressed|Baseline/);
  });

  test('notes and check errors make a Notes section', () => {
    const out = renderMarkdown({ ...report, notes: [{ area: 'storage', message: 'permission denied for <table> storage.objects' }], checkErrors: [{ check: 'duplicate_index', message: 'boom' }] });
    expect(out).toContain('## Notes');
    expect(out).toContain('- **storage:** permission denied for &lt;table&gt; storage.objects');
    expect(out).toContain('- **check `duplicate_index` failed:** boom');
    // The demo's notes: the embedded database has no workload for unused_index to judge; the exploit proofs' summary.
    expect(report.notes.map((n) => n.area)).toEqual(['statistics', 'lab', 'proofs', 'lab']);
    expect(md).toContain('- **statistics:** unused\\_index not applied: the embedded database ran only the migrations and seed');
  });
});
