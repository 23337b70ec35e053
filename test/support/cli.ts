/** Runs the CLI in-process with captured output, as a user's terminal (not a TTY) would see it. */
import { main } from '../../src/cli/main.ts';

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
    env: { NO_COLOR: '1', ...(options.env ?? {}) },
    cwd: options.cwd ?? process.cwd(),
    isTTY: false,
  });
  return { code, stdout, stderr };
}
