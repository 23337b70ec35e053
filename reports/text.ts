import type { Finding } from '../src/model/finding.ts';
import { LEVELS, type Level } from '../src/model/level.ts';
import type { RealtimeReport, Report } from '../src/model/report.ts';
import { redact } from '../src/model/redact.ts';
import { palette, proofText, terminalSafe, terminalSafeMultiline, type Palette } from './_format.ts';
import { refutedWhy, alignColumns, appLines, baselineLine, FUNCTION_HEADER, functionCells, functionChangesOthers, functionLegend, LAB_HEADER, labCells, labCrossesOwners, labLegend, LOAD_HEADER, LOAD_NUMERIC, loadCells, loadSummary, ms, objectPath, threatModel } from './_report.ts';

export interface TextOptions {
  readonly color: boolean;
  /** Findings listed in full per level; the rest are counted. */
  readonly maxPerLevel?: number;
}

function levelLabel(level: Level, p: Palette): string {
  const label = level.toUpperCase().padEnd(8);
  switch (level) {
    case 'critical':
      return p.bold(p.red(label));
    case 'high':
      return p.red(label);
    case 'medium':
      return p.yellow(label);
    case 'low':
      return p.blue(label);
    default:
      return p.gray(label);
  }
}

function objectLabel(f: Finding): string {
  const o = f.object;
  let s = `${o.schema}.${o.name}`;
  if (o.column) s += `.${o.column}`;
  if (o.policy) s += ` policy "${o.policy}"`;
  if (o.function && o.type === 'function') s = `${o.schema}.${o.function}`;
  if (o.type === 'setting') s = `${o.schema} ${o.name}`;
  return terminalSafe(s);
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((line) => prefix + line)
    .join('\n');
}

function rate(value: number | null): string {
  if (value === null) return '?';
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  return value === 0 ? '0' : String(Number(value.toPrecision(2)));
}

/** The per-table Realtime load as a small aligned table, with where the subscriber counts come from. */
function realtimeSection(realtime: RealtimeReport, p: Palette): string[] {
  const header = ['table', 'changes/s', 'replica identity', 'row bytes', 'RLS', 'policy cost', 'subscribers', 'checks/s', 'load'];
  const rows = realtime.tables.map((t) => [
    terminalSafe(`${t.schema}.${t.name}`),
    rate(t.changesPerSecond),
    t.replicaIdentity,
    t.rowWidthBytes === null ? '?' : t.rowWidthBytes.toLocaleString('en-US'),
    t.rls ? 'on' : 'off',
    t.policyCost ?? '-',
    t.subscribers.toLocaleString('en-US'),
    t.rls ? rate(t.checksPerSecond) : '-',
    t.utilisation === null ? '?' : `${Math.round(t.utilisation * 100)}%`,
  ]);
  const aligned = alignColumns([header, ...rows], new Set([1, 3, 6, 7, 8]));
  const line = (cells: readonly string[]) => '  ' + aligned(cells);
  const source =
    realtime.subscribersSource === 'realtime.subscription'
      ? 'subscribers from realtime.subscription'
      : `subscribers assumed: ${realtime.assumedSubscribers ?? '?'} per table (--realtime-subscribers)`;
  const limits = `load = share of ≈${realtime.limits.withRlsPerSecond.toLocaleString('en-US')} checks/s with RLS, ${realtime.limits.withoutRlsPerSecond.toLocaleString('en-US')} messages/s without`;
  return [
    p.bold('Realtime load (supabase_realtime)') + p.gray(` — ${source}; ${limits}`),
    p.gray(line(header)),
    ...rows.map(line),
    ...realtime.assumptions.map((a) => p.gray(`  * ${terminalSafe(a)}`)),
  ];
}

