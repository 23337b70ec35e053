/**
 * The application's source files under its root, in a fixed order, within caps: dependencies,
 * build output, the Supabase project folder (its Edge Functions excepted) and anything a symlink
 * leads to outside the root are left out. A cap that stops the walk says so: then the scan is
 * incomplete and nothing may be called unused.
 */
import { existsSync, readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { AppLanguage } from '../model/app.ts';
import { languageOf } from './sources.ts';

export interface WalkLimits {
  /** Source files read, at most. */
  readonly maxFiles: number;
  /** Bytes read over all files, at most. */
  readonly maxBytes: number;
  /** A larger file is generated or bundled code, not the app's own: skipped. */
  readonly maxFileBytes: number;
  /** Directory entries looked at, at most (a tree of millions of assets must not stall the audit). */
  readonly maxEntries: number;
}

export const DEFAULT_WALK_LIMITS: WalkLimits = { maxFiles: 20_000, maxBytes: 64 * 1024 * 1024, maxFileBytes: 1024 * 1024, maxEntries: 500_000 };

/** Dependencies and build output of the ecosystems read; dot-folders (.git, .next, .venv, .dart_tool…) are skipped as a rule. */
const SKIPPED_DIRS = new Set(['node_modules', 'bower_components', 'jspm_packages', 'dist', 'build', 'out', 'coverage', 'vendor', 'Pods', 'DerivedData', '__pycache__', 'site-packages', 'venv', 'target']);

export interface SourceFile {
  readonly path: string;
  /** Relative to the root, forward slashes. */
  readonly file: string;
  readonly language: AppLanguage;
  readonly size: number;
}

export interface Walk {
  readonly files: readonly SourceFile[];
  readonly bytes: number;
  readonly complete: boolean;
  readonly notes: readonly string[];
}

export function listSources(root: string, limits: WalkLimits = DEFAULT_WALK_LIMITS): Walk {
  const rootReal = realpathSync(root);
  const inside = (p: string) => p === rootReal || p.startsWith(rootReal + sep);
  const files: SourceFile[] = [];
  const seen = new Set<string>();
  const notes: string[] = [];
  let bytes = 0;
  let entries = 0;
  let large = 0;
  let unreadable = 0;
  let stopped: string | null = null;
  const stack = [root];
  walk: while (stack.length > 0) {
    const dir = stack.pop()!;
    let list: Dirent[];
    try {
      list = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch {
      unreadable++;
      continue;
    }
    const subdirs: string[] = [];
    for (const entry of list) {
      if (++entries > limits.maxEntries) {
        stopped = `${limits.maxEntries.toLocaleString('en-US')} folder entries looked at`;
        break walk;
      }
      const path = join(dir, entry.name);
      let isFile = entry.isFile();
      let isDir = entry.isDirectory();
      let real = path;
      if (entry.isSymbolicLink()) {
        // A link is followed only to a file inside the root; a linked folder is not walked (its
        // target, when inside the root, is walked anyway, and a loop cannot start).
        try {
          real = realpathSync(path);
          const target = statSync(real);
          isFile = target.isFile() && inside(real);
          isDir = false;
        } catch {
          continue;
        }
      }
      if (isDir) {
        if (entry.name.startsWith('.') || SKIPPED_DIRS.has(entry.name)) continue;
        if (existsSync(join(path, 'pyvenv.cfg'))) continue;
        if (entry.name === 'supabase' && (existsSync(join(path, 'config.toml')) || existsSync(join(path, 'migrations')))) {
          // The project folder: migrations and seeds are the database, not the app; its Edge Functions are app code.
          if (existsSync(join(path, 'functions'))) subdirs.push(join(path, 'functions'));
          continue;
        }
        subdirs.push(path);
        continue;
      }
      if (!isFile) continue;
      const file = relative(root, path).split(sep).join('/');
      const language = languageOf(file);
      if (language === null) continue;
      if (seen.has(real)) continue;
      seen.add(real);
      let size: number;
      try {
        size = statSync(real).size;
      } catch {
        unreadable++;
        continue;
      }
      if (size > limits.maxFileBytes) {
        large++;
        continue;
      }
      if (files.length >= limits.maxFiles) {
        stopped = `${limits.maxFiles.toLocaleString('en-US')} files`;
        break walk;
      }
      if (bytes + size > limits.maxBytes) {
        stopped = `${Math.round(limits.maxBytes / 1024 / 1024)} MB`;
        break walk;
      }
      bytes += size;
      files.push({ path: real, file, language, size });
    }
    for (const d of subdirs.reverse()) stack.push(d);
  }
  if (stopped) notes.push(`scan stopped at its cap of ${stopped}: files after that were not read, so nothing is called unused`);
  if (large > 0) notes.push(`${large} source file${large === 1 ? '' : 's'} over ${Math.round(limits.maxFileBytes / 1024)} KB not read (generated or bundled code)`);
  if (unreadable > 0) notes.push(`${unreadable} folder${unreadable === 1 ? '' : 's'} or file${unreadable === 1 ? '' : 's'} could not be read`);
  return { files, bytes, complete: stopped === null && unreadable === 0, notes };
}
