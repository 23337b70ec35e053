/**
 * Guards the check registry against drift (splinter's weak spot): every registered check has a
 * doc in the agreed shape, and every check or doc file in `checks/` is registered under its
 * file name.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allChecks } from '../../checks/index.ts';
import type { Check } from '../../src/model/check.ts';
import { LEVELS } from '../../src/model/level.ts';

const CHECKS_DIR = fileURLToPath(new URL('../../checks/', import.meta.url));
const SECTIONS = ['Summary', 'Why it matters', 'How to fix', 'False positives'];
const SNAKE_CASE = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
const CATEGORIES = ['security', 'performance', 'schema'];

const registeredIds: readonly string[] = allChecks.map((c) => c.meta.id);

/** `checks/*.ts` files that must hold a check: not the registry, not helpers, not tests. */
function checkSourceFiles(): string[] {
  return readdirSync(CHECKS_DIR)
    .filter((f) => f.endsWith('.ts') && f !== 'index.ts' && !f.startsWith('_') && !f.endsWith('.test.ts'))
    .sort();
}

function docFiles(): string[] {
  return readdirSync(CHECKS_DIR)
    .filter((f) => f.endsWith('.md'))
    .sort();
}

/** The `## ` headings and the fenced block info strings (`sql bad`), in document order. */
function outline(markdown: string): { headings: string[]; fences: { info: string; section: string | undefined }[] } {
  const headings: string[] = [];
  const fences: { info: string; section: string | undefined }[] = [];
  let inFence = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) {
      if (!inFence) fences.push({ info: line.slice(3).trim(), section: headings.at(-1) });
      inFence = !inFence;
      continue;
    }
    if (!inFence && line.startsWith('## ')) headings.push(line.slice(3).trim());
  }
  return { headings, fences };
}

describe('check registry', () => {
  it('has unique ids', () => {
    expect(new Set(registeredIds).size).toBe(registeredIds.length);
  });

  it('registers every check file under its file name', async () => {
    const files = checkSourceFiles();
    expect(files.map((f) => basename(f, '.ts'))).toEqual([...registeredIds].sort());
    for (const file of files) {
      const mod = (await import(join(CHECKS_DIR, file))) as { default?: Check };
      expect(mod.default?.meta.id, `checks/${file} default export`).toBe(basename(file, '.ts'));
      expect(allChecks as readonly Check[], `checks/${file} is the registered object`).toContain(mod.default);
    }
  });

  it('has a registered check for every doc file', () => {
    const orphans = docFiles()
      .map((f) => basename(f, '.md'))
      .filter((id) => !registeredIds.includes(id));
    expect(orphans).toEqual([]);
  });
});

describe.each(allChecks.map((check) => [check.meta.id, check] as const))('%s', (id, check) => {
  const docPath = join(CHECKS_DIR, `${id}.md`);

  it('has well-formed meta', () => {
    const { meta } = check;
    expect(id).toMatch(SNAKE_CASE);
    for (const [field, value] of [
      ['title', meta.title],
      ['description', meta.description],
    ] as const) {
      expect(value.trim().length, `${field} is empty`).toBeGreaterThan(0);
      expect(value, `${field} has surrounding whitespace`).toBe(value.trim());
    }
    expect(meta.title.endsWith('.'), 'title ends with a period').toBe(false);
    expect(meta.description.endsWith('.'), 'description is a sentence ending with a period').toBe(true);
    expect(LEVELS).toContain(meta.level);
    expect(CATEGORIES).toContain(meta.category);
    expect(['external', 'internal']).toContain(meta.facing);
    if (meta.splinter !== undefined) expect(meta.splinter).toMatch(SNAKE_CASE);
  });

  it('has a doc in the agreed shape', () => {
    expect(existsSync(docPath), `checks/${id}.md is missing`).toBe(true);
    const doc = readFileSync(docPath, 'utf8');
    const lines = doc.split('\n');
    expect(lines[0]).toBe(`# ${id}`);

    const metaLine = lines.find((l) => l.startsWith('**Level:**'));
    expect(metaLine, 'the **Level:** · **Category:** · **Splinter:** line').toBeDefined();
    const parsed = /^\*\*Level:\*\* (\S+)(?: \(.+\))? · \*\*Category:\*\* (\S+) · \*\*Splinter:\*\* (\S+)$/.exec(metaLine!);
    expect(parsed, metaLine).not.toBeNull();
    const [, level, category, splinter] = parsed!;
    expect({ level, category, splinter }).toEqual({
      level: check.meta.level,
      category: check.meta.category,
      splinter: check.meta.splinter ?? '—',
    });

    const { headings, fences } = outline(doc);
    expect(headings).toEqual(SECTIONS);
    // Checks of supabase/config.toml show TOML (with an optional ```sql context the samples run on).
    const lang = check.meta.source === 'config.toml' ? 'toml' : 'sql';
    const samples = fences.filter((f) => f.info === `${lang} bad` || f.info === `${lang} good` || f.info === 'sql context');
    expect(samples.some((f) => f.info === `${lang} bad`), `at least one \`\`\`${lang} bad block`).toBe(true);
    expect(samples.some((f) => f.info === `${lang} good`), `at least one \`\`\`${lang} good block`).toBe(true);
    expect(samples.every((f) => f.section === 'How to fix'), 'samples belong under ## How to fix').toBe(true);
  });
});