/** The access matrix: who can do what, personas that reach nothing left out (their count said). */
function labSection(report: Report, p: Palette): string[] {
  const cells = labCells(report, false).map((r) => r.map(terminalSafe));
  const aligned = alignColumns([[...LAB_HEADER], ...cells], new Set());
  const line = (row: readonly string[]) => '  ' + aligned(row);
  const hidden = labCells(report, true).length - cells.length;
  const functions = functionCells(report).map((r) => r.map(terminalSafe));
  const alignedFunctions = alignColumns([[...FUNCTION_HEADER], ...functions], new Set());
  const functionLine = (row: readonly string[]) => '  ' + alignedFunctions(row);
  return [
    p.bold('Who can do what (the lab)') + p.gray(` — ${terminalSafe(labLegend(report))}`),
    p.gray(line(LAB_HEADER)),
    ...cells.map((r) => (labCrossesOwners(r) ? p.red(line(r)) : line(r))),
    ...(hidden > 0 ? [p.gray(`  (${hidden} more table × persona groups reach no row and insert nothing: not listed)`)] : []),
    ...(functions.length > 0
      ? [
          '',
          p.bold('Persona × function (the lab)') + p.gray(` — ${terminalSafe(functionLegend(report))}`),
          p.gray(functionLine(FUNCTION_HEADER)),
          ...functions.map((r) => (functionChangesOthers(r) ? p.red(functionLine(r)) : functionLine(r))),
        ]
      : []),
  ];
}

/** `supaudit load`: the measured request shapes, worst first, and the realtime authorisation cost. */
function loadSection(report: Report, p: Palette): string[] {
  const cells = loadCells(report).map((r) => r.map(terminalSafe));
  const aligned = alignColumns([LOAD_HEADER, ...cells], LOAD_NUMERIC);
  const line = (row: readonly string[]) => '  ' + aligned(row);
  const realtime = report.load?.realtime ?? [];
  return [
    p.bold('Load (policies measured as real users)') + p.gray(` — ${terminalSafe(loadSummary(report) ?? '')}`),
    p.gray(line(LOAD_HEADER)),
    ...cells.map((r) => (r[12]!.includes('p99 >') ? p.red(line(r)) : line(r))),
    ...realtime.map(
      (r) =>
        `  realtime ${terminalSafe(`${r.schema}.${r.name}`)}: ${ms(r.perCheckMs)} ms to authorise one change for one subscriber; ` +
        `${r.subscribers.toLocaleString('en-US')} subscribers → at most ${r.changesPerSec.toLocaleString('en-US')} changes/s (measured)`,
    ),
  ];
}

/** The app's supabase calls: counts, dynamic calls, and the exposed objects it does not use. */
function appSection(report: Report, p: Palette): string[] {
  const lines = appLines(report);
  if (!lines) return [];
  return [
    p.bold(`App usage (${terminalSafe(report.app!.root)})`) + p.gray(` — ${terminalSafe(lines.summary)}`),
    ...lines.items.map((i) => `  - ${p.gray(`${terminalSafe(i.label)}:`)} ${terminalSafe(i.text)}`),
  ];
}

