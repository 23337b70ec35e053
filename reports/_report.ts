/** Report helpers shared by the file reporters (Markdown, HTML, SARIF, JUnit, GitHub). */
import type { Finding, FindingObject } from '../src/model/finding.ts';
import { LEVELS, type Level } from '../src/model/level.ts';
import type { AppReport } from '../src/model/app.ts';
import type { BlastRadius, LabCell, LabMatrixRow, Report, ReportCheck } from '../src/model/report.ts';
import { baselineLine as comparisonLine } from '../src/engine/baseline.ts';
import { STRIDE, STRIDE_NAMES, type Stride } from '../src/model/stride.ts';

/** `schema.name[.column][.policy]`, or `schema.function` for functions: the object a finding is about, unquoted. */
export function objectPath(o: FindingObject): string {
  if (o.type === 'function' && o.function) return `${o.schema}.${o.function}`;
  if (o.type === 'setting') return `${o.schema} ${o.name}`;
  let s = `${o.schema}.${o.name}`;
  if (o.column !== undefined) s += `.${o.column}`;
  if (o.policy !== undefined) s += `.${o.policy}`;
  return s;
}

/** The findings of each level that has any, most severe first. */
export function byLevel(findings: readonly Finding[]): { level: Level; findings: Finding[] }[] {
  return LEVELS.map((level) => ({ level, findings: findings.filter((f) => f.level === level) })).filter((g) => g.findings.length > 0);
}

export function checkById(report: Report): (id: string) => ReportCheck | undefined {
  const map = new Map(report.checks.map((c) => [c.id, c]));
  return (id) => map.get(id);
}

/** "3 new, 5 fixed since baseline", or null without a baseline. */
export function baselineLine(report: Report): string | null {
  return report.baseline ? comparisonLine(report.baseline) : null;
}

/** The heaviest contributions to a role's score (they come sorted by points). */
export function topContributions(radius: BlastRadius, count: number): { reason: string; points: number }[] {
  return [...(radius.breakdown ?? [])].sort((a, b) => b.points - a.points).slice(0, count);
}

/** One-line summary of what a role reaches: tables and functions, and how many with sensitive columns. */
export function reachSummary(radius: BlastRadius): string {
  const readable = radius.tables.filter((t) => t.select && t.rows !== 'none').length;
  const writable = radius.tables.filter((t) => t.insert || t.update || t.delete).length;
  const sensitive = radius.tables.filter((t) => t.sensitiveColumns.length > 0).length;
  return `reads ${readable} table${readable === 1 ? '' : 's'}, writes ${writable}, ${sensitive} with sensitive columns, calls ${radius.functions.length} function${radius.functions.length === 1 ? '' : 's'}`;
}

/** "critical" → "Critical". */
export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export interface ThreatRow {
  readonly category: Stride;
  readonly name: string;
  readonly findings: number;
  /** Levels of its findings, most severe first: `2 critical, 1 high`. */
  readonly levels: string;
  /** The worst finding a caller with only the anon key can use, and the worst for any signed-up account. */
  readonly anon: Finding | undefined;
  readonly user: Finding | undefined;
}

/**
 * The threat model: per STRIDE category, how many findings and the worst one an attacker with the
 * public anon key, and one with any signed-up account, can use (findings come sorted by level).
 */
export function threatModel(report: Report): ThreatRow[] {
  return STRIDE.map((category) => {
    const findings = report.findings.filter((f) => f.stride?.includes(category));
    return {
      category,
      name: STRIDE_NAMES[category],
      findings: findings.length,
      levels: byLevel(findings).map((g) => `${g.findings.length} ${g.level}`).join(', '),
      anon: findings.find((f) => f.roles.includes('anon') || f.roles.includes('PUBLIC')),
      user: findings.find((f) => f.roles.includes('authenticated') || f.roles.includes('PUBLIC')),
    };
  }).filter((r) => r.findings > 0);
}

/** Lays out rows (the header among them) as aligned columns, numbers right-aligned, two spaces apart. */
export function alignColumns(rows: readonly (readonly string[])[], numeric: ReadonlySet<number>): (row: readonly string[]) => string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return (row) => row.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
}

/** Milliseconds for a table cell: 3 significant digits, at most 2 decimals. */
export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  if (value >= 100) return String(Math.round(value));
  return String(Number(value.toFixed(value >= 10 ? 1 : 2)));
}

export const LOAD_HEADER = ['table', 'role', 'shape', 'clients', 'samples', 'p50 ms', 'p95 ms', 'p99 ms', 'req/s', 'no-RLS p50', 'RLS ×', 'fixed p95', 'flags'] as const;
/** Columns of LOAD_HEADER that are numbers (right-aligned). */
export const LOAD_NUMERIC: ReadonlySet<number> = new Set([3, 4, 5, 6, 7, 8, 9, 10, 11]);

