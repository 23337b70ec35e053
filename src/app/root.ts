/**
 * Which folder holds the application: `--app`, else the folder above the project's `supabase/`
 * folder (the Supabase CLI's layout). A project folder by another name gives no default: its
 * parent could be anything (a temporary folder, a home directory), and reading it would be a guess.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { UserError } from '../model/errors.ts';
import { displayPath } from '../model/paths.ts';
import type { TargetKind } from '../model/report.ts';

export interface AppRootInput {
  /** `--app <dir>`; false for `--no-app`. */
  readonly app: string | false | undefined;
  readonly kind: TargetKind;
  /** The target's `supabase/` folder, if any. */
  readonly projectDir: string | undefined;
  /** `--project` was given (a live database reads a project folder only when told to). */
  readonly projectGiven: boolean;
  readonly cwd: string;
}

export function appRoot(input: AppRootInput): { root: string; display: string } | null {
  if (input.app === false) return null;
  if (typeof input.app === 'string') {
    const root = resolve(input.cwd, input.app);
    const shown = shownPath(root, input.cwd);
    if (!existsSync(root) || !statSync(root).isDirectory()) throw new UserError('usage', `--app ${shown} is not a folder`, 'give the folder that holds the application code, or --no-app');
    return { root, display: shown };
  }
  // The bundled demo has no app, and a live database's project folder counts only when given.
  if (input.kind === 'demo' || input.projectDir === undefined || (input.kind === 'url' && !input.projectGiven)) return null;
  const project = resolve(input.projectDir);
  if (basename(project) !== 'supabase') return null;
  const root = dirname(project);
  return { root, display: shownPath(root, input.cwd) };
}

/** The folder as the command line would name it: `.` for the working folder itself. */
function shownPath(root: string, cwd: string): string {
  return resolve(cwd) === root ? '.' : displayPath(root, cwd);
}
