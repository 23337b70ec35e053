/**
 * Authorization sources: the rows and columns that policies trust to decide access, and who can
 * write them. Shared by `tenant_self_join` and `privilege_escalation`.
 *
 * A policy on table X trusts table S when it reads S keyed on the caller: a subquery of the policy
 * (`org_id IN (SELECT org_id FROM members WHERE user_id = auth.uid())`) or a SQL/PL/pgSQL helper it
 * calls, at any depth (`is_member(org_id)` whose body reads members with auth.uid()). The columns of
 * S it reads besides the caller key are trusted: a tenant column (compared with a column of X, or a
 * foreign key to another table) makes S a membership table; any other (role, kind, is_admin, email)
 * is a privilege column. A client role that can put a chosen value in a trusted column of a row that
 * counts for it (its own row) gains whatever those policies grant.
 */
import type { CheckContext } from '../src/model/check.ts';
import type { Constraint, FunctionInfo, Policy, Relation } from '../src/model/snapshot.ts';
import { nodeType, type Json } from '../src/policy/ast.ts';
import { parseExpression, scanFunctionBody, snapshotIndex, type PolicyAnalysis, type SubqueryTable } from '../src/policy/index.ts';
import { bodyAdminGuard, privilegeGate } from '../src/policy/index-match.ts';
import { deparseSync } from 'pgsql-deparser';
import { literalPattern } from './_shared.ts';
import { quotedLiterals } from '../src/model/sql-text.ts';
import { policyEffectiveRoles, rlsSubjectRoles, userPolicyAnalyses } from './_policy_checks.ts';
import { apiRolesExecuting } from './_shared.ts';
import { calledFunctions, serviceRoleGuard } from './_definer.ts';
import { constraintsOf } from './_indexes.ts';

export interface GatedPolicy {
  readonly policy: Policy;
  /** How it reads the source: `subquery` or the helper's name. */
  readonly via: string;
}

export interface TrustSource {
  readonly source: Relation;
  /** The column of S compared with the caller's id. */
  readonly keyColumn: string;
  /** Trusted columns that tie a row to a tenant. */
  readonly tenantColumns: ReadonlySet<string>;
  /** Trusted columns that carry a privilege (role, kind, is_admin, email…). */
  readonly privilegeColumns: ReadonlySet<string>;
  /** Constants the policies compare each trusted column with (`role = 'admin'`). */
  readonly constants: ReadonlyMap<string, readonly string[]>;
  /** Policies (of any table, S included) that decide access by reading S. */
  readonly gated: readonly GatedPolicy[];
  /** One-argument SECURITY DEFINER helpers that read S keyed on the caller and take a tenant value. */
  readonly helpers: readonly FunctionInfo[];
}

const CALLER = String.raw`(?:\(\s*select\s+)?(?:auth\.uid\s*\(\s*\)|\(?\s*auth\.jwt\s*\(\s*\)\s*->>\s*'sub'\s*\)?)(?:\s*\))?(?:\s*::\s*\w+)?`;

function words(text: string): Set<string> {
  return new Set(
    text
      .replace(/--[^\n]*/g, ' ')
      .replace(/'(?:[^']|'')*'/g, ' ')
      .match(/"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*/g)
      ?.map((w) => (w.startsWith('"') ? w.slice(1, -1).replaceAll('""', '"') : w.toLowerCase())) ?? [],
  );
}

/** Constants a text compares a column with: `col = 'x'`, `'x' = col`, `col IN ('x', 'y')`. */
function constantsFor(text: string, column: string): string[] {
  const col = String.raw`(?:[\w"]+\.)?"?${literalPattern(column)}"?(?:\s*::\s*\w+)?`;
  const out = new Set<string>();
  for (const m of text.matchAll(new RegExp(String.raw`${col}\s*=\s*'((?:[^']|'')*)'`, 'gi'))) out.add(m[1]!.replaceAll("''", "'"));
  for (const m of text.matchAll(new RegExp(String.raw`'((?:[^']|'')*)'(?:\s*::\s*\w+)?\s*=\s*${col}(?![\w"])`, 'gi'))) out.add(m[1]!.replaceAll("''", "'"));
  for (const m of text.matchAll(new RegExp(String.raw`${col}\s+IN\s*\(([^()]*)\)`, 'gi'))) for (const v of quotedLiterals(m[1]!)) out.add(v);
  for (const m of text.matchAll(new RegExp(String.raw`${col}\s*=\s*ANY\s*\(\s*'\{([^}]*)\}'`, 'gi'))) for (const v of m[1]!.split(',')) out.add(v.trim().replace(/^"|"$/g, ''));
  return [...out];
}

