/**
 * Links to the check documentation, for reports read away from a terminal (a PR comment, GitHub
 * code scanning, an HTML file mailed around). A link is made only from what package.json says
 * (`repository`, then `homepage`); without either there is no URL to point at, and reports say
 * `supaudit explain <check>` instead (SARIF embeds the whole doc as the rule's help). This is the
 * one place project URLs come from: never a guessed repository.
 */
import { existsSync, readFileSync } from 'node:fs';

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

/** The project's home page and the base relative docs paths (`checks/<id>.md`) resolve against (ends with `/`); null when package.json names neither. */
export function linksFrom(pkg: PackageLinks): { readonly project: string; readonly docsBase: string } | null {
  const repo = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
  const github = (repo ? githubProject(repo) : null) ?? (pkg.homepage?.startsWith('https://github.com/') ? githubProject(pkg.homepage) : null);
  if (github) return { project: github, docsBase: `${github}/blob/main/` };
  if (pkg.homepage && /^https?:\/\//.test(pkg.homepage)) {
    const home = pkg.homepage.replace(/#.*$/, '');
    return { project: home, docsBase: home.endsWith('/') ? home : `${home}/` };
  }
  return null;
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
/** Home page of the project (SARIF `informationUri`), when package.json names one. */
export const PROJECT_URL: string | null = LINKS?.project ?? null;
export const DOCS_BASE: string | null = LINKS?.docsBase ?? null;

/** An absolute URL for a finding's or check's `docs` (kept as is when already absolute); null without a known base. */
export function absoluteDocsUrl(docs: string, base: string | null = DOCS_BASE): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(docs)) return docs;
  if (base === null) return null;
  return new URL(docs.replace(/^\.?\//, ''), base).href;
}

/** How a report points at a check's doc: its URL, else the command that prints it. */
export function docsReference(check: string, docs: string): { readonly url: string | null; readonly command: string } {
  return { url: absoluteDocsUrl(docs), command: `supaudit explain ${check}` };
}
