/** Shared by the blast_radius_* checks: one finding per role, summarising its worst paths. */
import type { Check, CheckContext } from '../src/model/check.ts';
import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { LEVELS, type Level } from '../src/model/level.ts';
import { blastRadius, type RoleRadius, type TablePowers } from '../src/score/blast-radius.ts';

export function radii(ctx: CheckContext): RoleRadius[] {
  return ctx.memo('blast-radius', () => blastRadius(ctx));
}

function band(score: number): Level | null {
  if (score >= 70) return 'critical';
  if (score >= 40) return 'high';
  if (score >= 20) return 'medium';
  if (score >= 10) return 'low';
  return null;
}

/**
 * A breakdown entry that rests on a proven reach of other people's data: every row read, changed
 * or deleted, TRUNCATE, an escalation, an unguarded writer. Inserting rows anywhere is proven too,
 * but it takes nothing from anyone (junk rows, forged attribution): it does not set the level.
 */
function proven(reason: string): boolean {
  return /^(read|update|delete) all of |^truncate |\(writes or reads secrets without checking its caller\)/.test(reason);
}

/** The part of the score that proven paths make up (combined as the score is). */
export function provenScore(radius: RoleRadius): number {
  const rest = radius.breakdown.filter((b) => proven(b.reason)).reduce((acc, b) => acc * (1 - b.points / 100), 1);
  return Math.round((1 - rest) * 100);
}

/**
 * Score bands, set by what is proven: paths whose row limits supaudit cannot prove (a helper, a
 * claim, a definer function that may filter) raise the score but not the level above medium.
 * Anon changing or deleting every row of a table is critical whatever the score.
 */
export function levelFor(radius: RoleRadius): Level | null {
  const anonWritesAll = radius.role === 'anon' && radius.tables.some((t) => t.reach.update === 'all' || t.reach.delete === 'all');
  if (anonWritesAll) return 'critical';
  const total = band(radius.score);
  const sure = band(provenScore(radius));
  if (total === null) return null;
  if (sure !== null && LEVELS.indexOf(sure) <= LEVELS.indexOf('medium')) return sure;
  return LEVELS.indexOf(total) < LEVELS.indexOf('medium') ? 'medium' : total;
}

function weight(t: TablePowers): number {
  const w = (r: string) => (r === 'all' ? 3 : r === 'unknown' ? 2 : r === 'own rows' ? 0.1 : 0);
  const writes = Math.max(w(t.reach.insert), w(t.reach.update), w(t.reach.delete)) * 2 + (t.truncate ? 6 : 0);
  return writes + w(t.reach.select) * (t.sensitiveColumns.length > 0 ? 2 : 1) * Math.log10(Math.max(10, t.rowEstimate));
}

function describe(t: TablePowers): string {
  const powers = (['select', 'insert', 'update', 'delete'] as const)
    .filter((c) => t.reach[c] === 'all' || t.reach[c] === 'unknown')
    .map((c) => `${c === 'select' ? 'read' : c} ${t.reach[c] === 'all' ? 'all' : 'some'}`);
  if (t.truncate) powers.push('truncate');
  const rows = t.rowEstimate >= 0 ? ` (~${Math.round(t.rowEstimate).toLocaleString('en-US')} rows)` : '';
  const sensitive = t.sensitiveColumns.length > 0 ? ` incl. ${t.sensitiveColumns.join(', ')}` : '';
  return `${powers.join('/')} ${t.schema}.${t.name}${rows}${sensitive} via ${t.paths[0]?.via ?? 'grants'}`;
}

export function findingFor(radius: RoleRadius, id: string): FindingDraft[] {
  const level = levelFor(radius);
  if (!level || radius.bypassesRls) return [];
  const worst = radius.tables
    .filter((t) => t.paths.length > 0 && (Object.values(t.reach).some((r) => r === 'all' || r === 'unknown') || t.truncate))
    .sort((a, b) => weight(b) - weight(a) || (a.schema + a.name < b.schema + b.name ? -1 : 1))
    .slice(0, 5);
  const definers = radius.functions.filter((f) => f.securityDefiner).slice(0, 3);
  const top = worst[0];
  const fixes = [...new Set([...worst.flatMap((t) => t.paths.map((p) => p.fix).filter((f): f is string => f !== null)), ...definers.map((f) => f.fix)])];
  const lines = [...worst.map(describe), ...definers.map((f) => `call ${f.schema}.${f.name}() as its owner (${f.via[0] ?? ''})`)];
  return [
    {
      level,
      message:
        `${radius.role} scores ${radius.score}/100` +
        (provenScore(radius) < radius.score ? ` (${provenScore(radius)} from proven paths; the rest from policies or functions whose row limits supaudit cannot prove)` : '') +
        `: ${lines.slice(0, 3).join('; ')}${lines.length > 3 ? `; and ${lines.length - 3} more` : ''}.`,
      object: top ? { schema: top.schema, name: top.name, type: 'table' } : { schema: definers[0]?.schema ?? 'public', name: definers[0]?.name ?? radius.role, type: definers[0] ? 'function' : 'schema' },
      roles: [radius.role],
      detail: radius.role,
      remediation: { text: `Close the paths that give ${radius.role} this reach (each statement closes one).`, sql: fixes.join('\n') },
      evidence: { score: radius.score, breakdown: radius.breakdown.slice(0, 10), paths: lines },
    },
  ];
}

export function blastRadiusCheck<Id extends string>(id: Id, role: string | null, title: string, description: string, level: Level): Check<Id> {
  return defineCheck({
    meta: { id, title, level, category: 'security', facing: 'external', description },
    run(ctx) {
      return radii(ctx)
        .filter((r) => (role === null ? !['anon', 'authenticated', 'service_role', 'PUBLIC'].includes(r.role) : r.role === role))
        .flatMap((r) => findingFor(r, id));
    },
  });
}
