/**
 * The expression walker behind `analyzePolicy` and `wrapPerRowCalls`.
 *
 * One pass over the AST with an explicit stack (no recursion, so 1,000-deep expressions are fine), keeping
 * a scope chain of "frames" (the policy expression, then one per sub-select) with their FROM bindings so
 * column references can be resolved the way Postgres does: innermost scope first.
 *
 * Column resolution rules:
 * - `t.col` / `s.t.col`: the nearest scope with a FROM item whose alias (or, without alias, table name /
 *   schema + name) matches; the policy's own table is in the outermost scope under its name. A qualifier that
 *   matches nothing is read as a composite-field access (`(col).field`) of an unqualified column.
 * - `col`: the nearest scope with a FROM item that has the column according to the snapshot. A FROM item
 *   whose columns are unknown (not in the snapshot) is assumed to have it, as Postgres would resolve the
 *   innermost scope first. Otherwise the policy's table.
 */
import {
  JSON_EXTRACT_FUNCS,
  JSON_GET_OPS,
  JSON_PATH_OPS,
  MAX_RECURSION,
  aConstValue,
  callSourceLength,
  constArrayElements,
  constValue,
  expandedArgs,
  funcNameParts,
  jsonKeyOf,
  jsonPathOf,
  nodeType,
  operatorName,
  parseBoolText,
  scalarSelectTarget,
  stringList,
  stripCasts,
  stripWrappers,
  type ConstValue,
  type Json,
} from './ast.ts';
import { AUTH_HELPERS, type ResolvedFunction, type SnapshotIndex } from './resolve.ts';
import type {
  AlwaysTrue,
  AuthCall,
  AuthCallKind,
  ColumnPredicate,
  ExpressionAnalysis,
  FunctionCall,
  OwnerTie,
  OwnerTieVia,
  PredicateKind,
  SubqueryPredicate,
  SubqueryPredicateKind,
  SubqueryTable,
  SubqueryVia,
} from './types.ts';
import type { Relation } from '../model/snapshot.ts';

type Clause = 'where' | 'target' | 'join' | 'from' | 'other';

interface Frame {
  readonly depth: number;
  readonly parent: Frame | null;
  /** The depth-1 ancestor (itself at depth 1; the root for the root). */
  top: Frame;
  readonly bindings: Binding[];
  ctes: Set<string> | null;
  readonly via: SubqueryVia | 'root';
  readonly isSublink: boolean;
  readonly fromEmpty: boolean;
  /** Some column reference inside it resolves to a scope outside it. */
  correlated: boolean;
  /** Filters on the caller (auth.uid(), sub/email claim, caller-aware helper) directly. */
  keyed: boolean;
  /** `keyed`, or a nested frame is. */
  keyedDeep: boolean;
  readonly entryConj: boolean;
  /** The SubLink body of a sublink frame. */
  readonly sublink: Json | null;
}

interface SubAcc {
  readonly schema: string;
  readonly name: string;
  readonly alias: string | null;
  readonly relation: Relation | null;
  readonly isPolicyTable: boolean;
  readonly location: number;
  readonly preds: SubqueryPredicate[];
  readonly targets: { column: string; location: number }[];
}

interface Binding {
  readonly kind: 'policy' | 'relation' | 'derived' | 'function' | 'cte';
  readonly schema: string | null;
  readonly name: string;
  readonly alias: string | null;
  readonly columns: ReadonlySet<string> | null;
  readonly frame: Frame;
  readonly sub: SubAcc | null;
}

interface OrRec {
  readonly armHasSub: boolean[];
}

interface OrChain {
  readonly rec: OrRec;
  readonly arm: number;
  readonly up: OrChain | null;
}

interface Ctx {
  readonly f: Frame;
  readonly clause: Clause;
  readonly conj: boolean;
  readonly call: CallRec | null;
  readonly ors: OrChain | null;
}

interface PathNode {
  readonly up: PathNode | null;
  readonly seg: string;
}

interface SelInfo {
  readonly via: SubqueryVia;
  readonly sublink: Json | null;
  readonly entryConj: boolean;
}

interface Task {
  readonly n: Json;
  readonly ctx: Ctx;
  readonly path: PathNode | null;
  readonly boolPos: boolean;
  readonly sel: SelInfo | null;
}

export interface CallRec {
  /** The wrapper `{ FuncCall: body }` (mutable by the rewriter). */
  readonly node: Json;
  readonly fc: Json;
  readonly frame: Frame;
  readonly parent: CallRec | null;
  readonly resolved: ResolvedFunction;
  readonly name: string;
  readonly argCount: number;
  readonly authKind: AuthCallKind | null;
  readonly setting: string | null;
  readonly location: number;
  readonly length: number;
  readonly path: PathNode | null;
  readonly clause: Clause;
  hasColumnRef: boolean;
}

interface Consumed {
  readonly kind: PredicateKind | 'join';
  readonly claim: string | null;
  readonly conj: boolean;
  /** The predicate node's body (A_Expr / SubLink), for callerTied. */
  readonly node: Json;
  /** For in_subquery: the SubLink body of the subquery. */
  readonly sub: Json | null;
}

interface TieRec {
  readonly column: string;
  readonly via: OwnerTieVia;
  readonly conj: boolean;
  readonly node: Json;
  readonly location: number;
  /** Sublink whose frame must be keyed on the caller, or null for a direct tie. */
  readonly sublink: Json | null;
  readonly frame: Frame | null;
}

type AuthValue =
  | { readonly k: 'uid' }
  | { readonly k: 'jwt' }
  | { readonly k: 'claim'; readonly claim: string }
  | { readonly k: 'dbrole' };

type TV = 'T' | 'F' | 'N' | 'U';

const SUBLINK_VIA: Readonly<Record<string, SubqueryVia>> = {
  EXISTS_SUBLINK: 'exists',
  ANY_SUBLINK: 'in',
  ALL_SUBLINK: 'all',
  EXPR_SUBLINK: 'scalar',
  ARRAY_SUBLINK: 'array',
};

const LEAF_TYPES = new Set([
  'A_Const',
  'String',
  'Integer',
  'Float',
  'Boolean',
  'BitString',
  'A_Star',
  'ParamRef',
  'SQLValueFunction',
  'SetToDefault',
  'TypeName',
]);

/** Children of these are not "required" conditions even when the node itself is. */
const NONCONJ_TYPES = new Set(['CaseExpr', 'CoalesceExpr', 'MinMaxExpr', 'CaseWhen', 'XmlExpr']);

const CALLER_CLAIMS = new Set(['sub', 'email']);
const USER_META_KEYS = new Set(['user_metadata', 'raw_user_meta_data']);
const COMPARISON_OPS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);

export interface WalkOptions {
  readonly index: SnapshotIndex;
  readonly policySchema: string;
  /** The policy's table name; '' when unknown (rewriting a bare expression). */
  readonly policyTable: string;
  readonly text: string;
  readonly sourceOffset: (location: number) => number;
}

export class ExpressionWalker {
  readonly calls: CallRec[] = [];
  private readonly root: Frame;
  private readonly policyBinding: Binding;
  private readonly frames: Frame[] = [];
  private readonly consumed = new Map<Json, Consumed>();
  private readonly noWrap = new Set<Json>();
  private readonly sublinkFrames = new Map<Json, Frame>();
  private readonly sublinks: { body: Json; ors: OrChain | null }[] = [];
  private readonly ors: OrRec[] = [];
  private readonly colPreds: ColumnPredicate[] = [];
  private readonly ties: TieRec[] = [];
  private readonly userMeta: number[] = [];
  private usesAuthUid = false;
  private readonly stack: Task[] = [];
  private finalized = false;

