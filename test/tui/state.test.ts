import { beforeAll, describe, expect, test } from 'vitest';
import { createBaseline, withBaseline } from '../../src/engine/baseline.ts';
import type { Report } from '../../src/model/report.ts';
import { buildRows, exitCode, fixesToWrite, focusedFinding, initialState, reducer, visibleCounts, type Action, type State } from '../../src/tui/state.ts';
import { demoAudit, largeReport } from './fixture.ts';

let report: Report;
let stages: string[];
beforeAll(async () => {
  ({ report, stages } = await demoAudit());
}, 180_000);

function run(state: State, ...actions: Action[]): State {
  return actions.reduce(reducer, state);
}

function loaded(r: Report = report): State {
  return run(initialState(0), { type: 'stage', name: 'load migrations', at: 10 }, { type: 'run-finished', report: r, at: 20 });
}

describe('reducer', () => {
  test('the real audit announces its stages in order; the progress state records each with its time', () => {
    expect(stages.slice(0, 3)).toEqual(['load migrations', 'begin', 'settings']);
    expect(stages).toEqual(expect.arrayContaining(['roles', 'relations', 'policies', 'functions', 'parse policies', 'checks']));
    let state = initialState(0);
    stages.forEach((name, i) => (state = reducer(state, { type: 'stage', name, at: i * 10 })));
    expect(state.run.stages).toHaveLength(stages.length);
    expect(state.run.stages[0]).toEqual({ name: 'load migrations', startedAt: 0, endedAt: 10 });
    expect(state.run.stages.at(-1)).toEqual({ name: 'checks', startedAt: (stages.length - 1) * 10 });
    state = reducer(state, { type: 'run-finished', report, at: 1000 });
    expect(state.view).toBe('overview');
    expect(state.run.stages.at(-1)?.endedAt).toBe(1000);
  });

  test('a failed run stays on the progress view with the error; r starts a new run', () => {
    const failed = run(initialState(0), { type: 'stage', name: 'connect', at: 1 }, { type: 'run-failed', error: 'could not connect', at: 5 });
    expect(failed).toMatchObject({ view: 'progress', run: { status: 'failed', error: 'could not connect' } });
    expect(failed.run.stages[0]).toEqual({ name: 'connect', startedAt: 1, endedAt: 5 });
    const again = reducer(failed, { type: 'run-started', at: 9 });
    expect(again.run).toEqual({ id: 2, status: 'running', stages: [], startedAt: 9 });
  });

  test('rows group the findings by level with counts; the cursor starts on the first finding', () => {
    const state = loaded();
    expect(state.rows[0]).toEqual({ kind: 'group', label: 'critical', count: report.summary.critical });
    expect(state.cursor).toBe(1);
    expect(focusedFinding(state)).toBe(report.findings[0]);
    expect(state.rows.filter((r) => r.kind === 'finding')).toHaveLength(report.findings.length);
  });

  test('moving skips group rows and stops at the ends', () => {
    let state = loaded();
    state = run(state, ...Array.from({ length: report.summary.critical }, (): Action => ({ type: 'move', delta: 1, pageSize: 10 })));
    expect(focusedFinding(state)?.level).toBe('high');
    expect(state.rows[state.cursor - 1]).toEqual({ kind: 'group', label: 'high', count: report.summary.high });
    state = reducer(state, { type: 'move', delta: -1000, pageSize: 10 });
    expect(state.cursor).toBe(1);
    state = reducer(state, { type: 'move-to', edge: 'last', pageSize: 10 });
    expect(focusedFinding(state)).toBe(report.findings.at(-1));
    expect(state.offset).toBe(state.rows.length - 10);
  });

  test('filters: level at or above, category, role, text; counts follow; the focused finding is kept when it still matches', () => {
    let state = loaded();
    state = reducer(state, { type: 'cycle-level' });
    expect(state.filters.level).toBe('critical');
    expect(visibleCounts(state)).toEqual({ critical: report.summary.critical, high: 0, medium: 0, low: 0, info: 0 });
    state = reducer(state, { type: 'cycle-level' });
    expect(visibleCounts(state).high).toBe(report.summary.high);
    state = reducer(state, { type: 'clear-filters' });
    state = reducer(state, { type: 'cycle-category' });
    expect(state.filters.category).toBe('security');
    const performance = reducer(state, { type: 'cycle-category' });
    const perfChecks = new Set(report.checks.filter((c) => c.category === 'performance').map((c) => c.id));
    const perfRows = performance.rows.filter((r) => r.kind === 'finding');
    expect(perfRows.length).toBeGreaterThan(0);
    expect(perfRows.every((r) => r.kind === 'finding' && perfChecks.has(r.finding.check))).toBe(true);
    state = run(loaded(), { type: 'cycle-role' });
    expect(state.filters.role).toBe('anon');
    expect(state.rows.every((r) => r.kind === 'group' || r.finding.roles.includes('anon'))).toBe(true);
    state = run(loaded(), { type: 'set-search', text: 'PAYMENT_methods' });
    const hits = report.findings.filter((f) => f.fingerprint.includes('payment_methods') || f.message.includes('payment_methods'));
    expect(state.rows.filter((r) => r.kind === 'finding')).toHaveLength(hits.length);
    expect(hits.length).toBeGreaterThanOrEqual(3);
  });

  test('grouping cycles level → check → schema → role, headings sorted', () => {
    let state = run(loaded(), { type: 'cycle-grouping' });
    expect(state.grouping).toBe('check');
    const labels = state.rows.filter((r) => r.kind === 'group').map((r) => (r.kind === 'group' ? r.label : ''));
    expect(labels).toEqual([...new Set(report.findings.map((f) => f.check))].sort());
    state = reducer(state, { type: 'cycle-grouping' });
    expect(state.rows.filter((r) => r.kind === 'group').map((r) => (r.kind === 'group' ? r.label : ''))).toEqual(['public', 'storage']);
    state = run(state, { type: 'cycle-grouping' }, { type: 'cycle-grouping' });
    expect(state.grouping).toBe('level');
  });

  test('space marks fixes that have SQL; w writes the marked ones, else the focused one', () => {
    let state = loaded();
    expect(fixesToWrite(state).map((f) => f.fingerprint)).toEqual([report.findings[0]!.fingerprint].filter(() => Boolean(report.findings[0]!.remediation.sql)));
    const withSql = state.rows.findIndex((r) => r.kind === 'finding' && r.finding.remediation.sql);
    const withoutSql = state.rows.findIndex((r) => r.kind === 'finding' && !r.finding.remediation.sql);
    state = { ...state, cursor: withSql };
    state = reducer(state, { type: 'toggle-selected' });
    expect(state.selected).toHaveLength(1);
    expect(fixesToWrite(state)).toHaveLength(1);
    const refused = reducer({ ...state, cursor: withoutSql }, { type: 'toggle-selected' });
    expect(refused.selected).toHaveLength(1);
    expect(refused.message?.tone).toBe('error');
    expect(reducer(state, { type: 'toggle-selected' }).selected).toEqual([]);
  });

  test('views: detail and help stack, Esc goes back, dialogs close first', () => {
    let state = run(loaded(), { type: 'show', view: 'findings' }, { type: 'show', view: 'detail' }, { type: 'show', view: 'help' });
    expect(state.view).toBe('help');
    state = reducer(state, { type: 'back' });
    expect(state.view).toBe('detail');
    state = run(state, { type: 'open-dialog', dialog: { kind: 'search' } }, { type: 'back' });
    expect(state.view).toBe('detail');
    expect(state.dialog).toBeUndefined();
    expect(run(state, { type: 'back' }, { type: 'back' }).view).toBe('overview');
    expect(reducer(initialState(0), { type: 'show', view: 'findings' }).view).toBe('progress');
  });

  test('5,000 findings: the list is built once per filter change and a move changes only the cursor and window', () => {
    const big = largeReport(report, 5000);
    let state = run(loaded(big), { type: 'show', view: 'findings' });
    const rows = state.rows;
    for (let i = 0; i < 100; i++) state = reducer(state, { type: 'move', delta: 1, pageSize: 20 });
    expect(state.rows).toBe(rows);
    expect(state.cursor - state.offset).toBe(19);
    expect(state.rows.filter((r) => r.kind === 'finding')).toHaveLength(5000);
    expect(buildRows(big, { text: 'nothing-matches-this' }, 'level')).toEqual([]);
  });

  test('exit code: failed run 2; --fail-on counts findings not accepted in the review; with a baseline only new ones', () => {
    expect(exitCode(undefined, 'high')).toBe(0);
    expect(exitCode(run(initialState(0), { type: 'run-failed', error: 'x', at: 1 }), 'high')).toBe(2);
    const criticals = report.findings.filter((f) => f.level === 'critical');
    expect(criticals.length).toBeGreaterThan(1);
    expect(exitCode(loaded(), undefined)).toBe(0);
    expect(exitCode(loaded(), 'critical')).toBe(1);
    // Every critical accepted during the review: the run passes.
    const accepted = run(loaded(), ...criticals.map((f): Action => ({ type: 'accepted', fingerprint: f.fingerprint, reason: 'ok', message: '' })));
    expect(exitCode(accepted, 'critical')).toBe(0);
    // A baseline holding every finding but one critical: only that one can fail the run.
    const [fresh, ...known] = criticals;
    const baseline = createBaseline({ findings: report.findings.filter((f) => f.fingerprint !== fresh!.fingerprint) }, '2026-01-01T00:00:00Z');
    const compared = loaded(withBaseline(report, baseline, 'base.json'));
    expect(compared.report!.baseline!.new).toEqual([fresh!.fingerprint]);
    expect(exitCode(compared, 'critical')).toBe(1);
    expect(exitCode(run(compared, { type: 'accepted', fingerprint: fresh!.fingerprint, reason: 'ok', message: '' }), 'critical')).toBe(0);
    expect(known.length).toBeGreaterThan(0);
    const allKnown = loaded(withBaseline(report, createBaseline(report, '2026-01-01T00:00:00Z'), 'base.json'));
    expect(exitCode(allKnown, 'critical')).toBe(0);
  });
});
