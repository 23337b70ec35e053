/**
 * The state a function's statements pick rows in. A function that acts on rows "in a state"
 * (`update bookings set status = 'cancelled' where tenant_id = p_tenant and status = 'pending_payment'
 * and source = 'website'`) changes nothing in a world whose rows are all in their default state, so
 * its call would look harmless. Before such a call the lab puts the world's rows of that table in
 * the state the statement asks for (inside the call's savepoint; rolled back with it), as a victim's
 * rows may well be.
 *
 * Only what the body compares with constants is staged: `col = 'word'`, `col IN ('a', 'b')` (the
 * first), `col IS NULL`, a bare boolean column or `NOT col`. Comparisons with the function's
 * arguments are the call's business, and times are not staged: a clean-up of rows older than a
 * fixed age does what it is for; one whose age the caller picks is tried with -1 by the calls.
 * A state that says a row is over (`'cancelled'`, `'expired'`, `'deleted'`) is not staged either:
 * a function that removes ended rows is a clean-up.
 */
import { parsePlPgSQLSync, parseSync } from 'libpg-query';
import type { FunctionInfo, Relation, Snapshot } from '../model/snapshot.ts';
import { argumentsOf } from '../model/sql-text.ts';
import { andArms, constValue, nodeType, operatorName, stringList, stripCasts, type Json } from '../policy/ast.ts';

/** Per table (`schema.name`), the value each column is set to (`null`: NULL), as SQL literal text. */
export type Stage = Map<string, Map<string, string | null>>;

/** A word that says a row's life is over. */
const ENDED_WORD = /^(deleted|archived|removed|left|revoked|expired|ended|cancell?ed|banned|disabled|suspended|deactivated|closed|rejected|declined|failed|refunded|void(ed)?|inactive)$/i;

const cache = new WeakMap<FunctionInfo, Stage>();

/**
 * A guard of a PL/pgSQL body on a row it read into a variable: `select * into v_post from posts
 * where …; if v_post.status not in ('draft', 'review') then raise …`. The condition that raises, and
 * the table the variable's row came from.
 */
interface Guard {
  readonly table: Json;
  readonly variable: string;
  readonly condition: Json;
}

/** The statements of a body (a SQL function's as written, a PL/pgSQL function's embedded SQL), and a PL/pgSQL body's guards. */
function statementsOf(fn: FunctionInfo): { statements: Json[]; guards: Guard[] } {
  const source = fn.source ?? '';
  if (/^sql$/i.test(fn.language)) {
    try {
      return { statements: (parseSync(source).stmts ?? []).map((s: Json) => s.stmt), guards: [] };
    } catch {
      return { statements: [], guards: [] };
    }
  }
  if (!/^plpgsql$/i.test(fn.language)) return { statements: [], guards: [] };
  let tag = 'supaudit';
  while (source.includes(`$${tag}$`)) tag += '_';
  // As declared (what RETURN may carry depends on it), else as a procedure-like function.
  let tree: Json;
  for (const head of [`(${fn.identityArgs}) returns ${fn.returnType}`, '() returns void', '() returns setof record']) {
    try {
      tree = parsePlPgSQLSync(`create function supaudit_stage${head} language plpgsql as $${tag}$${source}$${tag}$`);
      break;
    } catch {
      // The next head.
    }
  }
  if (tree === undefined) return { statements: [], guards: [] };
  const out: Json[] = [];
  const guards: Guard[] = [];
  /** Variables a `select … into` filled, with the one table it read. */
  const rows = new Map<string, Json>();
  const stack: Json[] = [tree];
  while (stack.length > 0) {
    const n = stack.pop();
    if (n === null || typeof n !== 'object') continue;
    if (Array.isArray(n)) {
      // In the body's order: a guard follows the select that filled its variable.
      for (let i = n.length - 1; i >= 0; i--) stack.push(n[i]);
      continue;
    }
    const exec = n.PLpgSQL_stmt_execsql;
    const target = exec?.into ? (exec.target?.PLpgSQL_rec ?? exec.target?.PLpgSQL_row) : undefined;
    if (target && typeof target.refname === 'string' && typeof exec.sqlstmt?.PLpgSQL_expr?.query === 'string') {
      try {
        const from = (parseSync(exec.sqlstmt.PLpgSQL_expr.query).stmts?.[0]?.stmt as Json)?.SelectStmt?.fromClause;
        if (Array.isArray(from) && from.length === 1 && from[0].RangeVar) rows.set(target.refname.toLowerCase(), from[0].RangeVar);
      } catch {
        // not a plain select
      }
    }
    const branch = n.PLpgSQL_stmt_if;
    // A branch that raises, or returns before the rest of the body runs (`if v.user_id is not null then return 'already linked'`).
    const raises = (b: Json) => b.PLpgSQL_stmt_raise && (b.PLpgSQL_stmt_raise.elog_level ?? 21) >= 21;
    const exits = (b: Json) => raises(b) || b.PLpgSQL_stmt_return !== undefined;
    const then = Array.isArray(branch?.then_body) && branch.then_body.length > 0 ? (branch.then_body as Json[]) : undefined;
    if (branch && then && (then.every(raises) || (then.every(exits) && !branch.elsif_list && !branch.else_body))) {
      try {
        const condition = (parseSync(`select ${branch.cond?.PLpgSQL_expr?.query ?? ''}`).stmts?.[0]?.stmt as Json)?.SelectStmt?.targetList?.[0]?.ResTarget?.val;
        for (const [variable, table] of rows) if (condition) guards.push({ table, variable, condition });
      } catch {
        // not an expression on its own
      }
    }
    const expr = n.PLpgSQL_expr;
    // A statement (not an expression such as an IF's condition, parsed in another mode).
    if (expr && typeof expr.query === 'string' && (expr.parseMode ?? 0) === 0) {
      try {
        out.push(...(parseSync(expr.query).stmts ?? []).map((s: Json) => s.stmt));
      } catch {
        // Not SQL on its own (a fragment the body builds): nothing to read.
      }
      continue;
    }
    const keys = Object.keys(n);
    for (let i = keys.length - 1; i >= 0; i--) stack.push(n[keys[i]!]);
  }
  return { statements: out, guards };
}

