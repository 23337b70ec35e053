import { DOCS_BASE } from '../../reports/_links.ts';
import escapeHtml from 'escape-html';
import { beforeAll, describe, expect, test } from 'vitest';
import { LEVELS } from '../../src/model/level.ts';
import type { Report } from '../../src/model/report.ts';
import { renderHtml } from '../../reports/html.ts';
import { auditHostileDemo, HOSTILE_POLICY, HOSTILE_TABLE, withSuppressionAndBaseline } from './_demo.ts';

let report: Report;
let html: string;
beforeAll(async () => {
  report = await auditHostileDemo();
  html = renderHtml(report);
}, 180_000);

/** The document without its one trusted inline <script> and <style>, i.e. everything built from report data. */
function markupOnly(doc: string): string {
  return doc.replace(/<script>[\s\S]*?<\/script>\n<\/body>/, '</body>').replace(/<style>[\s\S]*?<\/style>/, '');
}

describe('html reporter on the demo project (+ hostile migration)', () => {
  test('the hostile table really is in the findings, and renders as text', () => {
    const hostile = report.findings.filter((f) => f.object.name === HOSTILE_TABLE);
    expect(hostile.map((f) => f.check).sort()).toEqual(['audit_trail_missing', 'policy_exists_rls_disabled', 'rls_disabled_in_public', 'sensitive_columns_exposed']);
    expect(html).toContain(`<code>${escapeHtml(`public.${HOSTILE_TABLE}`)}</code>`);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/<[^>]*\son[a-z]+\s*=/i);
    // The policy name (with </pre> and an <img>) is in a message, escaped.
    expect(html).toContain(escapeHtml(HOSTILE_POLICY));
    // Exactly one <script> element: ours, at the end.
    expect(html.match(/<script\b/g)).toHaveLength(1);
    expect(markupOnly(html)).not.toMatch(/<\/?(script|img|iframe|object|embed)\b/i);
  });

  test('no request leaves the page: no external src/href/url(), a CSP that allows only inline script and style', () => {
    expect(html).not.toMatch(/<[a-z][^>]*\s(src|srcset|data|poster|background)\s*=/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/url\(|@import/i);
    expect(html).not.toMatch(/<(img|iframe|audio|video|source|object|embed)\b/i);
    // The only absolute URLs are links to the check docs (navigation, not loaded), marked noopener.
    const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!);
    // Links only to the project's own docs, and only when package.json names the project.
    if (DOCS_BASE === null) {
      expect(hrefs).toEqual([]);
      expect(html).toContain('<code>supaudit explain rls_disabled_in_public</code>');
    } else for (const href of hrefs) expect(href).toMatch(/^https:\/\/[^/]+\/.+\/checks\/[a-z0-9_]+\.md$/);
    expect(html).not.toContain('http://');
    expect([...html.matchAll(/<a href="[^"]*"([^>]*)>/g)].every((m) => m[1]!.includes('rel="noopener noreferrer"'))).toBe(true);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
    expect(csp).toBe("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'");
  });

  test('one blast-radius chart (inline SVG) per role, with its score', () => {
    expect(report.blastRadius.length).toBeGreaterThanOrEqual(3);
    const sections = [...html.matchAll(/<section class="role" data-role="([^"]*)">([\s\S]*?)<\/section>/g)];
    expect(sections.map((s) => s[1])).toEqual(report.blastRadius.map((r) => escapeHtml(r.role)));
    for (const [i, s] of sections.entries()) {
      const r = report.blastRadius[i]!;
      expect(s[2]!.match(/<svg\b/g)).toHaveLength(1);
      expect(s[2]).toContain(r.bypassesRls ? 'bypasses RLS by design' : `score ${r.score}/100`);
      // One bar per drawn contribution (up to 8), on the heaviest contribution the full width.
      const bars = (s[2]!.match(/<rect class="bar"/g) ?? []).length;
      expect(bars).toBe(r.bypassesRls ? 0 : Math.min(8, r.breakdown?.length ?? 0));
      if (!r.bypassesRls && bars > 0) expect(s[2]).toContain('<rect class="bar" x="0" y="48" width="360.0"');
    }
  });

  test('findings: one article per finding with level and roles for the filters; fix SQL in <pre> with a copy button', () => {
    const articles = [...html.matchAll(/<article class="finding (\w+)" data-level="(\w+)" data-roles="([^"]*)"/g)];
    expect(articles).toHaveLength(report.findings.length);
    expect(articles.map((a) => a[2])).toEqual(report.findings.map((f) => f.level));
    expect(articles.map((a) => a[3])).toEqual(report.findings.map((f) => f.roles.map(escapeHtml).join(' ')));
    const withSql = report.findings.filter((f) => f.remediation.sql);
    expect(html.match(/<div class="fix"><pre><code class="language-sql">/g)).toHaveLength(withSql.length);
    expect(html.match(/<button type="button" hidden>Copy<\/button>/g)).toHaveLength(withSql.length);
    expect(html).toContain('<pre><code class="language-sql">ALTER TABLE public.payment_methods ENABLE ROW LEVEL SECURITY;</code></pre>');
    expect(html).toContain(escapeHtml(`ALTER TABLE public."${HOSTILE_TABLE}" ENABLE ROW LEVEL SECURITY;`));
    for (const f of report.findings) expect(html).toContain(`fingerprint <code>${escapeHtml(f.fingerprint)}</code>`);
  });

  test('summary and filters: counts per level, a role selector; hidden until the script runs', () => {
    for (const level of LEVELS) {
      expect(html).toContain(`<tr data-level="${level}"><td><span class="badge ${level}">${level}</span></td><td class="num">${report.summary[level]}</td></tr>`);
      expect(html).toContain(`value="${level}" checked>`);
    }
    expect(html).toContain('<form id="filters" class="filters" hidden>');
    for (const r of report.blastRadius) expect(html).toContain(`<option value="${escapeHtml(r.role)}">`);
  });

  test('suppressed findings with reason, baseline line, notes', () => {
    const { report: r, suppressedFingerprint } = withSuppressionAndBaseline(report);
    const out = renderHtml({ ...r, notes: [{ area: 'storage', message: 'denied <b>x</b>' }] });
    expect(out).toContain('<h2 id="suppressed">Suppressed (1)</h2>');
    expect(out).toContain(`<td><code>${escapeHtml(suppressedFingerprint)}</code></td>`);
    expect(out).toContain('<td>staging only &lt;b&gt;, | not | a table</td><td>ops@example.com</td><td>2099-01-01</td><td>supaudit.ignore.json</td>');
    expect(out).toContain('<strong>Baseline:</strong> 3 new, 2 fixed since baseline');
    expect(out).toContain('<li><strong>storage:</strong> denied &lt;b&gt;x&lt;/b&gt;</li>');
    expect(out.match(/<article /g)).toHaveLength(r.findings.length);
  });
});
