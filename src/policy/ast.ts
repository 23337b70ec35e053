/**
 * Small, non-recursive (or depth-guarded) helpers over libpg-query's JSON AST.
 *
 * The AST is plain JSON: a node is a one-key object `{ TypeName: body }`; lists are arrays; some fields hold
 * bare structs (`Alias`, `TypeName`). We deliberately use a loose type here: the generated `@pgsql/types`
 * unions are large and every access would need a cast anyway.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** Recursion limit for the few helpers that recurse (boolean evaluation, pattern matching). */
export const MAX_RECURSION = 200;

/** The node type of a wrapped node (`{ A_Expr: … }` → `A_Expr`), or undefined for anything else. */
export function nodeType(node: Json): string | undefined {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
  for (const k in node) {
    const c = k.charCodeAt(0);
    return c >= 65 && c <= 90 ? k : undefined; // upper-case first letter: a node wrapper
  }
  return undefined;
}

export function body(node: Json, type: string): Json | undefined {
  return node !== null && typeof node === 'object' ? node[type] : undefined;
}

/** The terms of an AND (nested ANDs unfolded; anything else is one term), in the parser's order reversed, as a stack yields them. */
export function andArms(node: Json): Json[] {
  const out: Json[] = [];
  const stack = node ? [node] : [];
  while (stack.length) {
    const n = stack.pop();
    if (nodeType(n) === 'BoolExpr' && n.BoolExpr.boolop === 'AND_EXPR') stack.push(...(n.BoolExpr.args ?? []));
    else out.push(n);
  }
  return out;
}

/** Strips casts and COLLATE clauses (iteratively). */
export function stripCasts(node: Json): Json {
  let n = node;
  for (;;) {
    const t = nodeType(n);
    if (t === 'TypeCast' || t === 'CollateClause') {
      const next = n[t].arg;
      if (!next) return n;
      n = next;
    } else return n;
  }
}

/** `String` node list → string array (`funcname`, `ColumnRef.fields`, `A_Expr.name`, type names). */
export function stringList(list: Json): string[] {
  const out: string[] = [];
  if (!Array.isArray(list)) return out;
  for (const item of list) {
    const s = item?.String?.sval;
    if (typeof s === 'string') out.push(s);
    else if (item?.A_Star) out.push('*');
  }
  return out;
}

/** Operator name of an A_Expr (`=`, `->>`, …); schema-qualified `OPERATOR(pg_catalog.=)` gives the last part. */
export function operatorName(aexpr: Json): string {
  const names = stringList(aexpr?.name);
  return names[names.length - 1] ?? '';
}

export type ConstValue =
  | { readonly t: 'null' }
  | { readonly t: 'bool'; readonly v: boolean }
  | { readonly t: 'num'; readonly v: number }
  | { readonly t: 'str'; readonly v: string };

/** The value of an `A_Const` body. */
export function aConstValue(c: Json): ConstValue {
  if (c.isnull) return { t: 'null' };
  if (c.boolval !== undefined) return { t: 'bool', v: c.boolval.boolval === true };
  if (c.ival !== undefined) return { t: 'num', v: typeof c.ival.ival === 'number' ? c.ival.ival : 0 };
  if (c.fval !== undefined) return { t: 'num', v: Number(c.fval.fval ?? 0) };
  if (c.sval !== undefined) return { t: 'str', v: typeof c.sval.sval === 'string' ? c.sval.sval : '' };
  if (c.bsval !== undefined) return { t: 'str', v: String(c.bsval.bsval ?? '') };
  return { t: 'null' };
}

const BOOL_TYPES = new Set(['bool', 'boolean']);
const NUM_TYPES = new Set(['int2', 'int4', 'int8', 'integer', 'smallint', 'bigint', 'numeric', 'float4', 'float8', 'real', 'decimal']);

export function typeNameOf(typeName: Json): string {
  const names = stringList(typeName?.names);
  const last = names[names.length - 1] ?? '';
  return Array.isArray(typeName?.arrayBounds) && typeName.arrayBounds.length > 0 ? `${last}[]` : last;
}

export function parseBoolText(s: string): boolean | null {
  const v = s.trim().toLowerCase();
  if (['t', 'true', 'y', 'yes', 'on', '1'].includes(v)) return true;
  if (['f', 'false', 'n', 'no', 'off', '0'].includes(v)) return false;
  return null;
}

/**
 * Constant value of a node: `A_Const`, possibly under casts (`'a'::text`, `'t'::boolean`, `'1'::integer`).
 * Returns null when the node is not a constant.
 */
