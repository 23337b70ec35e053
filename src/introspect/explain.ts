/**
 * `--explain`: the planner's view of what RLS costs. For each table, `EXPLAIN (FORMAT JSON)
 * SELECT * FROM t` as `authenticated` with synthetic JWT claims, in a READ ONLY transaction that is
 * always rolled back (EXPLAIN without ANALYZE runs nothing). Records the estimated total cost and
 * whether the table is read by a sequential scan that filters rows (the policy predicate applied
 * row by row). Where the `hypopg` extension is installed, the same plan with a hypothetical index on
 * each suggested column gives the cost the index would bring; hypothetical indexes live in this
 * backend's memory only and are reset before the rollback.
 */
import { qualified, quoteIdent, quoteLiteral } from '../model/ident.ts';
import type { Snapshot } from '../model/snapshot.ts';
import { describePgErrorSafely } from './errors.ts';
import { throwIfCancelled, type Session } from './session.ts';

/** Who the plans are made for: a signed-in user that matches no row owner. */
const EXPLAIN_CLAIMS = { sub: '00000000-0000-4000-8000-00000000e7a1', role: 'authenticated', aud: 'authenticated', email: 'explain@supaudit.invalid' };

export interface HypotheticalIndex {
  readonly column: string;
  readonly totalCost: number;
  /** Cost without the index divided by the cost with it (>1: the index helps). */
  readonly ratio: number;
}

export interface TablePlan {
  readonly schema: string;
  readonly name: string;
  readonly totalCost: number;
  /** The table is read by a Seq Scan with a Filter: the policy is evaluated on every row. */
  readonly seqScanFiltered: boolean;
  /** The filter Postgres applies on the scan (the policy predicate as planned). */
  readonly filter: string | null;
  readonly hypothetical: readonly HypotheticalIndex[];
}

export interface ExplainResult {
  readonly plans: readonly TablePlan[];
  readonly notes: readonly string[];
}

export interface ExplainOptions {
  readonly tables: readonly { readonly schema: string; readonly name: string; readonly columns?: readonly string[] }[];
  readonly statementTimeoutMs?: number;
  readonly lockTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

interface PlanNode {
  'Node Type'?: string;
  'Relation Name'?: string;
  Schema?: string;
  Filter?: string;
  'Total Cost'?: number;
  Plans?: PlanNode[];
}

/** The scan of the table in the plan tree, if any. */
function scanOf(root: PlanNode, table: string): PlanNode | null {
  const stack = [root];
  while (stack.length) {
    const node = stack.pop()!;
    if (node['Relation Name'] === table && /Scan$/.test(node['Node Type'] ?? '')) return node;
    stack.push(...(node.Plans ?? []));
  }
  return null;
}

async function plan(session: Session, sql: string): Promise<PlanNode> {
  const [row] = await session.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON, VERBOSE) ${sql}`);
  const raw = row?.['QUERY PLAN'];
  const parsed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: PlanNode }[];
  return parsed[0]!.Plan;
}

export function hypopgSchema(snapshot: Snapshot): string | null {
  return snapshot.extensions.find((e) => e.name === 'hypopg')?.schema ?? null;
}

export async function explainTables(session: Session, snapshot: Snapshot, options: ExplainOptions): Promise<ExplainResult> {
  const timeout = Math.max(1, Math.floor(options.statementTimeoutMs ?? 5_000));
  const hypopg = hypopgSchema(snapshot);
  const plans: TablePlan[] = [];
  const notes: string[] = [];
  throwIfCancelled(options.signal);
  await session.begin({ access: 'read only', statementTimeoutMs: timeout, lockTimeoutMs: Math.min(1_000, options.lockTimeoutMs ?? 1_000) });
  try {
    try {
      await session.query(`SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', $1, true)`, [JSON.stringify(EXPLAIN_CLAIMS)]);
    } catch (error) {
      return { plans: [], notes: [`explain: cannot plan as authenticated (${describePgErrorSafely(error)}); grant the auditing role membership in authenticated or drop --explain`] };
    }
    for (const table of options.tables) {
      throwIfCancelled(options.signal);
      const select = `SELECT * FROM ${qualified(table.schema, table.name)}`;
      await session.exec('SAVEPOINT supaudit_explain');
      try {
        const root = await plan(session, select);
        const scan = scanOf(root, table.name);
        const totalCost = root['Total Cost'] ?? 0;
        const hypothetical: HypotheticalIndex[] = [];
        if (hypopg) {
          for (const column of table.columns ?? []) {
            const ddl = `CREATE INDEX ON ${qualified(table.schema, table.name)} (${quoteIdent(column)})`;
            await session.query(`SELECT * FROM ${quoteIdent(hypopg)}.hypopg_create_index(${quoteLiteral(ddl)})`);
            const withIndex = (await plan(session, select))['Total Cost'] ?? totalCost;
            await session.query(`SELECT ${quoteIdent(hypopg)}.hypopg_reset()`);
            hypothetical.push({ column, totalCost: withIndex, ratio: withIndex > 0 ? Math.round((totalCost / withIndex) * 10) / 10 : 1 });
          }
        }
        plans.push({
          schema: table.schema,
          name: table.name,
          totalCost,
          seqScanFiltered: scan?.['Node Type'] === 'Seq Scan' && typeof scan.Filter === 'string',
          filter: scan?.Filter ?? null,
          hypothetical,
        });
        await session.exec('RELEASE SAVEPOINT supaudit_explain');
      } catch (error) {
        await session.exec('ROLLBACK TO SAVEPOINT supaudit_explain');
        notes.push(`explain: ${table.schema}.${table.name} could not be planned as authenticated (${describePgErrorSafely(error)})`);
      }
    }
  } finally {
    await session.exec('ROLLBACK');
  }
  return { plans, notes };
}
