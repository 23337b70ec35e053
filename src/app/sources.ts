/**
 * Which files are application code, in which language, and which part of a single-file component
 * is code. Pure: src/app/walk.ts and src/app/usage.ts do the reading.
 */
import type { AppLanguage } from '../model/app.ts';

const EXTENSIONS: Readonly<Record<string, AppLanguage>> = {
  ts: 'js',
  tsx: 'js',
  mts: 'js',
  cts: 'js',
  js: 'js',
  jsx: 'js',
  mjs: 'js',
  cjs: 'js',
  vue: 'js',
  svelte: 'js',
  astro: 'js',
  dart: 'dart',
  py: 'python',
  swift: 'swift',
  kt: 'kotlin',
  kts: 'kotlin',
};

/** The language of a source file by its name; null for anything else (and for declarations and minified bundles, which hold no calls of the app's own). */
export function languageOf(file: string): AppLanguage | null {
  const base = file.slice(file.lastIndexOf('/') + 1).toLowerCase();
  if (/\.d\.[cm]?ts$/.test(base) || /[.-]min\.[cm]?js$/.test(base)) return null;
  const ext = base.includes('.') ? base.slice(base.lastIndexOf('.') + 1) : '';
  return EXTENSIONS[ext] ?? null;
}

/**
 * The code of a file: a Vue, Svelte or Astro component keeps only its `<script>` blocks (and
 * Astro's `---` frontmatter); the markup around them becomes spaces, newlines kept, so lines stay
 * where they were and an apostrophe in the markup's text cannot open a string.
 */
export function codeOf(file: string, text: string): string {
  if (!/\.(vue|svelte|astro)$/i.test(file)) return text;
  const keep: [number, number][] = [];
  for (const m of text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script\s*>/gi)) {
    const start = m.index + m[0].indexOf('>') + 1;
    keep.push([start, start + m[1]!.length]);
  }
  if (/\.astro$/i.test(file)) {
    const front = /^\s*---\r?\n([\s\S]*?)\r?\n---/.exec(text);
    if (front) {
      const start = front[0].indexOf(front[1]!);
      keep.push([start, start + front[1]!.length]);
    }
  }
  let out = '';
  let at = 0;
  for (const [start, end] of keep.sort((a, b) => a[0] - b[0])) {
    if (start < at) continue;
    out += blank(text.slice(at, start)) + text.slice(start, end);
    at = end;
  }
  return out + blank(text.slice(at));
}

function blank(markup: string): string {
  return markup.replace(/[^\n]/g, ' ');
}

/**
 * Does the file run on a server? Only layouts that are always server code count: a `server` folder,
 * an `api` folder at the top or under Next.js's `pages/` or `app/`, `functions` at the top or under
 * `supabase/` or `netlify/` (Edge Functions), `*.server.*` and SvelteKit's `+server.*`, Next.js
 * route handlers and middleware. A bare `src/api/` of a single-page app runs in the browser, and
 * calling a browser call "server" would let a fix revoke what the browser needs, so it stays client.
 */
export function serverPath(file: string): boolean {
  const parts = file.toLowerCase().split('/');
  const base = parts[parts.length - 1]!;
  const dirs = parts.slice(0, -1);
  if (dirs.includes('server')) return true;
  if (/(^|[.+])server\.[a-z]+$/.test(base)) return true;
  if (/^(middleware|instrumentation)\.[cm]?[jt]s$/.test(base) && (dirs.length === 0 || (dirs.length === 1 && dirs[0] === 'src'))) return true;
  if (/^route\.[cm]?[jt]s$/.test(base) && dirs.includes('app')) return true;
  return dirs.some((d, k) => {
    const above = dirs[k - 1];
    if (d === 'api') return k === 0 || above === 'pages' || above === 'app';
    if (d === 'functions') return k === 0 || above === 'supabase' || above === 'netlify';
    return false;
  });
}