  constructor(private readonly opts: WalkOptions) {
    this.root = this.newFrame(null, 'root', false, false, true, null);
    const rel = opts.policyTable ? opts.index.relation(opts.policySchema, opts.policyTable) : null;
    this.policyBinding = {
      kind: 'policy',
      schema: opts.policySchema,
      name: opts.policyTable,
      alias: null,
      columns: rel ? opts.index.columnsOf(rel) : null,
      frame: this.root,
      sub: null,
    };
    this.root.bindings.push(this.policyBinding);
  }

  // ---------------------------------------------------------------- frames & resolution

  private newFrame(
    parent: Frame | null,
    via: SubqueryVia | 'root',
    isSublink: boolean,
    fromEmpty: boolean,
    entryConj: boolean,
    sublink: Json | null,
  ): Frame {
    const frame: Frame = {
      depth: parent ? parent.depth + 1 : 0,
      parent,
      top: null as unknown as Frame,
      bindings: [],
      ctes: null,
      via,
      isSublink,
      fromEmpty,
      correlated: false,
      keyed: false,
      keyedDeep: false,
      entryConj,
      sublink,
    };
    frame.top = !parent || parent.depth === 0 ? frame : parent.top;
    this.frames.push(frame);
    return frame;
  }

  private findQualifier(schema: string | null, q: string, frame: Frame): Binding | null {
    for (let f: Frame | null = frame; f; f = f.parent) {
      for (const b of f.bindings) {
        if (schema === null) {
          if ((b.alias ?? b.name) === q && (b.alias !== null || b.name !== '')) return b;
        } else if (b.alias === null && b.name === q && b.schema === schema) return b;
      }
    }
    return null;
  }

  private resolveUnqualified(col: string, frame: Frame): Binding {
    for (let f: Frame | null = frame; f; f = f.parent) {
      for (const b of f.bindings) if (b.columns?.has(col)) return b;
      for (const b of f.bindings) if (b.columns === null && b.kind !== 'policy') return b;
    }
    return this.policyBinding;
  }

  /** Resolves a ColumnRef's fields to (binding, column); null when it cannot (whole-row of unknown qualifier). */
  private resolveColumn(names: string[], frame: Frame): { b: Binding; column: string } | null {
    const n = names.length;
    if (n === 0) return null;
    if (n === 1) {
      const col = names[0] ?? '';
      if (col === '*') return null;
      return { b: this.resolveUnqualified(col, frame), column: col };
    }
    const last = names[n - 1] ?? '';
    if (n === 2) {
      const b = this.findQualifier(null, names[0] ?? '', frame);
      if (b) return { b, column: last };
      if (last === '*') return null;
      const col = names[0] ?? '';
      return { b: this.resolveUnqualified(col, frame), column: col };
    }
    // n >= 3: [catalog.]schema.table.col, or table.col.field
    const schema = names[n - 3] ?? '';
    const table = names[n - 2] ?? '';
    const b = this.findQualifier(schema, table, frame);
    if (b) return { b, column: last };
    const b2 = this.findQualifier(null, names[0] ?? '', frame);
    if (b2) return { b: b2, column: names[1] ?? '' };
    return null;
  }

  private columnRefBinding(node: Json, frame: Frame): { b: Binding; column: string } | null {
    const n = stripCasts(node);
    if (nodeType(n) !== 'ColumnRef') return null;
    return this.resolveColumn(stringList(n.ColumnRef.fields), frame);
  }

  // ---------------------------------------------------------------- auth values

  /** What a (sub)expression says about the caller, e.g. `auth.jwt() ->> 'sub'` → claim `sub`. */
  authValue(node: Json, depth = 0): AuthValue | null {
    if (depth > MAX_RECURSION) return null;
    const n = stripWrappers(node);
    const t = nodeType(n);
    if (t === 'FuncCall') {
      const fc = n.FuncCall;
      const parts = funcNameParts(fc);
      const name = parts[parts.length - 1] ?? '';
      const schema = parts.length >= 2 ? (parts[parts.length - 2] ?? null) : null;
      const args: Json[] = fc.args ?? [];
      const r = this.opts.index.resolveFunction(schema, name, args.length, this.opts.policySchema);
      if (r.schema === 'auth' && AUTH_HELPERS.has(name)) {
        if (name === 'uid') return { k: 'uid' };
        if (name === 'jwt') return { k: 'jwt' };
        return { k: 'claim', claim: name };
      }
      if (r.schema === 'pg_catalog' && name === 'current_setting') {
        const s = args[0] ? constValue(args[0]) : null;
        if (!s || s.t !== 'str') return null;
        if (s.v === 'request.jwt.claims' || s.v === 'request.jwt.claim') return { k: 'jwt' };
        if (s.v.startsWith('request.jwt.claim.')) return { k: 'claim', claim: s.v.slice('request.jwt.claim.'.length) };
        if (s.v === 'role') return { k: 'dbrole' };
        return null;
      }
      if (r.schema === 'pg_catalog' && JSON_EXTRACT_FUNCS.has(name)) {
        const all = expandedArgs(fc);
        const root = all[0] ? this.authValue(all[0], depth + 1) : null;
        if (!root || (root.k !== 'jwt' && root.k !== 'claim')) return null;
        const keys: string[] = [];
        for (const a of all.slice(1)) {
          const v = constValue(a);
          if (!v || (v.t !== 'str' && v.t !== 'num')) return null;
          keys.push(String(v.v));
        }
        return extendClaim(root, keys);
      }
      return null;
    }
    if (t === 'A_Expr') {
      const op = operatorName(n.A_Expr);
      if (n.A_Expr.kind !== 'AEXPR_OP') return null;
      let keys: string[] | null = null;
      if (JSON_GET_OPS.has(op)) keys = jsonKeyOf(n.A_Expr.rexpr);
      else if (JSON_PATH_OPS.has(op)) keys = jsonPathOf(n.A_Expr.rexpr);
      else return null;
      if (!keys) return null;
      const root = this.authValue(n.A_Expr.lexpr, depth + 1);
      if (!root || (root.k !== 'jwt' && root.k !== 'claim')) return null;
      return extendClaim(root, keys);
    }
    if (t === 'A_Indirection') {
      const keys: string[] = [];
      for (const ind of n.A_Indirection.indirection ?? []) {
        const idx = ind?.A_Indices;
        if (!idx || idx.is_slice || !idx.uidx) return null;
        const k = jsonKeyOf(idx.uidx);
        if (!k) return null;
        keys.push(...k);
      }
      const root = this.authValue(n.A_Indirection.arg, depth + 1);
      if (!root || (root.k !== 'jwt' && root.k !== 'claim')) return null;
      return extendClaim(root, keys);
    }
    if (t === 'SQLValueFunction') {
      const op = n.SQLValueFunction.op;
      if (op === 'SVFOP_CURRENT_USER' || op === 'SVFOP_CURRENT_ROLE' || op === 'SVFOP_USER') return { k: 'dbrole' };
    }
    return null;
  }

  private isCallerValue(av: AuthValue | null): boolean {
    return av !== null && (av.k === 'uid' || (av.k === 'claim' && CALLER_CLAIMS.has(av.claim)));
  }

  // ---------------------------------------------------------------- walk

  run(root: Json): this {
    const ctx: Ctx = { f: this.root, clause: 'where', conj: true, call: null, ors: null };
    this.stack.push({ n: root, ctx, path: null, boolPos: true, sel: null });
    const stack = this.stack;
    while (stack.length > 0) this.visit(stack.pop()!);
    this.finalize();
    return this;
  }

