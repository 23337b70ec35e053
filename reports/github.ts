/**
 * GitHub Actions: workflow commands that turn findings into annotations (`::error title=…::…`),
 * and the Markdown for the job summary. Pure: the CLI decides when to use them (GITHUB_ACTIONS
 * set) and writes the summary to the file `$GITHUB_STEP_SUMMARY` names.
 */
import type { Finding } from '../src/model/finding.ts';
import type { Level } from '../src/model/level.ts';
import type { Report } from '../src/model/report.ts';
import { redact } from '../src/model/redact.ts';
import { terminalSafe, terminalSafeMultiline } from './_format.ts';
import { baselineLine, objectPath } from './_report.ts';
import { renderMarkdownWithin, type MarkdownOptions } from './md.ts';

export type AnnotationCommand = 'error' | 'warning' | 'notice';

export function annotationCommand(level: Level): AnnotationCommand {
  if (level === 'critical' || level === 'high') return 'error';
  if (level === 'medium') return 'warning';
  return 'notice';
}

/** Escapes a command's message, as @actions/core does: `%`, CR and LF. */
export function escapeData(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}

/** Escapes a command property value: also `:` and `,`, which separate properties. */
export function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(':', '%3A').replaceAll(',', '%2C');
}

/** One workflow command for a finding; `file`/`line` only when the finding has a migration location. */
export function annotation(f: Finding): string {
  // terminalSafe: the Actions log renders ANSI escapes; a name must not colour or rewrite it.
  const props = [`title=${escapeProperty(terminalSafe(`${f.level.toUpperCase()} ${f.check}: ${objectPath(f.object)}`))}`];
  if (f.location) {
    props.push(`file=${escapeProperty(terminalSafe(f.location.file.replaceAll('\\', '/')))}`, `line=${f.location.line}`);
  }
  let message = terminalSafe(f.message);
  if (f.remediation.sql) message += `\nFix:\n${terminalSafeMultiline(f.remediation.sql)}`;
  else message += `\nFix: ${terminalSafe(f.remediation.text)}`;
  return `::${annotationCommand(f.level)} ${props.join(',')}::${escapeData(message)}`;
}

/**
 * Workflow commands for every finding, then a notice with the totals (and the baseline line).
 * Printed to stdout in a GitHub Actions step, they become annotations on the run and the PR.
 */
export function renderGithub(report: Report): string {
  const lines = report.findings.map(annotation);
  const totals = (['critical', 'high', 'medium', 'low', 'info'] as const).map((l) => `${report.summary[l]} ${l}`).join(', ');
  const baseline = baselineLine(report);
  let summary = `supaudit: ${report.findings.length} findings (${totals})`;
  if (report.suppressed.length > 0) summary += `, ${report.suppressed.length} suppressed`;
  if (baseline) summary += `; ${baseline}`;
  lines.push(`::notice title=supaudit summary::${escapeData(terminalSafe(summary))}`);
  return redact(lines.join('\n')) + '\n';
}

/** GitHub refuses a step summary over 1 MiB (and then shows none). */
export const STEP_SUMMARY_LIMIT = 1024 * 1024;

/** The Markdown to append to the file named by `$GITHUB_STEP_SUMMARY` (the job summary page), within GitHub's limit. */
export function githubStepSummary(report: Report, options: MarkdownOptions & { readonly maxBytes?: number } = {}): string {
  return renderMarkdownWithin(report, options.maxBytes ?? STEP_SUMMARY_LIMIT - 1024, options);
}
