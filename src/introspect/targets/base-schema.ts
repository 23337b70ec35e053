/**
 * Which tables a set of SQL files creates and which it uses, read from the text (no database): for
 * the tables made outside the migrations. Some projects keep their base schema in a file beside the
 * migrations (`supabase/schema.sql`, a dump the migrations build on, run once in the SQL editor);
 * others made tables in the dashboard and have no file for them at all.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** A table in `public` or unqualified; a name that qualifies another (`auth.users`: another schema) is not one. */
const NAME = String.raw`(?:"?public"?\s*\.\s*)?"?([A-Za-z_][\w$]*)(?![\w$])"?(?!"?\s*\.)`;

/** Tables, views and materialized views the text creates (or renames something to), lower case, in `public` or unqualified. */
export function createdTables(sql: string): Set<string> {
  const created = new Set(
    [...sql.matchAll(new RegExp(String.raw`\bcreate\s+(?:or\s+replace\s+)?(?:(?:global\s+|local\s+)?(?:temp|temporary|unlogged)\s+)?(?:table|view|materialized\s+view)\s+(?:if\s+not\s+exists\s+)?(?!if\s+not\s+exists\b)${NAME}`, 'gi'))].map((m) => m[1]!.toLowerCase()),
  );
  for (const m of sql.matchAll(new RegExp(String.raw`\balter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?${NAME}\s+rename\s+to\s+"?([A-Za-z_][\w$]*)"?`, 'gi'))) created.add(m[2]!.toLowerCase());
  return created;
}

/**
 * Tables the text uses where a missing one makes the statement fail: altered (not `IF EXISTS`),
 * referenced by a foreign key, given a policy or trigger, read or written by a statement. Names
 * followed by `(` (a set-returning function) and the names of CTEs are not tables.
 */
export function usedTables(sql: string): Set<string> {
  const used = new Set<string>();
  const contexts = [
    String.raw`\balter\s+table\s+(?:only\s+)?${NAME}`,
    String.raw`\breferences\s+${NAME}`,
    String.raw`\bcreate\s+policy\s+(?:"(?:[^"]|"")*"|\w+)\s+on\s+${NAME}`,
    String.raw`\bcreate\s+(?:or\s+replace\s+)?(?:constraint\s+)?trigger\s+[\s\S]{0,200}?\bon\s+${NAME}`,
    String.raw`\b(?:from|join|insert\s+into|update)\s+${NAME}(?![\w$"]|\s*[(.])`,
  ];
  for (const c of contexts) for (const m of sql.matchAll(new RegExp(c, 'gi'))) used.add(m[1]!.toLowerCase());
  for (const m of sql.matchAll(/\b(?:with|,)\s*(?:recursive\s+)?"?([A-Za-z_][\w$]*)"?\s*(?:\([^()]*\)\s*)?as\s+(?:(?:not\s+)?materialized\s+)?\(/gi)) used.delete(m[1]!.toLowerCase());
  return used;
}

/** `.sql` files at the top of the project folder and under its `schemas/` folder (Supabase's declarative schemas), by name. */
function candidates(projectDir: string, seeds: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set(seeds.map((s) => resolve(s)));
  const list = (dir: string, deep: boolean) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const n of names) {
      const path = join(dir, n);
      const st = statOrNull(path);
      if (st?.isDirectory() && deep) list(path, deep);
      else if (st?.isFile() && /\.sql$/i.test(n) && !seen.has(resolve(path))) out.push(resolve(path));
    }
  };
  list(projectDir, false);
  list(join(projectDir, 'schemas'), true);
  return out;
}

function statOrNull(path: string): ReturnType<typeof statSync> | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** Above this size a file beside the migrations is not read as a base schema. */
const MAX_BYTES = 16 * 1024 * 1024;

/**
 * The file beside the migrations that creates tables the migrations use and never create (the
 * base they were written on), the one that creates most of them; undefined when the migrations
 * create everything they use, or no such file has those tables.
 */
export function baseSchemaFile(projectDir: string, migrationTexts: readonly string[], seeds: readonly string[]): { file: string; tables: string[] } | undefined {
  const sql = migrationTexts.join('\n');
  const created = createdTables(sql);
  const missing = [...usedTables(sql)].filter((t) => !created.has(t));
  if (missing.length === 0) return undefined;
  let best: { file: string; tables: string[] } | undefined;
  for (const file of candidates(projectDir, seeds)) {
    if ((statOrNull(file)?.size ?? Infinity) > MAX_BYTES) continue;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const has = createdTables(text);
    const tables = missing.filter((t) => has.has(t)).sort();
    if (tables.length > (best?.tables.length ?? 0)) best = { file, tables };
  }
  return best;
}