/**
 * What a row must hold for a guard not to raise, column by column: `v.status not in ('a', 'b')` and
 * `v.status <> 'a'` want 'a'; `not v.active` wants true; arms of an OR each. Of `variable`'s columns only.
 */
function passing(condition: Json, variable: string): { column: string; value: string | null; bool?: true }[] {
  const out: { column: string; value: string | null; bool?: true }[] = [];
  const arms = nodeType(condition) === 'BoolExpr' && condition.BoolExpr.boolop === 'OR_EXPR' ? condition.BoolExpr.args ?? [] : [condition];
  const own = (node: Json): string | undefined => {
    const ref = columnRef(node);
    return ref && ref.length === 2 && ref[0]!.toLowerCase() === variable ? ref[1] : undefined;
  };
  for (const arm of arms) {
    const t = nodeType(arm);
    if (t === 'A_Expr') {
      const e = arm.A_Expr;
      const op = operatorName(e);
      if (e.kind === 'AEXPR_IN' && op === '<>' && Array.isArray(e.rexpr?.List?.items)) {
        const column = own(e.lexpr);
        const value = (e.rexpr.List.items as Json[]).map(literal).find((v): v is string => typeof v === 'string' && !ENDED_WORD.test(v));
        if (column && value !== undefined) out.push({ column, value });
      } else if ((e.kind === 'AEXPR_OP' && (op === '<>' || op === '!=')) || e.kind === 'AEXPR_DISTINCT') {
        for (const [l, r] of [
          [e.lexpr, e.rexpr],
          [e.rexpr, e.lexpr],
        ]) {
          const column = own(l);
          const value = literal(r);
          if (column && typeof value === 'string') {
            out.push({ column, value });
            break;
          }
        }
      }
    } else if (t === 'BoolExpr' && arm.BoolExpr.boolop === 'NOT_EXPR') {
      const column = own(arm.BoolExpr.args?.[0]);
      if (column) out.push({ column, value: 'true', bool: true });
    } else if (t === 'NullTest' && arm.NullTest.nulltesttype === 'IS_NOT_NULL') {
      // `if v.user_id is not null then return`: a row nobody has claimed yet.
      const column = own(arm.NullTest.arg);
      if (column) out.push({ column, value: null });
    }
  }
  return out;
}

/** The table a RangeVar names: in its schema, else in the function's search_path, else `public`, else the only one of that name. */
function tableOf(snapshot: Snapshot, fn: FunctionInfo, rv: Json): Relation | undefined {
  const name = rv?.relname;
  if (typeof name !== 'string') return undefined;
  const tables = snapshot.relations.filter((r) => r.name === name && (r.kind === 'table' || r.kind === 'partitioned_table'));
  if (typeof rv.schemaname === 'string') return tables.find((r) => r.schema === rv.schemaname);
  const path = (fn.config.find((c) => c.startsWith('search_path='))?.slice('search_path='.length) ?? 'public')
    .split(',')
    .map((s) => s.trim().replace(/^"(.*)"$/, '$1'));
  for (const s of [...path, 'public']) {
    const hit = tables.find((r) => r.schema === s);
    if (hit) return hit;
  }
  return tables.length === 1 ? tables[0] : undefined;
}

