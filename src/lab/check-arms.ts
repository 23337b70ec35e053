/**
 * What a CHECK constraint asks of each column, read with the Postgres parser: the ways of
 * satisfying it (the arms of a top-level OR), each a list of conditions on one column at a time
 * (`scope = 'gym'`, `gym_id IS NOT NULL`, `char_length(username) <= 24`, `role IN (…)`, `n >= 1`).
 * The lab's world fills rows with them: one arm at a time, the values each condition names.
 * Conditions it does not read (two columns compared, a function of several) are left to the database.
 */
import { parseExpression, isPolicyParserReady } from '../policy/parse.ts';
import { andArms, constArrayElements, constValue, funcNameParts, nodeType, operatorName, stringList, stripCasts, type ConstValue, type Json } from '../policy/ast.ts';

export type Condition =
  | { readonly column: string; readonly kind: 'values'; readonly values: readonly string[] }
  | { readonly column: string; readonly kind: 'null' | 'not_null' }
  | { readonly column: string; readonly kind: 'length' | 'number'; readonly min?: number; readonly max?: number };

export interface CheckArm {
  readonly conditions: readonly Condition[];
}

const cache = new Map<string, readonly CheckArm[] | null>();

/** The expression of a `pg_get_constraintdef` text (`CHECK ((…)) NOT VALID`), or undefined. */
function checkExpression(definition: string): string | undefined {
  const m = /^\s*CHECK\s*\(([\s\S]*)\)(\s+NO\s+INHERIT)?(\s+NOT\s+VALID)?\s*$/i.exec(definition);
  return m?.[1];
}

/** The arms of a CHECK's definition; null when it cannot be read (no parser, not a CHECK, a parse error). */
export function checkArms(definition: string): readonly CheckArm[] | null {
  const hit = cache.get(definition);
  if (hit !== undefined) return hit;
  const text = checkExpression(definition);
  if (text === undefined || !isPolicyParserReady()) return null;
  const parsed = parseExpression(text);
  const arms = parsed.ok ? orArms(parsed.ast as Json).map((arm) => ({ conditions: andArms(arm).flatMap(condition).reverse() })) : null;
  cache.set(definition, arms);
  return arms;
}

function orArms(node: Json): Json[] {
  const out: Json[] = [];
  const stack = [node];
  while (stack.length) {
    const n = stack.pop();
    if (nodeType(n) === 'BoolExpr' && n.BoolExpr.boolop === 'OR_EXPR') stack.push(...[...(n.BoolExpr.args ?? [])].reverse());
    else out.push(n);
  }
  return out;
}

/** A column named alone (`username`, `t.username`), under casts. */
function columnOf(node: Json): string | undefined {
  const n = stripCasts(node);
  if (nodeType(n) !== 'ColumnRef') return undefined;
  const fields = stringList(n.ColumnRef.fields);
  return fields.length > 0 && fields.length === (n.ColumnRef.fields ?? []).length ? fields[fields.length - 1] : undefined;
}

/** The column whose length a call measures: `char_length(c)`, `length(trim(c))`, `octet_length(c::text)`. */
function measuredColumn(node: Json): string | undefined {
  let n = stripCasts(node);
  if (nodeType(n) !== 'FuncCall') return undefined;
  const name = funcNameParts(n.FuncCall).at(-1);
  if (!name || !/^(char_length|character_length|length|octet_length)$/.test(name) || (n.FuncCall.args ?? []).length !== 1) return undefined;
  n = stripCasts(n.FuncCall.args[0]);
  // Through a trim (`length(trim(label))`): the padding aside, the same bound.
  if (nodeType(n) === 'FuncCall' && /^(btrim|trim|ltrim|rtrim|lower|upper)$/.test(funcNameParts(n.FuncCall).at(-1) ?? '') && (n.FuncCall.args ?? []).length >= 1) n = n.FuncCall.args[0];
  return columnOf(n);
}

