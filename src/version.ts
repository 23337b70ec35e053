import { existsSync, readFileSync } from 'node:fs';

/** The package version, from the nearest package.json above this file (source or `dist/`). */
function readVersion(): string {
  for (const up of ['../package.json', '../../package.json']) {
    const url = new URL(up, import.meta.url);
    if (existsSync(url)) {
      const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'supaudit' && pkg.version) return pkg.version;
    }
  }
  return '0.0.0';
}

export const VERSION: string = readVersion();
