/**
 * The interactive review's whole state and its reducer. Pure: no Ink, no I/O, so every
 * transition is unit-tested without a terminal. Components only draw what is here.
 */
import { failsRun } from '../engine/baseline.ts';
import type { Finding } from '../model/finding.ts';
import { atLeast, LEVELS, levelRank, type Level } from '../model/level.ts';
import type { Report, ReportCheck } from '../model/report.ts';

export type View = 'progress' | 'overview' | 'findings' | 'detail' | 'roles' | 'load' | 'lab' | 'help';
export type Grouping = 'level' | 'check' | 'schema' | 'role';
export type Category = ReportCheck['category'];

export const GROUPINGS: readonly Grouping[] = ['level', 'check', 'schema', 'role'];
export const CATEGORIES: readonly Category[] = ['security', 'performance', 'schema'];

export interface Stage {
  readonly name: string;
  readonly startedAt: number;
  readonly endedAt?: number;
}

export interface Filters {
  /** Findings at or above this level. */
  readonly level?: Level;
  readonly category?: Category;
  readonly role?: string;
  /** Case-insensitive text matched against check, object, message and fingerprint. */
  readonly text: string;
}

/** One line of the findings list: a group heading or a finding. */
export type Row =
  | { readonly kind: 'group'; readonly label: string; readonly count: number }
  | { readonly kind: 'finding'; readonly finding: Finding };

export type Dialog =
  | { readonly kind: 'confirm-fixes'; readonly fingerprints: readonly string[]; readonly path: string }
  | { readonly kind: 'accept'; readonly fingerprint: string }
  | { readonly kind: 'search' };

export interface Message {
  readonly text: string;
  readonly tone: 'info' | 'error';
}

export interface State {
  readonly view: View;
  /** Views to go back to with Esc. */
  readonly back: readonly View[];
  readonly run: {
    readonly id: number;
    readonly status: 'running' | 'done' | 'failed';
    readonly stages: readonly Stage[];
    readonly startedAt: number;
    readonly error?: string;
  };
  readonly report?: Report;
  readonly filters: Filters;
  readonly grouping: Grouping;
  /** Rows of the findings list for the current report, filters and grouping (derived, kept for O(1) moves). */
  readonly rows: readonly Row[];
  /** Index into `rows` of the focused finding (never a group row), -1 when the list is empty. */
  readonly cursor: number;
  /** First row drawn: the list window scrolls only when the cursor leaves it. */
  readonly offset: number;
  readonly detailScroll: number;
  /** Focused role in the role view and the first table row drawn. */
  readonly roleCursor: number;
  readonly roleOffset: number;
  /** Fixes marked with space for `w`. */
  readonly selected: readonly string[];
  /** Findings accepted during this session, by fingerprint, with the reason. */
  readonly accepted: Readonly<Record<string, string>>;
  readonly dialog?: Dialog;
  readonly message?: Message;
  readonly quit: boolean;
}

export type Action =
  | { readonly type: 'run-started'; readonly at: number }
  | { readonly type: 'stage'; readonly name: string; readonly at: number }
  | { readonly type: 'run-finished'; readonly report: Report; readonly at: number }
  | { readonly type: 'run-failed'; readonly error: string; readonly at: number }
  | { readonly type: 'show'; readonly view: View }
  | { readonly type: 'back' }
  | { readonly type: 'move'; readonly delta: number; readonly pageSize: number }
  | { readonly type: 'move-to'; readonly edge: 'first' | 'last'; readonly pageSize: number }
  | { readonly type: 'scroll-detail'; readonly delta: number; readonly max: number }
  | { readonly type: 'move-role'; readonly delta: number }
  | { readonly type: 'scroll-role'; readonly delta: number; readonly max: number }
  | { readonly type: 'cycle-grouping' }
  | { readonly type: 'cycle-level' }
  | { readonly type: 'cycle-category' }
  | { readonly type: 'cycle-role' }
  | { readonly type: 'set-search'; readonly text: string }
  | { readonly type: 'clear-filters' }
  | { readonly type: 'toggle-selected' }
  | { readonly type: 'open-dialog'; readonly dialog: Dialog }
  | { readonly type: 'close-dialog' }
  | { readonly type: 'accepted'; readonly fingerprint: string; readonly reason: string; readonly message: string }
  | { readonly type: 'fixes-written'; readonly message: string }
  | { readonly type: 'message'; readonly text: string; readonly tone: Message['tone'] }
  | { readonly type: 'quit' };

