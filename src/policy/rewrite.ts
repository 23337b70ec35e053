/**
 * Fix generation for policy expressions.
 *
 * `wrapPerRowCalls` wraps every per-row call of `auth.uid()`/`auth.jwt()`/`auth.role()`/`auth.email()`,
 * `current_setting(…)` and (given a snapshot) STABLE helper functions in a scalar sub-select
 * `(SELECT auth.uid())`, so Postgres evaluates it once per statement (an initplan) instead of once per row.
 * The rewrite is done on the AST and re-emitted with pgsql-deparser; the output is re-parsed and compared
 * with the rewritten AST before it is returned.
 *
 * A call is wrapped only when it is safe: its arguments reference no column (so its value cannot differ
 * between rows), it is not set-returning, not an aggregate/window call, and it is not VOLATILE (wrapping a
 * volatile function would change how often it runs). The outermost wrappable call is wrapped, e.g.
 * `private.has_role(auth.uid(), 'admin')` as a whole when `has_role` is STABLE.
 */
import { InconclusiveError } from '../model/check.ts';
import { deparseSync } from 'pgsql-deparser';
import type { Policy, Snapshot } from '../model/snapshot.ts';
import { quoteIdent } from '../model/ident.ts';
import { deepEqual, stripLocations, type Json } from './ast.ts';
import { parseExpression } from './parse.ts';
import { snapshotIndex } from './resolve.ts';
import { ExpressionWalker, type CallRec } from './walk.ts';

export interface RewriteOptions {
  /** Used to resolve helper functions (volatility) and relations; without it only auth.* and current_setting are wrapped. */
  readonly snapshot?: Snapshot;
  /** Schema of the policy's table (default `public`). */
  readonly schema?: string;
  /** The policy's table (helps resolve correlated column references). */
  readonly table?: string;
  /** Wrap STABLE helper functions found in the snapshot too (default true). */
  readonly wrapStableHelpers?: boolean;
}

export type RewriteResult =
  | { readonly status: 'unchanged'; readonly text: null; readonly wrapped: readonly string[]; readonly error: null }
  | { readonly status: 'rewritten'; readonly text: string; readonly wrapped: readonly string[]; readonly error: null }
  | { readonly status: 'failed'; readonly text: null; readonly wrapped: readonly string[]; readonly error: string };

const EMPTY_SNAPSHOT: Snapshot = {
  serverVersion: '',
  serverVersionNum: 0,
  database: '',
  currentUser: '',
  exposedSchemas: [],
  exposedSchemasSource: 'default',
  roles: [],
  memberships: [],
  schemas: [],
  relations: [],
  constraints: [],
  indexes: [],
  policies: [],
  functions: [],
  sequences: [],
  viewDependencies: [],
  publications: [],
  extensions: [],
  defaultPrivileges: [],
  buckets: [],
  realtimeSubscriptions: null,
  statsReset: null,
  takenAt: '',
  notes: [],
};

function walk(text: string, ast: Json, sourceOffset: (l: number) => number, options: RewriteOptions): ExpressionWalker {
  return new ExpressionWalker({
    index: snapshotIndex(options.snapshot ?? EMPTY_SNAPSHOT),
    policySchema: options.schema ?? 'public',
    policyTable: options.table ?? '',
    text,
    sourceOffset,
  }).run(ast);
}

function selectCalls(walker: ExpressionWalker, options: RewriteOptions): CallRec[] {
  const stable = options.wrapStableHelpers ?? true;
  const selected = new Set<CallRec>();
  // Calls are recorded parents-first, so an outer wrappable call is selected before its inner calls.
  for (const call of walker.calls) {
    if (!walker.wrappable(call, stable)) continue;
    let covered = false;
    for (let p = call.parent; p; p = p.parent) {
      if (selected.has(p)) {
        covered = true;
        break;
      }
    }
    if (!covered) selected.add(call);
  }
  return [...selected];
}

