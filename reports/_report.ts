/** Report helpers shared by the file reporters (Markdown, HTML, SARIF, JUnit, GitHub). */
import type { Finding, FindingObject } from '../src/model/finding.ts';
import { LEVELS, type Level } from '../src/model/level.ts';
import type { AppReport } from '../src/model/app.ts';
import type { BlastRadius, LabCall, LabCell, LabMatrixRow, Report, ReportCheck } from '../src/model/report.ts';
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

export const LAB_HEADER = ['table', 'personas', 'read', 'update', 'delete', 'insert'] as const;

const LAB_INSERT: Readonly<Record<LabMatrixRow['insert'], string>> = {
  allowed: 'own row',
  allowed_into_tenant: "into tenant's",
  allowed_into_others: "into others'",
  denied: 'denied',
  error: 'refused',
};

/** One cell: rows reached as own / tenant / other tenants' / ownerless, `–` when none, or the refusal. */
function labCell(cell: LabCell): string {
  if (cell === 'denied') return 'denied';
  if (cell === 'error') return 'error';
  if (cell.own + cell.tenant + cell.other_tenants + cell.ownerless === 0) return '–';
  return `${cell.own}/${cell.tenant}/${cell.other_tenants}/${cell.ownerless}`;
}

/**
 * The access matrix as table cells (LAB_HEADER), one row per table and set of personas whose cells
 * are the same (so ten personas read as a few rows); `all`: every row, else only those that reach
 * something; `full`: every persona named, else long lists shortened (`+N`) for a terminal.
 */
export function labCells(report: Report, all: boolean, full = all): string[][] {
  const reaches = (c: LabCell) => typeof c !== 'string' && c.own + c.tenant + c.other_tenants + c.ownerless > 0;
  const groups = new Map<string, { cells: string[]; personas: string[] }>();
  for (const m of report.lab?.matrix ?? []) {
    if (!all && !(reaches(m.select) || reaches(m.update) || reaches(m.delete) || m.insert.startsWith('allowed'))) continue;
    const cells = [labCell(m.select), labCell(m.update), labCell(m.delete), LAB_INSERT[m.insert]];
    const key = `${m.schema}.${m.name}\u0000${cells.join('\u0000')}`;
    const group = groups.get(key) ?? { cells, personas: [] };
    group.personas.push(m.persona);
    groups.set(key, group);
  }
  return [...groups.entries()].map(([key, g]) => [key.split('\u0000')[0]!, full ? g.personas.join(', ') : personaList(g.personas), ...g.cells]);
}

/** Persona names for a narrow column: as many as fit in about 22 characters, then `+N`. */
export function personaList(names: readonly string[]): string {
  let shown = names[0] ?? '';
  let i = 1;
  for (; i < names.length && shown.length + names[i]!.length + 2 <= 22; i++) shown += `, ${names[i]}`;
  return i < names.length ? `${shown} +${names.length - i}` : shown;
}

/** A row of the matrix where personas reach rows of other tenants (another owner's): drawn in red. */
export function labCrossesOwners(cells: readonly string[]): boolean {
  const crosses = (c: string) => {
    const m = /^\d+\/\d+\/(\d+)\//.exec(c);
    return m !== null && Number(m[1]) > 0;
  };
  return [cells[2]!, cells[3]!, cells[4]!].some(crosses) || cells[5] === LAB_INSERT.allowed_into_others;
}

/** What the numbers mean, and the world they were measured on. */
export function labLegend(report: Report): string {
  const lab = report.lab;
  if (!lab) return '';
  const filled = lab.tables.filter((t) => t.rows > 0).length;
  const tenants = (lab.tenants ?? []).map((t) => `${t.root} (members in ${t.membership}${t.roles.length > 0 ? ` as ${t.roles.join(', ')}` : ''})`);
  return (
    `measured in the lab's copy as each persona, every statement rolled back; cells are rows reached, own/tenant/other tenants'/ownerless ` +
    `(tenant: the persona's tenant's rows owned by someone else; other tenants': another tenant's or another account's; ownerless: rows with no owner column and no tenant, and the seed's rows for anon and the outsider); ` +
    `personas with the same cells share a row; alice and bob own rows in tenants 1 and 2, t1_…/t2_… accounts are members of those tenants with that role, the outsider is signed in and owns none, anon has no account; ` +
    (tenants.length > 0 ? `tenant roots: ${tenants.join('; ')}; ` : '') +
    `world: ${lab.accounts.length > 0 ? `${lab.accounts.length} accounts signed up` : 'no account'}, rows added to ${filled} of ${lab.tables.length} tables`
  );
}

export const FUNCTION_HEADER = ['function', 'personas', 'own ids', "victim's rows", "victim's ids", 'NULLs'] as const;

const CALL_ARGS: readonly LabCall['args'][] = ['own', 'victim_rows', 'victim', 'nulls'];

/** One call: `ok` with the rows it changed (`+1 public.t` inserted, `~1` updated, `-1` deleted), the refusal with its SQLSTATE, or `·` when not made. */
function callCell(call: LabCall | undefined): string {
  if (!call) return '·';
  if (call.result === 'denied') return 'denied';
  if (call.result === 'error') return `error ${call.sqlstate ?? ''}`.trim();
  const changed = Object.entries(call.changed).map(([t, c]) =>
    [c.inserted > 0 ? `+${c.inserted}` : '', c.updated > 0 ? `~${c.updated}` : '', c.deleted > 0 ? `-${c.deleted}` : ''].filter(Boolean).join(' ') + ` ${t}`,
  );
  return changed.length > 0 ? `ok: ${changed.join(', ')}` : 'ok';
}

/** Persona × function as table cells (FUNCTION_HEADER), personas with the same results on one row. */
export function functionCells(report: Report, full = false): string[][] {
  const groups = new Map<string, { cells: string[]; personas: string[] }>();
  for (const f of report.lab?.functions ?? []) {
    const cells = CALL_ARGS.map((a) => callCell(f.calls.find((c) => c.args === a)));
    const key = `${f.schema}.${f.name}(${f.args})\u0000${cells.join('\u0000')}`;
    const group = groups.get(key) ?? { cells, personas: [] };
    group.personas.push(f.persona);
    groups.set(key, group);
  }
  return [...groups.entries()].map(([key, g]) => [key.split('\u0000')[0]!, full ? g.personas.join(', ') : personaList(g.personas), ...g.cells]);
}

/** A row where a call with the victim's rows or ids changed rows: drawn in red. */
export function functionChangesOthers(cells: readonly string[]): boolean {
  return cells[3]!.startsWith('ok:') || cells[4]!.startsWith('ok:');
}

/** What the persona × function table shows. */
export function functionLegend(report: Report): string {
  const calls = report.lab?.functionCalls;
  return (
    'every function of the exposed schemas that anon or authenticated may execute, called as anon, the outsider and one member of tenant 1 per role value, ' +
    "with the caller's own ids and rows, the victim's (bob's, tenant 2) rows with the caller's own id, the victim's ids throughout, and NULLs; each call rolled back; " +
    'ok: rows changed per table (+ inserted, ~ updated, - deleted); ·: not called (the caller has no such ids, or the same arguments as another call)' +
    (calls ? `; ${calls.calls} call${calls.calls === 1 ? '' : 's'}${calls.stopped ? `, stopped: ${calls.stopped}` : ''}` : '')
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