/** `supaudit load` rows as table cells (LOAD_HEADER), worst first: SLO breaches, then by overhead. */
export function loadCells(report: Report): string[][] {
  const load = report.load;
  if (!load) return [];
  const rows = [...load.tables].sort(
    (a, b) => Number(b.flags.includes('slo')) - Number(a.flags.includes('slo')) || (b.overhead ?? 0) - (a.overhead ?? 0) || b.p95Ms - a.p95Ms,
  );
  return rows.map((r) => [
    `${r.schema}.${r.name}`,
    r.role,
    r.shape,
    String(r.concurrency),
    r.errors > 0 ? `${r.samples} (${r.errors} failed)` : String(r.samples),
    r.samples > 0 ? ms(r.p50Ms) : '–',
    r.samples > 0 ? ms(r.p95Ms) : '–',
    r.samples > 0 ? ms(r.p99Ms) : '–',
    String(r.throughputPerSec),
    ms(r.bypassP50Ms),
    r.overhead === null ? '–' : `${r.overhead}×`,
    r.fixed ? ms(r.fixed.p95Ms) : '',
    [...r.flags.map((f) => (f === 'slo' ? `p99 > ${load.sloMs} ms` : 'worse under load')), ...(r.findings.length > 0 ? [`${r.findings.length} finding${r.findings.length === 1 ? '' : 's'}`] : [])].join(', '),
  ]);
}

/** One line about the load run: what was measured, as whom, and the worst overhead. */
export function loadSummary(report: Report): string | null {
  const load = report.load;
  if (!load) return null;
  const tables = new Set(load.tables.map((t) => `${t.schema}.${t.name}`)).size;
  const worst = [...load.tables].filter((t) => t.overhead !== null).sort((a, b) => b.overhead! - a.overhead!)[0];
  const slo = load.tables.filter((t) => t.flags.includes('slo')).length;
  const fixed = load.tables.filter((t) => t.fixed);
  const best = fixed.sort((a, b) => b.p95Ms / Math.max(b.fixed!.p95Ms, 0.001) - a.p95Ms / Math.max(a.fixed!.p95Ms, 0.001))[0];
  return (
    `${tables} table${tables === 1 ? '' : 's'} measured as ${load.users} real user${load.users === 1 ? '' : 's'} and anon at ${load.concurrency.join(', ')} client${load.concurrency.length === 1 && load.concurrency[0] === 1 ? '' : 's'}` +
    (worst ? `; worst RLS overhead ${worst.overhead}× (${worst.schema}.${worst.name} ${worst.shape} as ${worst.role}: p50 ${ms(worst.p50Ms)} ms vs ${ms(worst.bypassP50Ms)} ms without RLS)` : '') +
    `; ${slo} over the ${load.sloMs} ms p99 budget` +
    (best ? `; with the fixes applied, ${best.schema}.${best.name} ${best.shape}: p95 ${ms(best.p95Ms)} → ${ms(best.fixed!.p95Ms)} ms` : '')
  );
}

export const LAB_HEADER = ['table', 'persona', 'read', 'update', 'delete', 'insert'] as const;

const LAB_INSERT: Readonly<Record<LabMatrixRow['insert'], string>> = {
  allowed: 'own row',
  allowed_into_others: "into others' rows",
  denied: 'denied',
  error: 'refused',
};

/** One cell: rows reached as own / others' / unattributed, `–` when none, or the refusal. */
function labCell(cell: LabCell): string {
  if (cell === 'denied') return 'denied';
  if (cell === 'error') return 'error';
  if (cell.own + cell.others + cell.unattributed === 0) return '–';
  return `${cell.own}/${cell.others}/${cell.unattributed}`;
}

/** The access matrix as table cells (LAB_HEADER); `all`: every row, else only personas that reach something. */
export function labCells(report: Report, all: boolean): string[][] {
  const reaches = (c: LabCell) => typeof c !== 'string' && c.own + c.others + c.unattributed > 0;
  return (report.lab?.matrix ?? [])
    .filter((m) => all || reaches(m.select) || reaches(m.update) || reaches(m.delete) || m.insert === 'allowed' || m.insert === 'allowed_into_others')
    .map((m) => [`${m.schema}.${m.name}`, m.persona, labCell(m.select), labCell(m.update), labCell(m.delete), LAB_INSERT[m.insert]]);
}

/** A row of the matrix where a persona reaches rows of another owner (or anon reaches any): drawn in red. */
export function labCrossesOwners(cells: readonly string[]): boolean {
  const crosses = (c: string) => /^\d+\/(\d+)\//.exec(c) !== null && Number(/^\d+\/(\d+)\//.exec(c)![1]) > 0;
  return [cells[2]!, cells[3]!, cells[4]!].some(crosses) || cells[5] === "into others' rows";
}

