/**
 * Entry of the interactive review. Loaded by the CLI with a dynamic import only when stdout is a
 * terminal: non-interactive runs never load Ink or React.
 */
import { render } from 'ink';
import { createElement } from 'react';
import { runAudit, type AuditOptions } from '../engine/audit.ts';
import { withBaseline, type Baseline } from '../engine/baseline.ts';
import type { Target } from '../introspect/targets/index.ts';
import type { Level } from '../model/level.ts';
import { fixesDir } from './actions.ts';
import { App } from './App.tsx';
import { exitCode, type State } from './state.ts';
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
  /** Exit code 1 when the last report has findings at or above this level (only new ones with a baseline). */
  readonly failOn?: Level;
  /** `--baseline`: findings it does not hold are marked new; only they count for `failOn`. */
  readonly baseline?: Baseline & { readonly file: string };
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
    return options.baseline ? withBaseline(report, options.baseline, options.baseline.file) : report;
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
  return exitCode(last, options.failOn);
}