function uniqueAlone(ctx: CheckContext, rel: Relation, column: string): boolean {
  return constraintsOf(ctx, rel).some((c) => (c.type === 'primary_key' || c.type === 'unique') && c.columns.length === 1 && c.columns[0] === column);
}

function foreignKeys(ctx: CheckContext, rel: Relation): readonly Constraint[] {
  return constraintsOf(ctx, rel).filter((c) => c.type === 'foreign_key');
}

/** A column that references another table than auth.users (a tenant, project, org…). */
function referencesTenant(ctx: CheckContext, rel: Relation, column: string): boolean {
  return foreignKeys(ctx, rel).some((c) => c.columns.length === 1 && c.columns[0] === column && !(c.refSchema === 'auth' && c.refTable === 'users'));
}

/**
 * The column of S that holds the caller's id according to a helper body: compared with auth.uid()
 * (or the `sub` claim) first, else with a parameter named like a user id (`p_user_id`, `uid`), else
 * S's uuid foreign key to auth.users.
 */
function keyColumnFromBody(ctx: CheckContext, rel: Relation, body: string, params: readonly string[]): string | null {
  const stripped = body.replace(/--[^\n]*/g, ' ');
  const userParams = params.filter((p) => /(^|_)(u?id|user|uid|owner|member|profile|account)(_?id)?$/i.test(p) && !/^(org|team|project|workspace|tenant|group)/i.test(p));
  for (const caller of [CALLER, ...(userParams.length > 0 ? [userParams.map((p) => literalPattern(p)).join('|')] : [])]) {
    for (const c of rel.columns) {
      const col = String.raw`(?:[\w"]+\.)?"?${literalPattern(c.name)}"?(?:\s*::\s*\w+)?`;
      if (new RegExp(String.raw`(?<![\w"])${col}\s*=\s*(?:${caller})(?![\w$])|(?:${caller})\s*=\s*${col}(?![\w"])`, 'i').test(stripped)) return c.name;
    }
  }
  const fk = foreignKeys(ctx, rel).find((c) => c.refSchema === 'auth' && c.refTable === 'users' && c.columns.length === 1);
  return fk?.columns[0] ?? null;
}

function paramNames(fn: FunctionInfo): string[] {
  return fn.identityArgs
    .split(',')
    .map((a) => a.trim().split(/\s+/))
    .filter((p) => p.length >= 2 && !/^(in|out|inout|variadic)$/i.test(p[0]!))
    .map((p) => p[0]!.replace(/^"|"$/g, ''));
}

/**
 * `auth.uid() IN (SELECT g.user_id FROM grants g WHERE …)`: the subquery is not filtered on the
 * caller, its one output column (a user id) is compared with the caller outside it.
 */
function callerTarget(ctx: CheckContext, rel: Relation, st: SubqueryTable, usesAuthUid: boolean): string | undefined {
  if (st.keyedOnCaller || !usesAuthUid || st.targetColumns.length !== 1 || !['in', 'array', 'scalar', 'all'].includes(st.via)) return undefined;
  const column = st.targetColumns[0]!;
  const c = rel.columns.find((x) => x.name === column);
  if (!c || c.type !== 'uuid') return undefined;
  const toUsers = foreignKeys(ctx, rel).some((k) => k.columns.length === 1 && k.columns[0] === column && k.refSchema === 'auth' && k.refTable === 'users');
  return toUsers || /(^|_)(user|owner|member|profile|account)(_?id)?$/i.test(column) ? column : undefined;
}

