/** Runs the CLI in-process with captured output, as a user's terminal (not a TTY) would see it. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { main } from '../../src/cli/main.ts';
import type { Report } from '../../src/model/report.ts';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(argv: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    // The run's embedded-database cache (test/harness/global-setup.ts), as a user's environment would name one.
    env: { NO_COLOR: '1', ...(process.env['SUPAUDIT_CACHE_DIR'] ? { SUPAUDIT_CACHE_DIR: process.env['SUPAUDIT_CACHE_DIR'] } : {}), ...(options.env ?? {}) },
    cwd: options.cwd ?? process.cwd(),
    isTTY: false,
  });
  return { code, stdout, stderr };
}

/**
 * Audits one migration the way a user audits a project with no server: the SQL as the only file of
 * a throwaway `supabase/migrations`, `--migrations` on it, the JSON report (the run must exit 0).
 */
export async function auditMigration(sql: string, ...flags: readonly string[]): Promise<Report> {
  const dir = mkdtempSync(join(tmpdir(), 'supaudit-migration-'));
  try {
    mkdirSync(join(dir, 'supabase', 'migrations'), { recursive: true });
    writeFileSync(join(dir, 'supabase', 'migrations', '20260101000000_app.sql'), sql);
    const run = await runCli(['--migrations', join(dir, 'supabase', 'migrations'), '--no-tui', '-f', 'json', '-o', '-', '-q', ...flags], { env: { CI: 'true' } });
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as Report;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