  private push(n: Json, ctx: Ctx, path: PathNode | null, seg: string, boolPos = false, sel: SelInfo | null = null): void {
    if (n === null || typeof n !== 'object') return;
    const p: PathNode = { up: path, seg };
    if (Array.isArray(n)) {
      for (let i = n.length - 1; i >= 0; i--) {
        const item = n[i];
        if (item !== null && typeof item === 'object') {
          this.stack.push({ n: item, ctx, path: { up: p, seg: `[${i}]` }, boolPos, sel });
        }
      }
    } else {
      this.stack.push({ n, ctx, path: p, boolPos, sel });
    }
  }

  private pushGeneric(type: string, body: Json, ctx: Ctx, path: PathNode | null, skip?: ReadonlySet<string>): void {
    const keys = Object.keys(body);
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!;
      if (k === 'location' || skip?.has(k)) continue;
      const v = body[k];
      if (v !== null && typeof v === 'object') this.push(v, ctx, path, `${type}.${k}`);
    }
  }

  private visit(task: Task): void {
    const { n, ctx, path } = task;
    const type = nodeType(n);
    if (!type) {
      // A bare struct (Alias, TypeName, List item…): walk its values.
      if (n !== null && typeof n === 'object' && !Array.isArray(n)) {
        const keys = Object.keys(n);
        for (let i = keys.length - 1; i >= 0; i--) {
          const v = n[keys[i]!];
          if (v !== null && typeof v === 'object') this.push(v, ctx, path, keys[i]!);
        }
      }
      return;
    }
    if (LEAF_TYPES.has(type)) return;
    const b = n[type];
    if (b === null || typeof b !== 'object') return;
    if (task.boolPos) this.classifyBoolLeaf(n, ctx);
    switch (type) {
      case 'SelectStmt':
        this.visitSelect(b, ctx, path, task.sel);
        return;
      case 'SubLink':
        this.visitSubLink(b, ctx, path);
        return;
      case 'A_Expr':
        this.visitAExpr(n, b, ctx, path);
        return;
      case 'BoolExpr':
        this.visitBoolExpr(b, ctx, path);
        return;
      case 'FuncCall':
        this.visitFuncCall(n, b, ctx, path);
        return;
      case 'ColumnRef':
        this.visitColumnRef(b, ctx);
        return;
      case 'TypeCast':
      case 'CollateClause':
        this.push(b.arg, ctx, path, `${type}.arg`);
        return;
      case 'A_Indirection': {
        const ind = b.indirection;
        if (Array.isArray(ind) && ind.length > 0) {
          const keys: string[] = [];
          for (const i of ind) {
            const k = i?.A_Indices?.uidx ? jsonKeyOf(i.A_Indices.uidx) : null;
            if (k) keys.push(...k);
            else break;
          }
          if (keys.length > 0) this.checkJsonAccess(b.arg, keys, ctx, firstLocation(b.arg), n);
        }
        this.pushGeneric(type, b, ctx, path);
        return;
      }
      case 'BooleanTest':
      case 'NullTest':
        this.push(b.arg, ctx, path, `${type}.arg`);
        return;
      case 'RangeVar':
        return; // handled as a FROM binding
      default: {
        const childCtx = NONCONJ_TYPES.has(type) && ctx.conj ? { ...ctx, conj: false } : ctx;
        this.pushGeneric(type, b, childCtx, path);
      }
    }
  }

  /** A node in a boolean position: a bare boolean column, `NOT col`, `col IS TRUE` constrain the column to a constant. */
  private classifyBoolLeaf(node: Json, ctx: Ctx): void {
    const t = nodeType(node);
    let target: Json = null;
    if (t === 'ColumnRef' || t === 'TypeCast') target = node;
    else if (t === 'BooleanTest') target = node.BooleanTest.arg;
    if (!target) return;
    const c = stripCasts(target);
    if (nodeType(c) !== 'ColumnRef') return;
    this.consumed.set(c.ColumnRef, { kind: 'eq_constant', claim: null, conj: ctx.conj, node: node[t!], sub: null });
  }

  private visitBoolExpr(b: Json, ctx: Ctx, path: PathNode | null): void {
    const args: Json[] = Array.isArray(b.args) ? b.args : [];
    const op = b.boolop;
    const seg = 'BoolExpr.args';
    const p: PathNode = { up: path, seg };
    if (op === 'OR_EXPR') {
      const rec: OrRec = { armHasSub: args.map(() => false) };
      this.ors.push(rec);
      for (let i = args.length - 1; i >= 0; i--) {
        const armCtx: Ctx = { ...ctx, conj: false, ors: { rec, arm: i, up: ctx.ors } };
        this.stack.push({ n: args[i], ctx: armCtx, path: { up: p, seg: `[${i}]` }, boolPos: true, sel: null });
      }
      return;
    }
    const childCtx = op === 'AND_EXPR' || !ctx.conj ? ctx : { ...ctx, conj: false };
    for (let i = args.length - 1; i >= 0; i--) {
      this.stack.push({ n: args[i], ctx: childCtx, path: { up: p, seg: `[${i}]` }, boolPos: true, sel: null });
    }
  }

  private visitSelect(b: Json, ctx: Ctx, path: PathNode | null, sel: SelInfo | null): void {
    const info: SelInfo = sel ?? { via: 'other', sublink: null, entryConj: false };
    const isSublink = info.sublink !== null;
    const setop = b.op && b.op !== 'SETOP_NONE';
    const from: Json[] = Array.isArray(b.fromClause) ? b.fromClause : [];
    const frame = this.newFrame(ctx.f, info.via, isSublink, !setop && from.length === 0, info.entryConj, info.sublink);
    if (info.sublink) this.sublinkFrames.set(info.sublink, frame);
    const base: Ctx = { f: frame, clause: 'other', conj: true, call: ctx.call, ors: ctx.ors };
    const p = path;

    // CTEs first (their names shadow relations in this scope).
    const ctes: Json[] = b.withClause?.WithClause?.ctes ?? b.withClause?.ctes ?? [];
    for (const c of ctes) {
      const name = c?.CommonTableExpr?.ctename;
      if (typeof name === 'string') (frame.ctes ??= new Set()).add(name);
    }
    for (let i = ctes.length - 1; i >= 0; i--) {
      const q = ctes[i]?.CommonTableExpr?.ctequery;
      if (q) this.push(q, base, p, 'CommonTableExpr.ctequery', false, { via: 'cte', sublink: null, entryConj: false });
    }

    if (setop) {
      // Branches of UNION/INTERSECT/EXCEPT are bare SelectStmt structs; each gets its own scope.
      const childSel: SelInfo = { via: info.via, sublink: null, entryConj: info.entryConj };
      const asSelect = (x: Json): Json => (nodeType(x) === 'SelectStmt' ? x : x ? { SelectStmt: x } : null);
      this.push(asSelect(b.rarg), base, p, 'SelectStmt.rarg', false, childSel);
      this.push(asSelect(b.larg), base, p, 'SelectStmt.larg', false, childSel);
      this.pushGeneric('SelectStmt', b, base, p, SETOP_SKIP);
      return;
    }


    // Bindings of the FROM clause.
    const pending: { n: Json; seg: string }[] = [];
    for (let i = 0; i < from.length; i++) pending.push({ n: from[i], seg: `SelectStmt.fromClause` });
    const joinCtx: Ctx = { ...base, clause: 'join' };
    const fromCtx: Ctx = { ...base, clause: 'from' };
    // Breadth order is fine: bindings are collected before any expression of this scope is visited.
    for (let qi = 0; qi < pending.length; qi++) {
      const item = pending[qi]!;
      const t = nodeType(item.n);
      const ib = t ? item.n[t] : null;
      if (!ib) continue;
      if (t === 'RangeVar') this.bindRangeVar(ib, frame);
      else if (t === 'JoinExpr') {
        if (ib.larg) pending.push({ n: ib.larg, seg: 'JoinExpr.larg' });
        if (ib.rarg) pending.push({ n: ib.rarg, seg: 'JoinExpr.rarg' });
        if (ib.quals) this.push(ib.quals, joinCtx, p, 'JoinExpr.quals');
      } else if (t === 'RangeSubselect') {
        const alias = ib.alias?.aliasname ?? null;
        const cols = aliasColumns(ib.alias) ?? targetColumns(ib.subquery?.SelectStmt);
        frame.bindings.push({ kind: 'derived', schema: null, name: alias ?? '', alias, columns: cols, frame, sub: null });
        this.push(ib.subquery, fromCtx, p, 'RangeSubselect.subquery', false, { via: 'from', sublink: null, entryConj: false });
      } else if (t === 'RangeFunction') {
        const fnNode = ib.functions?.[0]?.List?.items?.[0];
        const fnParts = fnNode?.FuncCall ? funcNameParts(fnNode.FuncCall) : [];
        const alias = ib.alias?.aliasname ?? null;
        const name = alias ?? fnParts[fnParts.length - 1] ?? '';
        const cols = aliasColumns(ib.alias) ?? new Set([name]);
        frame.bindings.push({ kind: 'function', schema: null, name, alias, columns: cols, frame, sub: null });
        this.push(ib.functions, fromCtx, p, 'RangeFunction.functions');
      } else {
        this.push(item.n, fromCtx, p, item.seg);
      }
    }
    if (b.havingClause) this.push(b.havingClause, { ...base, clause: 'where' }, p, 'SelectStmt.havingClause');
    for (const k of ['groupClause', 'sortClause', 'limitCount', 'limitOffset', 'distinctClause', 'windowClause', 'valuesLists']) {
      if (b[k]) this.push(b[k], base, p, `SelectStmt.${k}`);
    }
    if (b.targetList) this.push(b.targetList, { ...base, clause: 'target' }, p, 'SelectStmt.targetList');
    if (b.whereClause) {
      const wctx: Ctx = { ...base, clause: 'where' };
      this.stack.push({ n: b.whereClause, ctx: wctx, path: { up: p, seg: 'SelectStmt.whereClause' }, boolPos: true, sel: null });
    }
  }

  private bindRangeVar(rv: Json, frame: Frame): void {
    const relname: string = rv.relname ?? '';
    const alias: string | null = rv.alias?.aliasname ?? null;
    const schemaname: string | null = rv.schemaname ?? null;
    if (schemaname === null) {
      for (let f: Frame | null = frame; f; f = f.parent) {
        if (f.ctes?.has(relname)) {
          frame.bindings.push({ kind: 'cte', schema: null, name: relname, alias, columns: null, frame, sub: null });
          return;
        }
      }
    }
    const { schema, relation } = this.opts.index.resolveRelation(schemaname, relname, this.opts.policySchema);
    const sub: SubAcc = {
      schema,
      name: relname,
      alias,
      relation,
      isPolicyTable: schema === this.opts.policySchema && relname === this.opts.policyTable,
      location: this.opts.sourceOffset(rv.location ?? -1),
      preds: [],
      targets: [],
    };
    frame.bindings.push({
      kind: 'relation',
      schema,
      name: relname,
      alias,
      columns: relation ? this.opts.index.columnsOf(relation) : null,
      frame,
      sub,
    });
  }

  private visitSubLink(b: Json, ctx: Ctx, path: PathNode | null): void {
    const type: string = b.subLinkType;
    if (type === 'ANY_SUBLINK' && b.testexpr) {
      const opNames = stringList(b.operName);
      const op = opNames[opNames.length - 1] ?? '=';
      if (op === '=') {
        const test = stripCasts(b.testexpr);
        const cols: Json[] =
          nodeType(test) === 'RowExpr' ? (test.RowExpr.args ?? []).map((a: Json) => stripCasts(a)) : [test];
        const target = scalarSelectTarget(b.subselect?.SelectStmt);
        const av = target ? this.authValue(target) : null;
        for (const c of cols) {
          if (nodeType(c) !== 'ColumnRef') continue;
          if (av && av.k === 'uid') {
            this.consumed.set(c.ColumnRef, { kind: 'eq_auth_uid', claim: null, conj: ctx.conj, node: b, sub: null });
            this.markKeyed(c, ctx.f);
          } else if (av && av.k === 'claim') {
            this.consumed.set(c.ColumnRef, { kind: 'eq_jwt_claim', claim: av.claim, conj: ctx.conj, node: b, sub: null });
            if (CALLER_CLAIMS.has(av.claim)) this.markKeyed(c, ctx.f);
          } else {
            this.consumed.set(c.ColumnRef, { kind: 'in_subquery', claim: null, conj: ctx.conj, node: b, sub: b });
          }
        }
      }
    }
    this.sublinks.push({ body: b, ors: ctx.ors });
    if (b.subselect) {
      this.push(b.subselect, ctx, path, 'SubLink.subselect', false, {
        via: SUBLINK_VIA[type] ?? 'other',
        sublink: b,
        entryConj: ctx.conj,
      });
    }
    if (b.testexpr) this.push(b.testexpr, ctx, path, 'SubLink.testexpr');
  }

  /** Marks the frame where a caller predicate on a column lives as keyed on the caller. */
  private markKeyed(colNode: Json, frame: Frame): void {
    const r = this.columnRefBinding(colNode, frame);
    const f = r ? r.b.frame : frame;
    if (f.depth > 0) f.keyed = true;
    if (frame.depth > 0) frame.keyed = true;
  }

  private classifyEq(colSide: Json, other: Json, ctx: Ctx, exprBody: Json): void {
    const c = stripCasts(colSide);
    if (nodeType(c) !== 'ColumnRef') return;
    let kind: PredicateKind | 'join';
    let claim: string | null = null;
    let sub: Json | null = null;
    const av = this.authValue(other);
    if (av) {
      if (av.k === 'uid') kind = 'eq_auth_uid';
      else if (av.k === 'claim') {
        kind = 'eq_jwt_claim';
        claim = av.claim;
      } else return;
      if (this.isCallerValue(av)) this.markKeyed(c, ctx.f);
    } else {
      const cv = constValue(other);
      if (cv && cv.t !== 'null') kind = 'eq_constant';
      else {
        const o = stripCasts(other);
        const t = nodeType(o);
        if (t === 'ColumnRef') kind = 'join';
        else if (t === 'SubLink' && o.SubLink.subLinkType === 'EXPR_SUBLINK') {
          kind = 'in_subquery';
          sub = o.SubLink;
        } else return;
      }
    }
    this.consumed.set(c.ColumnRef, { kind, claim, conj: ctx.conj, node: exprBody, sub });
  }

  private visitAExpr(n: Json, b: Json, ctx: Ctx, path: PathNode | null): void {
    const kind: string = b.kind;
    const op = operatorName(b);
    if ((kind === 'AEXPR_OP' || kind === 'AEXPR_NOT_DISTINCT') && op === '=') {
      this.classifyEq(b.lexpr, b.rexpr, ctx, b);
      this.classifyEq(b.rexpr, b.lexpr, ctx, b);
    } else if (kind === 'AEXPR_OP_ANY' && op === '=') {
      const c = stripCasts(b.lexpr);
      if (nodeType(c) === 'ColumnRef') {
        const r = stripCasts(b.rexpr);
        if (nodeType(r) === 'SubLink' && r.SubLink.subLinkType === 'ARRAY_SUBLINK') {
          this.consumed.set(c.ColumnRef, { kind: 'in_subquery', claim: null, conj: ctx.conj, node: b, sub: r.SubLink });
        } else if (constArrayElements(b.rexpr)) {
          this.consumed.set(c.ColumnRef, { kind: 'eq_constant', claim: null, conj: ctx.conj, node: b, sub: null });
        }
      }
    } else if (kind === 'AEXPR_IN' && op === '=') {
      const c = stripCasts(b.lexpr);
      const list = listItems(b.rexpr);
      if (nodeType(c) === 'ColumnRef' && list.length > 0 && list.every((e) => constValue(e) !== null)) {
        this.consumed.set(c.ColumnRef, { kind: 'eq_constant', claim: null, conj: ctx.conj, node: b, sub: null });
      }
    } else if (kind === 'AEXPR_OP' && (JSON_GET_OPS.has(op) || JSON_PATH_OPS.has(op))) {
      const keys = JSON_GET_OPS.has(op) ? jsonKeyOf(b.rexpr) : jsonPathOf(b.rexpr);
      if (keys) this.checkJsonAccess(b.lexpr, keys, ctx, b.location ?? -1, n);
    }
    // pgsql-deparser prints `x = ANY ((SELECT f()))` / `x IN ((SELECT f()))`, which Postgres reads as a
    // subquery over rows, not as an array/scalar: calls in those positions are not wrapped.
    if ((kind === 'AEXPR_OP_ANY' || kind === 'AEXPR_OP_ALL') && nodeType(b.rexpr) === 'FuncCall') this.noWrap.add(b.rexpr.FuncCall);
    if (kind === 'AEXPR_IN') {
      const items = listItems(b.rexpr);
      if (items.length === 1 && nodeType(items[0]) === 'FuncCall') this.noWrap.add(items[0].FuncCall);
    }
    const childCtx = kind === 'AEXPR_NULLIF' && ctx.conj ? { ...ctx, conj: false } : ctx;
    this.push(b.rexpr, childCtx, path, 'A_Expr.rexpr');
    this.push(b.lexpr, childCtx, path, 'A_Expr.lexpr');
  }

  /**
   * A JSON access (`->`, `->>`, `#>`, `#>>`, subscript, jsonb_extract_path) applied directly to `root` with
   * the given first keys: flags user_metadata reads and `sub` claim uses.
   */
  private checkJsonAccess(root: Json, keys: string[], ctx: Ctx, location: number, whole: Json): void {
    const r = stripWrappers(root);
    const t = nodeType(r);
    const first = keys[0];
    if (first === 'sub' && this.isCallerValue(this.authValue(whole))) this.usesAuthUid = true;
    // Only the accessor applied to the root decides (`jwt -> 'app_metadata' -> 'user_metadata'` is fine).
    if (t === 'A_Expr' && (JSON_GET_OPS.has(operatorName(r.A_Expr)) || JSON_PATH_OPS.has(operatorName(r.A_Expr)))) return;
    if (t === 'A_Indirection') return;
    if (t === 'FuncCall' && JSON_EXTRACT_FUNCS.has(funcNameParts(r.FuncCall).at(-1) ?? '')) return;
    if (first === undefined || !USER_META_KEYS.has(first)) return;
    if (t === 'ColumnRef') {
      // A column of an ordinary table (not auth.users, not raw_user_meta_data itself) is not the JWT.
      const res = this.resolveColumn(stringList(r.ColumnRef.fields), ctx.f);
      if (res && res.b.kind === 'policy' && res.b.schema !== 'auth') return;
      if (res && res.b.kind === 'relation' && res.b.schema !== 'auth') return;
    }
    this.userMeta.push(this.opts.sourceOffset(location));
  }

  private visitFuncCall(n: Json, b: Json, ctx: Ctx, path: PathNode | null): void {
    const parts = funcNameParts(b);
    const name = parts[parts.length - 1] ?? '';
    const schema = parts.length >= 2 ? (parts[parts.length - 2] ?? null) : null;
    const args: Json[] = Array.isArray(b.args) ? b.args : [];
    const idx = this.opts.index;
    const resolved = idx.resolveFunction(schema, name, args.length, this.opts.policySchema);
    let authKind: AuthCallKind | null = null;
    let setting: string | null = null;
    if (resolved.schema === 'auth' && AUTH_HELPERS.has(name)) authKind = `auth.${name}` as AuthCallKind;
    else if (resolved.schema === 'pg_catalog' && name === 'current_setting') {
      authKind = 'current_setting';
      const s = args[0] ? constValue(args[0]) : null;
      if (s && s.t === 'str') setting = s.v;
    } else if (
      resolved.known &&
      !resolved.builtin &&
      (resolved.volatility === 'stable' || resolved.volatility === 'volatile') &&
      resolved.info?.kind === 'function'
    ) {
      authKind = 'function';
    }
    const loc = this.opts.sourceOffset(b.location ?? -1);
    const len = loc >= 0 ? callSourceLength(this.opts.text, loc) : 0;
    const rec: CallRec = {
      node: n,
      fc: b,
      frame: ctx.f,
      parent: ctx.call,
      resolved,
      name,
      argCount: args.length,
      authKind,
      setting,
      location: loc,
      length: len,
      path,
      clause: ctx.clause,
      hasColumnRef: false,
    };
    this.calls.push(rec);

    // Caller-keyed scopes and uses of the caller's id.
    const f = ctx.f;
    if (authKind === 'auth.uid') this.usesAuthUid = true;
    if (authKind === 'auth.uid' || authKind === 'auth.email') {
      if (f.depth > 0) f.keyed = true;
    } else if (authKind === 'current_setting' && setting !== null) {
      if (setting === 'request.jwt.claim.sub') this.usesAuthUid = true;
      if (setting === 'request.jwt.claim.sub' || setting === 'request.jwt.claim.email') {
        if (f.depth > 0) f.keyed = true;
      }
      if (setting.startsWith('request.jwt.claim.user_metadata') || setting.startsWith('request.jwt.claim.raw_user_meta_data')) {
        this.userMeta.push(loc);
      }
    } else if (resolved.info) {
      const body = idx.bodyInfo(resolved.info);
      if (body.referencesCaller) {
        if (f.depth > 0) f.keyed = true;
        else {
          // A caller-aware helper applied to a policy column: `is_team_member(team_id)`.
          for (const a of args) {
            const r = this.columnRefBinding(a, f);
            if (r && r.b.kind === 'policy') {
              this.ties.push({
                column: r.column,
                via: 'function',
                conj: ctx.conj,
                node: b,
                location: loc,
                sublink: null,
                frame: null,
              });
            }
          }
        }
      }
    }
    if (resolved.schema === 'pg_catalog' && JSON_EXTRACT_FUNCS.has(name)) {
      const all = expandedArgs(b);
      const keys: string[] = [];
      for (const a of all.slice(1)) {
        const v = constValue(a);
        if (!v || (v.t !== 'str' && v.t !== 'num')) break;
        keys.push(String(v.v));
      }
      if (all[0] && keys.length > 0) this.checkJsonAccess(all[0], keys, ctx, b.location ?? -1, n);
    }

    const childCtx: Ctx = { ...ctx, call: rec };
    this.pushGeneric('FuncCall', b, childCtx, path, FUNCNAME_SKIP);
  }

  private visitColumnRef(b: Json, ctx: Ctx): void {
    for (let c = ctx.call; c && !c.hasColumnRef; c = c.parent) c.hasColumnRef = true;
    const names = stringList(b.fields);
    const last = names[names.length - 1];
    if (last === 'raw_user_meta_data') this.userMeta.push(this.opts.sourceOffset(b.location ?? -1));
    const res = this.resolveColumn(names, ctx.f);
    if (!res) {
      for (let f: Frame | null = ctx.f; f && f !== this.root; f = f.parent) f.correlated = true;
      return;
    }
    const { b: binding, column } = res;
    for (let f: Frame | null = ctx.f; f && f !== binding.frame; f = f.parent) f.correlated = true;
    if (column === '*') return;
    const cons = this.consumed.get(b);
    const location = this.opts.sourceOffset(b.location ?? -1);
    if (binding.kind === 'policy') {
      if (ctx.f.depth === 0) {
        const kind: PredicateKind = cons ? (cons.kind === 'join' ? 'other' : cons.kind) : 'other';
        const conj = cons ? cons.conj : ctx.conj;
        const claim = kind === 'eq_jwt_claim' ? (cons?.claim ?? null) : null;
        this.colPreds.push({ column, kind, claim, location, conjunctive: conj });
        if (cons && (kind === 'eq_auth_uid' || (kind === 'eq_jwt_claim' && claim !== null && CALLER_CLAIMS.has(claim)))) {
          this.ties.push({ column, via: kind, conj, node: cons.node, location, sublink: null, frame: null });
        } else if (cons && kind === 'in_subquery') {
          this.ties.push({ column, via: 'in_subquery', conj, node: cons.node, location, sublink: cons.sub, frame: null });
        }
      } else {
        const top = ctx.f.top;
        this.colPreds.push({ column, kind: 'exists_correlated', claim: null, location, conjunctive: top.entryConj });
        if (top.sublink) {
          this.ties.push({
            column,
            via: 'exists_correlated',
            conj: top.entryConj,
            node: top.sublink,
            location,
            sublink: null,
            frame: top,
          });
        }
      }
      return;
    }
    const acc = binding.sub;
    if (!acc) return;
    if (ctx.f === binding.frame) {
      if (ctx.clause === 'target') {
        acc.targets.push({ column, location });
        return;
      }
      if (ctx.clause !== 'where' && ctx.clause !== 'join') return;
    }
    const kind: SubqueryPredicateKind = cons
      ? cons.kind === 'exists_correlated'
        ? 'join'
        : cons.kind
      : ctx.f === binding.frame
        ? 'other'
        : 'join';
    acc.preds.push({ column, kind, claim: kind === 'eq_jwt_claim' ? (cons?.claim ?? null) : null, location });
  }

  // ---------------------------------------------------------------- results

  private finalize(): void {
    if (this.finalized) return;
    this.finalized = true;
    for (const f of this.frames) {
      if (!f.keyed) continue;
      for (let x: Frame | null = f; x && x.depth > 0 && !x.keyedDeep; x = x.parent) x.keyedDeep = true;
    }
    for (const s of this.sublinks) {
      const frame = this.sublinkFrames.get(s.body);
      const real = !frame || !(frame.isSublink && frame.fromEmpty && !frame.correlated);
      if (!real) continue;
      for (let o = s.ors; o; o = o.up) o.rec.armHasSub[o.arm] = true;
    }
  }

  /** False when the call is inside an initplan-style sub-select (no FROM, uncorrelated). */
  perRow(call: CallRec): boolean {
    for (let f: Frame | null = call.frame; f; f = f.parent) {
      if (f.isSublink && f.fromEmpty && !f.correlated) return false;
    }
    return true;
  }

  wrappable(call: CallRec, wrapStableHelpers = true): boolean {
    if (!call.authKind || !this.perRow(call) || call.hasColumnRef) return false;
    if (call.authKind === 'function' && (!wrapStableHelpers || call.resolved.volatility !== 'stable')) return false;
    if (call.resolved.returnsSet === true || this.noWrap.has(call.fc)) return false;
    const fc = call.fc;
    if (fc.agg_star || fc.agg_distinct || fc.over || fc.agg_filter || fc.agg_order || fc.agg_within_group) return false;
    if (fc.funcformat && fc.funcformat !== 'COERCE_EXPLICIT_CALL') return false;
    if (call.clause === 'other') return false;
    return true;
  }

  callText(call: CallRec): string {
    if (call.location < 0) return `${call.resolved.schema ? `${call.resolved.schema}.` : ''}${call.name}(…)`;
    const len = call.length > 0 ? call.length : call.name.length;
    return this.opts.text.slice(call.location, call.location + len);
  }

  analysis(root: Json): ExpressionAnalysis {
    const authCalls: AuthCall[] = [];
    const functionCalls: FunctionCall[] = [];
    for (const c of this.calls) {
      const perRow = this.perRow(c);
      const text = this.callText(c);
      const pathStr = materializePath(c.path, 'FuncCall');
      const r = c.resolved;
      if (c.authKind) {
        authCalls.push({
          kind: c.authKind,
          schema: r.schema ?? '',
          name: c.name,
          text,
          location: c.location,
          length: c.length > 0 ? c.length : text.length,
          path: pathStr,
          perRow,
          wrappable: this.wrappable(c),
          volatility: r.volatility,
          securityDefiner: r.securityDefiner,
          known: r.known,
          depth: c.frame.depth,
          setting: c.setting,
        });
      }
      const body = r.info ? this.opts.index.bodyInfo(r.info) : null;
      functionCalls.push({
        schema: r.schema,
        name: c.name,
        argCount: c.argCount,
        text,
        location: c.location,
        length: c.length > 0 ? c.length : text.length,
        path: pathStr,
        known: r.known,
        builtin: r.builtin,
        language: r.language,
        volatility: r.volatility,
        securityDefiner: r.securityDefiner,
        returnsSet: r.returnsSet,
        perRow,
        depth: c.frame.depth,
        readsTables: body?.readsTables ?? [],
        readsRlsTables: body?.readsRlsTables ?? [],
        bodyReferencesCaller: body?.referencesCaller ?? false,
        argsReferenceColumns: c.hasColumnRef,
      });
    }
    byLocation(authCalls);
    byLocation(functionCalls);

    const subqueries: SubqueryTable[] = [];
    for (const f of this.frames) {
      for (const bnd of f.bindings) {
        const acc = bnd.sub;
        if (!acc) continue;
        const preds = byLocation([...acc.preds]);
        const targets = byLocation([...acc.targets]);
        subqueries.push({
          schema: acc.schema,
          name: acc.name,
          alias: acc.alias,
          known: acc.relation !== null,
          kind: acc.relation?.kind ?? null,
          rlsEnabled: acc.relation ? acc.relation.rlsEnabled : null,
          isPolicyTable: acc.isPolicyTable,
          via: f.via === 'root' ? 'other' : f.via,
          depth: f.depth,
          location: acc.location,
          filterColumns: distinct(preds.map((p) => p.column)),
          predicates: preds,
          targetColumns: distinct(targets.map((t) => t.column)),
          keyedOnCaller: f.keyedDeep,
        });
      }
    }
    byLocation(subqueries);

    // Ties.
    const tieNodes = new Set<Json>();
    const ownerTie: (OwnerTie & { location: number })[] = [];
    for (const t of this.ties) {
      let ok = true;
      if (t.via === 'in_subquery') {
        const frame = t.sublink ? this.sublinkFrames.get(t.sublink) : undefined;
        ok = frame !== undefined && frame.keyedDeep;
      } else if (t.via === 'exists_correlated') {
        ok = t.frame !== null && t.frame.keyedDeep;
      }
      if (!ok) continue;
      tieNodes.add(t.node);
      const existing = ownerTie.find((o) => o.column === t.column && o.via === t.via);
      if (existing) {
        if (t.conj && !existing.conjunctive) ownerTie[ownerTie.indexOf(existing)] = { ...existing, conjunctive: true };
      } else ownerTie.push({ column: t.column, via: t.via, conjunctive: t.conj, location: t.location });
    }
    byLocation(ownerTie);

    const alwaysTrue: AlwaysTrue =
      this.evalBool(root, false, 0) === 'T' ? 'always' : this.evalBool(root, true, 0) === 'T' ? 'anonymous' : 'no';

    return {
      text: this.opts.text,
      parseError: null,
      parseErrorPosition: null,
      authCalls,
      columnPredicates: byLocation([...this.colPreds]),
      subqueries,
      functionCalls,
      readsUserMetadata: this.userMeta.length > 0,
      userMetadataLocations: [...new Set(this.userMeta)].sort((a, b) => a - b),
      alwaysTrue,
      orMixesSubquery: this.ors.some((o) => o.armHasSub.some((x) => x) && o.armHasSub.some((x) => !x)),
      usesAuthUid: this.usesAuthUid,
      ownerTie: ownerTie.map(({ column, via, conjunctive }) => ({ column, via, conjunctive })),
      callerTied: this.tied(root, tieNodes, 0),
      maxDepth: this.frames.reduce((m, f) => Math.max(m, f.depth), 0),
    };
  }

  private tied(node: Json, tieNodes: ReadonlySet<Json>, depth: number): boolean {
    if (depth > MAX_RECURSION) return false;
    const t = nodeType(node);
    if (!t) return false;
    const b = node[t];
    if (tieNodes.has(b)) return true;
    if (t === 'BoolExpr') {
      const args = flattenBool(node, b.boolop);
      if (b.boolop === 'AND_EXPR') return args.some((a) => this.tied(a, tieNodes, depth + 1));
      if (b.boolop === 'OR_EXPR') return args.length > 0 && args.every((a) => this.tied(a, tieNodes, depth + 1));
      return false;
    }
    if (t === 'BooleanTest' && b.booltesttype === 'IS_TRUE') return this.tied(b.arg, tieNodes, depth + 1);
    return false;
  }

  // ---------------------------------------------------------------- always-true evaluation

  /** Three-valued evaluation: T, F, N (null) or U (unknown). `anon`: evaluate for an anonymous caller. */
  private evalBool(node: Json, anon: boolean, depth: number): TV {
    if (depth > MAX_RECURSION) return 'U';
    const t = nodeType(node);
    if (!t) return 'U';
    const b = node[t];
    switch (t) {
      case 'BoolExpr': {
        if (b.boolop === 'NOT_EXPR') {
          const v = this.evalBool(b.args?.[0], anon, depth + 1);
          return v === 'T' ? 'F' : v === 'F' ? 'T' : v;
        }
        const args = flattenBool(node, b.boolop);
        const isAnd = b.boolop === 'AND_EXPR';
        let sawU = false;
        let sawN = false;
        for (const a of args) {
          const v = this.evalBool(a, anon, depth + 1);
          if (isAnd && v === 'F') return 'F';
          if (!isAnd && v === 'T') return 'T';
          if (v === 'U') sawU = true;
          else if (v === 'N') sawN = true;
        }
        return sawU ? 'U' : sawN ? 'N' : isAnd ? 'T' : 'F';
      }
      case 'NullTest': {
        const v = this.evalValue(b.arg, anon, depth + 1);
        if (!v) return 'U';
        const isNull = v.t === 'null';
        return (b.nulltesttype === 'IS_NULL') === isNull ? 'T' : 'F';
      }
      case 'BooleanTest': {
        const v = this.evalBool(b.arg, anon, depth + 1);
        if (v === 'U') return 'U';
        switch (b.booltesttype) {
          case 'IS_TRUE':
            return v === 'T' ? 'T' : 'F';
          case 'IS_NOT_TRUE':
            return v === 'T' ? 'F' : 'T';
          case 'IS_FALSE':
            return v === 'F' ? 'T' : 'F';
          case 'IS_NOT_FALSE':
            return v === 'F' ? 'F' : 'T';
          case 'IS_UNKNOWN':
            return v === 'N' ? 'T' : 'F';
          case 'IS_NOT_UNKNOWN':
            return v === 'N' ? 'F' : 'T';
          default:
            return 'U';
        }
      }
      case 'A_Expr':
        return this.evalAExpr(b, anon, depth);
      case 'CoalesceExpr': {
        const args: Json[] = b.args ?? [];
        for (let i = 0; i < args.length; i++) {
          const v = this.evalBool(args[i], anon, depth + 1);
          if (v === 'N') continue;
          if (v === 'T' || v === 'F') return v;
          // Unknown, possibly null: `coalesce(anything, true)` is treated as (suspiciously) true.
          for (let j = i + 1; j < args.length; j++) if (this.evalBool(args[j], anon, depth + 1) === 'T') return 'T';
          return 'U';
        }
        return 'N';
      }
      case 'CaseExpr': {
        const results: TV[] = [];
        for (const w of b.args ?? []) results.push(this.evalBool(w?.CaseWhen?.result, anon, depth + 1));
        results.push(b.defresult ? this.evalBool(b.defresult, anon, depth + 1) : 'N');
        const first = results[0]!;
        return first !== 'U' && results.every((r) => r === first) ? first : 'U';
      }
      default: {
        const v = this.evalValue(node, anon, depth + 1);
        if (!v) return 'U';
        if (v.t === 'null') return 'N';
        if (v.t === 'bool') return v.v ? 'T' : 'F';
        return 'U';
      }
    }
  }

  private evalAExpr(b: Json, anon: boolean, depth: number): TV {
    const kind: string = b.kind;
    const op = operatorName(b);
    if (kind === 'AEXPR_OP' && COMPARISON_OPS.has(op)) {
      const l = this.evalValue(b.lexpr, anon, depth + 1);
      const r = this.evalValue(b.rexpr, anon, depth + 1);
      if (l?.t === 'null' || r?.t === 'null') return 'N';
      if (!l || !r) return 'U';
      const c = compare(l, r);
      if (c === null) return 'U';
      switch (op) {
        case '=':
          return c === 0 ? 'T' : 'F';
        case '<>':
        case '!=':
          return c !== 0 ? 'T' : 'F';
        case '<':
          return c < 0 ? 'T' : 'F';
        case '>':
          return c > 0 ? 'T' : 'F';
        case '<=':
          return c <= 0 ? 'T' : 'F';
        case '>=':
          return c >= 0 ? 'T' : 'F';
      }
      return 'U';
    }
    if ((kind === 'AEXPR_DISTINCT' || kind === 'AEXPR_NOT_DISTINCT') && op === '=') {
      const l = this.evalValue(b.lexpr, anon, depth + 1);
      const r = this.evalValue(b.rexpr, anon, depth + 1);
      if (!l || !r) return 'U';
      let same: boolean;
      if (l.t === 'null' || r.t === 'null') same = l.t === r.t;
      else {
        const c = compare(l, r);
        if (c === null) return 'U';
        same = c === 0;
      }
      return (kind === 'AEXPR_NOT_DISTINCT') === same ? 'T' : 'F';
    }
    if (kind === 'AEXPR_IN') {
      const l = this.evalValue(b.lexpr, anon, depth + 1);
      const list = listItems(b.rexpr);
      if (l?.t === 'null') return 'N';
      if (!l) return 'U';
      let unknown = false;
      let sawNull = false;
      let found = false;
      for (const e of list) {
        const v = this.evalValue(e, anon, depth + 1);
        if (!v) unknown = true;
        else if (v.t === 'null') sawNull = true;
        else if (compare(l, v) === 0) found = true;
        else if (compare(l, v) === null) unknown = true;
      }
      const positive = op === '=';
      if (found) return positive ? 'T' : 'F';
      if (unknown) return 'U';
      if (sawNull) return 'N';
      return positive ? 'F' : 'T';
    }
    return 'U';
  }

  private evalValue(node: Json, anon: boolean, depth: number): ConstValue | null {
    if (depth > MAX_RECURSION || node === null || node === undefined) return null;
    const c = constValue(node);
    if (c) return c;
    const n = stripCasts(node);
    const t = nodeType(n);
    if (!t) return null;
    if (anon) {
      const av = this.authValue(n);
      if (av) {
        if (av.k === 'uid') return { t: 'null' };
        if (av.k === 'dbrole') return { t: 'str', v: 'anon' };
        if (av.k === 'claim') {
          if (av.claim === 'role') return { t: 'str', v: 'anon' };
          const head = av.claim.split('.')[0] ?? '';
          if (['sub', 'email', 'phone', 'user_metadata', 'app_metadata', 'session_id', 'is_anonymous', 'aal', 'amr'].includes(head)) {
            return { t: 'null' };
          }
        }
        return null;
      }
    }
    if (t === 'SubLink' && n.SubLink.subLinkType === 'EXPR_SUBLINK') {
      const target = scalarSelectTarget(n.SubLink.subselect?.SelectStmt);
      return target ? this.evalValue(target, anon, depth + 1) : null;
    }
    if (t === 'CoalesceExpr') {
      for (const a of n.CoalesceExpr.args ?? []) {
        const v = this.evalValue(a, anon, depth + 1);
        if (!v) return null;
        if (v.t !== 'null') return v;
      }
      return { t: 'null' };
    }
    if (t === 'BoolExpr' || t === 'NullTest' || t === 'BooleanTest' || t === 'A_Expr' || t === 'CaseExpr') {
      if (t === 'A_Expr' && n.A_Expr.kind === 'AEXPR_OP' && !COMPARISON_OPS.has(operatorName(n.A_Expr))) return null;
      const v = this.evalBool(n, anon, depth + 1);
      if (v === 'T') return { t: 'bool', v: true };
      if (v === 'F') return { t: 'bool', v: false };
      if (v === 'N') return { t: 'null' };
      return null;
    }
    if (t === 'A_Const') return aConstValue(n.A_Const);
    return null;
  }
}

