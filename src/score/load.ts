/**
 * The pure half of `supaudit load`: which tables to measure and with which shapes, the findings that
 * explain each table's RLS cost (and their fixes), percentiles. The database half is
 * `src/introspect/load.ts`.
 */
import type { CheckContext } from '../model/check.ts';
import type { Finding } from '../model/finding.ts';
import type { LoadTable } from '../introspect/load.ts';
import type { Relation, Snapshot } from '../model/snapshot.ts';
import { ownerColumn } from '../../checks/_policy_checks.ts';

/** Checks whose findings explain what RLS costs a request. */
export const COST_CHECKS: ReadonlySet<string> = new Set([
  'auth_rls_initplan',
  'unindexed_policy_column',
  'policy_join_slow_shape',
  'multiple_permissive_policies',
  'policy_infinite_recursion',
]);

/** Nearest-rank percentile of unsorted samples (0 for none). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** The finding explains the cost of requests to this table: it is on the table, or on a policy of it. */
function explains(f: Finding, r: Relation): boolean {
  if (!COST_CHECKS.has(f.check)) return false;
  if (f.object.schema === r.schema && f.object.name === r.name) return true;
  const policies = f.evidence?.['policies'];
  return Array.isArray(policies) && policies.some((p) => typeof p === 'string' && p.startsWith(`${r.schema}.${r.name}: `));
}

/** The table's primary key when it is one column, with its type (for `by_pk` and Realtime's row check). */
export function singleColumnPk(snapshot: Snapshot, relation: Relation): LoadTable['pk'] {
  const pk = snapshot.constraints.find((c) => c.schema === relation.schema && c.table === relation.name && c.type === 'primary_key');
  const column = pk && pk.columns.length === 1 ? relation.columns.find((c) => c.name === pk.columns[0]) : undefined;
  return column ? { column: column.name, type: column.type } : null;
}

export interface LoadSelection {
  readonly tables: LoadTable[];
  /** Names given with --tables that are not exposed tables an API role may read. */
  readonly unknown: string[];
}

/**
 * Tables of the exposed schemas that anon or authenticated may SELECT (or those named in `only`,
 * `schema.table` or `table`), largest first, at most `limit`; each with its cost findings and their fixes.
 */
export function loadTables(ctx: CheckContext, findings: readonly Finding[], only: readonly string[] | undefined, limit: number): LoadSelection {
  const readable = ctx.snapshot.relations.filter(
    (r) =>
      (r.kind === 'table' || r.kind === 'partitioned_table') &&
      !r.isPartition &&
      ctx.isExposed(r.schema) &&
      ctx.isUserObject(r.schema, r.extension),
  );
  const named = (r: Relation, n: string) => n === `${r.schema}.${r.name}` || (n === r.name && !n.includes('.'));
  const unknown = (only ?? []).filter((n) => !readable.some((r) => named(r, n)));
  const picked = (only && only.length > 0 ? readable.filter((r) => only.some((n) => named(r, n))) : readable)
    .map((relation) => ({
      relation,
      roles: (['anon', 'authenticated'] as const).filter((role) => ctx.privileges.hasSchemaUsage(relation.schema, role) && ctx.privileges.hasOnRelation(relation, role, 'SELECT')),
    }))
    .filter((t) => t.roles.length > 0)
    .sort((a, b) => b.relation.rowEstimate - a.relation.rowEstimate || a.relation.name.localeCompare(b.relation.name))
    .slice(0, limit);
  const tables = picked.map(({ relation, roles }): LoadTable => {
    const mine = findings.filter((f) => explains(f, relation));
    return {
      relation,
      roles,
      pk: singleColumnPk(ctx.snapshot, relation),
      owner: ownerColumn(relation),
      findings: mine.map((f) => f.fingerprint).sort(),
      fixes: [...new Set(mine.map((f) => f.remediation.sql).filter((s): s is string => typeof s === 'string' && s.trim() !== ''))],
    };
  });
  return { tables, unknown };
}
