/**
 * Baselines: the fingerprints of an accepted state. With a baseline, `--fail-on` counts only
 * findings that are new since then, and the report lists what was fixed.
 */
import type { Finding } from '../model/finding.ts';
import { atLeast, type Level } from '../model/level.ts';
import type { BaselineComparison, Report } from '../model/report.ts';

export interface Baseline {
  readonly version: 1;
  readonly createdAt?: string;
  readonly fingerprints: readonly string[];
}

/** The baseline of a report: its (unsuppressed) findings' fingerprints, sorted, without duplicates. */
export function createBaseline(report: Pick<Report, 'findings'>, createdAt: string): Baseline {
  return { version: 1, createdAt, fingerprints: [...new Set(report.findings.map((f) => f.fingerprint))].sort() };
}

/**
 * New: findings whose fingerprint the baseline lacks. Fixed: baseline fingerprints no longer
 * found. A baseline finding that is now suppressed is neither (it did not go away).
 */
export function compareWithBaseline(report: Pick<Report, 'findings' | 'suppressed'>, baseline: Baseline, file: string): BaselineComparison {
  const known = new Set(baseline.fingerprints);
  const present = new Set([...report.findings.map((f) => f.fingerprint), ...report.suppressed.map((s) => s.finding.fingerprint)]);
  return {
    file,
    new: [...new Set(report.findings.map((f) => f.fingerprint).filter((fp) => !known.has(fp)))].sort(),
    fixed: [...known].filter((fp) => !present.has(fp)).sort(),
  };
}

export function withBaseline<R extends Report>(report: R, baseline: Baseline, file: string): R {
  return { ...report, baseline: compareWithBaseline(report, baseline, file) };
}

/** With a baseline: the fingerprints of the findings it does not hold (only they fail a run); else undefined. */
export function newFingerprints(report: Pick<Report, 'baseline'>): ReadonlySet<string> | undefined {
  return report.baseline ? new Set(report.baseline.new) : undefined;
}

/** The `--fail-on` rule: a finding at or above the level fails the run; with a baseline, only a new one. */
export function failsRun(report: Pick<Report, 'baseline'>, failOn: Level): (f: Finding) => boolean {
  const fresh = newFingerprints(report);
  return (f) => atLeast(f.level, failOn) && (fresh === undefined || fresh.has(f.fingerprint));
}

/** "3 new, 5 fixed since baseline". */
export function baselineLine(comparison: BaselineComparison): string {
  return `${comparison.new.length} new, ${comparison.fixed.length} fixed since baseline`;
}