/** The tables of a FROM list (joins unfolded) with the names they go by. */
function fromItems(items: readonly Json[]): Json[] {
  const out: Json[] = [];
  const stack = [...items];
  while (stack.length > 0) {
    const n = stack.pop();
    if (nodeType(n) === 'RangeVar') out.push(n.RangeVar);
    else if (nodeType(n) === 'JoinExpr') stack.push(n.JoinExpr.larg, n.JoinExpr.rarg);
  }
  return out;
}

function literal(node: Json): string | null | undefined {
  const v = constValue(node);
  if (!v) return undefined;
  if (v.t === 'null') return undefined;
  return v.t === 'str' ? v.v : String(v.v);
}

/** `[qualifier?, column]` of a column reference, else undefined. */
function columnRef(node: Json): string[] | undefined {
  const n = stripCasts(node);
  if (nodeType(n) !== 'ColumnRef') return undefined;
  const parts = stringList(n.ColumnRef.fields);
  return parts.length >= 1 && parts.length <= 3 ? parts : undefined;
}

/** The (column, value) a conjunct fixes, with the column's qualifier. */
function fixed(c: Json): { ref: string[]; value: string | null; bool?: true } | undefined {
  const t = nodeType(c);
  if (t === 'A_Expr') {
    const e = c.A_Expr;
    if (e.kind === 'AEXPR_OP' && operatorName(e) === '=') {
      for (const [l, r] of [
        [e.lexpr, e.rexpr],
        [e.rexpr, e.lexpr],
      ]) {
        const ref = columnRef(l);
        const value = literal(r);
        if (ref && value !== undefined) return { ref, value };
      }
    }
    if (e.kind === 'AEXPR_IN' && operatorName(e) === '=' && Array.isArray(e.rexpr?.List?.items)) {
      const ref = columnRef(e.lexpr);
      const values = (e.rexpr.List.items as Json[]).map(literal).filter((v): v is string => typeof v === 'string');
      const live = values.find((v) => !ENDED_WORD.test(v));
      if (ref && live !== undefined) return { ref, value: live };
    }
    return undefined;
  }
  if (t === 'NullTest' && c.NullTest.nulltesttype === 'IS_NULL') {
    const ref = columnRef(c.NullTest.arg);
    return ref ? { ref, value: null } : undefined;
  }
  if (t === 'BooleanTest') {
    const ref = columnRef(c.BooleanTest.arg);
    const test = c.BooleanTest.booltesttype;
    if (ref && (test === 'IS_TRUE' || test === 'IS_FALSE')) return { ref, value: test === 'IS_TRUE' ? 'true' : 'false', bool: true };
    return undefined;
  }
  if (t === 'BoolExpr' && c.BoolExpr.boolop === 'NOT_EXPR') {
    const ref = columnRef(c.BoolExpr.args?.[0]);
    return ref ? { ref, value: 'false', bool: true } : undefined;
  }
  const ref = columnRef(c);
  return ref ? { ref, value: 'true', bool: true } : undefined;
}

/** Every UPDATE, DELETE and SELECT of a statement tree, CTEs and sub-selects included, with its FROM and WHERE. */
function queries(stmt: Json): { items: Json[]; where: Json }[] {
  const out: { items: Json[]; where: Json }[] = [];
  const stack = [stmt];
  while (stack.length > 0) {
    const n = stack.pop();
    if (n === null || typeof n !== 'object') continue;
    if (Array.isArray(n)) {
      stack.push(...n);
      continue;
    }
    if (n.UpdateStmt) out.push({ items: [{ RangeVar: n.UpdateStmt.relation }, ...(n.UpdateStmt.fromClause ?? [])], where: n.UpdateStmt.whereClause });
    if (n.DeleteStmt) out.push({ items: [{ RangeVar: n.DeleteStmt.relation }, ...(n.DeleteStmt.usingClause ?? [])], where: n.DeleteStmt.whereClause });
    if (n.SelectStmt && n.SelectStmt.whereClause) out.push({ items: n.SelectStmt.fromClause ?? [], where: n.SelectStmt.whereClause });
    for (const k in n) stack.push(n[k]);
  }
  return out;
}

/**
 * The state `fn`'s statements ask rows of each table to be in. Key, foreign-key and owner columns
 * are left alone (which rows a call reaches is the arguments' business), as are columns that do not
 * exist (a name the body gives a record or a CTE).
 */