export function constValue(node: Json): ConstValue | null {
  const casts: string[] = [];
  let n = node;
  for (;;) {
    const t = nodeType(n);
    if (t === 'TypeCast') {
      casts.push(typeNameOf(n.TypeCast.typeName));
      n = n.TypeCast.arg;
    } else if (t === 'CollateClause') {
      n = n.CollateClause.arg;
    } else break;
  }
  if (nodeType(n) !== 'A_Const') return null;
  let v = aConstValue(n.A_Const);
  // Apply casts innermost first.
  for (let i = casts.length - 1; i >= 0; i--) {
    const ty = casts[i] ?? '';
    if (v.t === 'null') break;
    if (BOOL_TYPES.has(ty)) {
      if (v.t === 'str') {
        const b = parseBoolText(v.v);
        if (b === null) return null;
        v = { t: 'bool', v: b };
      } else if (v.t === 'num') v = { t: 'bool', v: v.v !== 0 };
    } else if (NUM_TYPES.has(ty)) {
      if (v.t === 'str') {
        const num = Number(v.v.trim());
        if (v.v.trim() === '' || Number.isNaN(num)) return null;
        v = { t: 'num', v: num };
      } else if (v.t === 'bool') return null;
    } else if (ty === 'text' || ty === 'varchar' || ty === 'bpchar' || ty === 'name' || ty === 'char') {
      if (v.t === 'num') v = { t: 'str', v: String(v.v) };
      else if (v.t === 'bool') v = { t: 'str', v: v.v ? 'true' : 'false' };
    }
    // other casts (uuid, jsonb, arrays, …) keep the literal's text value
  }
  return v;
}

/** Elements of an array literal: `ARRAY['a','b']` or `'{a,b}'::text[]` (constants only), else null. */
export function constArrayElements(node: Json): ConstValue[] | null {
  const n = stripCasts(node);
  const t = nodeType(n);
  if (t === 'A_ArrayExpr') {
    const out: ConstValue[] = [];
    for (const e of n.A_ArrayExpr.elements ?? []) {
      const v = constValue(e);
      if (!v) return null;
      out.push(v);
    }
    return out;
  }
  if (t === 'A_Const') {
    const v = aConstValue(n.A_Const);
    if (v.t !== 'str') return null;
    const items = parseArrayLiteral(v.v);
    return items ? items.map((s) => (s === null ? { t: 'null' } : { t: 'str', v: s })) : null;
  }
  return null;
}

/** Parses a one-dimensional Postgres array literal `{a,"b c",NULL}`. Returns null when not one. */
export function parseArrayLiteral(text: string): (string | null)[] | null {
  const s = text.trim();
  if (!s.startsWith('{') || !s.endsWith('}')) return null;
  const inner = s.slice(1, -1);
  if (inner.trim() === '') return [];
  const out: (string | null)[] = [];
  let i = 0;
  while (i <= inner.length) {
    while (inner[i] === ' ') i++;
    if (inner[i] === '"') {
      let val = '';
      i++;
      while (i < inner.length && inner[i] !== '"') {
        if (inner[i] === '\\') i++;
        val += inner[i] ?? '';
        i++;
      }
      i++; // closing quote
      out.push(val);
      while (inner[i] === ' ') i++;
    } else {
      let j = i;
      while (j < inner.length && inner[j] !== ',') j++;
      const raw = inner.slice(i, j).trim();
      if (raw.includes('{')) return null; // multi-dimensional
      out.push(raw.toUpperCase() === 'NULL' ? null : raw);
      i = j;
    }
    if (i >= inner.length) break;
    if (inner[i] !== ',') return null;
    i++;
  }
  return out;
}

/** A JSON key (string constant) or a path (`'{a,b}'::text[]`, `ARRAY['a','b']`) used with `->`/`#>`… */
export function jsonKeyOf(node: Json): string[] | null {
  const v = constValue(node);
  if (v && v.t === 'str') return [v.v];
  if (v && v.t === 'num') return [String(v.v)];
  return null;
}

export function jsonPathOf(node: Json): string[] | null {
  const els = constArrayElements(node);
  if (!els) return null;
  const out: string[] = [];
  for (const e of els) {
    if (e.t === 'str') out.push(e.v);
    else if (e.t === 'num') out.push(String(e.v));
    else return null;
  }
  return out;
}

export const JSON_GET_OPS = new Set(['->', '->>']);
export const JSON_PATH_OPS = new Set(['#>', '#>>']);
export const JSON_EXTRACT_FUNCS = new Set(['jsonb_extract_path', 'jsonb_extract_path_text', 'json_extract_path', 'json_extract_path_text']);

/** The string array of a FuncCall's name, e.g. `['auth', 'uid']`. */
export function funcNameParts(fc: Json): string[] {
  return stringList(fc?.funcname);
}

