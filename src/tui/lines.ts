/**
 * The review's screens as plain lines of styled segments, cut to the terminal width. Pure
 * functions of the report: the components only draw these, and scrolling is exact because the
 * wrapping happens here, not in the terminal.
 */
import { terminalSafe, terminalSafeMultiline } from '../model/visible.ts';
import { alignColumns, FUNCTION_HEADER, functionCells, functionChangesOthers, functionLegend, LAB_HEADER, labCells, labCrossesOwners, labLegend, LOAD_HEADER, LOAD_NUMERIC, loadCells, loadSummary, ms } from '../../reports/_report.ts';
import { baselineLine, newFingerprints } from '../engine/baseline.ts';
import type { Finding } from '../model/finding.ts';
import { LEVELS, type Level } from '../model/level.ts';
import type { BlastRadius, Report, RoleTableExposure } from '../model/report.ts';
import { focusedFinding, objectLabel, type State } from './state.ts';

export type Tone = 'critical' | 'high' | 'medium' | 'low' | 'info' | 'good' | 'dim' | 'bold' | 'accent' | 'mark';

export interface Segment {
  readonly text: string;
  readonly tone?: Tone;
}

export type Line = readonly Segment[];

export const seg = (text: string, tone?: Tone): Segment => (tone ? { text, tone } : { text });
export const line = (...segments: Segment[]): Line => segments;
const blank: Line = [];

export function levelTone(level: Level): Tone {
  return level;
}

export function lineText(l: Line): string {
  return l.map((s) => s.text).join('');
}

/** Splits segments into lines of at most `width` characters, breaking at spaces when it can. */
export function wrap(segments: readonly Segment[], width: number, indent = ''): Line[] {
  const w = Math.max(10, width);
  const out: Segment[][] = [[]];
  let used = 0;
  const push = (text: string, tone: Tone | undefined) => {
    if (!text) return;
    out.at(-1)!.push(tone ? { text, tone } : { text });
    used += text.length;
  };
  const newline = () => {
    out.push(indent ? [{ text: indent }] : []);
    used = indent.length;
  };
  for (const s of segments) {
    const parts = s.text.split('\n');
    parts.forEach((part, i) => {
      if (i > 0) newline();
      let rest = part;
      while (rest.length > 0) {
        const room = w - used;
        if (rest.length <= room) {
          push(rest, s.tone);
          break;
        }
        let cut = rest.lastIndexOf(' ', room);
        if (cut <= 0 || used > indent.length + w / 2) cut = cut > 0 ? cut : room;
        if (room <= 0) {
          newline();
          continue;
        }
        push(rest.slice(0, Math.max(1, cut)), s.tone);
        rest = rest.slice(Math.max(1, cut)).replace(/^ /, '');
        newline();
      }
    });
  }
  return out;
}

/** A line cut to `width` characters (for one-line rows). */
export function clip(l: Line, width: number): Line {
  const out: Segment[] = [];
  let left = Math.max(0, width);
  for (const s of l) {
    if (left <= 0) break;
    if (s.text.length <= left) {
      out.push(s);
      left -= s.text.length;
    } else {
      out.push({ ...s, text: left > 1 ? s.text.slice(0, left - 1) + '…' : '…' });
      left = 0;
    }
  }
  return out;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text.slice(0, Math.max(0, width - 1)) + ' ' : text.padEnd(width);
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}

export function levelCounts(counts: Readonly<Record<Level, number>>): Line {
  const out: Segment[] = [];
  LEVELS.forEach((l, i) => {
    if (i > 0) out.push(seg(' · ', 'dim'));
    out.push(seg(`${counts[l]} ${l}`, counts[l] > 0 ? levelTone(l) : 'dim'));
  });
  return out;
}

