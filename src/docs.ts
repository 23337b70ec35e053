/**
 * The check documentation that ships with supaudit (`checks/<id>.md`, copied next to the compiled
 * code by the build): what `supaudit explain` prints and what SARIF embeds as each rule's help, so
 * reports explain themselves without a link to follow.
 */
import { existsSync, readFileSync } from 'node:fs';

const cache = new Map<string, string | null>();

/** The Markdown doc of a check, or null when there is none (an unknown id, a report built by hand). */
export function checkDoc(id: string): string | null {
  if (!/^[a-z0-9_]+$/.test(id)) return null;
  const cached = cache.get(id);
  if (cached !== undefined) return cached;
  const url = new URL(`../checks/${id}.md`, import.meta.url);
  const text = existsSync(url) ? readFileSync(url, 'utf8') : null;
  cache.set(id, text);
  return text;
}
