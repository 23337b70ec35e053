import type { Report } from '../src/model/report.ts';
import { renderJson } from './json.ts';
import { renderText } from './text.ts';

export interface RenderOptions {
  readonly color: boolean;
}

export interface Reporter {
  /** File extension written under `--out`. */
  readonly extension: string;
  render(report: Report, options: RenderOptions): string;
}

/** Every output format, by `--format` name. */
export const reporters = {
  text: { extension: 'txt', render: (r, o) => renderText(r, { color: o.color }) },
  json: { extension: 'json', render: (r) => renderJson(r) },
} as const satisfies Record<string, Reporter>;

export type FormatName = keyof typeof reporters;

export function isFormat(name: string): name is FormatName {
  return Object.hasOwn(reporters, name);
}