export function initialState(at: number): State {
  return {
    view: 'progress',
    back: [],
    run: { id: 1, status: 'running', stages: [], startedAt: at },
    filters: { text: '' },
    grouping: 'level',
    rows: [],
    cursor: -1,
    offset: 0,
    detailScroll: 0,
    roleCursor: 0,
    roleOffset: 0,
    selected: [],
    accepted: {},
    quit: false,
  };
}

function categoryOf(report: Report, check: string): Category | undefined {
  return report.checks.find((c) => c.id === check)?.category;
}

export function objectLabel(f: Finding): string {
  const o = f.object;
  if (o.type === 'function' && o.function) return `${o.schema}.${o.function}`;
  if (o.type === 'setting') return `${o.schema} ${o.name}`;
  let label = `${o.schema}.${o.name}`;
  if (o.column) label += `.${o.column}`;
  if (o.policy) label += ` policy "${o.policy}"`;
  return label;
}

export function matches(report: Report, f: Finding, filters: Filters): boolean {
  if (filters.level && !atLeast(f.level, filters.level)) return false;
  if (filters.category && categoryOf(report, f.check) !== filters.category) return false;
  if (filters.role && !f.roles.includes(filters.role)) return false;
  if (filters.text) {
    const needle = filters.text.toLowerCase();
    const hay = `${f.check} ${objectLabel(f)} ${f.message} ${f.fingerprint}`.toLowerCase();
    if (!hay.includes(needle)) return false;
  }
  return true;
}

function groupKey(f: Finding, grouping: Grouping): string {
  switch (grouping) {
    case 'level':
      return f.level;
    case 'check':
      return f.check;
    case 'schema':
      return f.object.schema;
    case 'role':
      return f.roles.length > 0 ? [...f.roles].sort().join(', ') : '(no role)';
  }
}