/** The terminal report: summary first, then findings by level with their fix SQL. */
export function renderText(report: Report, options: TextOptions): string {
  const p = palette(options.color);
  const out: string[] = [];
  const t = report.target;
  out.push(
    p.bold(`supaudit ${report.tool.version}`) +
      ` — ${terminalSafe(t.description ?? t.kind)} · ${terminalSafe(t.serverVersion.split(' on ')[0] ?? t.serverVersion)} · database ${terminalSafe(t.database)}`,
  );
  const source = report.exposedSchemas.source === 'default' ? 'assumed: no setting found' : `from ${report.exposedSchemas.source}`;
  out.push(`Exposed schemas: ${report.exposedSchemas.schemas.map(terminalSafe).join(', ')} (${source})`);
  out.push('');
  const counts = LEVELS.map((l) => `${report.summary[l]} ${l}`).join(' · ');
  out.push(
    `${p.bold('Summary:')} ${counts}  ` +
      p.gray(
        `(${report.findings.length} findings, ${report.stats.checksRun} checks, ${report.stats.queries} queries, ${(report.stats.durationMs / 1000).toFixed(1)} s)`,
      ),
  );
  if (report.baseline) {
    out.push(`${p.bold('Baseline:')} ${baselineLine(report)} ${p.gray(`(${terminalSafe(report.baseline.file)})`)}`);
  }
  const threats = threatModel(report);
  if (threats.length > 0) {
    out.push('');
    out.push(p.bold('Threat model (STRIDE)'));
    const who = (f: Finding | undefined) => (f ? `${f.level} ${f.check} on ${terminalSafe(objectPath(f.object))}` : '-');
    for (const t of threats) {
      out.push(`  ${t.category} ${t.name.padEnd(24)} ${t.levels}`);
      if (t.anon) out.push(p.gray(`      anon key: ${who(t.anon)}`));
      if (t.user) out.push(p.gray(`      any account: ${who(t.user)}`));
    }
  }
  const max = options.maxPerLevel ?? Number.POSITIVE_INFINITY;
  for (const level of LEVELS) {
    const findings = report.findings.filter((f) => f.level === level);
    if (findings.length === 0) continue;
    out.push('');
    out.push(p.bold(`${level.toUpperCase()} (${findings.length})`));
    for (const f of findings.slice(0, max)) {
      out.push(`${levelLabel(f.level, p)} ${p.bold(f.check)}  ${objectLabel(f)}`);
      out.push(indent(terminalSafe(f.message), '         '));
      const proof = proofText(f);
      if (proof) out.push(p.gray(indent(terminalSafe(proof), '       proof: ')));
      if (f.remediation.sql) out.push(indent(p.green(terminalSafeMultiline(f.remediation.sql)), '         fix: ').replace(/\n {9}fix: /g, '\n              '));
      else out.push(p.gray(indent(terminalSafe(f.remediation.text), '         fix: ')));
    }
    if (findings.length > max) out.push(p.gray(`         … and ${findings.length - max} more ${level} findings (see the JSON report)`));
  }
  if (report.findings.length === 0) {
    out.push('');
    out.push(p.green('No findings.'));
  }
  if (report.suppressed.length > 0) {
    out.push('');
    out.push(p.bold(`Suppressed (${report.suppressed.length})`) + p.gray(' — not counted, never fail the run'));
    for (const s of report.suppressed) {
      const by = s.by ? `, by ${s.by}` : '';
      const until = s.expires ? `, until ${s.expires}` : '';
      const from = s.source === 'comment' ? 'COMMENT in the database' : 'suppressions file';
      out.push(`  - ${terminalSafe(s.finding.fingerprint)} ${p.gray(`(${s.finding.level})`)}: ${terminalSafe(s.reason)} ${p.gray(terminalSafe(`(${from}${by}${until})`))}`);
    }
  }
  if (report.refuted && report.refuted.length > 0) {
    out.push('');
    out.push(p.bold(`Refuted by the lab (${report.refuted.length})`) + p.gray(' — static suspicions the lab measured and found false; not counted'));
    for (const f of report.refuted) out.push(`  - ${terminalSafe(f.fingerprint)} ${p.gray(`(${f.level})`)}: ${terminalSafe(refutedWhy(f))}`);
  }
  if (report.app) {
    out.push('');
    out.push(...appSection(report, p));
  }
  if (report.lab) {
    out.push('');
    out.push(...labSection(report, p));
  }
  if (report.load) {
    out.push('');
    out.push(...loadSection(report, p));
  }
  if (report.realtime && report.realtime.tables.length > 0) {
    out.push('');
    out.push(...realtimeSection(report.realtime, p));
  }
  const inconclusive = report.inconclusive ?? [];
  if (report.notes.length > 0 || report.checkErrors.length > 0 || inconclusive.length > 0) {
    out.push('');
    out.push(p.bold('Notes'));
    for (const n of report.notes) out.push(`  - ${terminalSafe(n.area)}: ${terminalSafe(n.message)}`);
    for (const e of report.checkErrors) out.push(p.red(`  - check ${e.check} failed: ${terminalSafe(e.message)}`));
    for (const i of inconclusive) out.push(p.yellow(`  - inconclusive: ${i.check} (${terminalSafe(i.reason)})`));
  }
  return redact(out.join('\n')) + '\n';
}
