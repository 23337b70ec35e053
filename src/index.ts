/**
 * supaudit as a library: open a target, run the audit, render a report. The CLI (`supaudit`) is a
 * thin layer over these.
 *
 *   import { resolveTarget, runAudit, reporters } from 'supaudit';
 *   const { report } = await runAudit(resolveTarget({ dbUrl: process.env.SUPABASE_DB_URL }));
 *   process.stdout.write(reporters.md.render(report, { color: false }));
 */
export { runAudit, type AuditOptions, type AuditResult } from './engine/audit.ts';
export { resolveTarget, type Target, type TargetOptions } from './introspect/targets/index.ts';
export { reporters, type FormatName, type Reporter } from '../reports/index.ts';
export { allChecks, checkById } from '../checks/index.ts';
export type { Report } from './model/report.ts';
export type { Finding } from './model/finding.ts';
export type { Snapshot } from './model/snapshot.ts';
export type { Check, CheckMeta } from './model/check.ts';
export { VERSION } from './version.ts';
