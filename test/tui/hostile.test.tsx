/**
 * Hostile names in the interactive review: quotes, newlines, ANSI escapes, wide characters and
 * 63-character identifiers must not break the layout. Every frame of every view stays inside the
 * terminal (100×24, ink-testing-library's size) and carries no escape sequence from the data.
 */
import { render } from 'ink-testing-library';
import stringWidth from 'string-width';
import { beforeAll, describe, expect, test } from 'vitest';
import type { Report } from '../../src/model/report.ts';
import { quoteIdent } from '../../src/model/ident.ts';
import { App } from '../../src/tui/App.tsx';
import { auditPglite } from '../support/audit.ts';
import { HOSTILE_NAMES, hostileFixture } from '../support/hostile.ts';

const COLUMNS = 100;
const ROWS = 24;

let report: Report;
beforeAll(async () => {
  // Policies too, so the detail view shows policy text with the hostile names in it.
  const policies = HOSTILE_NAMES.filter((n) => n.length < 40)
    .map(
      (name) => `create table public.${quoteIdent(`p ${name}`)} (id int primary key, user_id uuid);
alter table public.${quoteIdent(`p ${name}`)} enable row level security;
create policy ${quoteIdent(name)} on public.${quoteIdent(`p ${name}`)} for select to authenticated using (auth.uid() = user_id);`,
    )
    .join('\n');
  ({ report } = await auditPglite(`${hostileFixture()}\n${policies}`));
}, 180_000);

describe('interactive review with hostile names', () => {
  test('every view and every finding detail stays within 100×24 and prints no escape sequence from the data', async () => {
    expect(report.findings.some((f) => f.object.name.includes('\u001b'))).toBe(true);
    expect(report.findings.some((f) => f.object.policy?.includes('\n'))).toBe(true);
    const app = render(
      <App audit={async () => report} fixesDir="/nonexistent" ignorePath="/nonexistent/i.json" reportsDir="/nonexistent" cwd="/nonexistent" env={{}} color={false} />,
    );
    const frames: { where: string; frame: string }[] = [];
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const snap = async (where: string) => {
      await wait(40);
      frames.push({ where, frame: app.lastFrame() ?? '' });
    };
    const press = async (key: string) => {
      app.stdin.write(key);
      await wait(25);
    };
    for (let i = 0; i < 200 && !(app.lastFrame() ?? '').includes('Worst findings'); i++) await wait(20);
    await snap('overview');
    await press('2');
    await snap('findings');
    for (let i = 0; i < report.findings.length; i++) {
      await press('\r');
      await snap(`detail of finding ${i + 1}`);
      await press('\u001B[F'); // End: the bottom of the detail (fix SQL)
      await snap(`detail end of finding ${i + 1}`);
      await press('\u001B');
      await press('\u001B[B');
    }
    await snap('findings after the walk');
    await press('3');
    for (let i = 0; i < report.blastRadius.length; i++) {
      await snap(`roles ${i + 1}`);
      await press('\u001B[B');
    }
    await press('?');
    await snap('help');
    app.unmount();

    expect(frames.length).toBeGreaterThan(2 * report.findings.length);
    for (const { where, frame } of frames) {
      expect({ where, escapes: frame.includes('\u001b') }).toEqual({ where, escapes: false });
      const lines = frame.split('\n');
      expect({ where, tooTall: lines.length > ROWS }).toEqual({ where, tooTall: false });
      const wide = lines.filter((l) => stringWidth(l) > COLUMNS);
      expect({ where, wide }).toEqual({ where, wide: [] });
    }
    const details = frames.filter((f) => f.where.startsWith('detail of'));
    expect(details.filter((f) => f.frame.includes('Evidence')).length).toBe(details.length);
    // The names are there, made visible rather than interpreted.
    const all = frames.map((f) => f.frame).join('\n');
    expect(all).toContain('Ünïcødé_表');
    expect(all).toContain('<script>alert(1)</script>');
  }, 120_000);
});