function text(v: ConstValue): string | null {
  return v.t === 'null' ? null : String(v.v);
}

/** The condition one conjunct puts on one column, or none. */
function condition(node: Json): Condition[] {
  const t = nodeType(node);
  if (t === 'NullTest') {
    const column = columnOf(node.NullTest.arg);
    return column ? [{ column, kind: node.NullTest.nulltesttype === 'IS_NULL' ? 'null' : 'not_null' }] : [];
  }
  if (t !== 'A_Expr') return [];
  const a = node.A_Expr;
  const op = operatorName(a);
  if (a.kind === 'AEXPR_IN' && op === '=') {
    const column = columnOf(a.lexpr);
    const items = (Array.isArray(a.rexpr) ? a.rexpr : a.rexpr?.List?.items ?? []).map(constValue);
    if (!column || items.some((v: ConstValue | null) => v === null)) return [];
    return [{ column, kind: 'values', values: items.map(text).filter((v: string | null): v is string => v !== null) }];
  }
  if (a.kind === 'AEXPR_OP_ANY' && op === '=') {
    const column = columnOf(a.lexpr);
    const items = constArrayElements(a.rexpr);
    return column && items ? [{ column, kind: 'values', values: items.map(text).filter((v): v is string => v !== null) }] : [];
  }
  if (a.kind !== 'AEXPR_OP' || !/^(=|>=|>|<=|<)$/.test(op)) return [];
  // The column (or its length) on either side, a constant on the other.
  for (const [side, other, flipped] of [
    [a.lexpr, a.rexpr, false],
    [a.rexpr, a.lexpr, true],
  ] as const) {
    const value = constValue(other);
    if (!value || value.t === 'null') continue;
    const o = flipped ? ({ '>=': '<=', '>': '<', '<=': '>=', '<': '>', '=': '=' } as Record<string, string>)[op]! : op;
    const measured = measuredColumn(side);
    const column = measured ?? columnOf(side);
    if (!column) continue;
    if (o === '=' && !measured) return [{ column, kind: 'values', values: [String(value.v)] }];
    const n = Number(value.v);
    if (value.t === 'bool' || Number.isNaN(n)) return [];
    const kind = measured ? 'length' : 'number';
    // Whole numbers past a strict bound (`> 0` is met by 1); a length is whole too.
    if (o === '=') return [{ column, kind, min: n, max: n }];
    if (o === '>=') return [{ column, kind, min: n }];
    if (o === '>') return [{ column, kind, min: Number.isInteger(n) ? n + 1 : n + 0.01 }];
    if (o === '<=') return [{ column, kind, max: n }];
    return [{ column, kind, max: Number.isInteger(n) ? n - 1 : n - 0.01 }];
  }
  return [];
}

/** The values the arms of a CHECK name for a column (`= 'x'`, `IN (…)`), and the lower bound of a number; in the arms' order. */
export function armValues(arms: readonly CheckArm[], column: string): string[] {
  const out: string[] = [];
  for (const arm of arms) {
    for (const c of arm.conditions) {
      if (c.column !== column) continue;
      if (c.kind === 'values') out.push(...c.values);
      // A lower bound is a value to use (`>= 1`, `> 0` → 1); an upper bound alone names none.
      if (c.kind === 'number' && c.min !== undefined) out.push(String(c.min));
    }
  }
  return [...new Set(out)];
}

/** A text made to fit length bounds, keeping what tells two owners' rows apart (their name and number). */
export function fitLength(value: string, min: number | undefined, max: number | undefined, owner: string, n: number): string {
  let v = value;
  if (max !== undefined && v.length > max) {
    const short = `${owner.replace(/[^A-Za-z0-9]/g, '').toLowerCase()}${n}`;
    v = short.length <= max ? short : `${short.slice(0, Math.max(0, max - String(n).length))}${n}`.slice(-Math.max(1, max));
  }
  if (min !== undefined && v.length < min) v = v.padEnd(min, 'x');
  return v;
}