function bar(score: number, width: number): string {
  const filled = Math.round((Math.max(0, Math.min(100, score)) / 100) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

function serverVersion(report: Report): string {
  return report.target.serverVersion.split(' on ')[0]?.split(' (')[0] ?? report.target.serverVersion;
}

/** Overview: target, server, counts, a blast-radius bar per role with its top paths, worst five findings. */
export function overviewLines(report: Report, width: number): Line[] {
  const t = report.target;
  const out: Line[] = [];
  out.push(...wrap([seg('Target   ', 'dim'), seg(terminalSafe(t.description ?? t.kind), 'bold'), seg(` · ${terminalSafe(serverVersion(report))} · database ${terminalSafe(t.database)}`)], width, '         '));
  const source = report.exposedSchemas.source === 'default' ? 'assumed: no setting found' : `from ${report.exposedSchemas.source}`;
  out.push(clip([seg('Exposed  ', 'dim'), seg(`${report.exposedSchemas.schemas.map(terminalSafe).join(', ')} (${source})`)], width));
  out.push(
    clip(
      [
        seg('Findings ', 'dim'),
        ...levelCounts(report.summary),
        seg(`  (${report.findings.length} total, ${report.stats.checksRun} checks, ${report.stats.objects.relations} relations, ${report.stats.objects.policies} policies, ${(report.stats.durationMs / 1000).toFixed(1)} s)`, 'dim'),
      ],
      width,
    ),
  );
  if (report.suppressed.length > 0) out.push(line(seg(`         ${plural(report.suppressed.length, 'accepted finding')} not counted`, 'dim')));
  if (report.baseline) out.push(clip([seg('Baseline ', 'dim'), seg(baselineLine(report.baseline), 'accent'), seg(` (${terminalSafe(report.baseline.file)}): only new findings fail the run`, 'dim')], width));
  out.push(blank);
  out.push(line(seg('Blast radius per role', 'bold'), seg('  (0–100: what the role can read, write and call; 3 for detail)', 'dim')));
  const barWidth = Math.max(10, Math.min(30, width - 70));
  for (const b of report.blastRadius) {
    const top = (b.breakdown ?? []).slice(0, 2).map((x) => x.reason);
    const tone: Tone = b.bypassesRls ? 'dim' : b.score >= 70 ? 'critical' : b.score >= 40 ? 'medium' : 'good';
    out.push(
      clip(
        [
          seg(pad(terminalSafe(b.role), 15), 'bold'),
          seg(b.bypassesRls ? '·'.repeat(barWidth) : bar(b.score, barWidth), tone),
          seg(b.bypassesRls ? '  n/a ' : ` ${String(Math.round(b.score)).padStart(3)}  `),
          seg(terminalSafe(b.bypassesRls ? (top[0] ?? 'bypasses RLS by design') : (top[0] ?? 'nothing reachable')), b.bypassesRls ? 'dim' : undefined),
        ],
        width,
      ),
    );
    if (!b.bypassesRls && top[1]) out.push(clip([seg(' '.repeat(15 + barWidth + 6)), seg(`+ ${terminalSafe(top[1])}`, 'dim')], width));
  }
  out.push(blank);
  out.push(line(seg('Worst findings', 'bold'), seg('  (2 for the full list)', 'dim')));
  const fresh = newFingerprints(report);
  for (const f of report.findings.slice(0, 5)) out.push(findingRow(f, width, false, false, fresh?.has(f.fingerprint)));
  if (report.findings.length === 0) out.push(line(seg('No findings.', 'good')));
  return out;
}

/** One finding as a list row: level, check, object; `isNew` (only with a baseline) adds a "new" column. */
export function findingRow(f: Finding, width: number, selected: boolean, accepted: boolean, isNew?: boolean): Line {
  const checkWidth = Math.max(16, Math.min(36, Math.floor(width * 0.36)));
  return clip(
    [
      seg(selected ? '● ' : accepted ? '✓ ' : '  ', selected ? 'accent' : 'good'),
      ...(isNew === undefined ? [] : [seg(isNew ? 'new ' : '    ', 'accent')]),
      seg(pad(f.level.toUpperCase(), 9), levelTone(f.level)),
      seg(pad(terminalSafe(f.check), checkWidth), 'bold'),
      seg(terminalSafe(objectLabel(f))),
    ],
    width,
  );
}

/** Marks `[start, start+length)` ranges of a text as highlighted segments. */
export function highlight(text: string, ranges: readonly { readonly start: number; readonly length: number }[]): Segment[] {
  const sorted = [...ranges].filter((r) => r.start >= 0 && r.start < text.length && r.length > 0).sort((a, b) => a.start - b.start);
  const out: Segment[] = [];
  let at = 0;
  for (const r of sorted) {
    if (r.start < at) continue;
    if (r.start > at) out.push(seg(text.slice(at, r.start)));
    out.push(seg(text.slice(r.start, r.start + r.length), 'mark'));
    at = r.start + r.length;
  }
  if (at < text.length) out.push(seg(text.slice(at)));
  return out;
}

type Highlighted = { label: string; text: string; ranges: { start: number; length: number }[] };

/** Policy expressions in the evidence, with the offending part marked where the check located it. */
export function policyEvidence(evidence: Readonly<Record<string, unknown>>): Highlighted[] {
  const out: Highlighted[] = [];
  const calls = Array.isArray(evidence['calls']) ? (evidence['calls'] as { clause?: string; location?: number; length?: number }[]) : [];
  for (const clause of ['using', 'withCheck'] as const) {
    const text = evidence[clause];
    if (typeof text !== 'string') continue;
    const ranges = calls
      .filter((c) => c.clause === clause && typeof c.location === 'number' && typeof c.length === 'number')
      .map((c) => ({ start: c.location!, length: c.length! }));
    out.push({ label: clause === 'using' ? 'USING' : 'WITH CHECK', text, ranges });
  }
  if (Array.isArray(evidence['clauses'])) {
    for (const c of evidence['clauses'] as { clause?: string; text?: unknown; locations?: unknown }[]) {
      if (typeof c.text !== 'string') continue;
      const text = c.text;
      const locations = Array.isArray(c.locations) ? (c.locations.filter((n) => typeof n === 'number') as number[]) : [];
      const ranges = locations.map((start) => ({ start, length: /^'[^']*'/.exec(text.slice(start))?.[0].length ?? 1 }));
      out.push({ label: c.clause === 'withCheck' ? 'WITH CHECK' : 'USING', text, ranges });
    }
  }
  if (typeof evidence['text'] === 'string' && 'position' in evidence) {
    const position = typeof evidence['position'] === 'number' ? evidence['position'] - 1 : -1;
    out.push({ label: 'expression', text: evidence['text'], ranges: position >= 0 ? [{ start: position, length: 1 }] : [] });
  }
  return out;
}

/** Lists that read better one item per line: objects, or long strings. */
function evidenceItems(value: unknown): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  if (value.every((v) => typeof v === 'string' && v.length <= 40)) return undefined;
  if (value.every((v) => typeof v !== 'object' || v === null)) return value.map(String);
  return value.map((v) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.entries(v)
          .map(([k, x]) => `${k}: ${evidenceValue(x)}`)
          .join(', ')
      : evidenceValue(v),
  );
}

const POLICY_KEYS = new Set(['using', 'withCheck', 'calls', 'clauses', 'text', 'position']);

function evidenceValue(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number') return value.toLocaleString('en-US');
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) return value.map(String).join(', ');
  return JSON.stringify(value);
}

/** Detail: what, where, who, why, evidence, fix, docs. */
export function detailLines(report: Report, f: Finding, width: number, accepted: string | undefined): Line[] {
  const out: Line[] = [];
  const check = report.checks.find((c) => c.id === f.check);
  const heading = (title: string) => {
    out.push(blank);
    out.push(line(seg(title, 'bold')));
  };
  out.push(...wrap([seg(f.level.toUpperCase(), f.level), seg('  '), seg(terminalSafe(f.title), 'bold')], width));
  out.push(clip([seg('check   ', 'dim'), seg(f.check), seg(check ? `  (${check.category}, ${check.facing})` : '', 'dim')], width));
  out.push(clip([seg('object  ', 'dim'), seg(`${f.object.type} ${terminalSafe(objectLabel(f))}`)], width));
  out.push(clip([seg('roles   ', 'dim'), seg(f.roles.length > 0 ? f.roles.map(terminalSafe).join(', ') : '—')], width));
  if (f.location) out.push(clip([seg('defined ', 'dim'), seg(`${terminalSafe(f.location.file)}:${f.location.line}`)], width));
  out.push(clip([seg('id      ', 'dim'), seg(terminalSafe(f.fingerprint), 'dim')], width));
  if (accepted !== undefined) out.push(...wrap([seg('accepted ', 'good'), seg(terminalSafe(accepted))], width, '         '));
  if (report.baseline) {
    const isNew = report.baseline.new.includes(f.fingerprint);
    out.push(clip([seg('baseline', 'dim'), seg(isNew ? ' new since the baseline' : ' already in the baseline', isNew ? 'accent' : 'dim')], width));
  }
  heading('What is wrong');
  out.push(...wrap([seg(terminalSafe(f.message))], width));
  if (check) {
    heading('Why it matters');
    out.push(...wrap([seg(terminalSafe(check.description))], width));
  }
  const evidence = f.evidence ?? {};
  const policies = policyEvidence(evidence);
  const rest = Object.entries(evidence).filter(([k]) => !(policies.length > 0 && POLICY_KEYS.has(k)));
  if (policies.length > 0 || rest.length > 0) {
    heading('Evidence');
    for (const p of policies) {
      out.push(line(seg(`${p.label}:`, 'dim')));
      const parts = highlight(p.text, p.ranges).map((s) => ({ ...s, text: terminalSafe(s.text) }));
      out.push(...wrap([seg('  '), ...parts], width, '  '));
    }
    for (const [key, value] of rest) {
      const items = evidenceItems(value);
      if (!items) {
        out.push(...wrap([seg(`${key}: `, 'dim'), seg(terminalSafe(evidenceValue(value)))], width, '  '));
        continue;
      }
      out.push(line(seg(`${key}:`, 'dim')));
      for (const item of items) out.push(...wrap([seg('  - '), seg(terminalSafe(item))], width, '    '));
    }
  }
  heading('Fix');
  if (f.remediation.sql) {
    out.push(...wrap([seg(terminalSafe(f.remediation.text), 'dim')], width));
    for (const sqlLine of terminalSafeMultiline(f.remediation.sql).split('\n')) out.push(...wrap([seg('  '), seg(sqlLine, 'good')], width, '    '));
  } else {
    out.push(...wrap([seg(terminalSafe(f.remediation.text))], width));
  }
  heading('Docs');
  out.push(clip([seg(terminalSafe(check?.docs ?? f.docs), 'accent')], width));
  return out;
}

/** `GRANT SELECT ON t …` and `GRANT INSERT ON t …` with the same rest become `GRANT SELECT, INSERT ON t …`. */
export function mergeGrants(via: readonly string[]): string[] {
  const merged = new Map<string, string[]>();
  const out: (string | { rest: string })[] = [];
  for (const v of via) {
    const m = /^GRANT ([A-Z]+) ON (.*)$/.exec(v);
    if (!m) {
      out.push(v);
      continue;
    }
    const rest = m[2]!;
    if (!merged.has(rest)) {
      merged.set(rest, []);
      out.push({ rest });
    }
    merged.get(rest)!.push(m[1]!);
  }
  return out.map((o) => (typeof o === 'string' ? o : `GRANT ${merged.get(o.rest)!.join(', ')} ON ${o.rest}`));
}

function access(t: RoleTableExposure): string {
  return `${t.select ? 'R' : '-'}${t.insert ? 'I' : '-'}${t.update ? 'U' : '-'}${t.delete ? 'D' : '-'}`;
}

function rowsLabel(rows: RoleTableExposure['rows']): string {
  return typeof rows === 'number' ? rows.toLocaleString('en-US') : rows;
}

/** The role view's right side: what the role can reach, table by table, and through which path. */
export function roleLines(b: BlastRadius, width: number): Line[] {
  const out: Line[] = [];
  out.push(
    clip(
      [
        seg(terminalSafe(b.role), 'bold'),
        seg(b.bypassesRls ? '  bypasses RLS by design' : `  score ${Math.round(b.score)}/100`, b.bypassesRls ? 'dim' : b.score >= 70 ? 'critical' : b.score >= 40 ? 'medium' : 'good'),
        seg(`  ${plural(b.tables.length, 'table')}, ${plural(b.functions.length, 'function')}`, 'dim'),
      ],
      width,
    ),
  );
  const nameWidth = Math.max(18, Math.min(34, Math.floor(width * 0.38)));
  out.push(clip([seg(pad('table', nameWidth) + 'RIUD  ' + pad('rows', 10) + 'sensitive columns', 'dim'), seg('  ↳ through', 'dim')], width));
  for (const t of b.tables) {
    const tone: Tone | undefined = t.rows === 'all' ? 'high' : t.rows === 'none' ? 'dim' : undefined;
    out.push(
      clip(
        [
          seg(pad(terminalSafe(`${t.schema}.${t.name}`), nameWidth)),
          seg(access(t) + '  ', t.insert || t.update || t.delete ? 'medium' : undefined),
          seg(pad(rowsLabel(t.rows), 10), tone),
          seg(t.sensitiveColumns.map(terminalSafe).join(', '), 'critical'),
        ],
        width,
      ),
    );
    for (const via of t.via.length > 0 ? mergeGrants(t.via) : ['table grant']) out.push(clip([seg(`  ↳ ${terminalSafe(via)}`, 'dim')], width));
  }
  if (b.tables.length === 0) out.push(line(seg('no table reachable', 'good')));
  if (b.functions.length > 0) {
    out.push(blank);
    out.push(line(seg('functions', 'dim')));
    for (const fn of b.functions) {
      out.push(
        clip(
          [
            seg(pad(terminalSafe(`${fn.schema}.${fn.name}`), nameWidth)),
            seg(fn.securityDefiner ? 'DEFINER ' : 'invoker ', fn.securityDefiner ? 'high' : 'dim'),
          ],
          width,
        ),
      );
      for (const via of fn.via) out.push(clip([seg(`  ↳ ${terminalSafe(via)}`, 'dim')], width));
    }
  }
  if (b.breakdown && b.breakdown.length > 0 && !b.bypassesRls) {
    out.push(blank);
    out.push(line(seg('score breakdown', 'dim')));
    for (const x of b.breakdown) out.push(clip([seg(String(Math.round(x.points)).padStart(4) + '  ', 'dim'), seg(terminalSafe(x.reason))], width));
  }
  return out;
}

export const HELP: readonly (readonly [string, string])[] = [
  ['Tab / 1 2 3 4 5', 'overview · findings · roles · load (supaudit load) · lab (who can do what)'],
  ['↑ ↓  j k', 'move (PgUp/PgDn, Home/End)'],
  ['Enter', 'finding detail'],
  ['← →', 'previous / next finding in the detail'],
  ['Esc', 'back (closes dialogs)'],
  ['/', 'search findings (Enter keeps, Esc closes)'],
  ['l c o', 'filter: level ≥, category, role'],
  ['g', 'group by level · check · schema · role'],
  ['x', 'clear filters'],
  ['space', 'mark a fix for writing'],
  ['w', 'write marked fixes (or the focused one) as a migration'],
  ['a', 'accept the finding with a reason (supaudit.ignore.json)'],
  ['e', 'write the reports (every format)'],
  ['r', 're-run the audit'],
  ['?', 'this help'],
  ['q', 'quit'],
];

export function helpLines(width: number): Line[] {
  return [
    line(seg('Keys', 'bold')),
    blank,
    ...HELP.map(([key, what]) => clip([seg(pad(key, 14), 'accent'), seg(what)], width)),
    blank,
    line(seg('Esc or ? closes this help.', 'dim')),
  ];
}

/** `supaudit load` in the review: the summary, then every measured request shape, worst first. */
export function loadLines(report: Report, width: number): Line[] {
  if (!report.load) return [line(seg('No load figures: run `supaudit load` to measure the policies as real users.', 'dim'))];
  const all = loadCells(report).map((r) => r.map((c, i) => terminalSafe(i === 1 && c === 'authenticated' ? 'auth' : c)));
  // The terminal is narrower than the report: the columns that say least go first.
  const dropped = new Set<number>([4, 8, ...(report.load.concurrency.length === 1 ? [3] : []), ...(report.load.tables.some((t) => t.fixed) ? [] : [11])]);
  const keep = LOAD_HEADER.map((_, i) => i).filter((i) => !dropped.has(i));
  const header = keep.map((i) => LOAD_HEADER[i]!);
  const cells = all.map((r) => keep.map((i) => r[i]!));
  const row = alignColumns([header, ...cells], new Set(keep.flatMap((i, k) => (LOAD_NUMERIC.has(i) ? [k] : []))));
  return [
    line(seg('Load', 'bold'), seg(' — policies measured as real users', 'dim')),
    ...wrap([seg(terminalSafe(loadSummary(report) ?? ''))], width),
    blank,
    clip([seg(row(header), 'dim')], width),
    ...cells.map((r) => clip([seg(row(r), r.at(-1)!.includes('p99 >') ? 'critical' : undefined)], width)),
    ...(report.load.realtime ?? []).flatMap((r) => [
      blank,
      ...wrap([seg(`realtime ${terminalSafe(`${r.schema}.${r.name}`)}: ${ms(r.perCheckMs)} ms per subscriber check; ${r.subscribers} subscribers → at most ${r.changesPerSec} changes/s`)], width),
    ]),
  ];
}

/** The lab in the review: the access matrix (personas that reach nothing left out), then the confirmed attacks. */
export function labLines(report: Report, width: number): Line[] {
  if (!report.lab) return [line(seg('No lab: it runs on the embedded copy (--migrations, --demo).', 'dim'))];
  const cells = labCells(report, false).map((r) => r.map(terminalSafe));
  const aligned = alignColumns([[...LAB_HEADER], ...cells], new Set());
  const functions = functionCells(report).map((r) => r.map(terminalSafe));
  const alignedFunctions = alignColumns([[...FUNCTION_HEADER], ...functions], new Set());
  return [
    line(seg('Who can do what', 'bold'), seg(' — rows reached: own/tenant/other tenants’/ownerless', 'dim')),
    ...wrap([seg(terminalSafe(labLegend(report)), 'dim')], width),
    blank,
    clip([seg(aligned([...LAB_HEADER]), 'dim')], width),
    ...cells.map((r) => clip([seg(aligned(r), labCrossesOwners(r) ? 'critical' : undefined)], width)),
    ...(functions.length > 0
      ? [
          blank,
          line(seg('Persona × function', 'bold')),
          ...wrap([seg(terminalSafe(functionLegend(report)), 'dim')], width),
          clip([seg(alignedFunctions([...FUNCTION_HEADER]), 'dim')], width),
          ...functions.map((r) => clip([seg(alignedFunctions(r), functionChangesOthers(r) ? 'critical' : undefined)], width)),
        ]
      : []),
    ...report.lab.attacks.flatMap((a) => [
      blank,
      ...wrap([seg(`attack confirmed: ${a.attacker} ${a.command} ${terminalSafe(`${a.table.schema}.${a.table.name}`)}.${terminalSafe(a.column)} → gains ${terminalSafe(Object.keys(a.gained).join(', '))}`, 'critical')], width),
    ]),
  ];
}

/** The lines of the current scrolling view (overview, detail, help), or undefined for the others. */
export function scrollingLines(state: State, width: number): Line[] | undefined {
  if (state.view === 'help') return helpLines(width);
  const report = state.report;
  if (!report) return undefined;
  if (state.view === 'overview') return overviewLines(report, width);
  if (state.view === 'load') return loadLines(report, width);
  if (state.view === 'lab') return labLines(report, width);
  if (state.view === 'detail') {
    const f = focusedFinding(state);
    return f ? detailLines(report, f, width, state.accepted[f.fingerprint]) : undefined;
  }
  return undefined;
}

/** Width of the role list on the left of the role view. */
export function roleListWidth(report: Report): number {
  return Math.min(22, Math.max(14, Math.max(0, ...report.blastRadius.map((b) => b.role.length)) + 8));
}
