/**
 * The Markdown report: for a PR comment, a wiki page or `$GITHUB_STEP_SUMMARY`. Every string that
 * comes from the database is escaped (or put in a code span sized to its content), so an
 * identifier such as `<script>` or `|a|` renders as text and cannot break a table.
 */
import type { Finding } from '../src/model/finding.ts';
import { LEVELS } from '../src/model/level.ts';
import type { Report } from '../src/model/report.ts';
import { redact } from '../src/model/redact.ts';
import { proofText, terminalSafe, terminalSafeMultiline } from './_format.ts';
import { absoluteDocsUrl } from './_links.ts';
import { refutedWhy, appLines, baselineLine, byLevel, capitalize, checkById, FUNCTION_HEADER, functionCells, functionLegend, LAB_HEADER, labCells, labLegend, LOAD_HEADER, LOAD_NUMERIC, loadCells, loadSummary, objectPath, reachSummary, topContributions, threatModel } from './_report.ts';

export interface MarkdownOptions {
  /** Levels with more findings than this are folded in a `<details>` block. Default 20. */
  readonly collapseAfter?: number;
  /** Heaviest score contributions listed per role. Default 5. */
  readonly topPaths?: number;
  /** Findings written in full (most severe first); the rest are counted in one line. Default: all. */
  readonly maxFindings?: number;
}

/**
 * The report in at most `maxBytes` (UTF-8): the whole report when it fits, else as many findings
 * as fit, most severe first, and a line that says how many were left out and where to find them.
 * GitHub's job summary takes 1 MiB per step.
 */
export function renderMarkdownWithin(report: Report, maxBytes: number, options: MarkdownOptions = {}): string {
  const size = (text: string) => Buffer.byteLength(text, 'utf8');
  const full = renderMarkdown(report, options);
  if (size(full) <= maxBytes) return full;
  let lo = 0;
  let hi = report.findings.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (size(renderMarkdown(report, { ...options, maxFindings: mid })) <= maxBytes) lo = mid;
    else hi = mid - 1;
  }
  const fitted = renderMarkdown(report, { ...options, maxFindings: lo });
  if (size(fitted) <= maxBytes) return fitted;
  // Even the summary does not fit (a pathological number of notes): cut at a line.
  const cut = Buffer.from(fitted, 'utf8').subarray(0, Math.max(0, maxBytes - 200)).toString('utf8').replace(/\n[^\n]*$/, '');
  return `${cut}\n\n_…cut at ${maxBytes} bytes; the full report is in the report files._\n`;
}