/** Like `wrapPerRowCalls`, with the reason when nothing is returned. */
export function rewritePerRowCalls(text: string, options: RewriteOptions = {}): RewriteResult {
  const parsed = parseExpression(text);
  if (!parsed.ok) return { status: 'failed', text: null, wrapped: [], error: parsed.error };
  let calls: CallRec[];
  let walker: ExpressionWalker;
  try {
    walker = walk(text, parsed.ast, parsed.sourceOffset, options);
    calls = selectCalls(walker, options);
  } catch (err) {
    if (err instanceof InconclusiveError) throw err;
    return { status: 'failed', text: null, wrapped: [], error: `analysis failed: ${errorMessage(err)}` };
  }
  if (calls.length === 0) return { status: 'unchanged', text: null, wrapped: [], error: null };
  const wrapped = calls.map((c) => walker.callText(c));
  const ast = parsed.ast as Json;
  for (const call of calls) {
    const node = call.node;
    const fc = node.FuncCall;
    delete node.FuncCall;
    node.SubLink = {
      subLinkType: 'EXPR_SUBLINK',
      subselect: {
        SelectStmt: {
          targetList: [{ ResTarget: { val: { FuncCall: fc } } }],
          limitOption: 'LIMIT_OPTION_DEFAULT',
          op: 'SETOP_NONE',
        },
      },
    };
  }
  let out: string;
  try {
    out = deparseSync(ast, { pretty: false }).trim();
  } catch (err) {
    return { status: 'failed', text: null, wrapped, error: `deparse failed: ${errorMessage(err)}` };
  }
  if (out.endsWith(';')) out = out.slice(0, -1).trimEnd();
  const reparsed = parseExpression(out);
  if (!reparsed.ok) {
    return { status: 'failed', text: null, wrapped, error: `rewritten expression does not parse: ${reparsed.error}` };
  }
  if (!deepEqual(stripLocations(reparsed.ast), stripLocations(ast))) {
    return { status: 'failed', text: null, wrapped, error: 'rewritten expression does not round-trip through the parser' };
  }
  return { status: 'rewritten', text: out, wrapped, error: null };
}

/**
 * Returns `text` with every per-row auth/current_setting/STABLE-helper call wrapped in `(SELECT …)`,
 * or null when there is nothing to change (or the text cannot be parsed/rewritten safely; see
 * `rewritePerRowCalls` for the reason).
 */
export function wrapPerRowCalls(text: string, options: RewriteOptions = {}): string | null {
  const r = rewritePerRowCalls(text, options);
  return r.status === 'rewritten' ? r.text : null;
}

export interface PolicyChanges {
  readonly using?: string | null;
  readonly withCheck?: string | null;
}

/**
 * `ALTER POLICY "name" ON "schema"."table" USING (…) WITH CHECK (…);` with identifiers quoted as
 * `quote_ident` does (double quotes doubled). Throws when there is nothing to alter, or the clause is not
 * allowed for the policy's command (USING on INSERT, WITH CHECK on SELECT/DELETE).
 */
export function alterPolicySql(
  policy: Pick<Policy, 'schema' | 'table' | 'name'> & Partial<Pick<Policy, 'command'>>,
  changes: PolicyChanges,
): string {
  const using = changes.using ?? null;
  const withCheck = changes.withCheck ?? null;
  if (using === null && withCheck === null) throw new Error('alterPolicySql: nothing to change (no USING, no WITH CHECK)');
  if (using !== null && policy.command === 'INSERT') throw new Error('alterPolicySql: an INSERT policy has no USING expression');
  if (withCheck !== null && (policy.command === 'SELECT' || policy.command === 'DELETE')) {
    throw new Error(`alterPolicySql: a ${policy.command} policy has no WITH CHECK expression`);
  }
  let sql = `ALTER POLICY ${quoteIdent(policy.name)} ON ${quoteIdent(policy.schema)}.${quoteIdent(policy.table)}`;
  if (using !== null) sql += ` USING (${enclose(using)})`;
  if (withCheck !== null) sql += ` WITH CHECK (${enclose(withCheck)})`;
  return `${sql};`;
}

/** A trailing `-- comment` would swallow the closing parenthesis: end the line first. */
function enclose(expr: string): string {
  const t = expr.trim();
  return t.includes('--') ? `${t}\n` : t;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
