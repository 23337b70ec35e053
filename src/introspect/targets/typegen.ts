/**
 * Tables made in the dashboard, from the app's generated types. A project whose tables were created
 * in the dashboard has migrations that alter them, give them policies and functions, but never
 * create them: on a fresh database those statements fail ("relation … does not exist") and the
 * audit sees none of it. The app's `supabase gen types typescript` output (`Database['public']
 * ['Tables'][name]['Row']`) says what those tables hold; the embedded target makes a stand-in for
 * each missing one and runs the failed statements again. Reads files only.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { quoteIdent, quoteLiteral } from '../../model/ident.ts';

/** Where generated types usually live, relative to the app's root. */
const CANDIDATES = [
  'src/integrations/supabase/types.ts',
  'src/types/supabase.ts',
  'src/types/database.types.ts',
  'src/types/database.ts',
  'src/lib/database.types.ts',
  'src/lib/supabase/database.types.ts',
  'src/lib/supabase/types.ts',
  'lib/database.types.ts',
  'lib/supabase/database.types.ts',
  'types/supabase.ts',
  'types/database.types.ts',
  'database.types.ts',
  'supabase/types.ts',
  'supabase/database.types.ts',
];

/** A larger file is not the generated types (or not worth reading for them). */
const MAX_BYTES = 8 * 1024 * 1024;

export interface TypeColumn {
  readonly name: string;
  /** The TypeScript type as written (`string | null`, `Database["public"]["Enums"]["role"]`). */
  readonly ts: string;
}

export interface TypeTable {
  readonly name: string;
  readonly columns: readonly TypeColumn[];
  readonly references: readonly { columns: readonly string[]; table: string; refColumns: readonly string[] }[];
}

export interface GeneratedTypes {
  readonly tables: readonly TypeTable[];
  readonly enums: ReadonlyMap<string, readonly string[]>;
}

