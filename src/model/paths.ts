import { isAbsolute, relative } from 'node:path';

/** A path as messages show it: relative to the working folder when inside it, else absolute. */
export function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}
