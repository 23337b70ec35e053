import type { Report } from '../src/model/report.ts';
import { redact } from '../src/model/redact.ts';

/** The machine-readable report (schemaVersion 1). Other tools read these names: keep them stable. */
export function renderJson(report: Report): string {
  return redact(JSON.stringify(report, null, 2)) + '\n';
}
