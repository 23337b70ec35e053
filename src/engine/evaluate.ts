import { strideOf } from '../model/stride.ts';
import { InconclusiveError, type Check, type CheckContext, type CheckOptions } from '../model/check.ts';
import { fingerprint, type BypassPlan, type ExploitPlan, type Finding, type ReachPlan } from '../model/finding.ts';
import { visibleSql } from '../model/ident.ts';
import { LEVELS, levelRank, type Level } from '../model/level.ts';
import type { CheckError, InconclusiveCheck } from '../model/report.ts';
import type { Snapshot } from '../model/snapshot.ts';
import { createContext, DEFAULT_CHECK_OPTIONS } from './context.ts';

export interface EvaluateOptions {
  readonly checkOptions?: CheckOptions;
  /** Level overrides per check id (from config). */
  readonly levels?: Readonly<Record<string, Level>>;
  /** Check ids turned off. */
  readonly disabled?: readonly string[];
}

export interface Evaluation {
  /** The context the checks ran with: shared analyses (parsed policies, blast radius) are memoised in it. */
  readonly context: CheckContext;
  readonly findings: Finding[];
  readonly errors: CheckError[];
  /** Checks that needed a part of the catalog that could not be read. */
  readonly inconclusive: InconclusiveCheck[];
  readonly checksRun: number;
  /** Findings that carry a way to prove them in the database, by fingerprint. */
  readonly exploits: { readonly fingerprint: string; readonly plan: ExploitPlan | ReachPlan | BypassPlan }[];
}

export function docsUrl(checkId: string): string {
  return `checks/${checkId}.md`;
}

/**
 * Runs every enabled check on the snapshot. A check that throws is reported and the others go
 * on. Findings come out in a deterministic order: level, check, schema, object, detail.
 */
export function evaluate(snapshot: Snapshot, checks: readonly Check[], options: EvaluateOptions = {}): Evaluation {
  const ctx = createContext(snapshot, options.checkOptions ?? DEFAULT_CHECK_OPTIONS);
  const disabled = new Set(options.disabled ?? []);
  const findings: Finding[] = [];
  const errors: CheckError[] = [];
  const inconclusive: InconclusiveCheck[] = [];
  const seen = new Set<string>();
  const exploits: { fingerprint: string; plan: ExploitPlan | ReachPlan | BypassPlan }[] = [];
  let checksRun = 0;
  for (const check of checks) {
    if (disabled.has(check.meta.id)) continue;
    checksRun++;
    const missing = (check.meta.needs ?? []).find((area) => snapshot.unavailable?.[area] !== undefined);
    if (missing) {
      inconclusive.push({ check: check.meta.id, reason: `${missing}: ${snapshot.unavailable![missing]}` });
      continue;
    }
    let drafts;
    try {
      drafts = check.run(ctx);
    } catch (error) {
      if (error instanceof InconclusiveError) {
        inconclusive.push({ check: check.meta.id, reason: `${error.area}: ${error.reason}` });
        continue;
      }
      errors.push({ check: check.meta.id, message: error instanceof Error ? error.message : String(error) });
      continue;
    }
    for (const draft of drafts) {
      const id = fingerprint(check.meta.id, draft.object, draft.detail);
      if (seen.has(id)) continue;
      seen.add(id);
      if (draft.exploit) exploits.push({ fingerprint: id, plan: draft.exploit });
      findings.push({
        check: check.meta.id,
        level: options.levels?.[check.meta.id] ?? draft.level ?? check.meta.level,
        fingerprint: id,
        title: draft.title ?? check.meta.title,
        message: draft.message,
        object: draft.object,
        roles: [...(draft.roles ?? [])].sort(),
        // Fix SQL is copied and run: names with invisible characters are written so they cannot display as another name.
        remediation: draft.remediation.sql !== undefined ? { ...draft.remediation, sql: visibleSql(draft.remediation.sql) } : draft.remediation,
        docs: docsUrl(check.meta.id),
        stride: strideOf(check.meta.id),
        ...(draft.evidence ? { evidence: draft.evidence } : {}),
      });
    }
  }
  findings.sort(compareFindings);
  return { context: ctx, findings, errors, inconclusive, checksRun, exploits };
}

export function compareFindings(a: Finding, b: Finding): number {
  return (
    levelRank(a.level) - levelRank(b.level) ||
    cmp(a.check, b.check) ||
    cmp(a.object.schema, b.object.schema) ||
    cmp(a.object.name, b.object.name) ||
    cmp(a.fingerprint, b.fingerprint)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function summarize(findings: readonly Finding[]): Record<Level, number> {
  const summary = Object.fromEntries(LEVELS.map((l) => [l, 0])) as Record<Level, number>;
  for (const f of findings) summary[f.level]++;
  return summary;
}