/** Every trust source of the snapshot, merged per (table, key column). Memoised. */
export function trustSources(ctx: CheckContext): readonly TrustSource[] {
  return ctx.memo('authz-trust-sources', () => {
    const index = snapshotIndex(ctx.snapshot);
    const acc = new Map<
      string,
      { source: Relation; keyColumn: string; tenant: Set<string>; privilege: Set<string>; constants: Map<string, Set<string>>; gated: GatedPolicy[]; helpers: Set<FunctionInfo> }
    >();
    const add = (source: Relation, keyColumn: string, tenant: Iterable<string>, privilege: Iterable<string>, texts: readonly string[], gated: GatedPolicy) => {
      const key = `${source.schema}\u0000${source.name}\u0000${keyColumn}`;
      let e = acc.get(key);
      if (!e) acc.set(key, (e = { source, keyColumn, tenant: new Set(), privilege: new Set(), constants: new Map(), gated: [], helpers: new Set() }));
      for (const c of tenant) if (c !== keyColumn) e.tenant.add(c);
      for (const c of privilege) if (c !== keyColumn && !e.tenant.has(c)) e.privilege.add(c);
      for (const c of [...e.tenant, ...e.privilege]) {
        const found = texts.flatMap((t) => constantsFor(t, c));
        if (found.length > 0) e.constants.set(c, new Set([...(e.constants.get(c) ?? []), ...found]));
      }
      if (!e.gated.some((g) => g.policy === gated.policy && g.via === gated.via)) e.gated.push(gated);
      return e;
    };
    for (const a of userPolicyAnalyses(ctx)) {
      if (policyEffectiveRoles(ctx, a).roles.length === 0) continue;
      const rel = a.relation;
      if (!rel) continue;
      for (const clause of [a.using, a.withCheck]) {
        if (!clause || clause.parseError !== null) continue;
        for (const st of clause.subqueries) {
          const s = ctx.relation(st.schema, st.name);
          if (!s) continue;
          const key = st.predicates.find((p) => p.kind === 'eq_auth_uid' || (p.kind === 'eq_jwt_claim' && p.claim === 'sub'))?.column ?? callerTarget(ctx, s, st, clause.usesAuthUid);
          if (!key) continue;
          const tenant = [...st.targetColumns, ...st.predicates.filter((p) => p.kind === 'join').map((p) => p.column)].filter((c) => c !== key);
          const privilege = st.predicates.filter((p) => p.kind !== 'join' && p.column !== key).map((p) => p.column);
          const tenantOrFk = tenant.filter((c) => referencesTenant(ctx, s, c) || rel.columns.some((x) => x.name === c) || st.targetColumns.includes(c));
          add(s, key, tenantOrFk, [...privilege, ...tenant.filter((c) => !tenantOrFk.includes(c))], [clause.text], { policy: a.policy, via: 'subquery' });
        }
        for (const fc of clause.functionCalls) {
          if (!fc.known || fc.builtin || fc.schema === null || !ctx.isUserObject(fc.schema, null)) continue;
          const fn = ctx.snapshot.functions.find((f) => f.schema === fc.schema && f.name === fc.name && f.argCount === fc.argCount);
          if (!fn || fn.source === null) continue;
          const closure = calledFunctions(fn, ctx.snapshot.functions).filter((f) => f === fn || ctx.isUserObject(f.schema, null));
          const bodies = closure.map((f) => f.source ?? '');
          if (!bodies.some((b) => /auth\.(uid|jwt|email)\s*\(|request\.jwt\.claim/i.test(b)) && !/auth\.uid\s*\(/i.test(clause.text)) continue;
          for (const f of closure) {
            const body = f.source ?? '';
            const bodyWords = words(body);
            for (const name of scanFunctionBody(f, index).readsTables) {
              const dot = name.indexOf('.');
              const s = ctx.relation(name.slice(0, dot), name.slice(dot + 1));
              if (!s || s.kind !== 'table') continue;
              const key = keyColumnFromBody(ctx, s, body, paramNames(f));
              if (!key) continue;
              const mentioned = s.columns.map((c) => c.name).filter((c) => c !== key && bodyWords.has(c));
              const tenant = mentioned.filter((c) => referencesTenant(ctx, s, c) || (rel.columns.some((x) => x.name === c) && /(_id|_uuid|id)$/i.test(c)));
              const e = add(s, key, tenant, mentioned.filter((c) => !tenant.includes(c)), [body, clause.text], { policy: a.policy, via: `${fn.name}()` });
              if (fn.securityDefiner && fn.argCount === 1 && tenant.length > 0) e.helpers.add(fn);
            }
          }
        }
      }
    }
    // A column unique on its own (the row's id, an identity) names the row itself, not a tenant many rows share:
    // `document_id IN (SELECT id FROM documents WHERE created_by = auth.uid())` is ownership, and a new row cannot take an existing id.
    for (const e of acc.values()) {
      for (const c of [...e.tenant]) {
        const col = e.source.columns.find((x) => x.name === c);
        if (col?.identity || uniqueAlone(ctx, e.source, c)) e.tenant.delete(c);
      }
    }
    return [...acc.values()]
      .filter((e) => e.tenant.size + e.privilege.size > 0)
      .map((e) => ({
        source: e.source,
        keyColumn: e.keyColumn,
        tenantColumns: e.tenant,
        privilegeColumns: e.privilege,
        constants: new Map([...e.constants].map(([k, v]) => [k, [...v]])),
        gated: e.gated,
        helpers: [...e.helpers],
      }));
  });
}

const ADMINISH = /'(?:[a-z_]*_)?(?:admin|administrator|owner|manager|moderator|staff|superuser|editor)s?'/i;

/** A leaf that needs a row of the caller's with an admin-like value (`… WHERE user_id = auth.uid() AND role = 'admin'`). */
function adminRowGate(text: string): boolean {
  return /\bauth\.(uid|jwt)\s*\(/i.test(text) && /\bSELECT\b/i.test(text) && ADMINISH.test(text);
}

/** Constants that name a privileged role value (`admin`, `owner`…). */
export function adminValues(values: readonly string[]): string[] {
  return values.filter((v) => ADMINISH.test(`'${v}'`));
}

// ---------- Does an expression let the caller choose a column freely? ----------

function refersTo(node: Json, table: string, column: string, shadowed: (depth: number) => boolean, depth = 0): boolean {
  if (node === null || typeof node !== 'object') return false;
  if (Array.isArray(node)) return node.some((n) => refersTo(n, table, column, shadowed, depth));
  if (node.ColumnRef) {
    const names = (node.ColumnRef.fields ?? []).map((f: Json) => f?.String?.sval).filter((x: unknown) => typeof x === 'string') as string[];
    if (names.at(-1) !== column) return false;
    if (names.length === 1) return !shadowed(depth);
    return names.at(-2) === table;
  }
  if (node.SelectStmt) {
    const inner = node.SelectStmt;
    const hides = fromHasColumn(inner.fromClause, column);
    const next = (d: number) => (d === depth + 1 ? hides : shadowed(d));
    return Object.values(inner).some((v) => refersTo(v, table, column, next, depth + 1));
  }
  return Object.values(node).some((v) => refersTo(v, table, column, shadowed, depth));
}

let columnLookup: ((schema: string | null, name: string) => readonly string[] | null) | null = null;

function fromHasColumn(from: Json, column: string): boolean {
  if (!Array.isArray(from)) return false;
  const stack = [...from];
  while (stack.length > 0) {
    const n = stack.pop();
    if (!n || typeof n !== 'object') continue;
    if (n.RangeVar) {
      const cols = columnLookup?.(n.RangeVar.schemaname ?? null, n.RangeVar.relname);
      if (cols === null || cols === undefined || cols.includes(column)) return true;
      continue;
    }
    if (n.RangeSubselect || n.RangeFunction) return true;
    for (const v of Object.values(n)) if (v && typeof v === 'object') stack.push(v);
  }
  return false;
}

function isFalse(node: Json): boolean {
  return node?.A_Const?.boolval !== undefined && node.A_Const.boolval.boolval !== true;
}

/**
 * Every way of satisfying the expression pins the column: an AND with a conjunct that does, an OR
 * whose arms all do, a leaf that mentions the column of the policy's table (not a same-named column
 * of a subquery's table), or a leaf only privileged callers satisfy (`is_admin()`, service_role).
 * Returns the free arm (deparsed) when there is one, else null.
 */
export function freeArm(ctx: CheckContext, text: string, table: string, column: string): string | null {
  const parsed = parseExpression(text);
  if (!parsed.ok) return null;
  columnLookup = (schema, name) => {
    const rel = ctx.snapshot.relations.find((r) => r.name === name && (schema === null || r.schema === schema));
    return rel ? rel.columns.map((c) => c.name) : null;
  };
  try {
    const free = (node: Json): Json | null => {
      const b = node?.BoolExpr;
      if (b?.boolop === 'AND_EXPR') {
        const args = b.args as Json[];
        if (args.some((x) => free(x) === null)) return null;
        return node;
      }
      if (b?.boolop === 'OR_EXPR') {
        for (const x of b.args as Json[]) {
          const f = free(x);
          if (f !== null) return f;
        }
        return null;
      }
      if (isFalse(node)) return null;
      if (refersTo(node, table, column, () => false)) return null;
      let shown = '';
      try {
        shown = deparseSync(node, { pretty: false }).trim();
      } catch {
        shown = '';
      }
      if (shown !== '' && (privilegeGate(shown) !== null || adminRowGate(shown))) return null;
      return node;
    };
    const f = free(parsed.ast as Json);
    if (f === null) return null;
    try {
      return nodeType(f) ? deparseSync(f, { pretty: false }).trim() : text;
    } catch {
      return text;
    }
  } finally {
    columnLookup = null;
  }
}

/** The clause mentions the column of the policy's table anywhere. */
export function mentions(ctx: CheckContext, text: string | undefined, table: string, column: string): boolean {
  if (!text) return false;
  return freeArmOrAll(ctx, text, table, column);
}

function freeArmOrAll(ctx: CheckContext, text: string, table: string, column: string): boolean {
  const parsed = parseExpression(text);
  if (!parsed.ok) return new RegExp(String.raw`(?<![\w"])"?${literalPattern(column)}"?(?![\w"])`).test(text);
  columnLookup = (schema, name) => {
    const rel = ctx.snapshot.relations.find((r) => r.name === name && (schema === null || r.schema === schema));
    return rel ? rel.columns.map((c) => c.name) : null;
  };
  try {
    return refersTo(parsed.ast as Json, table, column, () => false);
  } finally {
    columnLookup = null;
  }
}

// ---------- Write paths ----------

export interface WritePath {
  readonly role: string;
  readonly command: 'INSERT' | 'UPDATE';
  /** The permissive policy that lets the row through. */
  readonly policy: Policy | null;
  /** The arm of its check that leaves the column free, when the check has one. */
  readonly freeArm: string | null;
}

const bodyOf = (ctx: CheckContext, qualifiedName: string): string => {
  const dot = qualifiedName.indexOf('.');
  return ctx.snapshot.functions.find((f) => f.schema === qualifiedName.slice(0, dot) && f.name === qualifiedName.slice(dot + 1))?.source ?? '';
};

/** A BEFORE trigger on the table whose function mentions the column (it may reset or refuse it). */
function triggerGuards(ctx: CheckContext, rel: Relation, command: 'INSERT' | 'UPDATE', column: string): boolean {
  const fns = command === 'INSERT' ? rel.beforeInsertFunctions : rel.beforeUpdateFunctions;
  return (fns ?? []).some((f) => words(bodyOf(ctx, f)).has(column));
}

/**
 * Ways a client role can put a value of its choice into `column` of a row keyed on itself
 * (`keyColumn` = its user id): an INSERT of such a row, or an UPDATE of its own row. Grants
 * (table or column), RLS write policies (permissive OR, restrictive AND; UPDATE without WITH
 * CHECK reuses USING) and BEFORE triggers that touch the column are all taken into account.
 */
export function writePaths(
  ctx: CheckContext,
  rel: Relation,
  keyColumn: string,
  column: string,
  analyses: readonly PolicyAnalysis[],
  commands: readonly ('INSERT' | 'UPDATE')[] = ['UPDATE', 'INSERT'],
): WritePath[] {
  const out: WritePath[] = [];
  if (!ctx.isExposed(rel.schema) || rel.kind !== 'table') return out;
  const col = rel.columns.find((c) => c.name === column);
  if (!col || col.generated) return out;
  const roles = rlsSubjectRoles(ctx).filter((r) => r !== 'anon');
  const keyUnique = constraintsOf(ctx, rel).some((c) => (c.type === 'primary_key' || c.type === 'unique') && c.columns.length === 1 && c.columns[0] === keyColumn);
  for (const role of roles) {
    for (const command of commands) {
      if (command === 'INSERT' && keyUnique) continue;
      if (!(ctx.privileges.has(rel.acl, role, command) || ctx.privileges.has(col.acl, role, command))) continue;
      if (command === 'INSERT') {
        const key = rel.columns.find((c) => c.name === keyColumn);
        if (!key || !(ctx.privileges.has(rel.acl, role, 'INSERT') || ctx.privileges.has(key.acl, role, 'INSERT'))) continue;
      }
      if (triggerGuards(ctx, rel, command, column)) continue;
      if (!rel.rlsEnabled) {
        out.push({ role, command, policy: null, freeArm: null });
        continue;
      }
      const applies = analyses.filter(
        (a) => (a.policy.command === command || a.policy.command === 'ALL') && policyEffectiveRoles(ctx, a).roles.includes(role),
      );
      const restrictive = applies.filter((a) => !a.policy.permissive);
      const blockedByRestrictive = restrictive.some((a) => {
        const check = a.effectiveWithCheck?.text;
        return check !== undefined && freeArm(ctx, check, rel.name, column) === null;
      });
      if (blockedByRestrictive) continue;
      for (const a of applies.filter((x) => x.policy.permissive)) {
        const check = a.effectiveWithCheck?.text;
        if (!check) continue; // INSERT without WITH CHECK (or FOR ALL with neither): denies
        if (command === 'UPDATE') {
          // The caller's own row must pass USING; the new value must pass the check.
          const using = a.using;
          if (!using || using.parseError !== null || privilegeGate(using.text) !== null) continue;
          const ownRow = using.ownerTie.some((t) => t.column === keyColumn) || using.alwaysTrue === 'always';
          if (!ownRow) continue;
        }
        const arm = freeArm(ctx, check, rel.name, column);
        if (arm === null) continue;
        out.push({ role, command, policy: a.policy, freeArm: arm });
        break;
      }
    }
  }
  return out;
}

// ---------- Findings ----------

export interface Reach {
  /** `schema.table` of the tables whose policies trust the source, other than the source. */
  readonly tables: readonly string[];
  /** Policies that trust it, labelled `"name" on schema.table (command)`. */
  readonly policies: readonly string[];
  /** Those tables have write policies that trust it, or sensitive columns. */
  readonly severe: boolean;
  readonly sensitive: readonly string[];
}

export function reachOf(ctx: CheckContext, src: TrustSource, isSensitive: (column: string) => string | null): Reach {
  const tables = new Set<string>();
  const sensitive = new Set<string>();
  let writes = false;
  for (const g of src.gated) {
    const p = g.policy;
    const name = `${p.schema}.${p.table}`;
    if (p.schema === src.source.schema && p.table === src.source.name) continue;
    tables.add(name);
    if (p.command !== 'SELECT') writes = true;
    const rel = ctx.relation(p.schema, p.table);
    for (const c of rel?.columns ?? []) if (isSensitive(c.name)) sensitive.add(`${name}.${c.name}`);
  }
  return {
    tables: [...tables].sort(),
    policies: src.gated.map((g) => `"${g.policy.name}" on ${g.policy.schema}.${g.policy.table} (${g.policy.command}${g.via === 'subquery' ? '' : `, via ${g.via}`})`),
    severe: writes || sensitive.size > 0,
    sensitive: [...sensitive].sort(),
  };
}

/** Tables the exploit counts rows of: the tables the source gates, and the source itself. */
export function observed(src: TrustSource): { schema: string; name: string }[] {
  const seen = new Map<string, { schema: string; name: string }>();
  for (const g of src.gated) seen.set(`${g.policy.schema}.${g.policy.table}`, { schema: g.policy.schema, name: g.policy.table });
  seen.set(`${src.source.schema}.${src.source.name}`, { schema: src.source.schema, name: src.source.name });
  return [...seen.values()];
}

/** Columns a user may keep updating after the fix: not the key, not a trusted column, not generated. */
export function harmlessColumns(src: TrustSource): string[] {
  return src.source.columns
    .filter((c) => !c.generated && !c.identity && c.name !== src.keyColumn && !src.tenantColumns.has(c.name) && !src.privilegeColumns.has(c.name))
    .map((c) => c.name);
}

// ---------- SECURITY DEFINER functions that write a trusted column ----------

/** Splits at commas outside parentheses and string literals. */
function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'") quoted = !quoted;
    else if (quoted) continue;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

/** Index of the parenthesis that closes the one just before `text`. */
function closingParen(text: string): number {
  let depth = 1;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i;
  }
  return text.length;
}

/** Parameter names of a function, from `pg_get_function_identity_arguments` (`uid uuid, VARIADIC n integer[]`). */
function parameterNames(fn: FunctionInfo): string[] {
  if (!fn.identityArgs.trim()) return [];
  return splitTopLevel(fn.identityArgs)
    .map((a) => a.trim().replace(/^(?:in|out|inout|variadic)\s+/i, ''))
    .map((a) => /^("(?:[^"]|"")+"|[A-Za-z_][\w$]*)\s+\S/.exec(a)?.[1])
    .filter((n): n is string => n !== undefined)
    .map((n) => (n.startsWith('"') ? n.slice(1, -1).replaceAll('""', '"') : n));
}

/**
 * Whether an expression of the body carries a value the caller chose: it names a parameter (by
 * name, `fn.param` or `$n`), or a local variable the body assigns from one (`v := p_role`).
 */
function argumentTest(fn: FunctionInfo, body: string): (expression: string) => boolean {
  const params = parameterNames(fn);
  const word = (names: readonly string[]) =>
    names.length === 0 ? null : new RegExp(String.raw`(?<![\w$."])(?:${literalPattern(fn.name)}\.)?"?(?:${names.map(literalPattern).join('|')})"?(?![\w$"])`, 'i');
  const direct = word(params);
  const positional = /\$\d+\b/;
  const isArg = (e: string) => positional.test(e) || (direct?.test(e) ?? false);
  const derived: string[] = [];
  for (const m of body.matchAll(/(?<![\w$.])([A-Za-z_][\w$]*)\s*:?=\s*([^;]*);/g)) if (isArg(m[2]!)) derived.push(m[1]!);
  const variables = word(derived);
  return (e) => isArg(e) || (variables?.test(e) ?? false);
}

export interface DefinerWrite {
  readonly fn: FunctionInfo;
  readonly roles: readonly string[];
}

/**
 * SECURITY DEFINER functions callable over /rest/v1/rpc that write `column` of `rel` (an UPDATE
 * setting it, an INSERT listing it) from their arguments, without an admin or service-role check:
 * the caller picks the value, and RLS does not apply to the function's own statements.
 */
export function definerWrites(ctx: CheckContext, rel: Relation, column: string): DefinerWrite[] {
  const out: DefinerWrite[] = [];
  const table = String.raw`(?:"?${literalPattern(rel.schema)}"?\s*\.\s*)?"?${literalPattern(rel.name)}"?`;
  const col = String.raw`(?<![\w"])"?${literalPattern(column)}"?(?![\w"])`;
  const update = new RegExp(String.raw`\bupdate\s+(?:only\s+)?${table}(?:\s+(?:as\s+)?\w+)?\s+set\b([^;]*?)${col}\s*=\s*([^,;]*?)(?=\s*(?:,|\bwhere\b|\bfrom\b|\breturning\b|;|$))`, 'gi');
  const insert = new RegExp(String.raw`\binsert\s+into\s+${table}(?:\s+(?:as\s+)?\w+)?\s*\(([^)]*)\)\s*(values\s*\(|select\b)([^;]*)`, 'gi');
  const subjects = new Set(rlsSubjectRoles(ctx));
  for (const fn of ctx.snapshot.functions) {
    if (!fn.securityDefiner || fn.kind !== 'function' || fn.source === null || fn.argCount === 0) continue;
    if (fn.returnType === 'trigger' || fn.returnType === 'event_trigger' || !ctx.isExposed(fn.schema) || !ctx.isUserObject(fn.schema, fn.extension)) continue;
    const body = fn.source.replace(/--[^\n]*/g, ' ');
    const fromArgs = argumentTest(fn, body);
    const values: string[] = [...body.matchAll(update)].map((m) => m[2] ?? '');
    for (const m of body.matchAll(insert)) {
      const columns = splitTopLevel(m[1] ?? '').map((c) => c.trim().replace(/^"(.*)"$/, '$1').toLowerCase());
      const at = columns.indexOf(column.toLowerCase());
      if (at < 0) continue;
      // VALUES (…) or the select list of INSERT … SELECT: the expression in the column's position.
      const rest = m[3] ?? '';
      const list = m[2]!.toLowerCase().startsWith('values') ? rest.slice(0, closingParen(rest)) : rest.split(/\bfrom\b/i)[0]!;
      values.push(splitTopLevel(list)[at] ?? rest);
    }
    // Only a value the caller picks: a parameter, or a variable assigned from one. A value read
    // from a table (an invitation's role, looked up by its token) is the function's own decision.
    if (!values.some(fromArgs)) continue;
    if (bodyAdminGuard(body) || adminRowGate(body) || serviceRoleGuard(body)) continue;
    const roles = apiRolesExecuting(ctx, fn).filter((r) => r !== 'anon' && subjects.has(r));
    if (roles.length > 0) out.push({ fn, roles });
  }
  return out;
}