export function stageOf(snapshot: Snapshot, fn: FunctionInfo): Stage {
  const hit = cache.get(fn);
  if (hit) return hit;
  const { statements, guards } = statementsOf(fn);
  /** What the body wants of each column (`schema.name` → column → value → how sure, the highest seen). */
  const wants = new Map<string, Map<string, Map<string | null, number>>>();
  /**
   * One statement's wish for `column` of `rel`, unless a key, an owner or generated: how sure is 2
   * for a statement aimed at the row an argument names (`where id = p_link_id`), else 1.
   */
  const put = (rel: Relation, column: string, value: string | null, bool: boolean, sure = 1, guard = false) => {
    const col = rel.columns.find((x) => x.name === column);
    if (!col) return;
    const keyed = snapshot.constraints.some(
      (k) => k.schema === rel.schema && k.table === rel.name && (k.type === 'primary_key' || k.type === 'foreign_key' || k.type === 'unique') && k.columns.includes(column),
    );
    // A guard that returns or raises once a reference is set (`v.user_id is not null`) asks for a row
    // not yet linked: an empty reference, never another value of a key.
    const unlinked = guard && value === null && !col.notNull && !snapshot.constraints.some((k) => k.schema === rel.schema && k.table === rel.name && k.type === 'primary_key' && k.columns.includes(column));
    if (!unlinked && (keyed || col.generated || col.identity || col.type === 'uuid')) return;
    if ((value === null && col.notNull) || (bool && col.type !== 'boolean') || (typeof value === 'string' && ENDED_WORD.test(value))) return;
    const key = `${rel.schema}.${rel.name}`;
    const columns = wants.get(key) ?? new Map<string, Map<string | null, number>>();
    const values = columns.get(column) ?? new Map<string | null, number>();
    values.set(value, Math.max(values.get(value) ?? 0, sure));
    columns.set(column, values);
    wants.set(key, columns);
  };
  const args = new Set(argumentsOf(fn.identityArgs).map((a) => a.name.toLowerCase()));
  /** Whether a WHERE picks a row by an argument (`id = p_link_id`). */
  const aimed = (where: Json) =>
    andArms(where).some((c) => {
      const e = nodeType(c) === 'A_Expr' ? c.A_Expr : undefined;
      if (!e || e.kind !== 'AEXPR_OP' || operatorName(e) !== '=') return false;
      return [e.lexpr, e.rexpr].some((side) => {
        const ref = columnRef(side);
        return (ref?.length === 1 && args.has(ref[0]!.toLowerCase())) || nodeType(stripCasts(side)) === 'ParamRef';
      });
    });
  // A row the body reads into a variable, then raises unless it is in a state (`if v_post.status not in ('draft', …) then raise`).
  for (const g of guards) {
    const rel = tableOf(snapshot, fn, g.table);
    if (!rel) continue;
    for (const p of passing(g.condition, g.variable)) put(rel, p.column, p.value, p.bool === true, 1, true);
  }
  for (const stmt of statements) {
    for (const q of queries(stmt)) {
      const tables = fromItems(q.items)
        .map((rv) => ({ rv, rel: tableOf(snapshot, fn, rv) }))
        .filter((t): t is { rv: Json; rel: Relation } => t.rel !== undefined);
      if (tables.length === 0) continue;
      const sure = aimed(q.where) ? 2 : 1;
      // AND terms only: OR arms are not a state every row must be in.
      for (const c of andArms(q.where)) {
        const f = fixed(c);
        if (!f) continue;
        const column = f.ref[f.ref.length - 1]!;
        const qualifier = f.ref.length > 1 ? f.ref[f.ref.length - 2] : undefined;
        const owners = tables.filter(({ rv, rel }) => (qualifier === undefined ? true : (rv.alias?.aliasname ?? rv.relname) === qualifier) && rel.columns.some((col) => col.name === column));
        // An unqualified name that two tables have is ambiguous: neither.
        if (owners.length !== 1) continue;
        put(owners[0]!.rel, column, f.value, f.bool === true, sure);
      }
    }
  }
  // The state is the value the surest statements agree on. Two that want the column in two states
  // (`where is_cover = true`, then `where is_cover = false`) leave it as the world has it, unless one
  // is aimed at the argument's row (demote the others, promote this one): that one decides.
  const stage: Stage = new Map();
  for (const [key, columns] of wants) {
    for (const [column, values] of columns) {
      const surest = Math.max(...values.values());
      const agreed = [...values].filter(([, sure]) => sure === surest);
      if (agreed.length !== 1) continue;
      const set = stage.get(key) ?? new Map<string, string | null>();
      set.set(column, agreed[0]![0]);
      stage.set(key, set);
    }
  }
  cache.set(fn, stage);
  return stage;
}
