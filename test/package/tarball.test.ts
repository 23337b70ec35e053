/**
 * supaudit as a user gets it: `npm pack` (which builds dist/), the tarball installed into an empty
 * project, and `npx supaudit` run there: plain, on a copied supabase/ folder, the catalogue and a
 * check's doc, and the interactive review in a real terminal (tmux). The package holds compiled
 * JavaScript and its assets only, and runs with no TypeScript loader.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Report } from '../../src/model/report.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'supaudit-pack-'));
const project = join(work, 'app');
const socket = `supaudit-pack-${process.pid}`;
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };

function run(cmd: string, args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', CI: 'true', ...extraEnv };
  delete env['NODE_OPTIONS'];
  return spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 240_000 });
}

let tarball: string;
beforeAll(() => {
  const packed = run('npm', ['pack', '--pack-destination', work, '--loglevel=error'], repo);
  expect(packed.status, packed.stderr).toBe(0);
  tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);
  cpSync(join(repo, 'supabase'), join(project, 'supabase'), { recursive: true });
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  const installed = run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], project);
  expect(installed.status, installed.stderr).toBe(0);
}, 600_000);

afterAll(() => {
  try {
    execFileSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
  } catch {
    // no server left
  }
  rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball, installed in an empty project', () => {
  test('ships compiled JavaScript and its assets, not sources, tests or bench; no dev-only runtime dependency', () => {
    const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
    expect(files.some((f) => f.startsWith('package/test/') || f.startsWith('package/bench/') || f.startsWith('package/.ci/') || f.startsWith('package/src/'))).toBe(false);
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    for (const f of ['package/dist/src/cli/run.js', 'package/dist/src/introspect/targets/supabase-base.sql', 'package/dist/src/introspect/targets/stand-ins/pg_net.sql', 'package/dist/checks/rls_disabled_in_public.md', 'package/dist/supabase/config.toml', 'package/bin/supaudit.js', 'package/LICENSE', 'package/action.yml']) {
      expect(files).toContain(f);
    }
    expect(Object.keys(pkg.dependencies)).not.toContain('tsx');
    const installed = readdirSync(join(project, 'node_modules'));
    expect(installed).not.toContain('tsx');
    expect(installed).not.toContain('vitest');
  });

  test('npx supaudit --version, checks, explain', () => {
    const version = run('npx', ['supaudit', '--version'], project);
    expect(version.stdout.trim()).toBe(pkg.version);
    const checks = run('npx', ['supaudit', 'checks', '--json'], project);
    expect(checks.status).toBe(0);
    const list = JSON.parse(checks.stdout) as { id: string; splinter: string | null }[];
    expect(list.length).toBeGreaterThan(40);
    expect(list.find((c) => c.id === 'auth_rls_initplan')?.splinter).toBe('auth_rls_initplan');
    const explain = run('npx', ['supaudit', 'explain', 'auth_rls_initplan'], project);
    expect(explain.status).toBe(0);
    expect(explain.stdout).toContain('## How to fix');
  });

  test('the bundled demo and a copied supabase/ folder audit in the embedded database', () => {
    const demo = run('npx', ['supaudit', '--demo', '-f', 'json', '-o', 'demo', '-q'], project);
    expect(demo.status, demo.stderr).toBe(0);
    const report = JSON.parse(readFileSync(join(project, 'demo', 'supaudit.json'), 'utf8')) as Report;
    expect(report.findings.length).toBeGreaterThan(20);
    const own = run('npx', ['supaudit', '--migrations', 'supabase/migrations', '-f', 'sarif', '-f', 'json', '-o', 'own', '-q'], project);
    expect(own.status, own.stderr).toBe(0);
    const mine = JSON.parse(readFileSync(join(project, 'own', 'supaudit.json'), 'utf8')) as Report;
    expect(mine.findings.map((f) => f.fingerprint).sort()).toEqual(report.findings.map((f) => f.fingerprint).sort());
    // findings point at the copied migrations, relative to the project
    expect(mine.findings.some((f) => f.location?.file.startsWith('supabase/migrations/'))).toBe(true);
  });

  test('the interactive review in a real terminal (tmux): overview, then q ends it with exit 0', async () => {
    const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
    tmux('new-session', '-d', '-s', 'review', '-x', '100', '-y', '30', `cd '${project}' && env -u CI -u NO_COLOR TERM=xterm-256color npx supaudit --demo; echo "SUPAUDIT-EXIT=$?"; sleep 600`);
    const waitFor = async (expected: string, timeoutMs = 180_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const screen = tmux('capture-pane', '-p', '-t', 'review');
        if (screen.includes(expected)) return screen;
        if (Date.now() > deadline) throw new Error(`the terminal never showed ${expected}:\n${screen}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const overview = await waitFor('Worst findings');
    expect(overview).toMatch(/supaudit +1 Overview +2 Findings +3 Roles/);
    tmux('send-keys', '-t', 'review', 'q');
    const ended = await waitFor('SUPAUDIT-EXIT=');
    expect(ended).toContain('SUPAUDIT-EXIT=0');
    expect(ended).not.toMatch(/React is not defined|Error|at .*\.js:\d+/);
  }, 240_000);
});
