/**
 * The real CLI in a real terminal: `supaudit --demo` inside tmux, driven with send-keys and read
 * with capture-pane. Also proves that a `--format json` run in the same terminal never loads Ink.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const hook = fileURLToPath(new URL('./fixtures/trace-imports.mjs', import.meta.url));
const socket = `supaudit-test-${process.pid}`;
const work = mkdtempSync(join(tmpdir(), 'supaudit-e2e-'));

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
}

/** Starts `command` in a fresh 100×30 session; the shell prints the exit code when it ends. */
function start(session: string, command: string): void {
  const shell = `cd '${repo}' && env -u CI -u NO_COLOR TERM=xterm-256color SUPAUDIT_TRACE='${join(work, session)}.trace' ${command}; echo "SUPAUDIT-EXIT=$?"; sleep 600`;
  tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '30', shell);
}

const screen = (session: string) => tmux('capture-pane', '-p', '-t', session);

/** Polls the pane until it shows `expected`; fails with the last screen. */
async function waitFor(session: string, expected: string | RegExp, timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = screen(session);
    if (typeof expected === 'string' ? s.includes(expected) : expected.test(s)) return s;
    if (Date.now() > deadline) throw new Error(`the terminal never showed ${String(expected)}:\n${s}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sends one key and polls until the screen shows what it should lead to. */
async function key(session: string, k: string, expected: string | RegExp): Promise<string> {
  tmux('send-keys', '-t', session, k);
  return waitFor(session, expected, 15_000);
}

afterAll(() => {
  try {
    tmux('kill-server');
  } catch {
    // no server left
  }
  rmSync(work, { recursive: true, force: true });
});

describe('supaudit in a terminal (tmux)', () => {
  test('--demo opens the review: progress, overview, findings, detail, roles, help; q ends the process', async () => {
    start('review', `node --import '${hook}' bin/supaudit.js --demo`);
    const progress = await waitFor('review', /Auditing|Worst findings/);
    expect(progress).toMatch(/supaudit +1 Overview +2 Findings +3 Roles/);
    const overview = await waitFor('review', 'Worst findings');
    expect(overview).toContain('Target   bundled demo project (supabase/) · PostgreSQL 18.');
    expect(overview).toMatch(/anon +█+ +100 +read all of public\.payment_methods/);
    const findings = await key('review', '2', /\d+\/\d+ .*group level · filter none/);
    expect(findings).toMatch(/CRITICAL rls_disabled_in_public +public\.payment_methods/);
    const detail = await key('review', 'Enter', 'What is wrong');
    expect(detail).toContain('object  view public.member_directory');
    expect(detail).toContain('id      auth_users_exposed:public.member_directory');
    const next = await key('review', 'Right', 'id      blast_radius_anon:public.payment_methods:anon');
    expect(next).toContain('defined supabase/migrations/20250115093000_billing.sql');
    await key('review', 'Escape', 'group level · filter none');
    const roles = await key('review', '3', '↳');
    expect(roles).toMatch(/anon  score 100\/100/);
    expect(roles).toMatch(/public\.activity_feed +RIUD +5,000\s+↳ GRANT SELECT, INSERT, UPDATE, DELETE ON public\.activity_feed TO anon; RL/);
    expect(roles).toMatch(/public\.payment_methods +RIUD +2,400 +iban, billing_email, phone/);
    const scrolled = await key('review', 'PageDown', 'score breakdown');
    expect(scrolled).toMatch(/public\.search_users +DEFINER/);
    expect(scrolled).not.toContain('auth.users                   R---');
    const help = await key('review', '?', 'accept the finding with a reason');
    expect(help).toContain('q             quit');
    await key('review', '?', '↳');
    const ended = await key('review', 'q', 'SUPAUDIT-EXIT=0');
    expect(ended).not.toContain('What is wrong');
    // The tracing hook sees Ink load in an interactive run: the control for the test below.
    expect(readFileSync(join(work, 'review.trace'), 'utf8')).toMatch(/\/node_modules\/ink\/build\/index\.js/);
  }, 180_000);

  test('--format json in the same terminal prints no review and never loads Ink or src/tui', async () => {
    const out = join(work, 'json-out');
    start('json', `node --import '${hook}' bin/supaudit.js --demo --format json --out '${out}'`);
    const ended = await waitFor('json', 'SUPAUDIT-EXIT=0');
    expect(ended).toContain(`supaudit: wrote ${out}/supaudit.json`);
    expect(ended).not.toContain('Worst findings');
    const loaded = readFileSync(join(work, 'json.trace'), 'utf8');
    expect(loaded).toMatch(/\/reports\/json\.ts/);
    expect(loaded).toMatch(/\/node_modules\/pg\//);
    expect(loaded).not.toMatch(/\/node_modules\/(ink|react|@inkjs)\//);
    expect(loaded).not.toMatch(/\/src\/tui\//);
    expect(JSON.parse(readFileSync(join(out, 'supaudit.json'), 'utf8')).findings.length).toBeGreaterThan(0);
  }, 180_000);
});
