import type { Report } from '../src/model/report.ts';
import type { FormatName } from './formats.ts';
import { renderComment } from './comment.ts';
import { githubStepSummary, renderGithub } from './github.ts';
import { renderHtml } from './html.ts';
import { renderJson } from './json.ts';
import { renderJunit } from './junit.ts';
import { renderMarkdown } from './md.ts';
import { renderSarif } from './sarif.ts';
import { renderText } from './text.ts';

export interface RenderOptions {
  readonly color: boolean;
}

export interface Reporter {
  /** File extension written under `--out`. */
  readonly extension: string;
  render(report: Report, options: RenderOptions): string;
}

/** Every output format, by `--format` name. Each is a pure function of the report. */
export const reporters = {
  text: { extension: 'txt', render: (r, o) => renderText(r, { color: o.color }) },
  json: { extension: 'json', render: (r) => renderJson(r) },
  md: { extension: 'md', render: (r) => renderMarkdown(r) },
  html: { extension: 'html', render: (r) => renderHtml(r) },
  sarif: { extension: 'sarif', render: (r) => renderSarif(r) },
  junit: { extension: 'junit.xml', render: (r) => renderJunit(r) },
  /** Workflow commands (annotations); with `-o -` they go to stdout, where GitHub Actions reads them. */
  github: { extension: 'github.txt', render: (r) => renderGithub(r) },
  /** A pull-request comment: new findings first, under 64 KB, with a marker to edit it in place. */
  comment: { extension: 'comment.md', render: (r) => renderComment(r) },
} as const satisfies Record<FormatName, Reporter>;

export { FORMAT_NAMES, isFormat, type FormatName } from './formats.ts';

/** For the CLI under GitHub Actions: the Markdown to append to `$GITHUB_STEP_SUMMARY`. */
export { githubStepSummary };