/** What the numbers mean, and the world they were measured on. */
export function labLegend(report: Report): string {
  const lab = report.lab;
  if (!lab) return '';
  const filled = lab.tables.filter((t) => t.rows > 0).length;
  return (
    `measured in the lab's copy as each persona, every statement rolled back; cells are rows reached, own/others'/unattributed ` +
    `(alice and bob each own rows, the outsider is signed in and owns none, anon has no account; unattributed: the seed's rows, which belong to none of them); ` +
    `world: ${lab.accounts.length > 0 ? `${lab.accounts.join(', ')} signed up` : 'no account'}, rows added to ${filled} of ${lab.tables.length} tables`
  );
}

/** How many of a list to name before "and N more". */
const APP_LIST = 10;

function named(items: readonly string[]): string {
  const shown = items.slice(0, APP_LIST).join(', ');
  return items.length > APP_LIST ? `${shown} and ${items.length - APP_LIST} more` : shown;
}

/** The app section's lines (text and Markdown): what was read, then the objects that matter for a fix. */
export function appLines(report: Report): { summary: string; items: { label: string; text: string }[] } | null {
  const app = report.app;
  if (!app) return null;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const kinds = (['table', 'rpc', 'bucket', 'channel'] as const)
    .map((k) => [k, app.calls.filter((c) => c.kind === k).length] as const)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k === 'channel' ? 'realtime' : k}`);
  const languages = Object.entries(app.languages).map(([l, n]) => `${l} ${n}`);
  const summary =
    `${plural(app.files, 'file')} read${languages.length > 0 ? ` (${languages.join(', ')})` : ''}; ` +
    `${plural(app.calls.length, 'call')}${kinds.length > 0 ? ` (${kinds.join(', ')})` : ''}, ${app.dynamic.length} dynamic` +
    (app.calls.length > 0 ? `, ${app.calls.filter((c) => c.serviceRole).length} with the service role` : '');
  if (app.calls.length === 0 && app.dynamic.length === 0) {
    const none = app.files === 0 ? 'no application source file found' : `${summary}: no supabase client call found`;
    return { summary: `${none}, so nothing is said about what the app uses`, items: app.notes.map((text) => ({ label: 'note', text })) };
  }
  const label = (o: AppReport['objects'][number]) => `${o.type === 'bucket' ? `bucket ${o.name}` : `${o.schema}.${o.name}${o.type === 'function' ? '()' : ''}`}${o.roles.length > 0 ? ` (${o.roles.join(', ')})` : ''}`;
  const reachable = (o: AppReport['objects'][number]) => o.roles.length > 0 || o.type === 'bucket';
  const items: { label: string; text: string }[] = [];
  if (app.dynamic.length > 0) {
    items.push({ label: 'dynamic calls', text: `${named(app.dynamic.map((d) => `${d.file}:${d.line} ${d.expression}`))}: their names are not known, so what the app does not name is "not seen", not "unused"` });
  }
  const unused = app.objects.filter((o) => o.status === 'unused' && reachable(o));
  if (unused.length > 0) items.push({ label: 'not used by the app, open to the API (candidates to close)', text: named(unused.map(label)) });
  const notSeen = app.objects.filter((o) => o.status === 'not_seen' && reachable(o));
  if (notSeen.length > 0) items.push({ label: 'not seen in the app, open to the API', text: named(notSeen.map(label)) });
  const internal = app.objects.filter((o) => o.status === 'database' && reachable(o));
  if (internal.length > 0) items.push({ label: 'used only inside the database (keep the API roles\' access)', text: named(internal.map((o) => `${label(o)} by ${(o.referencedBy ?? []).join(', ')}`)) });
  if (app.unknown.length > 0) {
    items.push({ label: 'called by the app, missing from the audited database (a typo, a schema not exposed, a bucket made in the dashboard, a migration the audit skipped)', text: named(app.unknown.map((u) => `${u.kind === 'bucket' ? 'bucket ' : ''}${u.schema !== undefined ? `${u.schema}.` : ''}${u.name}${u.kind === 'rpc' ? '()' : ''} at ${u.usedBy[0] ? `${u.usedBy[0].file}:${u.usedBy[0].line}` : '?'}`)) });
  }
  for (const note of app.notes) items.push({ label: 'note', text: note });
  return { summary, items };
}

/** Why the lab refuted a static suspicion (`report.refuted`, with --verbose). */
export function refutedWhy(f: Finding): string {
  return (f.evidence?.['labVerdict'] as { why?: string } | undefined)?.why ?? '';
}
