/**
 * Where each object was created in the migrations: parses every loaded statement with the real
 * Postgres parser and records the file and line of the statement that created a table, view,
 * function, index or policy. Reporters (SARIF) use it to point a finding at a migration line.
 * Unqualified names are taken as `public` (the search_path migrations run with).
 */
import { parseSync } from 'libpg-query';
import type { LoadedStatement } from './sql-files.ts';

export interface SourceLocation {
  readonly file: string;
  readonly line: number;
}

/** `schema.name` for relations and functions, `schema.table.policy` for policies. */
export type LocationMap = ReadonlyMap<string, SourceLocation>;

export function locationKey(schema: string, name: string, policy?: string): string {
  return policy === undefined ? `${schema}\u0000${name}` : `${schema}\u0000${name}\u0000${policy}`;
}

interface RangeVar {
  schemaname?: string;
  relname?: string;
}

function str(node: unknown): string | undefined {
  return (node as { String?: { sval?: string } } | undefined)?.String?.sval;
}

function rel(r: RangeVar | undefined): [string, string] | null {
  return r?.relname ? [r.schemaname ?? 'public', r.relname] : null;
}

/** The object a statement creates, if it creates one we can point at. */
function created(stmt: Record<string, unknown>): string | null {
  const [kind, body] = Object.entries(stmt)[0] ?? [];
  const b = body as Record<string, unknown> | undefined;
  if (!kind || !b) return null;
  let target: [string, string] | null = null;
  switch (kind) {
    case 'CreateStmt':
      target = rel(b['relation'] as RangeVar);
      break;
    case 'CreateForeignTableStmt':
      target = rel((b['base'] as { relation?: RangeVar } | undefined)?.relation);
      break;
    case 'ViewStmt':
      target = rel(b['view'] as RangeVar);
      break;
    case 'CreateTableAsStmt':
      target = rel((b['into'] as { rel?: RangeVar } | undefined)?.rel);
      break;
    case 'IndexStmt': {
      const table = rel(b['relation'] as RangeVar);
      const name = b['idxname'] as string | undefined;
      target = table && name ? [table[0], name] : null;
      break;
    }
    case 'CreateFunctionStmt': {
      const parts = ((b['funcname'] as unknown[]) ?? []).map(str).filter((s): s is string => s !== undefined);
      target = parts.length === 2 ? [parts[0]!, parts[1]!] : parts.length === 1 ? ['public', parts[0]!] : null;
      break;
    }
    case 'CreatePolicyStmt': {
      const table = rel(b['table'] as RangeVar);
      const name = b['policy_name'] as string | undefined;
      return table && name ? locationKey(table[0], table[1], name) : null;
    }
  }
  return target ? locationKey(target[0], target[1]) : null;
}

/** First statement that created each object (later `create or replace` keeps the first). */
export function objectLocations(statements: readonly LoadedStatement[]): LocationMap {
  const map = new Map<string, SourceLocation>();
  for (const s of statements) {
    let parsed: { stmts?: { stmt: Record<string, unknown> }[] };
    try {
      parsed = parseSync(s.sql) as typeof parsed;
    } catch {
      continue;
    }
    for (const { stmt } of parsed.stmts ?? []) {
      const key = created(stmt);
      if (key && !map.has(key)) map.set(key, { file: s.file, line: s.line });
    }
  }
  return map;
}
