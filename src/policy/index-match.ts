/**
 * Whether an index serves what a policy filters on, beyond "a plain index leads with the column":
 * a partial index counts when the policy implies its predicate (each conjunct of the index
 * predicate appears as a conjunct of the policy or of one of its subqueries), an expression index
 * counts when the policy contains the indexed expression. Comparison is on the parsed trees with
 * locations stripped and column references reduced to their last name (`tm.user_id` ≡ `user_id`).
 */
import { parseSync } from 'libpg-query';
import { deparseSync } from 'pgsql-deparser';
import { andArms, deepEqual, nodeType, operatorName, stripCasts, stripLocations, type Json } from './ast.ts';
import { parseExpression } from './parse.ts';

/** Conjuncts and every sub-expression of a policy clause, normalised, for matching. */
export interface PolicyShape {
  readonly conjuncts: readonly Json[];
  readonly subtrees: readonly Json[];
  /** Conjuncts of the clause itself (not of its subqueries): what scopes the policy's own table. */
  readonly topConjuncts: readonly Json[];
}

/** `f(column…) = <no column>`: a filter only an expression index on `f(column…)` can serve. */
export interface ExpressionPredicate {
  readonly tree: Json;
  readonly columns: readonly string[];
  /** The expression as SQL, for `CREATE INDEX … ((expression))`. */
  readonly sql: string;
}

function normalise(node: Json): Json {
  const stripped = stripLocations(node);
  const stack: Json[] = [stripped];
  while (stack.length) {
    const n = stack.pop();
    if (n === null || typeof n !== 'object') continue;
    if (!Array.isArray(n) && n.ColumnRef && Array.isArray(n.ColumnRef.fields) && n.ColumnRef.fields.length > 1) {
      n.ColumnRef.fields = n.ColumnRef.fields.slice(-1);
    }
    for (const v of Array.isArray(n) ? n : Object.values(n)) if (v && typeof v === 'object') stack.push(v);
  }
  return stripped;
}

/** The shape of one clause (USING or WITH CHECK), or null when it does not parse. */
export function policyShape(text: string | null): PolicyShape | null {
  if (!text) return null;
  const parsed = parseExpression(text);
  if (!parsed.ok) return null;
  const root = normalise(parsed.ast);
  const conjuncts: Json[] = [];
  const subtrees: Json[] = [];
  conjuncts.push(...andArms(root));
  const topConjuncts = [...conjuncts];
  const stack: Json[] = [root];
  while (stack.length) {
    const n = stack.pop();
    if (n === null || typeof n !== 'object') continue;
    if (!Array.isArray(n)) {
      const type = nodeType(n);
      if (type) subtrees.push(n);
      const where = type === 'SelectStmt' ? n.SelectStmt.whereClause : undefined;
      if (where) conjuncts.push(...andArms(where));
    }
    for (const v of Array.isArray(n) ? n : Object.values(n)) if (v && typeof v === 'object') stack.push(v);
  }
  return { conjuncts, subtrees, topConjuncts };
}

function columnsIn(node: Json): { columns: string[]; subquery: boolean } {
  const columns = new Set<string>();
  let subquery = false;
  const stack: Json[] = [node];
  while (stack.length) {
    const n = stack.pop();
    if (n === null || typeof n !== 'object') continue;
    if (!Array.isArray(n)) {
      if (n.SubLink) subquery = true;
      const last = n.ColumnRef?.fields?.at(-1)?.String?.sval;
      if (typeof last === 'string') columns.add(last);
    }
    for (const v of Array.isArray(n) ? n : Object.values(n)) if (v && typeof v === 'object') stack.push(v);
  }
  return { columns: [...columns], subquery };
}