const FUNCNAME_SKIP: ReadonlySet<string> = new Set(['funcname']);
const SETOP_SKIP: ReadonlySet<string> = new Set(['larg', 'rarg', 'op', 'withClause']);

function extendClaim(root: AuthValue, keys: string[]): AuthValue | null {
  if (keys.length === 0) return root;
  const path = keys.join('.');
  if (root.k === 'jwt') return { k: 'claim', claim: path };
  if (root.k === 'claim') return { k: 'claim', claim: `${root.claim}.${path}` };
  return null;
}

function compare(a: ConstValue, b: ConstValue): number | null {
  if (a.t === 'null' || b.t === 'null') return null;
  if (a.t === 'num' && b.t === 'num') return a.v === b.v ? 0 : a.v < b.v ? -1 : 1;
  if (a.t === 'str' && b.t === 'str') return a.v === b.v ? 0 : a.v < b.v ? -1 : 1;
  if (a.t === 'bool' && b.t === 'bool') return a.v === b.v ? 0 : a.v ? 1 : -1;
  if (a.t === 'num' && b.t === 'str') {
    const n = Number(b.v.trim());
    return b.v.trim() === '' || Number.isNaN(n) ? null : a.v === n ? 0 : a.v < n ? -1 : 1;
  }
  if (a.t === 'str' && b.t === 'num') {
    const r = compare(b, a);
    return r === null ? null : -r;
  }
  if (a.t === 'bool' && b.t === 'str') {
    const x = parseBoolText(b.v);
    return x === null ? null : a.v === x ? 0 : a.v ? 1 : -1;
  }
  if (a.t === 'str' && b.t === 'bool') {
    const r = compare(b, a);
    return r === null ? null : -r;
  }
  return null;
}