/** Escapes text for Markdown prose and table cells: control characters shown, HTML and Markdown syntax neutralised. */
export function mdText(text: string): string {
  const escaped = terminalSafe(text).replace(/[\\`*_[\]|~<>&]/g, (ch) => {
    if (ch === '<') return '&lt;';
    if (ch === '>') return '&gt;';
    if (ch === '&') return '&amp;';
    return `\\${ch}`;
  });
  return escaped;
}

/** `mdText` for text that starts a line or a list item: a leading `#`, `+`, `-`, `=` or `1.` would start a heading or a list. */
export function mdLead(text: string): string {
  return mdText(text).replace(/^([#+=-]|\d+[.)])/, '\\$1');
}

/** A code span that holds any text: the fence is longer than any backtick run inside. */
export function mdCode(text: string): string {
  const safe = terminalSafe(text);
  const longest = Math.max(0, ...(safe.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = safe.startsWith('`') || safe.endsWith('`') || safe === '' ? ' ' : '';
  return `${fence}${pad}${safe}${pad}${fence}`;
}

/** A fenced code block; the fence is longer than any backtick run inside. */
export function mdFence(code: string, info: string): string {
  const safe = terminalSafeMultiline(code);
  const longest = Math.max(0, ...(safe.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${info}\n${safe}\n${fence}`;
}

function renderFinding(f: Finding, docs: string | null): string[] {
  const out: string[] = [];
  out.push(`#### ${mdCode(objectPath(f.object))} · ${mdText(f.title)}`);
  out.push('');
  out.push(mdLead(f.message));
  out.push('');
  const facts = [docs ? `**Check:** [${mdCode(f.check)}](${docs})` : `**Check:** ${mdCode(f.check)} (${mdCode(`supaudit explain ${f.check}`)})`];
  if (f.roles.length > 0) facts.push(`**Roles:** ${f.roles.map(mdCode).join(', ')}`);
  if (f.location) facts.push(`**Defined at:** ${mdCode(`${f.location.file}:${f.location.line}`)}`);
  facts.push(`**Fingerprint:** ${mdCode(f.fingerprint)}`);
  out.push(facts.join(' · '));
  out.push('');
  const proof = proofText(f);
  if (proof) {
    out.push(`**Proof:** ${mdText(proof)}`);
    out.push('');
  }
  out.push(`**Fix:** ${mdText(f.remediation.text)}`);
  if (f.remediation.sql) {
    out.push('');
    out.push(mdFence(f.remediation.sql, 'sql'));
  }
  out.push('');
  return out;
}

/** The whole report as GitHub-flavoured Markdown. */
export function renderMarkdown(report: Report, options: MarkdownOptions = {}): string {
  const collapseAfter = options.collapseAfter ?? 20;
  const topPaths = options.topPaths ?? 5;
  const checkOf = checkById(report);
  const out: string[] = [];
  const t = report.target;
  out.push(`# supaudit report`);
  out.push('');
  out.push(
    `**Target:** ${mdText(t.description ?? t.kind)} · ${mdText(t.serverVersion.split(' on ')[0] ?? t.serverVersion)} · database ${mdCode(t.database)}  `,
  );
  const source = report.exposedSchemas.source === 'default' ? 'assumed: no setting found' : `from ${mdText(report.exposedSchemas.source)}`;
  out.push(`**Exposed schemas:** ${report.exposedSchemas.schemas.map(mdCode).join(', ')} (${source})  `);
  out.push(`**supaudit** ${mdText(report.tool.version)} · ${report.stats.checksRun} checks · ${report.stats.queries} queries · ${(report.stats.durationMs / 1000).toFixed(1)} s`);
  const baseline = baselineLine(report);
  if (baseline) {
    out.push('');
    out.push(`**Baseline:** ${baseline} (${mdCode(report.baseline!.file)})`);
  }

  out.push('');
  out.push('## Summary');
  out.push('');
  out.push('| Level | Findings |');
  out.push('|---|---:|');
  for (const level of LEVELS) out.push(`| ${capitalize(level)} | ${report.summary[level]} |`);
  out.push(`| **Total** | **${report.findings.length}** |`);
  if (report.suppressed.length > 0) out.push(`| Suppressed | ${report.suppressed.length} |`);

  const threats = threatModel(report);
  if (threats.length > 0) {
    out.push('');
    out.push('## Threat model (STRIDE)');
    out.push('');
    out.push('| Threat | Findings | Worst with the anon key | Worst with any signed-up account |');
    out.push('|---|---|---|---|');
    const cell = (f: Finding | undefined) => (f ? `${f.level} ${mdCode(f.check)}: ${mdCode(objectPath(f.object))}` : '—');
    for (const t of threats) out.push(`| **${t.category}** ${t.name} | ${t.levels} | ${cell(t.anon)} | ${cell(t.user)} |`);
  }

  if (report.blastRadius.length > 0) {
    out.push('');
    out.push('## Blast radius');
    out.push('');
    out.push('What each role can reach through the API, scored 0–100 (higher is worse).');
    out.push('');
    out.push('| Role | Score | Reach |');
    out.push('|---|---:|---|');
    for (const r of report.blastRadius) {
      const score = r.bypassesRls ? 'bypasses RLS by design' : `${r.score}/100`;
      out.push(`| ${mdText(r.role)} | ${score} | ${mdText(reachSummary(r))} |`);
    }
    for (const r of report.blastRadius) {
      const top = topContributions(r, topPaths);
      if (top.length === 0) continue;
      out.push('');
      out.push(`**${mdText(r.role)}**${r.bypassesRls ? '' : ` (${r.score}/100)`}`);
      out.push('');
      for (const c of top) out.push(`- ${mdLead(c.reason)}${r.bypassesRls ? '' : ` — ${c.points} points`}`);
    }
  }

  const app = appLines(report);
  if (app) {
    out.push('');
    out.push('## App usage');
    out.push('');
    out.push(`${mdCode(report.app!.root)}: ${mdText(app.summary)}`);
    if (app.items.length > 0) out.push('');
    for (const i of app.items) out.push(`- **${mdText(i.label)}:** ${mdText(i.text)}`);
  }

  if (report.lab) {
    out.push('');
    out.push('## Who can do what (the lab)');
    out.push('');
    out.push(mdText(labLegend(report)));
    out.push('');
    out.push(`| ${LAB_HEADER.join(' | ')} |`);
    out.push(`|${LAB_HEADER.map(() => '---').join('|')}|`);
    const cells = labCells(report, false, true);
    for (const r of cells) out.push(`| ${r.map((c, i) => (i === 0 ? mdCode(c) : mdText(c))).join(' | ')} |`);
    const hidden = labCells(report, true).length - cells.length;
    if (hidden > 0) out.push('', `(${hidden} more table × persona groups reach no row and insert nothing: in the JSON report.)`);
    const functions = functionCells(report, true);
    if (functions.length > 0) {
      out.push('');
      out.push('### Persona × function');
      out.push('');
      out.push(mdText(functionLegend(report)));
      out.push('');
      out.push(`| ${FUNCTION_HEADER.join(' | ')} |`);
      out.push(`|${FUNCTION_HEADER.map(() => '---').join('|')}|`);
      for (const r of functions) out.push(`| ${r.map((c, i) => (i === 0 ? mdCode(c) : mdText(c))).join(' | ')} |`);
    }
  }

  if (report.load) {
    out.push('');
    out.push('## Load');
    out.push('');
    out.push(mdText(loadSummary(report) ?? ''));
    out.push('');
    out.push(`| ${LOAD_HEADER.join(' | ')} |`);
    out.push(`|${LOAD_HEADER.map((_, i) => (LOAD_NUMERIC.has(i) ? '---:' : '---')).join('|')}|`);
    for (const r of loadCells(report)) out.push(`| ${r.map((c, i) => (i === 0 ? mdCode(c) : mdText(c))).join(' | ')} |`);
    for (const r of report.load.realtime ?? []) {
      out.push('');
      out.push(`- Realtime ${mdCode(`${r.schema}.${r.name}`)}: ${r.perCheckMs} ms to authorise one change for one subscriber; ${r.subscribers} subscribers → at most ${r.changesPerSec} changes/s (measured).`);
    }
  }

  out.push('');
  out.push('## Findings');
  if (report.findings.length === 0) {
    out.push('');
    out.push('No findings.');
  }
  let budget = options.maxFindings ?? Infinity;
  const left: Finding[] = [];
  for (const group of byLevel(report.findings)) {
    const shown = group.findings.slice(0, Math.max(0, budget));
    budget -= shown.length;
    left.push(...group.findings.slice(shown.length));
    if (shown.length === 0) continue;
    out.push('');
    out.push(`### ${capitalize(group.level)} (${group.findings.length})`);
    out.push('');
    const fold = shown.length > collapseAfter;
    if (fold) {
      out.push(`<details><summary>${shown.length} ${group.level} findings</summary>`);
      out.push('');
    }
    for (const f of shown) out.push(...renderFinding(f, absoluteDocsUrl(checkOf(f.check)?.docs ?? f.docs)));
    if (fold) {
      out.push('</details>');
      out.push('');
    }
  }
  if (left.length > 0) {
    const counts = byLevel(left).map((g) => `${g.findings.length} ${g.level}`).join(', ');
    out.push('');
    out.push(`_${left.length} more finding${left.length === 1 ? '' : 's'} (${counts}) not shown here, to stay within the size limit; every finding is in the report files (JSON, SARIF)._`);
  }

  if (report.suppressed.length > 0) {
    out.push('');
    out.push(`## Suppressed (${report.suppressed.length})`);
    out.push('');
    out.push('| Fingerprint | Level | Reason | By | Expires | Source |');
    out.push('|---|---|---|---|---|---|');
    for (const s of report.suppressed) {
      out.push(
        `| ${mdText(s.finding.fingerprint)} | ${s.finding.level} | ${mdText(s.reason)} | ${mdText(s.by ?? '')} | ${mdText(s.expires ?? '')} | ${s.source === 'file' ? 'supaudit.ignore.json' : 'COMMENT ON'} |`,
      );
    }
  }

  if (report.refuted && report.refuted.length > 0) {
    out.push('');
    out.push(`## Refuted by the lab (${report.refuted.length})`);
    out.push('');
    out.push('| Fingerprint | Level | What the lab measured |');
    out.push('|---|---|---|');
    for (const f of report.refuted) out.push(`| ${mdText(f.fingerprint)} | ${f.level} | ${mdText(refutedWhy(f))} |`);
  }

  if (report.baseline && report.baseline.fixed.length > 0) {
    out.push('');
    out.push(`## Fixed since baseline (${report.baseline.fixed.length})`);
    out.push('');
    for (const fp of report.baseline.fixed) out.push(`- ${mdCode(fp)}`);
  }

  const inconclusive = report.inconclusive ?? [];
  if (report.notes.length > 0 || report.checkErrors.length > 0 || inconclusive.length > 0) {
    out.push('');
    out.push('## Notes');
    out.push('');
    out.push('The report is partial where these say so.');
    out.push('');
    for (const n of report.notes) out.push(`- **${mdText(n.area)}:** ${mdText(n.message)}`);
    for (const e of report.checkErrors) out.push(`- **check ${mdCode(e.check)} failed:** ${mdText(e.message)}`);
    for (const i of inconclusive) out.push(`- **inconclusive: ${mdCode(i.check)}** (${mdText(i.reason)})`);
  }
  return redact(out.join('\n')) + '\n';
}