/** Equality/IN conjuncts whose column side is an expression (not a bare column) and whose other side reads no column. */
export function expressionPredicates(shape: PolicyShape): ExpressionPredicate[] {
  const out: ExpressionPredicate[] = [];
  for (const c of shape.topConjuncts) {
    const e = c?.A_Expr;
    if (!e || !['AEXPR_OP', 'AEXPR_IN'].includes(e.kind)) continue;
    const op = e.name?.at(-1)?.String?.sval;
    if (e.kind === 'AEXPR_OP' && op !== '=') continue;
    for (const [side, other] of [[e.lexpr, e.rexpr], [e.rexpr, e.lexpr]] as const) {
      if (!side || side.ColumnRef || side.TypeCast?.arg?.ColumnRef) continue;
      const mine = columnsIn(side);
      const theirs = columnsIn(other);
      if (mine.subquery || mine.columns.length === 0 || theirs.columns.length > 0) continue;
      let sql: string;
      try {
        sql = deparseSync(side).trim();
      } catch {
        continue;
      }
      out.push({ tree: side, columns: mine.columns, sql });
    }
  }
  return out;
}

/** A valid index leads with exactly this expression (and, if partial, the policy implies its predicate). */
export function expressionIndexed(expressions: string, predicate: ExpressionPredicate): boolean {
  const [first] = parseList(expressions) ?? [];
  return first !== undefined && deepEqual(first, predicate.tree);
}

const cache = new Map<string, Json[] | null>();

/** Parses `pg_get_expr` output of index expressions or predicates ("a, lower(b)") into normalised trees. */
function parseList(text: string): Json[] | null {
  if (cache.has(text)) return cache.get(text)!;
  let result: Json[] | null = null;
  try {
    const stmt = (parseSync(`SELECT ${text}`) as Json).stmts?.[0]?.stmt?.SelectStmt;
    result = (stmt?.targetList ?? []).map((t: Json) => normalise(t.ResTarget.val));
  } catch {
    result = null;
  }
  if (cache.size > 10_000) cache.clear();
  cache.set(text, result);
  return result;
}

/** Every conjunct of the index predicate is a conjunct of the policy. */
export function predicateImplied(predicate: string, shapes: readonly PolicyShape[]): boolean {
  const [tree] = parseList(`(${predicate})`) ?? [];
  if (!tree) return false;
  const needed: Json[] = [];
  needed.push(...andArms(tree));
  return needed.every((c) => shapes.some((s) => s.conjuncts.some((p) => deepEqual(p, c))));
}

/** The index's leading expression occurs in the policy. */
export function leadingExpressionUsed(expressions: string, shapes: readonly PolicyShape[]): boolean {
  const [first] = parseList(expressions) ?? [];
  if (!first) return false;
  return shapes.some((s) => s.subtrees.some((t) => deepEqual(t, first)));
}

/** Whether the index's leading expression references the column. */
export function leadingExpressionMentions(expressions: string, column: string): boolean {
  const [first] = parseList(expressions) ?? [];
  const stack: Json[] = first ? [first] : [];
  while (stack.length) {
    const n = stack.pop();
    if (n === null || typeof n !== 'object') continue;
    const fields = !Array.isArray(n) && n.ColumnRef?.fields;
    if (Array.isArray(fields) && fields.at(-1)?.String?.sval === column) return true;
    for (const v of Array.isArray(n) ? n : Object.values(n)) if (v && typeof v === 'object') stack.push(v);
  }
  return false;
}

/** The operands of the top-level AND (or OR) of an expression, each deparsed; the whole expression when it is neither. */
function armTexts(text: string, boolop: 'AND_EXPR' | 'OR_EXPR'): string[] | null {
  const parsed = parseExpression(text);
  if (!parsed.ok) return null;
  const out: string[] = [];
  const visit = (node: Json) => {
    const b = node?.BoolExpr;
    if (b && b.boolop === boolop) for (const arg of b.args ?? []) visit(arg);
    else {
      try {
        out.push(deparseSync(node, { pretty: false }).trim());
      } catch {
        out.push('');
      }
    }
  };
  visit(parsed.ast as Json);
  return out;
}

/** The top-level AND operands of an expression, each deparsed; the whole expression when it is no AND. */
export function conjunctTexts(text: string): string[] | null {
  return armTexts(text, 'AND_EXPR');
}

/** The top-level OR arms of an expression, each deparsed; the whole expression when it is no OR. */
export function disjunctTexts(text: string): string[] | null {
  return armTexts(text, 'OR_EXPR');
}