/** Arguments of nested BoolExprs with the same operator, flattened iteratively. */
function flattenBool(node: Json, op: string): Json[] {
  const out: Json[] = [];
  const stack: Json[] = [node];
  while (stack.length) {
    const n = stack.pop();
    const b = n?.BoolExpr;
    if (b && b.boolop === op && op !== 'NOT_EXPR') {
      const args: Json[] = b.args ?? [];
      for (let i = args.length - 1; i >= 0; i--) stack.push(args[i]);
    } else if (n !== node) out.push(n);
  }
  return out;
}

/** The parser location of a node (or of its first located descendant through casts), -1 when none. */
function firstLocation(node: Json): number {
  let n = node;
  for (let i = 0; i < MAX_RECURSION; i++) {
    const t = nodeType(n);
    if (!t) return -1;
    const b = n[t];
    if (typeof b?.location === 'number') return b.location;
    n = b?.arg ?? b?.lexpr;
  }
  return -1;
}

/** Items of an `IN (…)` list: a `List` node (PG 17+) or a bare array. */
function listItems(rexpr: Json): Json[] {
  if (Array.isArray(rexpr)) return rexpr;
  const items = rexpr?.List?.items;
  return Array.isArray(items) ? items : [];
}

function aliasColumns(alias: Json): Set<string> | null {
  const cols = stringList(alias?.colnames);
  return cols.length > 0 ? new Set(cols) : null;
}

