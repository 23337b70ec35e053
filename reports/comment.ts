/**
 * A pull-request comment: short, new findings first, within GitHub's 65,536-character limit (kept
 * under 64 KB of UTF-8, which is stricter). It starts with a marker so a workflow can find the
 * comment it posted before and edit it in place (examples/github-actions.yml does).
 */
import type { Finding } from '../src/model/finding.ts';
import type { Report } from '../src/model/report.ts';
import { redact } from '../src/model/redact.ts';
import { LEVELS } from '../src/model/level.ts';
import { absoluteDocsUrl } from './_links.ts';
import { byLevel, objectPath } from './_report.ts';
import { mdCode, mdFence, mdLead, mdText } from './md.ts';

export const COMMENT_MARKER = '<!-- supaudit:pr-comment -->';
export const COMMENT_LIMIT_BYTES = 64 * 1024;

function block(f: Finding, isNew: boolean): string {
  const docs = absoluteDocsUrl(f.docs);
  const check = docs ? `[${mdCode(f.check)}](${docs})` : mdCode(f.check);
  const lines = [
    `<details><summary>${isNew ? '🆕 ' : ''}<b>${f.level.toUpperCase()}</b> ${mdText(f.title)}: <code>${mdText(objectPath(f.object)).replace(/`/g, '')}</code></summary>`,
    '',
    mdLead(f.message),
    '',
    `${check}${f.location ? ` · ${mdCode(`${f.location.file}:${f.location.line}`)}` : ''} · ${mdCode(f.fingerprint)}`,
    '',
    `**Fix:** ${mdText(f.remediation.text)}`,
  ];
  if (f.remediation.sql) lines.push('', mdFence(f.remediation.sql, 'sql'));
  lines.push('', '</details>', '');
  return lines.join('\n');
}

export function renderComment(report: Report, limitBytes: number = COMMENT_LIMIT_BYTES): string {
  const size = (text: string) => Buffer.byteLength(text, 'utf8');
  const fresh = report.baseline ? new Set(report.baseline.new) : null;
  const counts = LEVELS.filter((l) => report.summary[l] > 0).map((l) => `${report.summary[l]} ${l}`);
  const head = [
    COMMENT_MARKER,
    `### supaudit: ${report.findings.length === 0 ? 'no findings' : `${report.findings.length} finding${report.findings.length === 1 ? '' : 's'} (${counts.join(', ')})`}`,
    '',
    `${mdText(report.target.description ?? report.target.kind)} · ${report.stats.checksRun} checks · supaudit ${mdText(report.tool.version)}` +
      (report.baseline ? ` · **${report.baseline.new.length} new**, ${report.baseline.fixed.length} fixed since the baseline` : ''),
    '',
  ].join('\n');
  // New findings first (all findings are new without a baseline), each group most severe first.
  const ordered = [
    ...byLevel(report.findings.filter((f) => fresh === null || fresh.has(f.fingerprint))).flatMap((g) => g.findings),
    ...byLevel(report.findings.filter((f) => fresh !== null && !fresh.has(f.fingerprint))).flatMap((g) => g.findings),
  ];
  const reserve = 400;
  let body = head;
  let shown = 0;
  for (const f of ordered) {
    const next = block(f, fresh !== null && fresh.has(f.fingerprint));
    if (size(body) + size(next) + reserve > limitBytes) break;
    body += next;
    shown++;
  }
  const rest = ordered.slice(shown);
  if (rest.length > 0) {
    const left = byLevel(rest).map((g) => `${g.findings.length} ${g.level}`).join(', ');
    body += `\n_${rest.length} more (${left}) not shown, to keep this comment under ${Math.round(limitBytes / 1024)} KB: see the job summary, code scanning or the report files._\n`;
  }
  return redact(body.endsWith('\n') ? body : `${body}\n`);
}
