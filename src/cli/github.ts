/**
 * GitHub Actions: when the CLI runs in a workflow (`GITHUB_ACTIONS=true`), it appends the
 * Markdown summary to the file named by `$GITHUB_STEP_SUMMARY` and prints workflow annotations
 * on stdout. The renderers are passed in, so this file only knows the runner's conventions.
 */
import { appendFileSync } from 'node:fs';
import type { Report } from '../model/report.ts';
import { redact } from '../model/redact.ts';

export interface GithubRenderers {
  /** Markdown for the job summary. */
  readonly summary: (report: Report) => string;
  /** `::error …::` workflow commands, one per line. */
  readonly annotations?: (report: Report) => string;
}

export function inGithubActions(env: NodeJS.ProcessEnv): boolean {
  return env['GITHUB_ACTIONS'] === 'true';
}

export interface GithubOutcome {
  /** The step-summary file appended to, or null when `$GITHUB_STEP_SUMMARY` is not set. */
  readonly summaryFile: string | null;
  readonly annotations: boolean;
}

/** Does nothing outside GitHub Actions (returns null). */
export function publishToGithub(report: Report, env: NodeJS.ProcessEnv, write: (text: string) => void, renderers: GithubRenderers): GithubOutcome | null {
  if (!inGithubActions(env)) return null;
  const file = env['GITHUB_STEP_SUMMARY'];
  const summaryFile = file ? file : null;
  if (summaryFile) {
    const markdown = redact(renderers.summary(report));
    appendFileSync(summaryFile, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  }
  const annotations = renderers.annotations ? redact(renderers.annotations(report)) : '';
  if (annotations) write(annotations.endsWith('\n') ? annotations : `${annotations}\n`);
  return { summaryFile, annotations: annotations !== '' };
}