/**
 * Arguments of a FuncCall with a trailing `VARIADIC ARRAY[…]` expanded (as `pg_get_expr` prints
 * `jsonb_extract_path_text(x, VARIADIC ARRAY['a'::text, 'b'::text])`).
 */
export function expandedArgs(fc: Json): Json[] {
  const args: Json[] = Array.isArray(fc?.args) ? fc.args : [];
  if (!fc?.func_variadic || args.length === 0) return args;
  const last = stripCasts(args[args.length - 1]);
  if (nodeType(last) === 'A_ArrayExpr') return [...args.slice(0, -1), ...(last.A_ArrayExpr.elements ?? [])];
  const els = constArrayElements(last);
  if (els) {
    return [
      ...args.slice(0, -1),
      ...els.map((e) => ({ A_Const: e.t === 'str' ? { sval: { sval: e.v } } : { isnull: true } })),
    ];
  }
  return args;
}

/**
 * The single target expression of a FROM-less, WHERE-less `SELECT <expr>` (the `(SELECT auth.uid() AS uid)`
 * wrapper), or null.
 */
export function scalarSelectTarget(select: Json): Json | null {
  if (!select) return null;
  if (select.op && select.op !== 'SETOP_NONE') return null;
  if (select.fromClause?.length || select.whereClause || select.groupClause?.length || select.havingClause) return null;
  if (select.limitCount || select.limitOffset || select.valuesLists?.length || select.withClause) return null;
  const tl = select.targetList;
  if (!Array.isArray(tl) || tl.length !== 1) return null;
  return tl[0]?.ResTarget?.val ?? null;
}

/** Strips casts and FROM-less scalar sub-selects `(SELECT x)` (iteratively, bounded). */
export function stripWrappers(node: Json): Json {
  let n = node;
  for (let i = 0; i < MAX_RECURSION; i++) {
    const s = stripCasts(n);
    if (nodeType(s) === 'SubLink' && s.SubLink.subLinkType === 'EXPR_SUBLINK') {
      const target = scalarSelectTarget(s.SubLink.subselect?.SelectStmt);
      if (target) {
        n = target;
        continue;
      }
    }
    return s;
  }
  return n;
}

/**
 * Length of the source text of a call starting at `start` (the function name): scans to the matching
 * closing parenthesis, skipping string literals, quoted identifiers and comments. Returns 0 when it cannot.
 */
export function callSourceLength(text: string, start: number): number {
  if (start < 0 || start >= text.length) return 0;
  let i = start;
  let depth = 0;
  let opened = false;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === "'") {
      i++;
      while (i < n) {
        if (text[i] === "'" && text[i + 1] === "'") i += 2;
        else if (text[i] === "'") break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === '"') {
      i++;
      while (i < n) {
        if (text[i] === '"' && text[i + 1] === '"') i += 2;
        else if (text[i] === '"') break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === '-' && text[i + 1] === '-') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      continue;
    }
    if (c === '(') {
      depth++;
      opened = true;
    } else if (c === ')') {
      depth--;
      if (opened && depth === 0) return i + 1 - start;
      if (depth < 0) return 0;
    } else if (!opened && c === ',') return 0;
    i++;
  }
  return 0;
}

/** Deep copy without `location` fields, for structural comparison of ASTs. Iterative. */
export function stripLocations(root: Json): Json {
  const wrap: Json = { v: undefined };
  const stack: [Json, Json, string | number][] = [[root, wrap, 'v']];
  while (stack.length) {
    const [src, dst, key] = stack.pop()!;
    if (src === null || typeof src !== 'object') {
      dst[key] = src;
    } else if (Array.isArray(src)) {
      const arr: Json[] = new Array(src.length);
      dst[key] = arr;
      for (let i = 0; i < src.length; i++) stack.push([src[i], arr, i]);
    } else {
      const obj: Json = {};
      dst[key] = obj;
      for (const k of Object.keys(src)) {
        if (k === 'location' || k === 'stmt_location' || k === 'stmt_len' || k === 'list_start' || k === 'list_end' || k === 'rexpr_list_start' || k === 'rexpr_list_end') continue;
        stack.push([src[k], obj, k]);
      }
    }
  }
  return wrap.v;
}

/** Structural equality (iterative). */
export function deepEqual(a: Json, b: Json): boolean {
  const stack: [Json, Json][] = [[a, b]];
  while (stack.length) {
    const [x, y] = stack.pop()!;
    if (x === y) continue;
    if (x === null || y === null || typeof x !== 'object' || typeof y !== 'object') return false;
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    const kx = Object.keys(x);
    const ky = Object.keys(y);
    if (kx.length !== ky.length) return false;
    for (const k of kx) {
      if (!(k in y)) return false;
      stack.push([x[k], y[k]]);
    }
  }
  return true;
}
