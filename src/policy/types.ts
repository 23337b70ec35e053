/**
 * The parsed policy model: what `analyzePolicy` tells checks about a policy's USING / WITH CHECK expressions.
 * All locations are character offsets into the analysed expression text (`ExpressionAnalysis.text`).
 */
import type { Policy, Relation, RelationKind, Volatility } from '../model/snapshot.ts';

/**
 * How a subquery is reached: the SubLink type (`EXISTS`, `IN`/`= ANY (SELECT …)`, `ALL`, scalar `(SELECT …)`,
 * `ARRAY(SELECT …)`), `from` for a derived table, `cte` for a WITH query. Branches of a UNION inherit it.
 */
export type SubqueryVia = 'exists' | 'in' | 'all' | 'scalar' | 'array' | 'from' | 'cte' | 'other';

export type AuthCallKind = 'auth.uid' | 'auth.jwt' | 'auth.role' | 'auth.email' | 'current_setting' | 'function';

/** A call whose result depends on the caller (or that is a STABLE/VOLATILE user function). */
export interface AuthCall {
  readonly kind: AuthCallKind;
  /** Resolved schema (`auth`, `pg_catalog`, `public`, …). */
  readonly schema: string;
  readonly name: string;
  /** The call's source text, e.g. `auth.uid()` or `current_setting('request.jwt.claims'::text, true)`. */
  readonly text: string;
  readonly location: number;
  readonly length: number;
  /** Path of the call in the AST, e.g. `BoolExpr.args[0].A_Expr.lexpr.FuncCall`. */
  readonly path: string;
  /**
   * False when the call sits inside a sub-select without FROM that does not reference the row (an initplan,
   * evaluated once per statement), e.g. `(SELECT auth.uid())`; true otherwise, at any depth.
   */
  readonly perRow: boolean;
  /**
   * `perRow` and safe to wrap as `(SELECT …)`: no column reference in its arguments, not set-returning,
   * not an aggregate, and auth.* / current_setting or a STABLE function.
   */
  readonly wrappable: boolean;
  readonly volatility: Volatility | null;
  readonly securityDefiner: boolean | null;
  /** The function is in the snapshot (false for defaults assumed for auth.* and built-ins). */
  readonly known: boolean;
  /** Subquery nesting depth of the call (0 = the policy expression itself). */
  readonly depth: number;
  /** For `current_setting`: the setting name when it is a constant. */
  readonly setting: string | null;
}

export interface FunctionCall {
  /** Resolved schema, or null when the name could not be resolved. */
  readonly schema: string | null;
  readonly name: string;
  readonly argCount: number;
  readonly text: string;
  readonly location: number;
  readonly length: number;
  readonly path: string;
  readonly known: boolean;
  readonly builtin: boolean;
  readonly language: string | null;
  readonly volatility: Volatility | null;
  readonly securityDefiner: boolean | null;
  readonly returnsSet: boolean | null;
  readonly perRow: boolean;
  readonly depth: number;
  /** Relations the function body reads (rough identifier scan, SQL/PL/pgSQL only), as `schema.name`. */
  readonly readsTables: readonly string[];
  /** The subset of `readsTables` with RLS enabled. */
  readonly readsRlsTables: readonly string[];
  /** The body refers to the caller (`auth.uid()`, `auth.jwt()`, `auth.email()`, `request.jwt.claim…`). */
  readonly bodyReferencesCaller: boolean;
  /** At least one argument references a column (of any table). */
  readonly argsReferenceColumns: boolean;
}

/**
 * How a column of the policy's table is constrained:
 * - `eq_auth_uid`: `col = auth.uid()` / `(select auth.uid())` (either side, through casts);
 * - `eq_jwt_claim`: `col = auth.jwt() ->> 'x'`, `current_setting('request.jwt.claim.x')`, `auth.email()`, `auth.role()`;
 * - `eq_constant`: `col = 'x'`, `col IN (1, 2)`, `col = ANY ('{…}')`, a bare boolean column, `NOT col`, `col IS TRUE`;
 * - `in_subquery`: `col IN (SELECT …)`, `col = ANY (ARRAY(SELECT …))`, `col = ANY (SELECT …)`, `col = (SELECT … FROM …)`;
 * - `exists_correlated`: referenced from inside a subquery (the correlation of an EXISTS / IN / scalar subquery);
 * - `other`: any other use (`col > 5`, `f(col)`, `col ->> 'k' = …`, `col IS NULL`, …).
 */
export type PredicateKind = 'eq_auth_uid' | 'eq_jwt_claim' | 'eq_constant' | 'in_subquery' | 'exists_correlated' | 'other';

