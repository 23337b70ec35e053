/**
 * Comparing two JSON reports (`supaudit diff old.json new.json`): what appeared, what went away,
 * what changed level or wording, and how each role's blast-radius score moved. Pure.
 */
import type { Finding } from '../model/finding.ts';
import type { Report } from '../model/report.ts';
import { compareFindings } from './evaluate.ts';

export type DiffInput = Pick<Report, 'findings' | 'blastRadius'> & { readonly suppressed?: Report['suppressed'] };

export interface FindingChange {
  readonly fingerprint: string;
  readonly before: Finding;
  readonly after: Finding;
  readonly changed: readonly ('level' | 'message')[];
}

export interface ScoreChange {
  readonly role: string;
  /** null when the role was not in that report. */
  readonly before: number | null;
  readonly after: number | null;
  readonly delta: number;
}

export interface ReportDiff {
  /** In the new report, not in the old one. */
  readonly new: readonly Finding[];
  /** In the old report, gone from the new one (not merely suppressed). */
  readonly fixed: readonly Finding[];
  /** In the old report, suppressed in the new one. */
  readonly suppressed: readonly Finding[];
  /** Same fingerprint, different level or message. */
  readonly changed: readonly FindingChange[];
  readonly scores: readonly ScoreChange[];
}

function byFingerprint(findings: readonly Finding[]): Map<string, Finding> {
  return new Map(findings.map((f) => [f.fingerprint, f]));
}

export function diffReports(before: DiffInput, after: DiffInput): ReportDiff {
  const old = byFingerprint(before.findings);
  const now = byFingerprint(after.findings);
  const nowSuppressed = byFingerprint((after.suppressed ?? []).map((s) => s.finding));
  const added = after.findings.filter((f) => !old.has(f.fingerprint));
  const gone = before.findings.filter((f) => !now.has(f.fingerprint));
  const changed: FindingChange[] = [];
  for (const f of after.findings) {
    const prev = old.get(f.fingerprint);
    if (!prev) continue;
    const what = [...(prev.level !== f.level ? (['level'] as const) : []), ...(prev.message !== f.message ? (['message'] as const) : [])];
    if (what.length > 0) changed.push({ fingerprint: f.fingerprint, before: prev, after: f, changed: what });
  }
  const oldScores = new Map(before.blastRadius.map((b) => [b.role, b.score]));
  const newScores = new Map(after.blastRadius.map((b) => [b.role, b.score]));
  const roles = [...newScores.keys(), ...[...oldScores.keys()].filter((r) => !newScores.has(r))];
  return {
    new: [...added].sort(compareFindings),
    fixed: gone.filter((f) => !nowSuppressed.has(f.fingerprint)).sort(compareFindings),
    suppressed: gone.filter((f) => nowSuppressed.has(f.fingerprint)).sort(compareFindings),
    changed: changed.sort((a, b) => compareFindings(a.after, b.after)),
    scores: roles.map((role) => {
      const b = oldScores.get(role) ?? null;
      const a = newScores.get(role) ?? null;
      return { role, before: b, after: a, delta: round((a ?? 0) - (b ?? 0)) };
    }),
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