/** The app's generated types under `root` (the folder above `supabase/`), or undefined. */
export function findGeneratedTypes(root: string): { path: string; display: string; text: string } | undefined {
  for (const candidate of CANDIDATES) {
    const path = join(root, candidate);
    try {
      if (!existsSync(path) || !statSync(path).isFile() || statSync(path).size > MAX_BYTES) continue;
      const text = readFileSync(path, 'utf8');
      if (/\bTables\s*:\s*\{/.test(text) && /\bRow\s*:\s*\{/.test(text)) return { path, display: relative(root, path) || candidate, text };
    } catch {
      // unreadable: the next one
    }
  }
  return undefined;
}

/** The index just past the brace that closes the one at `open` (strings skipped), or -1. */
function closeOf(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"' || ch === "'" || ch === '`') {
      const end = text.indexOf(ch, i + 1);
      if (end < 0) return -1;
      i = end;
    } else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** The entries `name: { … }` (or `name: [ … ]`) directly inside a block's text, in order. */
function entries(block: string): { name: string; body: string }[] {
  const out: { name: string; body: string }[] = [];
  const re = /(?:^|[\s,;{])("?)([A-Za-z_][\w$]*)\1\??\s*:\s*([{[])/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(block)) !== null) {
    const open = m.index + m[0].length - 1;
    const end = closeOf(block, open);
    if (end < 0) break;
    out.push({ name: m[2]!, body: block.slice(open + 1, end - 1) });
    re.lastIndex = end;
  }
  return out;
}

/** The `public` schema's tables and enums of a generated `Database` type. */
export function parseGeneratedTypes(text: string): GeneratedTypes {
  const start = text.search(/\bDatabase\s*=\s*\{/);
  const databaseOpen = start < 0 ? -1 : text.indexOf('{', start);
  const database = databaseOpen < 0 ? '' : text.slice(databaseOpen + 1, closeOf(text, databaseOpen) - 1);
  const schema = entries(database).find((e) => e.name === 'public')?.body ?? '';
  const sections = entries(schema);
  const tables: TypeTable[] = [];
  for (const table of entries(sections.find((s) => s.name === 'Tables')?.body ?? '')) {
    const parts = entries(table.body);
    const row = parts.find((p) => p.name === 'Row')?.body ?? '';
    const columns = [...row.matchAll(/^\s*("?)([A-Za-z_][\w$ -]*)\1\??\s*:\s*(.+?)\s*;?\s*$/gm)].map((m) => ({ name: m[2]!, ts: m[3]!.trim() }));
    const relationships = parts.find((p) => p.name === 'Relationships')?.body ?? '';
    const references = [...relationships.matchAll(/\{[^{}]*\}/g)].flatMap((r) => {
      const list = (key: string) => [...(new RegExp(`${key}\\s*:\\s*\\[([^\\]]*)\\]`).exec(r[0])?.[1] ?? '').matchAll(/"([^"]+)"/g)].map((x) => x[1]!);
      const to = /referencedRelation\s*:\s*"([^"]+)"/.exec(r[0])?.[1];
      const columns = list('columns');
      const refColumns = list('referencedColumns');
      return to && columns.length > 0 && columns.length === refColumns.length ? [{ columns, table: to, refColumns }] : [];
    });
    if (columns.length > 0) tables.push({ name: table.name, columns, references });
  }
  const enums = new Map<string, string[]>();
  const enumBlock = sections.find((s) => s.name === 'Enums')?.body ?? '';
  for (const m of enumBlock.matchAll(/("?)([A-Za-z_][\w$]*)\1\s*:\s*((?:\s*\|?\s*"(?:[^"\\]|\\.)*")+)/g)) {
    enums.set(m[2]!, [...m[3]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((x) => x[1]!));
  }
  return { tables, enums };
}

/** The column type a generated TypeScript type stands for, by the type and the column's name. */
export function columnType(column: TypeColumn, enums: ReadonlyMap<string, readonly string[]>): string {
  const ts = column.ts.replace(/\s*\|\s*null\b/g, '').trim();
  const enumName = /Database\[\s*"public"\s*\]\[\s*"Enums"\s*\]\[\s*"([^"]+)"\s*\]/.exec(ts)?.[1];
  if (enumName && enums.has(enumName)) return `public.${quoteIdent(enumName)}${ts.endsWith('[]') ? '[]' : ''}`;
  const array = ts.endsWith('[]');
  const base = array ? ts.slice(0, -2).replace(/^\(|\)$/g, '') : ts;
  const name = column.name.toLowerCase();
  const scalar =
    base === 'string'
      ? name === 'id' || /_id$/.test(name) || name === 'uid'
        ? 'uuid'
        : /(_at|_on)$/.test(name)
          ? 'timestamptz'
          : /(^|_)date$/.test(name)
            ? 'date'
            : 'text'
      : base === 'number'
        ? name === 'id' || /_id$/.test(name)
          ? 'bigint'
          : 'numeric'
        : base === 'boolean'
          ? 'boolean'
          : base === 'Json'
            ? 'jsonb'
            : 'text';
  return array ? `${scalar}[]` : scalar;
}

/**
 * The DDL of stand-ins for `tables`: the enums they use that the database lacks, each table with its
 * columns (nullable as the types say, a key on `id`, defaults for `id` and `*_at` stamps), RLS on as
 * the dashboard makes new tables, then the foreign keys the types list, each its own statement.
 */
export function standInDdl(types: GeneratedTypes, tables: readonly TypeTable[], existingEnums: ReadonlySet<string>): { create: string[]; keys: string[] } {
  const create: string[] = [];
  const used = new Set<string>();
  for (const t of tables) {
    for (const c of t.columns) {
      const e = /Database\[\s*"public"\s*\]\[\s*"Enums"\s*\]\[\s*"([^"]+)"\s*\]/.exec(c.ts)?.[1];
      if (e && types.enums.has(e) && !existingEnums.has(e)) used.add(e);
    }
  }
  for (const e of used) create.push(`create type public.${quoteIdent(e)} as enum (${types.enums.get(e)!.map(quoteLiteral).join(', ')})`);
  for (const t of tables) {
    const columns = t.columns.map((c) => {
      const type = columnType(c, types.enums);
      const nullable = /\|\s*null\b/.test(c.ts);
      const name = c.name.toLowerCase();
      const def = name === 'id' && type === 'uuid' ? ' default gen_random_uuid()' : name === 'id' && type === 'bigint' ? ' generated by default as identity' : type === 'timestamptz' && /^(created|updated|inserted)_at$/.test(name) ? ' default now()' : '';
      return `${quoteIdent(c.name)} ${type}${def}${nullable ? '' : ' not null'}`;
    });
    const key = t.columns.some((c) => c.name === 'id') ? [`primary key (${quoteIdent('id')})`] : [];
    create.push(`create table public.${quoteIdent(t.name)} (${[...columns, ...key].join(', ')})`);
    create.push(`alter table public.${quoteIdent(t.name)} enable row level security`);
  }
  const keys = tables.flatMap((t) =>
    t.references.map(
      (r) => `alter table public.${quoteIdent(t.name)} add foreign key (${r.columns.map(quoteIdent).join(', ')}) references public.${quoteIdent(r.table)} (${r.refColumns.map(quoteIdent).join(', ')}) not valid`,
    ),
  );
  return { create, keys };
}
