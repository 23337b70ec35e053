/**
 * Entry of the interactive review. Loaded by the CLI with a dynamic import only when stdout is a
 * terminal: non-interactive runs never load Ink or React.
 */
import { render } from 'ink';
import { createElement } from 'react';
import { runAudit, type AuditOptions } from '../engine/audit.ts';
import type { Target } from '../introspect/targets/index.ts';
import { atLeast, type Level } from '../model/level.ts';
import { fixesDir } from './actions.ts';
import { App } from './App.tsx';
import type { State } from './state.ts';
import { defaultPaths } from './use-review.ts';

export interface TuiOptions {
  readonly target: Target;
  readonly auditOptions: AuditOptions;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly color: boolean;
  /** Folder `e` writes the reports to (default `reports/`). */
  readonly reportsDir?: string;
  /** The suppressions file `a` (accept) appends to (default `supaudit.ignore.json` in cwd). */
  readonly ignorePath?: string;
  /** Exit code 1 when the last report has findings at or above this level. */
  readonly failOn?: Level;
}

/** Runs the review until the user quits; resolves to the process exit code. */
export async function runTui(options: TuiOptions): Promise<number> {
  const paths = defaultPaths(options.cwd);
  const cancel = new AbortController();
  const signals = [options.auditOptions.signal, cancel.signal].filter((s): s is AbortSignal => s !== undefined);
  let last: State | undefined;
  const audit = async (onStage: (stage: string) => void) => {
    const { report } = await runAudit(options.target, {
      ...options.auditOptions,
      signal: AbortSignal.any(signals),
      onStage,
      // The plan is shown as a stage; the terminal belongs to the review.
      onProbePlan: () => onStage('write probes (rolled back)'),
    });
    return report;
  };
  const app = render(
    createElement(App, {
      audit,
      fixesDir: fixesDir(options.target, options.cwd),
      ignorePath: options.ignorePath ?? paths.ignorePath,
      reportsDir: options.reportsDir ?? paths.reportsDir,
      cwd: options.cwd,
      env: options.env,
      color: options.color,
      onQuit: (state: State) => (last = state),
    }),
    { exitOnCtrlC: false },
  );
  await app.waitUntilExit();
  cancel.abort();
  if (!last?.report) return last?.run.status === 'failed' ? 2 : 0;
  const threshold = options.failOn;
  if (threshold && last.report.findings.some((f) => atLeast(f.level, threshold) && !(f.fingerprint in last!.accepted))) return 1;
  return 0;
}
