/**
 * Tables the project's SQL uses but no file creates, and no generated types describe: made in the
 * dashboard. Without them every policy, function and ALTER that names one fails, and with those the
 * rules that decide access (a profile's tenant, its admin flag). The loader makes a stand-in the first
 * time a statement fails for want of one (`relation "public.profiles" does not exist`), and adds
 * each column a statement then asks of it (`column p.is_admin does not exist`), with a type guessed
 * from the name; the statement runs again. The report names each stand-in and its columns.
 */
import { quoteIdent } from '../../model/ident.ts';
import { literalPattern } from '../../model/sql-text.ts';
import { createdTables, usedTables } from './base-schema.ts';

interface Db {
  exec(sql: string): Promise<void>;
}

/** At most this many columns are added to one stand-in. */
const MAX_COLUMNS = 60;

/** A table keyed by the account: its `id` is the user's (a profile). */
const ACCOUNT_TABLE = /^(user_?)?(profiles?|users?|accounts?)$/i;

/** The type a column's name suggests. */
export function guessedType(name: string): string {
  const n = name.toLowerCase();
  if (/^(is|has|can|should|allow|allows|was)_|_(enabled|active|verified|approved|flag|visible|locked|archived|deleted|public|admin|owner)$|^(active|enabled|verified|approved|admin|disabled|blocked|banned)$/.test(n)) return 'boolean';
  if (n === 'id' || /_id$/.test(n) || n === 'uid') return 'uuid';
  if (/_ids$/.test(n)) return 'uuid[]';
  if (/_at$|^(created|updated|deleted)$/.test(n)) return 'timestamptz';
  if (/_(on|date)$|^date$|birthday|dob/.test(n)) return 'date';
  if (/(count|total|quantity|qty|number|num|age|position|rank|level|order|index|seconds|minutes|hours|days|score|points|credits|limit)$/.test(n)) return 'integer';
  if (/(amount|price|cost|balance|rate|percent|ratio|lat|lng|latitude|longitude)$/.test(n)) return 'numeric';
  if (/(metadata|settings|config|data|payload|json|preferences|permissions)$/.test(n)) return 'jsonb';
  if (/(roles|tags|scopes)$/.test(n)) return 'text[]';
  return 'text';
}

/** The tables a key column's name may point at, most likely first: the accounts for a user, else `public.<name>s` and its like. */
function referencedBy(column: string): string[] {
  const base = column.toLowerCase().replace(/_id$/, '');
  if (/^(user|owner|author|creator|created_by|updated_by|invited_by|profile|member|account|assignee|sender|recipient)$/.test(base)) return ['auth.users'];
  const plural = base.endsWith('y') ? `${base.slice(0, -1)}ies` : base.endsWith('s') ? `${base}es` : `${base}s`;
  return [plural, base].map((t) => `public.${quoteIdent(t)}`);
}

export class InferredTables {
  /** Lower-case names used and never created. */
  private readonly never: Set<string>;
  /** Stand-ins made, with the columns added to each (in order). */
  readonly made = new Map<string, string[]>();
  private readonly accountKeyed: Set<string>;

  constructor(texts: readonly string[]) {
    const sql = texts.join('\n');
    const created = createdTables(sql);
    this.never = new Set([...usedTables(sql)].filter((t) => !created.has(t)));
    // A sign-up trigger that makes its row with the new user's id: keyed by the account.
    this.accountKeyed = new Set(
      [...sql.matchAll(/\binsert\s+into\s+(?:"?public"?\s*\.\s*)?"?([A-Za-z_][\w$]*)"?\s*\(\s*"?id"?\s*[,)][\s\S]{0,400}?\bvalues\s*\(\s*new\s*\.\s*id\b/gi)].map((m) => m[1]!.toLowerCase()),
    );
  }

  /**
   * Repairs what `error` says `sql` lacks, if it is a stand-in's to give: true when something was
   * made (the statement is worth running again).
   */
  async repair(db: Db, sql: string, error: unknown): Promise<boolean> {
    const code = (error as { code?: string }).code;
    const message = (error as Error).message ?? '';
    if (code === '42P01') {
      const m = /relation "(?:public\.)?([^".]+)" does not exist/.exec(message);
      const name = m?.[1];
      if (name === undefined || name !== name.toLowerCase() || !this.never.has(name) || this.made.has(name)) return false;
      const account = ACCOUNT_TABLE.test(name) || this.accountKeyed.has(name);
      try {
        await db.exec(
          `create table public.${quoteIdent(name)} (id uuid primary key ${account ? 'references auth.users (id) on delete cascade' : 'default gen_random_uuid()'}, created_at timestamptz not null default now()); ` +
            `alter table public.${quoteIdent(name)} enable row level security`,
        );
      } catch {
        return false;
      }
      this.made.set(name, ['id', 'created_at']);
      return true;
    }
    if (code === '42703') {
      const m = /column (?:"([^"]+)"|(?:([A-Za-z_][\w$]*)\.)?([A-Za-z_][\w$]*)) (?:of relation "([^"]+)" )?does not exist/.exec(message);
      if (!m) return false;
      const column = m[1] ?? m[3]!;
      const qualifier = m[2];
      const table = m[4] ?? this.tableFor(sql, qualifier);
      const columns = table === undefined ? undefined : this.made.get(table);
      if (table === undefined || !columns || columns.includes(column) || columns.length >= MAX_COLUMNS || column !== column.toLowerCase()) return false;
      const type = guessedType(column);
      try {
        await db.exec(`alter table public.${quoteIdent(table)} add column ${quoteIdent(column)} ${type}`);
      } catch {
        return false;
      }
      // A key named after a table (`tenant_id` and public.tenants, `user_id` and the accounts) points at it, as the dashboard's would.
      if (type === 'uuid' && column !== 'id') {
        for (const target of referencedBy(column)) {
          try {
            await db.exec(`alter table public.${quoteIdent(table)} add foreign key (${quoteIdent(column)}) references ${target} (id) on delete cascade`);
            columns.push(`${column} → ${target}`);
            return true;
          } catch {
            // not this one
          }
        }
      }
      columns.push(column);
      return true;
    }
    return false;
  }

  /** The stand-in a column of `sql` belongs to: the one the qualifier names (as its name or alias), else the only stand-in the statement names. */
  private tableFor(sql: string, qualifier: string | undefined): string | undefined {
    const named = [...this.made.keys()].filter((t) => new RegExp(`(?:^|[^\\w$."])(?:"?public"?\\s*\\.\\s*)?"?${literalPattern(t)}"?(?![\\w$"])`, 'i').test(sql));
    if (qualifier === undefined) return named.length === 1 ? named[0] : undefined;
    const q = qualifier.toLowerCase();
    return named.find((t) => t === q || new RegExp(`(?:^|[^\\w$."])(?:"?public"?\\s*\\.\\s*)?"?${literalPattern(t)}"?\\s+(?:as\\s+)?"?${literalPattern(q)}"?(?![\\w$])`, 'i').test(sql));
  }

  /** What the report says: each stand-in and its columns. */
  note(): string | undefined {
    if (this.made.size === 0) return undefined;
    const list = [...this.made].map(([t, cols]) => `${t} (${cols.join(', ')})`).join('; ');
    return `tables no file creates (made in the dashboard) and no generated types describe, made as stand-ins with RLS on when a statement first needed them, with the columns the statements asked for, typed by name: ${list}; their own policies and grants are not in the project`;
  }
}