function targetColumns(select: Json): Set<string> | null {
  const tl: Json[] | undefined = select?.targetList;
  if (!Array.isArray(tl)) return null;
  const out = new Set<string>();
  for (const t of tl) {
    const rt = t?.ResTarget;
    if (!rt) continue;
    if (typeof rt.name === 'string') out.add(rt.name);
    else {
      const v = stripCasts(rt.val);
      if (nodeType(v) === 'ColumnRef') {
        const names = stringList(v.ColumnRef.fields);
        const last = names[names.length - 1];
        if (last === '*') return null;
        if (last) out.add(last);
      } else if (nodeType(v) === 'FuncCall') {
        const parts = funcNameParts(v.FuncCall);
        const last = parts[parts.length - 1];
        if (last) out.add(last);
      }
    }
  }
  return out;
}

function materializePath(path: PathNode | null, leaf: string): string {
  const segs: string[] = [leaf];
  for (let p = path; p; p = p.up) segs.push(p.seg);
  segs.reverse();
  let out = '';
  for (const s of segs) {
    if (out === '' || s.startsWith('[')) out += s;
    else out += `.${s}`;
  }
  return out;
}

function byLocation<T extends { location: number }>(items: T[]): T[] {
  return items.sort((a, b) => a.location - b.location);
}

function distinct(items: string[]): string[] {
  return [...new Set(items)];
}
