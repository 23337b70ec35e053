/**
 * Absolute links to the check documentation, for reports read away from a checkout (a PR comment,
 * GitHub code scanning, an HTML file mailed around). The base comes from package.json
 * (`repository`, then `homepage`); without either, `FALLBACK_PROJECT_URL` is used. This is the
 * one place that URL lives.
 */
import { existsSync, readFileSync } from 'node:fs';

/** Where the project is published when package.json does not say. */
export const FALLBACK_PROJECT_URL = 'https://github.com/supaudit/supaudit';

interface PackageLinks {
  readonly repository?: string | { readonly url?: string };
  readonly homepage?: string;
}

/** `https://github.com/owner/repo` from the usual spellings of a GitHub repository, else null. */
function githubProject(spec: string): string | null {
  const m = /^(?:github:|git\+https:\/\/github\.com\/|https:\/\/github\.com\/|git@github\.com:|git:\/\/github\.com\/)?([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?(?:#.*)?$/.exec(spec.trim());
  if (!m || (spec.includes(':') && !spec.includes('github'))) return null;
  return `https://github.com/${m[1]}/${m[2]}`;
}

/** The project's home page and the base relative docs paths (`checks/<id>.md`) resolve against (ends with `/`). */
export function linksFrom(pkg: PackageLinks): { readonly project: string; readonly docsBase: string } {
  const repo = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  const github = (repo ? githubProject(repo) : null) ?? (pkg.homepage?.startsWith('https://github.com/') ? githubProject(pkg.homepage) : null);
  if (github) return { project: github, docsBase: `${github}/blob/main/` };
  if (pkg.homepage && /^https?:\/\//.test(pkg.homepage)) {
    const home = pkg.homepage.replace(/#.*$/, '');
    return { project: home, docsBase: home.endsWith('/') ? home : `${home}/` };
  }
  return { project: FALLBACK_PROJECT_URL, docsBase: `${FALLBACK_PROJECT_URL}/blob/main/` };
}

function readPackage(): PackageLinks {
  for (const up of ['../package.json', '../../package.json']) {
    const url = new URL(up, import.meta.url);
    if (existsSync(url)) {
      const pkg = JSON.parse(readFileSync(url, 'utf8')) as PackageLinks & { name?: string };
      if (pkg.name === 'supaudit') return pkg;
    }
  }
  return {};
}

const LINKS = linksFrom(readPackage());
/** Home page of the project (SARIF `informationUri`). */
export const PROJECT_URL: string = LINKS.project;
export const DOCS_BASE: string = LINKS.docsBase;

/** An absolute URL for a finding's or check's `docs` (kept as is when already absolute). */
export function absoluteDocsUrl(docs: string, base: string = DOCS_BASE): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(docs)) return docs;
  return new URL(docs.replace(/^\.?\//, ''), base).href;
}
