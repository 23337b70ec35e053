import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { render } from 'ink-testing-library';
import { afterEach, beforeAll, beforeEach, describe, expect, test, vi } from 'vitest';
import { createBaseline, withBaseline } from '../../src/engine/baseline.ts';
import type { Report } from '../../src/model/report.ts';
import { App } from '../../src/tui/App.tsx';
import type { State } from '../../src/tui/state.ts';
import { demoAudit, largeReport } from './fixture.ts';

let report: Report;
let stages: string[];
beforeAll(async () => {
  ({ report, stages } = await demoAudit());
}, 180_000);

const dirs: string[] = [];
// React reports render loops and bad updates on console.error: the review must never cause one.
let consoleErrors: string[] = [];
beforeEach(() => {
  consoleErrors = [];
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void consoleErrors.push(args.map(String).join(' ')));
});
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  expect(consoleErrors).toEqual([]);
});

const KEYS = { down: '\u001B[B', up: '\u001B[A', enter: '\r', escape: '\u001B', pageDown: '\u001B[6~' } as const;

/** Renders the review at 100×24 (ink-testing-library's width; 24 rows is the fallback height). */
function review(r: Report = report, audit?: (onStage: (s: string) => void) => Promise<Report>) {
  const cwd = mkdtempSync(join(tmpdir(), 'supaudit-tui-'));
  dirs.push(cwd);
  let final: State | undefined;
  let runs = 0;
  const app = render(
    <App
      audit={
        audit ??
        (async (onStage) => {
          runs++;
          for (const s of stages) onStage(s);
          return r;
        })
      }
      fixesDir={join(cwd, 'supabase', 'migrations')}
      ignorePath={join(cwd, 'supaudit.ignore.json')}
      reportsDir={join(cwd, 'reports')}
      cwd={cwd}
      env={{ USER: 'tester' }}
      color={false}
      onQuit={(s) => (final = s)}
    />,
  );
  const frame = () => stripVTControlCharacters(app.lastFrame() ?? '');
  /** Polls the frame until it shows `text` (or matches), failing with the frame when it never does. */
  const waitFor = async (expected: string | RegExp, timeoutMs = 5000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = frame();
      if (typeof expected === 'string' ? f.includes(expected) : expected.test(f)) return f;
      if (Date.now() > deadline) throw new Error(`screen never showed ${String(expected)}:\n${f}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  /** Types keys one at a time, letting Ink render between them as a person typing would. */
  const press = async (...keys: string[]) => {
    for (const k of keys) {
      app.stdin.write(k);
      await new Promise((r) => setTimeout(r, 15));
    }
  };
  /** Types into the open text input, waiting for it to be drawn and to show what was typed. */
  const type = async (text: string) => {
    const prompt = (await waitFor(/\n(\/ |Accept because: )[^\n]*$/)).split('\n').at(-1)!.startsWith('/ ') ? '/ ' : 'Accept because: ';
    const shows = (prefix: string) => (frame().split('\n').at(-1) ?? '').startsWith((prompt + prefix).trimEnd());
    // The input's key handler is attached just after it is first drawn: retype the first key until it shows.
    for (let tries = 0; !shows(text[0]!); tries++) {
      if (tries > 50) throw new Error('the text input never took a key');
      app.stdin.write(text[0]!);
      for (let w = 0; w < 10 && !shows(text[0]!); w++) await new Promise((r) => setTimeout(r, 10));
    }
    for (let i = 1; i < text.length; i++) {
      app.stdin.write(text[i]!);
      for (let w = 0; !shows(text.slice(0, i + 1)); w++) {
        if (w > 500) throw new Error(`the input never showed ${text.slice(0, i + 1)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    await settle();
  };
  /**
   * @inkjs/ui's TextInput and Ink's useInput attach their key handlers in effects that run just
   * after a frame is drawn; a key sent in between reaches the previous handler. A person never
   * types that fast; the tests let the effects run after a frame that changes who owns the keys.
   */
  const settle = () => new Promise((r) => setTimeout(r, 60));
  return { app, cwd, frame, waitFor, press, type, settle, final: () => final, runs: () => runs };
}

describe('interactive review', () => {
  test('a supaudit load report gets a fourth view: the measured shapes, worst first, SLO breaches marked', async () => {
    const row = (name: string, shape: 'list' | 'count', p: [number, number, number], bypass: number, flags: ('slo' | 'degrades')[] = []) => ({
      schema: 'public', name, role: 'authenticated' as const, shape, sql: 'select 1', concurrency: 1, samples: 50, errors: 0,
      p50Ms: p[0], p95Ms: p[1], p99Ms: p[2], throughputPerSec: 12.5, bypassP50Ms: bypass, bypassP95Ms: bypass, overhead: Math.round((p[0] / bypass) * 10) / 10, flags, findings: [],
    });
    const { lab: _lab, ...withoutLab } = report;
    const loaded: Report = {
      ...withoutLab,
      load: { tables: [row('projects', 'list', [2, 3, 4], 1), row('comments', 'count', [132, 217, 250], 0.58, ['slo'])], concurrency: [1], sloMs: 200, users: 20, durationMs: 1000 },
    };
    const ui = review(loaded);
    await ui.waitFor('Worst findings');
    expect(ui.frame()).toContain('4 Load');
    await ui.press('4');
    const screen = await ui.waitFor('policies measured as real users');
    expect(screen).toMatch(/2 tables measured as 20 real users and anon at 1 client; worst RLS overhead 227\.6×/);
    const lines = screen.split('\n');
    const comments = lines.findIndex((l) => /public\.comments\s+auth/.test(l));
    expect(comments).toBeGreaterThan(-1);
    expect(comments).toBeLessThan(lines.findIndex((l) => l.includes('public.projects')));
    expect(lines[comments]).toMatch(/count\s+132\s+217\s+250\s+0\.58\s+227\.6×\s+p99 > 200 ms/);
    await ui.press('\t');
    await ui.waitFor('Worst findings');
  });

  test('the lab view (5): who can do what, rows that cross owners marked, the confirmed attacks', async () => {
    const ui = review();
    await ui.waitFor('Worst findings');
    expect(ui.frame()).toContain('5 Lab');
    await ui.press('5');
    const screen = await ui.waitFor('Who can do what');
    // The demo's activity_feed has RLS off: anon and the outsider reach both tenants' rows (and the seed's 5,000, ownerless).
    expect(screen).toMatch(/public\.activity_feed\s+anon, outsider\s+0\/0\/2\/5000\s+0\/0\/2\/0\s+0\/0\/2\/0\s+into others'/);
    expect(screen).toMatch(/public\.activity_feed\s+t1_admin, t1_member \+2\s+0\/1\/1\/0/);
    ui.app.unmount();
  });

  test('overview: target, counts by level, blast radius per role, worst five findings', async () => {
    const ui = review();
    const screen = await ui.waitFor('Worst findings');
    expect(screen).toContain('Target   bundled demo project (supabase/) · PostgreSQL 18.');
    expect(screen).toContain(`${report.summary.critical} critical · ${report.summary.high} high · ${report.summary.medium} medium`);
    const anon = report.blastRadius.find((b) => b.role === 'anon')!;
    expect(screen).toMatch(new RegExp(`anon +█+░* +${Math.round(anon.score)} +${anon.breakdown![0]!.reason.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(screen).toMatch(/service_role +·+ +n\/a bypasses RLS by design/);
    for (const f of report.findings.slice(0, 5)) expect(screen).toContain(f.check);
    expect(screen.split('\n').length).toBeLessThanOrEqual(24);
    ui.app.unmount();
  });

  test('findings: keys move, Enter opens the detail with message, why, fix SQL and doc link; Esc goes back', async () => {
    const ui = review();
    await ui.waitFor('Worst findings');
    await ui.press('2');
    await ui.waitFor(`${report.findings.length}/${report.findings.length}`);
    await ui.press(KEYS.down, KEYS.down, 'j', KEYS.up, KEYS.enter);
    const f = report.findings[2]!;
    const detail = await ui.waitFor('What is wrong');
    expect(detail).toContain(f.fingerprint);
    expect(detail).toContain(report.checks.find((c) => c.id === f.check)!.description.slice(0, 40));
    await ui.press('\u001B[F');
    const lower = await ui.waitFor('Docs');
    expect(lower).toContain(`checks/${f.check}.md`);
    expect(lower).toMatch(/\nFix\n/);
    await ui.press('\u001B[C');
    await ui.waitFor(report.findings[3]!.fingerprint);
    await ui.press(KEYS.escape);
    await ui.waitFor('group level · filter none');
    ui.app.unmount();
  });

  test('detail highlights the per-row auth call in the policy text and shows the generated fix', async () => {
    const ui = review();
    await ui.waitFor('Worst findings');
    const f = report.findings.find((x) => x.check === 'auth_rls_initplan')!;
    await ui.press('2', '/');
    await ui.type(f.fingerprint);
    await ui.press(KEYS.enter);
    await ui.waitFor(/1\/\d+ /);
    await ui.settle();
    await ui.press(KEYS.enter);
    const detail = await ui.waitFor('Evidence');
    const evidence = f.evidence as { withCheck: string | null; using: string | null };
    expect(detail).toContain((evidence.withCheck ?? evidence.using)!.slice(0, 30));
    await ui.press('\u001B[F');
    expect(await ui.waitFor('Docs')).toContain(f.remediation.sql!.slice(0, 40));
    ui.app.unmount();
    // The same finding drawn with colour marks the offending call: inverse when NO_COLOR.
    const { detailLines } = await import('../../src/tui/lines.ts');
    const marked = detailLines(report, f, 100, undefined).flat().filter((s) => s.tone === 'mark').map((s) => s.text);
    expect(marked).toEqual((f.evidence as { calls: { text: string }[] }).calls.map((c) => c.text));
  });

  test('filters and search update the counts live; x clears them', async () => {
    const ui = review();
    await ui.waitFor('Worst findings');
    await ui.press('2', 'l');
    await ui.waitFor(`${report.summary.critical}/${report.findings.length} `);
    await ui.press('l');
    await ui.waitFor(`${report.summary.critical + report.summary.high}/${report.findings.length} `);
    await ui.press('x', '/');
    await ui.type('invitations');
    const n = report.findings.filter((f) => `${f.check} ${f.fingerprint} ${f.message}`.toLowerCase().includes('invitations')).length;
    const screen = await ui.waitFor('filter /invitations');
    expect(screen).toContain(`${n}/${report.findings.length} `);
    await ui.press(KEYS.escape);
    await ui.waitFor('↑↓ move');
    await ui.settle();
    await ui.press('x');
    await ui.waitFor('filter none');
    ui.app.unmount();
  });

  test('a accepts the focused finding with a reason: appended to supaudit.ignore.json in the suppression format', async () => {
    const ui = review();
    await ui.waitFor('Worst findings');
    writeFileSync(join(ui.cwd, 'supaudit.ignore.json'), JSON.stringify([{ check: 'unused_index', reason: 'kept for a report' }]));
    await ui.press('2', KEYS.down, 'a');
    await ui.type('internal tool, no API access');
    await ui.press(KEYS.enter);
    await ui.waitFor(`accepted ${report.findings[1]!.fingerprint}`);
    const entries = JSON.parse(readFileSync(join(ui.cwd, 'supaudit.ignore.json'), 'utf8'));
    expect(entries).toEqual([
      { check: 'unused_index', reason: 'kept for a report' },
      { fingerprint: report.findings[1]!.fingerprint, reason: 'internal tool, no API access', by: expect.any(String) },
    ]);
    await ui.waitFor(/✓ (CRITICAL|HIGH)/);
    ui.app.unmount();
  });

  test('w writes the marked fixes as a Supabase migration after y; n writes nothing', async () => {
    const ui = review();
    await ui.waitFor('Worst findings');
    const withSql = report.findings.filter((f) => f.remediation.sql);
    await ui.press('2');
    await ui.waitFor('filter none');
    // Mark the first two findings that carry fix SQL.
    for (let i = 0, marked = 0; marked < 2; i++) {
      if (report.findings[i]!.remediation.sql) {
        await ui.press(' ');
        marked++;
      }
      await ui.press(KEYS.down);
    }
    await ui.waitFor('2 fixes marked');
    await ui.press('w');
    await ui.waitFor(/Write 2 fixes to supabase\/migrations\/\d{14}_supaudit_fixes\.sql\? y\/n/);
    await ui.press('n');
    await ui.waitFor('2 fixes marked');
    expect(existsSync(join(ui.cwd, 'supabase', 'migrations'))).toBe(false);
    await ui.press('w');
    await ui.waitFor('Write 2 fixes');
    await ui.press('y');
    await ui.waitFor(/wrote 2 fixes to supabase\/migrations\/\d{14}_supaudit_fixes\.sql/);
    const [file] = readdirSync(join(ui.cwd, 'supabase', 'migrations'));
    expect(file).toMatch(/^\d{14}_supaudit_fixes\.sql$/);
    const sql = readFileSync(join(ui.cwd, 'supabase', 'migrations', file!), 'utf8');
    for (const f of withSql.slice(0, 2)) {
      expect(sql).toContain(`-- ${f.fingerprint} (${f.level})`);
      expect(sql).toContain(f.remediation.sql!);
    }
    ui.app.unmount();
  });

  test('e writes every registered report format; roles view lists tables with access and path', async () => {
    const ui = review();
    await ui.waitFor('Worst findings');
    await ui.press('e');
    await ui.waitFor('wrote reports/supaudit.txt, reports/supaudit.json');
    expect(JSON.parse(readFileSync(join(ui.cwd, 'reports', 'supaudit.json'), 'utf8')).summary).toEqual(report.summary);
    await ui.press('3');
    const roles = await ui.waitFor('↳');
    const anon = report.blastRadius[0]!;
    expect(roles).toContain(`${anon.role}  score ${Math.round(anon.score)}/100`);
    const t = anon.tables[0]!;
    expect(roles).toMatch(new RegExp(`${t.schema}\\.${t.name} +${t.select ? 'R' : '-'}${t.insert ? 'I' : '-'}${t.update ? 'U' : '-'}${t.delete ? 'D' : '-'}`));
    expect(roles).toContain(`↳ ${t.via[0]!.slice(0, 40)}`);
    await ui.press(KEYS.down);
    await ui.waitFor(`${report.blastRadius[1]!.role}  score`);
    ui.app.unmount();
  });

  test('? shows the help, r re-runs the audit, q quits through the one exit point', async () => {
    const ui = review();
    await ui.waitFor('Worst findings');
    await ui.press('?');
    await ui.waitFor('accept the finding with a reason');
    await ui.press('?');
    await ui.waitFor('Worst findings');
    await ui.press('r');
    for (let i = 0; i < 500 && ui.runs() < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(ui.runs()).toBe(2);
    await ui.waitFor('Worst findings');
    await ui.press('q');
    for (let i = 0; i < 500 && !ui.final(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(ui.final()?.quit).toBe(true);
    expect(ui.final()?.report).toBe(report);
  });

  test('with a baseline: the overview says how many are new and fixed, the list and the detail mark the new ones', async () => {
    const fresh = report.findings[1]!;
    const baseline = createBaseline({ findings: [...report.findings.filter((f) => f !== fresh), { fingerprint: 'gone-since' } as Report['findings'][number]] }, '2026-01-01T00:00:00Z');
    const ui = review(withBaseline(report, baseline, 'supaudit.baseline.json'));
    const overview = await ui.waitFor('Worst findings');
    expect(overview).toContain('Baseline 1 new, 1 fixed since baseline (supaudit.baseline.json): only new findings fail the run');
    await ui.press('2');
    const list = await ui.waitFor(`${report.findings.length}/${report.findings.length}`);
    const rows = list.split('\n').filter((l) => /^[ ●✓] (new|   ) /.test(l));
    expect(rows.length).toBeGreaterThan(2);
    expect(rows.filter((l) => l.slice(2, 6) === 'new ')).toHaveLength(1);
    expect(rows[1]).toMatch(new RegExp(`^  new ${fresh.level.toUpperCase()} +${fresh.check}`));
    await ui.press(KEYS.down, KEYS.enter);
    expect(await ui.waitFor('What is wrong')).toContain('baseline new since the baseline');
    await ui.press(KEYS.escape);
    await ui.waitFor('group level');
    await ui.press(KEYS.up, KEYS.enter);
    expect(await ui.waitFor('What is wrong')).toContain('baseline already in the baseline');
    ui.app.unmount();
  });

  test('a failing audit shows its error in place on the progress view', async () => {
    const { UserError } = await import('../../src/model/errors.ts');
    const ui = review(report, async (onStage) => {
      onStage('connect');
      throw new UserError('connection', 'could not connect to db.example.com:5432', 'check the host');
    });
    const screen = await ui.waitFor('could not connect');
    expect(screen).toContain('✗ connect');
    expect(screen).toContain('could not connect to db.example.com:5432 (check the host)');
    ui.app.unmount();
  });

  test('5,000 findings: 100 moves down keep the frame within the terminal and the focus on finding 101', async () => {
    const big = largeReport(report, 5000);
    const ui = review(big);
    await ui.waitFor('Worst findings');
    await ui.press('2');
    await ui.waitFor('5000/5000');
    for (let i = 0; i < 100; i++) ui.app.stdin.write(KEYS.down);
    await ui.press(KEYS.enter);
    const detail = await ui.waitFor('What is wrong');
    const rows = (await import('../../src/tui/state.ts')).buildRows(big, { text: '' }, 'level').filter((r) => r.kind === 'finding');
    const target = rows[100]!;
    expect(detail).toContain(target.kind === 'finding' ? target.finding.fingerprint : '');
    await ui.press(KEYS.escape);
    const list = await ui.waitFor('5000/5000');
    expect(list.split('\n').length).toBeLessThanOrEqual(24);
    expect(list).toContain(target.kind === 'finding' ? target.finding.object.name : '');
    for (const frame of ui.app.frames.slice(-50)) expect(frame.split('\n').length).toBeLessThanOrEqual(24);
    ui.app.unmount();
  });
});