export interface ColumnPredicate {
  readonly column: string;
  readonly kind: PredicateKind;
  /** For `eq_jwt_claim`: the claim path, e.g. `sub`, `email`, `role`, `app_metadata.org_id`. */
  readonly claim: string | null;
  readonly location: number;
  /**
   * The predicate must hold for the expression to be true: it is reached from the root through AND only
   * (for `exists_correlated`, the subquery is).
   */
  readonly conjunctive: boolean;
}

/** How a subquery table's column is used: the same kinds as ColumnPredicate, plus `join` (compared with another table's column). */
export type SubqueryPredicateKind = Exclude<PredicateKind, 'exists_correlated'> | 'join';

export interface SubqueryPredicate {
  readonly column: string;
  readonly kind: SubqueryPredicateKind;
  readonly claim: string | null;
  readonly location: number;
}

/** A table read by a subquery of the policy expression. */
export interface SubqueryTable {
  readonly schema: string;
  readonly name: string;
  readonly alias: string | null;
  /** In the snapshot. */
  readonly known: boolean;
  readonly kind: RelationKind | null;
  readonly rlsEnabled: boolean | null;
  /** The policy's own table (a self-reference: infinite-recursion risk). */
  readonly isPolicyTable: boolean;
  readonly via: SubqueryVia;
  /** 1 for a subquery of the policy expression, 2 for a subquery inside it, … */
  readonly depth: number;
  readonly location: number;
  /** Columns used in WHERE / JOIN … ON / HAVING of its subquery or referenced from deeper subqueries; distinct, by position. */
  readonly filterColumns: readonly string[];
  readonly predicates: readonly SubqueryPredicate[];
  /** Columns in the subquery's select list (what `col IN (SELECT x …)` compares with). */
  readonly targetColumns: readonly string[];
  /** The subquery (or one nested in it) filters on the caller: auth.uid(), the `sub`/`email` claim, or a helper whose body does. */
  readonly keyedOnCaller: boolean;
}

export type OwnerTieVia = 'eq_auth_uid' | 'eq_jwt_claim' | 'in_subquery' | 'exists_correlated' | 'function';

/** A column of the policy's table tied to the caller. */
export interface OwnerTie {
  readonly column: string;
  readonly via: OwnerTieVia;
  /** The tie must hold (reached through AND only). */
  readonly conjunctive: boolean;
}

export type AlwaysTrue = 'always' | 'anonymous' | 'no';

export interface ExpressionAnalysis {
  readonly text: string;
  /** The parser's message when the text could not be parsed (then every other field is empty/false/'no'). */
  readonly parseError: string | null;
  readonly parseErrorPosition: number | null;
  readonly authCalls: readonly AuthCall[];
  readonly columnPredicates: readonly ColumnPredicate[];
  readonly subqueries: readonly SubqueryTable[];
  readonly functionCalls: readonly FunctionCall[];
  /** Reads `user_metadata` / `raw_user_meta_data` (user-editable) from the JWT or auth.users. */
  readonly readsUserMetadata: boolean;
  /** Locations of those reads. */
  readonly userMetadataLocations: readonly number[];
  /** `always`: true for every row and caller; `anonymous`: true for every anonymous (no JWT `sub`) caller. */
  readonly alwaysTrue: AlwaysTrue;
  /** An OR with an arm that contains a real subquery (one with FROM, or correlated) and an arm that does not. */
  readonly orMixesSubquery: boolean;
  /** Uses `auth.uid()` or the JWT `sub` claim (so it needs a signed-in user). */
  readonly usesAuthUid: boolean;
  /** Columns tied to the caller. */
  readonly ownerTie: readonly OwnerTie[];
  /** Every way of satisfying the expression (each OR arm) goes through a caller tie. */
  readonly callerTied: boolean;
  /** Deepest subquery nesting. */
  readonly maxDepth: number;
}

export interface PolicyAnalysis {
  readonly policy: Policy;
  /** The policy's table, when the snapshot has it. */
  readonly relation: Relation | null;
  /** Analysis of USING, null when the policy has none. */
  readonly using: ExpressionAnalysis | null;
  /** Analysis of WITH CHECK, null when the policy has none. */
  readonly withCheck: ExpressionAnalysis | null;
  /**
   * For UPDATE/ALL policies without WITH CHECK, Postgres checks new rows with USING: then this is `using`.
   * Otherwise it equals `withCheck`.
   */
  readonly effectiveWithCheck: ExpressionAnalysis | null;
}