function compareGroups(a: Finding, b: Finding, grouping: Grouping): number {
  if (grouping === 'level') return levelRank(a.level) - levelRank(b.level);
  const ka = groupKey(a, grouping);
  const kb = groupKey(b, grouping);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** The findings list: filtered, grouped, in the report's deterministic order within a group. */
export function buildRows(report: Report | undefined, filters: Filters, grouping: Grouping): Row[] {
  if (!report) return [];
  const order = new Map(report.findings.map((f, i) => [f, i]));
  const kept = report.findings.filter((f) => matches(report, f, filters));
  kept.sort((a, b) => compareGroups(a, b, grouping) || levelRank(a.level) - levelRank(b.level) || order.get(a)! - order.get(b)!);
  const rows: Row[] = [];
  let current: { label: string; index: number } | undefined;
  for (const f of kept) {
    const label = groupKey(f, grouping);
    if (current?.label !== label) {
      current = { label, index: rows.length };
      rows.push({ kind: 'group', label, count: 0 });
    }
    const header = rows[current.index] as Extract<Row, { kind: 'group' }>;
    rows[current.index] = { ...header, count: header.count + 1 };
    rows.push({ kind: 'finding', finding: f });
  }
  return rows;
}

function firstFinding(rows: readonly Row[]): number {
  return rows.findIndex((r) => r.kind === 'finding');
}

/** Moves the cursor by `delta` findings (group rows are skipped), clamped to the list. */
function stepCursor(rows: readonly Row[], cursor: number, delta: number): number {
  if (cursor < 0) return firstFinding(rows);
  let at = cursor;
  const dir = Math.sign(delta);
  for (let left = Math.abs(delta); left > 0; left--) {
    let next = at + dir;
    while (next >= 0 && next < rows.length && rows[next]!.kind !== 'finding') next += dir;
    if (next < 0 || next >= rows.length) break;
    at = next;
  }
  return at;
}

/** Keeps the cursor inside the window of `pageSize` rows, showing its group heading when it can. */
export function follow(rows: readonly Row[], offset: number, cursor: number, pageSize: number): number {
  const size = Math.max(1, pageSize);
  let next = offset;
  if (cursor < next) next = rows[cursor - 1]?.kind === 'group' ? cursor - 1 : cursor;
  if (cursor >= next + size) next = cursor - size + 1;
  return Math.max(0, Math.min(next, Math.max(0, rows.length - size)));
}

export function focusedFinding(state: State): Finding | undefined {
  const row = state.rows[state.cursor];
  return row?.kind === 'finding' ? row.finding : undefined;
}

/** Roles of the blast-radius list, most exposed first. */
export function roleNames(report: Report | undefined): string[] {
  return (report?.blastRadius ?? []).map((b) => b.role);
}

function withRows(state: State, patch: Partial<State>): State {
  const next = { ...state, ...patch };
  const rows = buildRows(next.report, next.filters, next.grouping);
  const previous = focusedFinding(state);
  let cursor = previous ? rows.findIndex((r) => r.kind === 'finding' && r.finding.fingerprint === previous.fingerprint) : -1;
  if (cursor < 0) cursor = firstFinding(rows);
  return { ...next, rows, cursor, offset: 0, detailScroll: 0 };
}

function cycle<T>(values: readonly T[], current: T | undefined): T | undefined {
  if (current === undefined) return values[0];
  const i = values.indexOf(current);
  return i < 0 || i === values.length - 1 ? undefined : values[i + 1];
}

/** Roles the findings name: blast-radius order first (anon, authenticated, …), then the rest by name. */
function rolesInFindings(report: Report | undefined): string[] {
  const named = new Set((report?.findings ?? []).flatMap((f) => f.roles));
  const ranked = roleNames(report).filter((r) => named.has(r));
  return [...ranked, ...[...named].filter((r) => !ranked.includes(r)).sort()];
}

function show(state: State, view: View): State {
  if (view === state.view) return state;
  // Help and detail stack on top of where they were opened; the main views replace each other.
  const stacking = view === 'help' || view === 'detail';
  const back = stacking ? [...state.back, state.view] : state.view === 'progress' ? [] : [...state.back.filter((v) => v !== view), state.view].slice(-4);
  return { ...state, view, back, message: undefined, detailScroll: 0 };
}

export function reducer(state: State, action: Action): State {
  switch (action.type) {
    case 'run-started':
      return {
        ...state,
        view: 'progress',
        back: state.report ? ['overview'] : [],
        dialog: undefined,
        message: undefined,
        run: { id: state.run.id + 1, status: 'running', stages: [], startedAt: action.at },
      };
    case 'stage': {
      const stages = state.run.stages.map((s) => (s.endedAt === undefined ? { ...s, endedAt: action.at } : s));
      return { ...state, run: { ...state.run, stages: [...stages, { name: action.name, startedAt: action.at }] } };
    }
    case 'run-finished': {
      const stages = state.run.stages.map((s) => (s.endedAt === undefined ? { ...s, endedAt: action.at } : s));
      const next = withRows(state, { report: action.report, run: { ...state.run, status: 'done', stages } });
      const known = new Set(action.report.findings.map((f) => f.fingerprint));
      return { ...next, view: 'overview', back: [], selected: state.selected.filter((fp) => known.has(fp)), roleCursor: 0, roleOffset: 0 };
    }
    case 'run-failed': {
      const stages = state.run.stages.map((s) => (s.endedAt === undefined ? { ...s, endedAt: action.at } : s));
      return { ...state, view: 'progress', run: { ...state.run, status: 'failed', stages, error: action.error } };
    }
    case 'show':
      if (!state.report && action.view !== 'help') return state;
      if (action.view === 'detail' && !focusedFinding(state)) return state;
      return show(state, action.view);
    case 'back': {
      if (state.dialog) return { ...state, dialog: undefined };
      const previous = state.back.at(-1);
      if (!previous) return state;
      return { ...state, view: previous, back: state.back.slice(0, -1), message: undefined, detailScroll: 0 };
    }
    case 'move': {
      if (state.rows.length === 0) return state;
      const cursor = stepCursor(state.rows, state.cursor, action.delta);
      return { ...state, cursor, offset: follow(state.rows, state.offset, cursor, action.pageSize), detailScroll: 0 };
    }
    case 'move-to': {
      if (state.rows.length === 0) return state;
      const cursor = action.edge === 'first' ? firstFinding(state.rows) : state.rows.length - 1;
      return { ...state, cursor, offset: follow(state.rows, state.offset, cursor, action.pageSize), detailScroll: 0 };
    }
    case 'scroll-detail':
      return { ...state, detailScroll: Math.max(0, Math.min(action.max, state.detailScroll + action.delta)) };
    case 'move-role': {
      const count = roleNames(state.report).length;
      if (count === 0) return state;
      return { ...state, roleCursor: Math.max(0, Math.min(count - 1, state.roleCursor + action.delta)), roleOffset: 0 };
    }
    case 'scroll-role':
      return { ...state, roleOffset: Math.max(0, Math.min(action.max, state.roleOffset + action.delta)) };
    case 'cycle-grouping':
      return withRows(state, { grouping: GROUPINGS[(GROUPINGS.indexOf(state.grouping) + 1) % GROUPINGS.length]! });
    case 'cycle-level':
      return withRows(state, { filters: { ...state.filters, level: cycle(LEVELS.slice(0, -1), state.filters.level) } });
    case 'cycle-category':
      return withRows(state, { filters: { ...state.filters, category: cycle(CATEGORIES, state.filters.category) } });
    case 'cycle-role':
      return withRows(state, { filters: { ...state.filters, role: cycle(rolesInFindings(state.report), state.filters.role) } });
    case 'set-search':
      return withRows(state, { filters: { ...state.filters, text: action.text } });
    case 'clear-filters':
      return withRows(state, { filters: { text: '' } });
    case 'toggle-selected': {
      const f = focusedFinding(state);
      if (!f) return state;
      if (!f.remediation.sql) return { ...state, message: { text: `${f.check} has no fix SQL to write; see its remediation text`, tone: 'error' } };
      const selected = state.selected.includes(f.fingerprint) ? state.selected.filter((fp) => fp !== f.fingerprint) : [...state.selected, f.fingerprint];
      return { ...state, selected, message: undefined };
    }
    case 'open-dialog':
      return { ...state, dialog: action.dialog, message: undefined };
    case 'close-dialog':
      return { ...state, dialog: undefined };
    case 'accepted':
      return { ...state, dialog: undefined, accepted: { ...state.accepted, [action.fingerprint]: action.reason }, message: { text: action.message, tone: 'info' } };
    case 'fixes-written':
      return { ...state, dialog: undefined, selected: [], message: { text: action.message, tone: 'info' } };
    case 'message':
      return { ...state, dialog: undefined, message: { text: action.text, tone: action.tone } };
    case 'quit':
      return { ...state, quit: true };
  }
}

/** Fixes `w` would write: the marked ones (in list order), else the focused finding's. */
export function fixesToWrite(state: State): Finding[] {
  const findings = state.report?.findings ?? [];
  if (state.selected.length > 0) {
    const wanted = new Set(state.selected);
    return findings.filter((f) => wanted.has(f.fingerprint) && f.remediation.sql);
  }
  const f = focusedFinding(state);
  return f?.remediation.sql ? [f] : [];
}

/** Counts by level of the findings the filters keep (the list's live counts). */
export function visibleCounts(state: State): Record<Level, number> {
  const counts = Object.fromEntries(LEVELS.map((l) => [l, 0])) as Record<Level, number>;
  for (const row of state.rows) if (row.kind === 'finding') counts[row.finding.level]++;
  return counts;
}

/**
 * The review's exit code once the user quits: 2 when the last audit failed, 1 when the last report
 * has a finding at or above `failOn` that was not accepted during the review (with a baseline, only
 * new findings count, as in a CI run), else 0.
 */
export function exitCode(state: State | undefined, failOn: Level | undefined): number {
  if (!state?.report) return state?.run.status === 'failed' ? 2 : 0;
  if (!failOn) return 0;
  const fails = failsRun(state.report, failOn);
  return state.report.findings.some((f) => fails(f) && !(f.fingerprint in state.accepted)) ? 1 : 0;
}
