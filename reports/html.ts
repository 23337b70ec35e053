/**
 * The HTML report: one self-contained file (inline CSS, inline SVG, a little inline JS; no
 * request leaves the page, and a Content-Security-Policy says so). Every string that comes from
 * the report goes through `escape-html`. Without JavaScript everything is shown; with it, filters
 * by level and role and a copy button on each fix appear.
 */
import escapeHtml from 'escape-html';
import type { Finding } from '../src/model/finding.ts';
import { LEVELS, type Level } from '../src/model/level.ts';
import type { BlastRadius, Report } from '../src/model/report.ts';
import { redact } from '../src/model/redact.ts';
import { proofText, terminalSafe, terminalSafeMultiline } from './_format.ts';
import { absoluteDocsUrl } from './_links.ts';
import { refutedWhy, baselineLine, byLevel, capitalize, checkById, FUNCTION_HEADER, functionCells, functionChangesOthers, functionLegend, LAB_HEADER, labCells, labCrossesOwners, labLegend, LOAD_HEADER, LOAD_NUMERIC, loadCells, loadSummary, ms, objectPath, reachSummary, threatModel, topContributions } from './_report.ts';

export interface HtmlOptions {
  /** Contributions drawn per role in the chart. Default 8. */
  readonly chartBars?: number;
}

/** Escapes text for HTML content and attribute values, control characters shown escaped. */
function h(text: string): string {
  return escapeHtml(terminalSafe(text));
}

const CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const LEVEL_COLOR: Record<Level, string> = {
  critical: '#b3261e',
  high: '#e8590c',
  medium: '#c99a06',
  low: '#1c7ed6',
  info: '#6b7280',
};

const STYLE = `
:root { color-scheme: light dark; --fg: #1f2328; --muted: #59636e; --bg: #ffffff; --panel: #f6f8fa; --border: #d1d9e0; --bar: #cf222e; --track: #e5e7eb; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --panel: #161b22; --border: #3d444d; --bar: #f85149; --track: #30363d; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 72rem; padding: 1.5rem; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
h1 { margin: 0 0 .5rem; font-size: 1.6rem; } h2 { margin-top: 2rem; border-bottom: 1px solid var(--border); padding-bottom: .25rem; } h3 { margin-top: 1.5rem; }
.meta { color: var(--muted); margin: .15rem 0; } code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
table { border-collapse: collapse; margin: .5rem 0; } th, td { border: 1px solid var(--border); padding: .3rem .6rem; text-align: left; vertical-align: top; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 0 .5rem; border-radius: 1rem; color: #fff; font-size: .8rem; font-weight: 600; text-transform: uppercase; }
${LEVELS.map((l) => `.badge.${l} { background: ${LEVEL_COLOR[l]}; }`).join('\n')}
.filters { position: sticky; top: 0; background: var(--bg); padding: .5rem 0; border-bottom: 1px solid var(--border); z-index: 1; display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; }
.filters label { white-space: nowrap; }
.roles { display: grid; grid-template-columns: repeat(auto-fill, minmax(22rem, 1fr)); gap: 1rem; }
.role { border: 1px solid var(--border); border-radius: .5rem; padding: .75rem 1rem; background: var(--panel); }
.role h3 { margin: 0 0 .25rem; } .role svg { width: 100%; height: auto; display: block; } .role svg text { fill: var(--fg); font: 11px system-ui, sans-serif; }
table.lab tr.crosses td { color: ${LEVEL_COLOR.critical}; } .scroll { overflow-x: auto; }
.load-chart svg { width: 100%; max-width: 900px; height: auto; display: block; } .load-chart svg text { fill: var(--fg); font: 11px system-ui, sans-serif; }
.load-chart .rls { fill: var(--bar); } .load-chart .rls.slo { fill: ${LEVEL_COLOR.critical}; } .load-chart .bypass { fill: var(--track); } .load-chart .fixed { fill: #2e7d32; } table.load td.num { text-align: right; }
.role svg .track { fill: var(--track); } .role svg .bar { fill: var(--bar); } .role svg .score { fill: ${LEVEL_COLOR.critical}; }
.finding { border: 1px solid var(--border); border-left: 4px solid var(--muted); border-radius: .4rem; padding: .6rem 1rem; margin: .75rem 0; background: var(--panel); }
${LEVELS.map((l) => `.finding.${l} { border-left-color: ${LEVEL_COLOR[l]}; }`).join('\n')}
.finding h4 { margin: 0 0 .3rem; font-size: 1rem; } .finding p { margin: .3rem 0; } .facts { color: var(--muted); font-size: .9rem; }
.fix { position: relative; } .fix pre { background: var(--bg); border: 1px solid var(--border); border-radius: .3rem; padding: .6rem; overflow-x: auto; white-space: pre; margin: .3rem 0; }
.fix button { position: absolute; top: .3rem; right: .3rem; font-size: .8rem; }
details > summary { cursor: pointer; }
[hidden] { display: none !important; }
`;