/** The caller's role, as policies read it: auth.role(), the JWT role claim, current_user. */
const ROLE_READ = /\bauth\.role\s*\(\s*\)|->>\s*'role'|request\.jwt\.claim\.role|\bcurrent_setting\s*\(\s*'role'|\bcurrent_user\b|\bsession_user\b/i;
const IS_SERVICE_ROLE = /=\s*'service_role'|'service_role'(::\w+)?\s*=/i;
const ADMIN_CLAIM_GATE = /app_metadata'(::text)?\s*\)*\s*->>\s*'(role|roles|is_admin|admin|claims_admin)'/i;
const ADMIN_HELPER = /(^|[\s.(])"?((is|has|check|current_user_is)_?(an?_)?(super_?|org_|workspace_|team_|site_|platform_|project_)?(admin|administrator|staff|moderator|superuser|owner_role)s?|has_role|has_permission|authorize)"?\s*\(/i;

/**
 * The expression can only hold for privileged callers: one of its AND operands is a service_role
 * test (`auth.role() = 'service_role'`), a server-set app_metadata role claim, or a call to an
 * admin/permission helper (`is_admin()`, `has_role(…)`, `authorize(…)`). Writes gated this way are
 * not "rows written for others by any user".
 */
export function privilegeGate(text: string): string | null {
  for (const conjunct of conjunctTexts(text) ?? []) {
    if (!/\bOR\b/i.test(conjunct) && ROLE_READ.test(conjunct) && IS_SERVICE_ROLE.test(conjunct) && !/app_metadata|user_metadata/i.test(conjunct)) return 'service_role';
    if (ADMIN_CLAIM_GATE.test(conjunct) && /=/.test(conjunct)) return 'app_metadata claim';
    const helper = ADMIN_HELPER.exec(conjunct);
    if (helper) return `${helper[2]}()`;
  }
  return null;
}

/** A disjunct of a check that the caller satisfies by sending NULL in a column of the new row. */
export interface NullBypass {
  /** The column whose NULL satisfies the disjunct. */
  readonly column: string;
  /** The disjunct as Postgres prints it (`(join_code IS NULL)`, `COALESCE(x, true)`). */
  readonly disjunct: string;
  /** The whole expression with that disjunct removed: the check without the bypass. */
  readonly without: string;
}

function ownColumn(node: Json, table: string): string | null {
  const fields = stripCasts(node)?.ColumnRef?.fields;
  if (!Array.isArray(fields)) return null;
  const names = fields.map((f: Json) => f?.String?.sval).filter((x: unknown): x is string => typeof x === 'string');
  if (names.length === 1) return names[0]!;
  if (names.length === 2 && names[0] === table) return names[1]!;
  return null;
}

/** `col IS NULL`, `coalesce(col, true)`: true when the caller sends NULL in col. */
function nullArm(node: Json, table: string): string | null {
  const n = node?.NullTest;
  if (n && n.nulltesttype === 'IS_NULL') return ownColumn(n.arg, table);
  const c = node?.CoalesceExpr;
  if (c && Array.isArray(c.args) && c.args.length >= 2) {
    const last = c.args[c.args.length - 1];
    const value = last?.A_Const?.boolval?.boolval ?? (last?.TypeCast?.arg?.A_Const?.sval?.sval === 't' ? true : undefined);
    if (value === true) return ownColumn(c.args[0], table);
  }
  return null;
}

/**
 * OR arms, reached from the root through AND only, that hold when the caller writes NULL into a
 * column of the row: `join_code IS NULL OR project_id IN (…)` lets a caller skip the second arm
 * by sending `join_code = null`. Each with the expression minus that arm (the fix).
 */
export function nullBypasses(text: string, table: string): NullBypass[] {
  // A fresh tree each call: it is edited in place below to print the expression without an arm.
  const parsed = parseExpression(text);
  if (!parsed.ok) return [];
  const out: NullBypass[] = [];
  const box = { root: parsed.ast as Json };
  const whole = () => {
    try {
      return deparseSync(box.root, { pretty: false }).trim();
    } catch {
      return null;
    }
  };
  const visit = (node: Json, set: (n: Json) => void) => {
    const b = node?.BoolExpr;
    if (b?.boolop === 'AND_EXPR') {
      (b.args as Json[]).forEach((arg, i) => visit(arg, (n) => (b.args[i] = n)));
      return;
    }
    // Only an OR arm is a way around the rest: a bare `x IS NULL` conjunct demands NULL instead.
    if (b?.boolop !== 'OR_EXPR') return;
    const arms = [...(b.args as Json[])];
    const hits = arms.map((arm) => ({ arm, column: nullArm(arm, table) })).filter((h): h is { arm: Json; column: string } => h.column !== null);
    const rest = arms.filter((arm) => !hits.some((h) => h.arm === arm));
    // An OR of null tests only demands NULLs; nothing is bypassed.
    if (hits.length === 0 || rest.length === 0) return;
    b.args = rest;
    if (rest.length === 1) set(rest[0]);
    const without = whole();
    b.args = arms;
    set(node);
    if (without === null) return;
    for (const { arm, column } of hits) {
      try {
        out.push({ column, disjunct: deparseSync(arm, { pretty: false }).trim(), without });
      } catch {
        // not printable: skip
      }
    }
  };
  visit(box.root, (n) => (box.root = n));
  return out;
}

/** `auth.uid()`, `(select auth.uid())`, `auth.uid()::text`, `auth.jwt() ->> 'sub'`: the caller's id, NULL for anon. */
function isCallerId(node: Json): boolean {
  let n = stripCasts(node);
  const sub = n?.SubLink;
  if (sub && sub.subLinkType === 'EXPR_SUBLINK') {
    const target = sub.subselect?.SelectStmt;
    if (!target || (target.fromClause ?? []).length > 0 || (target.targetList ?? []).length !== 1) return false;
    n = stripCasts(target.targetList[0]?.ResTarget?.val);
  }
  const fc = n?.FuncCall;
  if (fc) {
    const name = (fc.funcname ?? []).map((p: Json) => p?.String?.sval).join('.');
    return name === 'auth.uid' && (fc.args ?? []).length === 0;
  }
  const a = n?.A_Expr;
  if (a && a.kind === 'AEXPR_OP' && operatorName(a) === '->>') {
    const l = stripCasts(a.lexpr)?.FuncCall;
    const key = a.rexpr?.A_Const?.sval?.sval;
    return Boolean(l && (l.funcname ?? []).map((p: Json) => p?.String?.sval).join('.') === 'auth.jwt' && key === 'sub');
  }
  return false;
}

/**
 * The expression can only be true for a signed-in caller: every way of satisfying it (each OR arm,
 * through AND) compares something with the caller's id by `=`, which is NULL, so not true, for
 * anon, or is only met by a privileged caller (`auth.role() = 'service_role'`, `is_admin()`).
 * `(storage.foldername(name))[1] = auth.uid()::text OR owner_id = auth.uid()` is; an arm without
 * such a comparison (`sharing <> 'private'`) makes it not.
 */
export function requiresCaller(text: string): boolean {
  const parsed = parseExpression(text);
  if (!parsed.ok) return false;
  const visit = (node: Json): boolean => {
    const b = node?.BoolExpr;
    if (b?.boolop === 'AND_EXPR') return (b.args as Json[]).some(visit);
    if (b?.boolop === 'OR_EXPR') return (b.args as Json[]).every(visit);
    const a = node?.A_Expr;
    if (a && a.kind === 'AEXPR_OP' && operatorName(a) === '=' && (isCallerId(a.lexpr) || isCallerId(a.rexpr))) return true;
    // An arm only a privileged caller meets (service_role, an admin helper or claim) is no way in for anon either.
    try {
      return privilegeGate(deparseSync(node, { pretty: false })) !== null;
    } catch {
      return false;
    }
  };
  return visit(parsed.ast as Json);
}

/**
 * A function body (not an expression) that checks for a privileged caller anywhere: an app_metadata
 * role claim, an admin/permission helper call, or a service_role test. Used to tell an admin-only RPC
 * from one every user can call to the same effect.
 */
export function bodyAdminGuard(body: string): boolean {
  return ADMIN_CLAIM_GATE.test(body) || ADMIN_HELPER.test(body) || (ROLE_READ.test(body) && IS_SERVICE_ROLE.test(body));
}