/** Filters and copy buttons. No network, no eval, no inline handlers: only listeners on elements of this page. */
const SCRIPT = `
(function () {
  var levels = document.querySelectorAll('input[data-filter-level]');
  var role = document.getElementById('filter-role');
  function apply() {
    var on = {};
    levels.forEach(function (box) { on[box.value] = box.checked; });
    var r = role.value;
    document.querySelectorAll('.finding').forEach(function (el) {
      var roles = (el.getAttribute('data-roles') || '').split(' ');
      el.hidden = !on[el.getAttribute('data-level')] || (r !== '' && roles.indexOf(r) < 0);
    });
    document.querySelectorAll('.role').forEach(function (el) {
      el.hidden = r !== '' && el.getAttribute('data-role') !== r;
    });
    document.querySelectorAll('section.level').forEach(function (sec) {
      sec.hidden = sec.querySelectorAll('.finding:not([hidden])').length === 0;
    });
  }
  levels.forEach(function (box) { box.addEventListener('change', apply); });
  role.addEventListener('change', apply);
  document.getElementById('filters').hidden = false;
  document.querySelectorAll('.fix button').forEach(function (button) {
    button.hidden = false;
    button.addEventListener('click', function () {
      var text = button.parentNode.querySelector('pre').textContent;
      function done(label) { button.textContent = label; setTimeout(function () { button.textContent = 'Copy'; }, 1500); }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { done('Copied'); }, function () { done('Select and copy'); });
      } else {
        var range = document.createRange();
        range.selectNodeContents(button.parentNode.querySelector('pre'));
        var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
        done('Selected: press Ctrl+C');
      }
    });
  });
})();
`;

/** A horizontal bar chart of a role's heaviest score contributions, plus its overall score. */
export function roleChart(radius: BlastRadius, bars: number): string {
  const top = topContributions(radius, bars);
  // Drawn about as wide as a role card, so its 11-unit text reads as 11px.
  const width = 360;
  const rowHeight = 30;
  const height = 34 + top.length * rowHeight;
  const max = Math.max(1, ...top.map((c) => c.points));
  const parts: string[] = [];
  const title = radius.bypassesRls ? `${radius.role}: bypasses RLS by design` : `${radius.role}: score ${radius.score} of 100`;
  parts.push(
    `<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${h(title)}"><title>${h(title)}</title>`,
  );
  // Overall score bar, 0–100.
  parts.push(`<rect class="track" x="0" y="4" width="${width}" height="14" rx="3"/>`);
  if (!radius.bypassesRls) parts.push(`<rect class="score" x="0" y="4" width="${((width * radius.score) / 100).toFixed(1)}" height="14" rx="3"/>`);
  parts.push(`<text x="4" y="30">${radius.bypassesRls ? 'bypasses RLS by design (not scored)' : `score ${radius.score}/100`}</text>`);
  top.forEach((c, i) => {
    const y = 34 + i * rowHeight;
    const w = radius.bypassesRls ? 0 : (width * c.points) / max;
    const label = c.reason.length > 54 ? `${c.reason.slice(0, 53)}…` : c.reason;
    parts.push(`<text x="0" y="${y + 10}">${h(label)}<title>${h(c.reason)}</title></text>`);
    if (!radius.bypassesRls) parts.push(`<text x="${width}" y="${y + 10}" text-anchor="end">${c.points}</text>`);
    parts.push(`<rect class="track" x="0" y="${y + 14}" width="${width}" height="8" rx="2"/>`);
    if (w > 0) parts.push(`<rect class="bar" x="0" y="${y + 14}" width="${w.toFixed(1)}" height="8" rx="2"><title>${h(`${c.points} points`)}</title></rect>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/**
 * `supaudit load`: for each measured table × shape as authenticated (the most clients measured),
 * p95 with RLS and p50 without, on one logarithmic scale (overheads span 1× to 1000×).
 */
export function loadChart(report: Report, bars = 16): string {
  const load = report.load;
  if (!load) return '';
  const most = Math.max(...load.concurrency);
  const rows = load.tables
    .filter((r) => r.role === 'authenticated' && r.concurrency === most && r.samples > 0)
    .sort((a, b) => b.p95Ms - a.p95Ms)
    .slice(0, bars);
  if (rows.length === 0) return '';
  const width = 720;
  const label = 230;
  const rowHeight = 26;
  const height = 24 + rows.length * rowHeight;
  const top = Math.max(...rows.map((r) => Math.max(r.p95Ms, r.fixed?.p95Ms ?? 0, r.bypassP50Ms ?? 0)), 0.01);
  const floor = 0.01;
  const scale = (v: number) => ((Math.log10(Math.max(v, floor)) - Math.log10(floor)) / (Math.log10(top * 1.2) - Math.log10(floor))) * (width - label - 60);
  const title = `p95 latency with RLS vs p50 without, as authenticated, ${most} client${most === 1 ? '' : 's'} (log scale)`;
  const parts = [`<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${h(title)}"><title>${h(title)}</title>`];
  parts.push(`<text x="0" y="12">${h(title)}</text>`);
  rows.forEach((r, i) => {
    const y = 22 + i * rowHeight;
    const name = `${r.schema}.${r.name} ${r.shape}`;
    parts.push(`<text x="0" y="${y + 12}">${h(name.length > 36 ? `${name.slice(0, 35)}…` : name)}<title>${h(name)}</title></text>`);
    parts.push(`<rect class="rls${r.flags.includes('slo') ? ' slo' : ''}" x="${label}" y="${y}" width="${scale(r.p95Ms).toFixed(1)}" height="9" rx="2"><title>${h(`p95 ${ms(r.p95Ms)} ms with RLS`)}</title></rect>`);
    if (r.bypassP50Ms !== null) parts.push(`<rect class="bypass" x="${label}" y="${y + 10}" width="${scale(r.bypassP50Ms).toFixed(1)}" height="5" rx="2"><title>${h(`p50 ${ms(r.bypassP50Ms)} ms without RLS`)}</title></rect>`);
    if (r.fixed) parts.push(`<rect class="fixed" x="${label}" y="${y + 16}" width="${scale(r.fixed.p95Ms).toFixed(1)}" height="5" rx="2"><title>${h(`p95 ${ms(r.fixed.p95Ms)} ms with the fixes applied`)}</title></rect>`);
    parts.push(`<text x="${width}" y="${y + 9}" text-anchor="end">${h(`${ms(r.p95Ms)} ms${r.overhead !== null ? ` · ${r.overhead}×` : ''}`)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

function renderFinding(f: Finding, docs: string | null): string {
  const roles = f.roles.map(h).join(' ');
  const out: string[] = [];
  out.push(`<article class="finding ${f.level}" data-level="${f.level}" data-roles="${roles}" id="${h(`f-${f.fingerprint}`)}">`);
  out.push(`<h4><span class="badge ${f.level}">${f.level}</span> <code>${h(objectPath(f.object))}</code> · ${h(f.title)}</h4>`);
  out.push(`<p>${h(f.message)}</p>`);
  const facts = [docs ? `check <a href="${h(docs)}" rel="noopener noreferrer"><code>${h(f.check)}</code></a>` : `check <code>${h(f.check)}</code> (<code>supaudit explain ${h(f.check)}</code>)`];
  if (f.roles.length > 0) facts.push(`roles ${f.roles.map((r) => `<code>${h(r)}</code>`).join(', ')}`);
  if (f.location) facts.push(`defined at <code>${h(`${f.location.file}:${f.location.line}`)}</code>`);
  facts.push(`fingerprint <code>${h(f.fingerprint)}</code>`);
  out.push(`<p class="facts">${facts.join(' · ')}</p>`);
  const proof = proofText(f);
  if (proof) out.push(`<p><strong>Proof:</strong> ${h(proof)}</p>`);
  out.push(`<p><strong>Fix:</strong> ${h(f.remediation.text)}</p>`);
  if (f.remediation.sql) {
    out.push(`<div class="fix"><pre><code class="language-sql">${escapeHtml(terminalSafeMultiline(f.remediation.sql))}</code></pre><button type="button" hidden>Copy</button></div>`);
  }
  if (f.evidence && Object.keys(f.evidence).length > 0) {
    out.push(`<details><summary>Evidence</summary><pre>${escapeHtml(terminalSafeMultiline(JSON.stringify(f.evidence, null, 2)))}</pre></details>`);
  }
  out.push('</article>');
  return out.join('\n');
}

/** The whole report as one HTML document. */
export function renderHtml(report: Report, options: HtmlOptions = {}): string {
  const bars = options.chartBars ?? 8;
  const checkOf = checkById(report);
  const t = report.target;
  const roles = [...new Set([...report.blastRadius.map((r) => r.role), ...report.findings.flatMap((f) => f.roles)])];
  const out: string[] = [];
  out.push('<!doctype html>');
  out.push('<html lang="en">');
  out.push('<head>');
  out.push('<meta charset="utf-8">');
  out.push(`<meta http-equiv="Content-Security-Policy" content="${CSP}">`);
  out.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  out.push('<meta name="referrer" content="no-referrer">');
  out.push(`<title>supaudit report · ${h(t.description ?? t.kind)}</title>`);
  out.push(`<style>${STYLE}</style>`);
  out.push('</head>');
  out.push('<body>');
  out.push('<header>');
  out.push('<h1>supaudit report</h1>');
  out.push(`<p class="meta">${h(t.description ?? t.kind)} · ${h(t.serverVersion.split(' on ')[0] ?? t.serverVersion)} · database <code>${h(t.database)}</code></p>`);
  const source = report.exposedSchemas.source === 'default' ? 'assumed: no setting found' : `from ${h(report.exposedSchemas.source)}`;
  out.push(`<p class="meta">Exposed schemas: ${report.exposedSchemas.schemas.map((s) => `<code>${h(s)}</code>`).join(', ')} (${source})</p>`);
  out.push(
    `<p class="meta">supaudit ${h(report.tool.version)} · ${report.stats.checksRun} checks · ${report.stats.queries} queries · ${(report.stats.durationMs / 1000).toFixed(1)} s</p>`,
  );
  const baseline = baselineLine(report);
  if (baseline) out.push(`<p><strong>Baseline:</strong> ${h(baseline)} (<code>${h(report.baseline!.file)}</code>)</p>`);
  out.push('</header>');

  out.push('<h2 id="summary">Summary</h2>');
  out.push('<table class="summary"><thead><tr><th>Level</th><th>Findings</th></tr></thead><tbody>');
  for (const level of LEVELS) out.push(`<tr data-level="${level}"><td><span class="badge ${level}">${level}</span></td><td class="num">${report.summary[level]}</td></tr>`);
  out.push(`<tr><th>Total</th><td class="num">${report.findings.length}</td></tr>`);
  if (report.suppressed.length > 0) out.push(`<tr><td>Suppressed</td><td class="num">${report.suppressed.length}</td></tr>`);
  out.push('</tbody></table>');

  out.push('<form id="filters" class="filters" hidden>');
  out.push('<strong>Show</strong>');
  for (const level of LEVELS) {
    out.push(`<label><input type="checkbox" data-filter-level value="${level}" checked> ${capitalize(level)} (${report.summary[level]})</label>`);
  }
  out.push('<label>Role <select id="filter-role"><option value="">all roles</option>');
  for (const r of roles) out.push(`<option value="${h(r)}">${h(r)}</option>`);
  out.push('</select></label>');
  out.push('</form>');

  const threats = threatModel(report);
  if (threats.length > 0) {
    out.push('<h2 id="threats">Threat model (STRIDE)</h2>');
    out.push('<table><thead><tr><th>Threat</th><th>Findings</th><th>Worst with the anon key</th><th>Worst with any signed-up account</th></tr></thead><tbody>');
    const cell = (f: Finding | undefined) => (f ? `${h(f.level)} <code>${h(f.check)}</code>: <code>${h(objectPath(f.object))}</code>` : '—');
    for (const t of threats) out.push(`<tr><td><b>${t.category}</b> ${h(t.name)}</td><td>${h(t.levels)}</td><td>${cell(t.anon)}</td><td>${cell(t.user)}</td></tr>`);
    out.push('</tbody></table>');
  }

  if (report.blastRadius.length > 0) {
    out.push('<h2 id="blast-radius">Blast radius</h2>');
    out.push('<p>What each role can reach through the API, scored 0–100 (higher is worse); bars are the heaviest contributions.</p>');
    out.push('<div class="roles">');
    for (const r of report.blastRadius) {
      out.push(`<section class="role" data-role="${h(r.role)}">`);
      out.push(`<h3>${h(r.role)} <small>${r.bypassesRls ? 'bypasses RLS by design' : `${r.score}/100`}</small></h3>`);
      out.push(`<p class="meta">${h(reachSummary(r))}</p>`);
      out.push(roleChart(r, bars));
      out.push('</section>');
    }
    out.push('</div>');
  }

  if (report.lab) {
    out.push('<h2 id="lab">Who can do what (the lab)</h2>');
    out.push(`<p class="meta">${h(labLegend(report))}</p>`);
    out.push(`<div class="scroll"><table class="lab"><thead><tr>${LAB_HEADER.map((c) => `<th>${h(c)}</th>`).join('')}</tr></thead><tbody>`);
    for (const r of labCells(report, true)) {
      out.push(`<tr${labCrossesOwners(r) ? ' class="crosses"' : ''}>${r.map((c, i) => `<td>${i === 0 ? `<code>${h(c)}</code>` : h(c)}</td>`).join('')}</tr>`);
    }
    out.push('</tbody></table></div>');
    const functions = functionCells(report, true);
    if (functions.length > 0) {
      out.push('<h3 id="lab-functions">Persona × function</h3>');
      out.push(`<p class="meta">${h(functionLegend(report))}</p>`);
      out.push(`<div class="scroll"><table class="lab"><thead><tr>${FUNCTION_HEADER.map((c) => `<th>${h(c)}</th>`).join('')}</tr></thead><tbody>`);
      for (const r of functions) {
        out.push(`<tr${functionChangesOthers(r) ? ' class="crosses"' : ''}>${r.map((c, i) => `<td>${i === 0 ? `<code>${h(c)}</code>` : h(c)}</td>`).join('')}</tr>`);
      }
      out.push('</tbody></table></div>');
    }
  }

  if (report.load) {
    out.push('<h2 id="load">Load</h2>');
    out.push(`<p>${h(loadSummary(report) ?? '')}</p>`);
    out.push(`<div class="load-chart">${loadChart(report)}</div>`);
    out.push('<p class="meta">Bars: p95 with RLS (red when over the p99 budget), p50 without RLS (grey), p95 with the fixes applied (green, embedded database).</p>');
    out.push(`<table class="load"><thead><tr>${LOAD_HEADER.map((c) => `<th>${h(c)}</th>`).join('')}</tr></thead><tbody>`);
    for (const r of loadCells(report)) out.push(`<tr>${r.map((c, i) => `<td${LOAD_NUMERIC.has(i) ? ' class="num"' : ''}>${i === 0 ? `<code>${h(c)}</code>` : h(c)}</td>`).join('')}</tr>`);
    out.push('</tbody></table>');
    for (const r of report.load.realtime ?? []) {
      out.push(`<p>Realtime <code>${h(`${r.schema}.${r.name}`)}</code>: ${h(ms(r.perCheckMs))} ms to authorise one change for one subscriber; ${r.subscribers} subscribers → at most ${r.changesPerSec} changes/s (measured).</p>`);
    }
  }

  out.push('<h2 id="findings">Findings</h2>');
  if (report.findings.length === 0) out.push('<p>No findings.</p>');
  for (const group of byLevel(report.findings)) {
    out.push(`<section class="level" data-level="${group.level}">`);
    out.push(`<h3>${capitalize(group.level)} (${group.findings.length})</h3>`);
    for (const f of group.findings) out.push(renderFinding(f, absoluteDocsUrl(checkOf(f.check)?.docs ?? f.docs)));
    out.push('</section>');
  }

  if (report.suppressed.length > 0) {
    out.push(`<h2 id="suppressed">Suppressed (${report.suppressed.length})</h2>`);
    out.push('<table><thead><tr><th>Fingerprint</th><th>Level</th><th>Reason</th><th>By</th><th>Expires</th><th>Source</th></tr></thead><tbody>');
    for (const s of report.suppressed) {
      out.push(
        `<tr><td><code>${h(s.finding.fingerprint)}</code></td><td><span class="badge ${s.finding.level}">${s.finding.level}</span></td><td>${h(s.reason)}</td><td>${h(s.by ?? '')}</td><td>${h(s.expires ?? '')}</td><td>${s.source === 'file' ? 'supaudit.ignore.json' : 'COMMENT ON'}</td></tr>`,
      );
    }
    out.push('</tbody></table>');
  }

  if (report.refuted && report.refuted.length > 0) {
    out.push(`<h2 id="refuted">Refuted by the lab (${report.refuted.length})</h2>`);
    out.push('<table><thead><tr><th>Fingerprint</th><th>Level</th><th>What the lab measured</th></tr></thead><tbody>');
    for (const f of report.refuted) out.push(`<tr><td><code>${h(f.fingerprint)}</code></td><td><span class="badge ${f.level}">${f.level}</span></td><td>${h(refutedWhy(f))}</td></tr>`);
    out.push('</tbody></table>');
  }

  if (report.baseline && report.baseline.fixed.length > 0) {
    out.push(`<h2 id="fixed">Fixed since baseline (${report.baseline.fixed.length})</h2>`);
    out.push(`<ul>${report.baseline.fixed.map((fp) => `<li><code>${h(fp)}</code></li>`).join('')}</ul>`);
  }

  if (report.notes.length > 0 || report.checkErrors.length > 0 || (report.inconclusive ?? []).length > 0) {
    out.push('<h2 id="notes">Notes</h2>');
    out.push('<p>The report is partial where these say so.</p><ul>');
    for (const n of report.notes) out.push(`<li><strong>${h(n.area)}:</strong> ${h(n.message)}</li>`);
    for (const e of report.checkErrors) out.push(`<li><strong>check <code>${h(e.check)}</code> failed:</strong> ${h(e.message)}</li>`);
    for (const i of report.inconclusive ?? []) out.push(`<li><strong>inconclusive: <code>${h(i.check)}</code></strong> (${h(i.reason)})</li>`);
    out.push('</ul>');
  }

  out.push(`<script>${SCRIPT}</script>`);
  out.push('</body>');
  out.push('</html>');
  return redact(out.join('\n')) + '\n';
}
