/**
 * Tenant roots, whatever they are called (organizations, teams, workspaces, households…): a table
 * that membership rows point at — a table with a foreign key to the root and one to an account
 * (auth.users or a profile) — where policies or helper functions read the membership to decide
 * access. Read from the catalog only; the world (world.ts) makes two tenants of each root and one
 * account per role value of the membership.
 */
import { armValues, checkArms } from './check-arms.ts';
import { keyedByAccount } from '../model/accounts.ts';
import { qualified } from '../model/ident.ts';
import { argumentsOf, callArguments, literalPattern, quotedLiterals } from '../model/sql-text.ts';
import type { Constraint, Relation, Snapshot } from '../model/snapshot.ts';
import { disjunctTexts } from '../policy/index-match.ts';

/** At most this many tenant roots, and role values per root, get accounts of their own (the world stays small). */
export const TENANT_CAPS = { roots: 2, roles: 3 } as const;

export interface TenantRoot {
  readonly root: { readonly schema: string; readonly name: string };
  readonly membership: { readonly schema: string; readonly name: string };
  /** The membership's columns that point at the root. */
  readonly rootColumns: readonly string[];
  /** The root's columns they point at (its key), in the same order. */
  readonly refColumns: readonly string[];
  /** The membership's role-like column, when it has one. */
  readonly roleColumn?: string;
  /** Its values, in the order the schema lists them; none when none are known. Beyond TENANT_CAPS.roles, one per distinct way policies treat them (pickRoles). */
  readonly roles: readonly string[];
  /** Role values left out by the cap. */
  readonly cappedRoles: readonly string[];
  /**
   * What an account that is nobody's member holds when its own row is the membership (a profile
   * with a tenant and a role): a value no policy or helper tests (the column's default, `user`), else
   * the least privileged; none when the role column has no values.
   */
  readonly plainRole?: string;
  /**
   * Values that rule the whole platform, not a tenant: named so (`system_owner`, `super_admin`) and
   * granted by some check that never looks at the tenant (`is_system_admin()`: `role in
   * ('system_owner', 'super_admin')`). The operator's staff: no persona of the world holds one (an
   * account of tenant 1 holding it would reach tenant 2 by design), but a member making itself one
   * is tried.
   */
  readonly platformRoles: readonly string[];
}

export interface TenantModel {
  readonly roots: readonly TenantRoot[];
  /** Roots found beyond the cap (`schema.name`): not given accounts of their own. */
  readonly cappedRoots: readonly string[];
}

/**
 * Whether `value` of the role column is granted only tenant-blind: some permissive policy arm (a
 * top-level OR branch, as the policy parser splits it) tests it, directly or through a helper whose body compares the column with
 * it, and no arm or function body that tests it names a tenant column. `is_platform_admin() OR
 * (is_company_admin() AND company_id = my_company())`: the first value is the operator's, the
 * second a tenant's.
 */
function grantedUnscoped(snapshot: Snapshot, column: string, value: string, tenantColumns: readonly string[]): boolean {
  const name = literalPattern(column);
  const lit = literalPattern(value.replaceAll("'", "''"));
  const compares = new RegExp(`\\b${name}"?\\s*(?:::\\w+\\s*)?(?:=\\s*'${lit}'|in\\s*\\([^)]*'${lit}')|'${lit}'(?:::\\w+)?\\s*=\\s*(?:\\w+\\.)?"?${name}\\b`, 'i');
  const tenant = new RegExp(`\\b(?:${tenantColumns.map(literalPattern).join('|')})\\b`, 'i');
  const helpers: string[] = [];
  for (const f of snapshot.functions) {
    if (!f.source || !compares.test(f.source)) continue;
    if (tenant.test(f.source)) return false;
    helpers.push(f.name);
  }
  // A call under NOT (`NOT is_platform_admin()`) grants nothing to the value.
  const calls = helpers.length > 0 ? new RegExp(`(?<!\\bnot\\s*\\(?\\s*(?:\\w+\\.)?)\\b(?:${helpers.map(literalPattern).join('|')})\\s*\\(`, 'i') : undefined;
  let unscopedArms = 0;
  for (const p of snapshot.policies) {
    if (!p.permissive) continue;
    for (const text of [p.using, p.withCheck]) {
      if (!text) continue;
      // Its top-level OR arms, nested ones flattened (an unparsable text: one arm).
      for (const arm of disjunctTexts(text) ?? [text]) {
        if (!compares.test(arm) && !calls?.test(arm)) continue;
        if (tenant.test(arm)) return false;
        unscopedArms++;
      }
    }
  }
  return unscopedArms > 0;
}

/** Tables that list roles or permissions: what a user holds through them is a role, not a tenant. */
const ROLE_LIST = /(^|_)(roles?|permissions?|privileges?|role_types?|access_levels?)$/i;

/** A membership's account column when no foreign key says so: `user_id`, `member_id`, `profile_id`, `account_id`, `uid`. */
const MEMBER_ACCOUNT = /^(user|member|profile|account)_?id$|^uid$/i;

/** A role value named for the whole platform: `system_owner`, `super_admin`, `platform_admin`, `superuser`, `root`. */
const PLATFORM = /^(?:(?:system|platform|global|site)_?(?:owner|admin|administrator|operator|staff)|super_?(?:admin|user|owner)|root)$/i;

const ROLE_NAME = /(^|_)(role|roles|level|permission|permissions|access|access_level|rank|member_type|membership_type)$/i;

/** Literals a CHECK constraint compares a column with (`col in ('a','b')`, `col = any (array['a'])`, `col = 'a'`). */
export function checkLiterals(constraints: readonly Constraint[], column: string): string[] {
  const out: string[] = [];
  for (const c of constraints) {
    if (c.type !== 'check' || !c.columns.includes(column)) continue;
    // Read with the parser: the values its conditions on this column name, not another column's
    // (`scope = 'b2c' and gym_id is null`) nor a bound on its length (`char_length(username) >= 3`).
    const arms = checkArms(c.definition);
    if (arms) {
      out.push(...armValues(arms, column));
      continue;
    }
    for (const m of c.definition.matchAll(/'((?:[^']|'')*)'/g)) {
      // A pattern (`~ '^[a-z]+$'`, LIKE, SIMILAR TO) is not a value: the made-up value is tried instead.
      if (/(~\*?|\blike|\bilike|\bsimilar\s+to)\s*\(?\s*$/i.test(c.definition.slice(Math.max(0, m.index! - 16), m.index!))) continue;
      out.push(m[1]!.replaceAll("''", "'"));
    }
    // A bound a number must meet: `>= 1` and `= 1` hold at the bound, `> 0` just past it; `<> 0` and `<= 9` name no value to use.
    for (const m of c.definition.matchAll(/(?<![<!])(>=?|=)\s*\(?(-?\d+(?:\.\d+)?)/g)) out.push(m[1] === '>' ? String(Number(m[2]!) + 1) : m[2]!);
  }
  return [...new Set(out)];
}

const compared = new WeakMap<Snapshot, Map<string, readonly (readonly string[])[]>>();

/**
 * Literals that policies and function bodies compare a column of this name with (`role = 'admin'`,
 * `kind in ('staff')`); with `table`, only in those that name that table (a helper reading
 * `organization_members`, not one reading another table's `role`).
 */
export function comparedLiterals(snapshot: Snapshot, column: string, table?: string): string[] {
  return [...new Set(comparedGroups(snapshot, column, table).flat())].sort();
}

/**
 * The comparisons themselves: one list of literals per test (`role = 'owner'` → [owner],
 * `role in ('owner', 'admin')` → [owner, admin]). Two values in exactly the same tests are
 * the same to every policy; a value in none is a plain member.
 */
export function comparedGroups(snapshot: Snapshot, column: string, table?: string, unscopedBy?: readonly string[]): readonly (readonly string[])[] {
  let byColumn = compared.get(snapshot);
  if (!byColumn) compared.set(snapshot, (byColumn = new Map()));
  const cacheKey = `${column}\u0000${table ?? ''}\u0000${unscopedBy?.join() ?? ''}`;
  const hit = byColumn.get(cacheKey);
  if (hit) return hit;
  // With `unscopedBy`: only texts that name none of these columns (a check that never asks which tenant).
  const scoped = unscopedBy === undefined ? undefined : new RegExp(`\\b(?:${unscopedBy.map(literalPattern).join('|')})\\b`, 'i');
  const naming = table === undefined ? undefined : new RegExp(`\\b${literalPattern(table)}\\b`, 'i');
  const name = literalPattern(column);
  const re = new RegExp(`\\b${name}"?\\s*(?:::\\w+\\s*)?(?:=|<>|!=|in\\s*\\(|=\\s*any\\s*\\(\\s*array\\s*\\[)\\s*'((?:[^']|'')+)'|'((?:[^']|'')+)'(?:::\\w+)?\\s*=\\s*(?:\\w+\\.)?"?${name}\\b`, 'gi');
  const groups: string[][] = [];
  for (const text of accessTexts(snapshot)) {
    if ((naming && !naming.test(text)) || scoped?.test(text)) continue;
    for (const m of text.matchAll(re)) {
      // The rest of an IN list: `role in ('owner', 'admin')`.
      groups.push([(m[1] ?? m[2]!).replaceAll("''", "'"), ...(m[1] !== undefined ? listRest(text, m.index! + m[0].length) : [])]);
    }
  }
  if (!scoped) groups.push(...passedLiterals(snapshot, column, naming));
  // A variable the column is read into (`select role from … into r; if r = 'admin'`), in function bodies.
  const into = new RegExp(`\\bselect\\s+(?:\\w+\\.)?"?${name}"?\\s+(?:into\\s+(\\w+)|from\\b[^;]*?\\binto\\s+(\\w+))`, 'gi');
  for (const f of snapshot.functions) {
    if (!f.source || (naming && !naming.test(f.source)) || scoped?.test(f.source)) continue;
    for (const m of f.source.matchAll(into)) {
      const variable = literalPattern(m[1] ?? m[2]!);
      for (const c of f.source.matchAll(new RegExp(`(?<![\\w.])${variable}\\s*(?:=|<>|!=|(?:not\\s+)?in\\s*\\()\\s*'((?:[^']|'')+)'`, 'gi'))) {
        groups.push([c[1]!.replaceAll("''", "'"), ...listRest(f.source, c.index! + c[0].length)]);
      }
    }
  }
  byColumn.set(cacheKey, groups);
  return groups;
}

/** The literals after the first of an IN list (`, 'admin')` after `in ('owner'`), read from `at` on; none when no list follows. */
function listRest(text: string, at: number): string[] {
  const list = /^\s*(?:,\s*'(?:[^']|'')*'\s*)+\)/.exec(text.slice(at));
  return list ? quotedLiterals(list[0]) : [];
}

/**
 * The role values that get accounts when there are more than `cap`: one per distinct way the
 * policies and helpers treat them (the set of tests naming it), most privileged first, so an
 * `admin` every policy asks for is never left out for three clinical titles no policy names;
 * a value no test names (a plain member, the least privileged of them) always gets one. In the schema's order.
 */
export function pickRoles(values: readonly string[], groups: readonly (readonly string[])[], cap: number, plainRole?: string): string[] {
  if (values.length <= cap) return [...values];
  const signature = (v: string) => groups.flatMap((g, i) => (g.includes(v) ? [i] : [])).join(',');
  const picked: string[] = [];
  const seen = new Set<string>();
  // The last account is a plain member's when some value is one: the lowest persona is the one most attacks start from.
  const plain = plainRole !== undefined && signature(plainRole) === '' ? plainRole : byPrivilege(values).reverse().find((v) => signature(v) === '');
  for (const v of byPrivilege(values)) {
    if (picked.length >= (plain === undefined || seen.has('') ? cap : cap - 1)) break;
    const sig = signature(v);
    if (seen.has(sig)) continue;
    seen.add(sig);
    picked.push(v);
  }
  if (plain !== undefined && !seen.has('')) picked.push(plain);
  for (const v of values) if (picked.length < cap && !picked.includes(v)) picked.push(v);
  return values.filter((v) => picked.includes(v));
}

/**
 * Literals passed to a helper that compares the column with one of its parameters: the policy says
 * `is_org_role(org_id, 'admin')`, the helper `role = role_name` (or `= $2`, `= any (roles)`).
 */
function passedLiterals(snapshot: Snapshot, column: string, naming: RegExp | undefined): string[][] {
  const name = literalPattern(column);
  const helpers: { name: string; index: number }[] = [];
  for (const f of snapshot.functions) {
    if (!f.source || f.argCount === 0 || (naming && !naming.test(f.source))) continue;
    const params = argumentsOf(f.identityArgs).map((a) => a.name);
    params.forEach((param, i) => {
      const p = param ? `(?:"?${literalPattern(param)}"?|\\$${i + 1})` : `\\$${i + 1}`;
      const compares = new RegExp(`\\b${name}"?\\s*(?:::\\w+\\s*)?(?:=\\s*(?:any\\s*\\(\\s*)?|in\\s*\\(\\s*)${p}(?![\\w$])|(?<![\\w.$])${p}\\s*(?:::\\w+\\s*)?=\\s*(?:\\w+\\.)?"?${name}\\b`, 'i');
      if (compares.test(f.source!)) helpers.push({ name: f.name, index: i });
    });
  }
  const out: string[][] = [];
  for (const h of helpers) {
    const call = new RegExp(`(?<![\\w$])"?${literalPattern(h.name)}"?\\s*\\(`, 'gi');
    for (const text of accessTexts(snapshot)) {
      for (const m of text.matchAll(call)) {
        const arg = callArguments(text, m.index! + m[0].length)[h.index];
        if (arg === undefined) continue;
        const values = quotedLiterals(arg);
        if (values.length > 0) out.push(values);
      }
    }
  }
  return out;
}


/** Policy expressions and function bodies: where access is decided. */
export function accessTexts(snapshot: Snapshot): string[] {
  return [...snapshot.policies.flatMap((p) => [p.using ?? '', p.withCheck ?? '']), ...snapshot.functions.map((f) => f.source ?? '')];
}

/** A column that says where a membership is in its life: requested, active, accepted, confirmed. */
const MEMBER_STATE = /(^|_)(status|state|active|accepted|approved|confirmed|verified|enabled|joined)$/i;

/** A column that grants something beyond the membership itself. */
const PRIVILEGE_WORD = /admin|super|owner|staff|manager|moderator|role|permission|can_|is_paid|premium/i;

/**
 * The state a membership's other columns must be in for the helpers and policies to count it
 * (`membership_status in ('trial', 'active')`, `accepted = true`): per column (not the role, not a
 * key), the value the texts naming the table most often ask for with `=`/`IN`, where that is not
 * the column's own default (a request starts `pending`). Values the column can hold only.
 */
export function memberState(snapshot: Snapshot, root: TenantRoot, rel: Relation, enumLabels: ReadonlyMap<string, readonly string[]>): Map<string, string> {
  const out = new Map<string, string>();
  const constraints = snapshot.constraints.filter((x) => x.schema === rel.schema && x.table === rel.name);
  const keys = new Set(constraints.filter((c) => c.type === 'primary_key' || c.type === 'foreign_key' || c.type === 'unique').flatMap((c) => c.columns));
  const naming = new RegExp(`\\b${literalPattern(rel.name)}\\b`, 'i');
  const texts = accessTexts(snapshot).filter((t) => naming.test(t));
  for (const c of rel.columns) {
    // A lifecycle (`status`, `is_active`, `accepted`), never a privilege (`is_super_admin`, `can_invite`): what
    // makes a membership count, not what it grants beyond the role.
    if (c.name === root.roleColumn || keys.has(c.name) || c.generated || c.identity || !MEMBER_STATE.test(c.name) || PRIVILEGE_WORD.test(c.name)) continue;
    const boolean = c.type === 'boolean';
    const allowed = boolean ? ['true', 'false'] : (enumLabels.get(c.typeName) ?? checkLiterals(constraints, c.name));
    if (allowed.length === 0) continue;
    const name = literalPattern(c.name);
    // Asked for, not refused: `= 'active'`, `in ('trial', 'active')`, `= any (array['active'])`; `= true` or the bare flag.
    const asked = new RegExp(`(?:\\.|\\b)"?${name}"?\\s*(?:::\\w+\\s*)?(?:(?<![<>!])=\\s*(?:any\\s*\\(\\s*array\\s*\\[\\s*)?|(?<!not\\s+)\\bin\\s*\\(\\s*)'((?:[^']|'')+)'`, 'gi');
    const votes = new Map<string, number>();
    for (const t of texts) {
      for (const m of t.matchAll(asked)) for (const v of [m[1]!.replaceAll("''", "'"), ...listRest(t, m.index! + m[0].length)]) votes.set(v, (votes.get(v) ?? 0) + 1);
      if (boolean) for (const m of t.matchAll(new RegExp(`(?:\\.|\\b)"?${name}"?\\s*(?:=\\s*(true|false)\\b|\\s+is\\s+(true)\\b)`, 'gi'))) votes.set(m[1] ?? m[2]!, (votes.get(m[1] ?? m[2]!) ?? 0) + 1);
    }
    const valid = [...votes].filter(([v]) => allowed.includes(v.toLowerCase()) || allowed.includes(v));
    if (valid.length === 0) continue;
    // The value asked for most often; none to set where that is the column's default already.
    valid.sort((x, y) => y[1] - x[1] || allowed.indexOf(x[0]) - allowed.indexOf(y[0]));
    const chosen = boolean ? valid[0]![0].toLowerCase() : valid[0]![0];
    const byDefault = /^'((?:[^']|'')*)'/.exec(c.default ?? '')?.[1] ?? /^(true|false)$/i.exec(c.default ?? '')?.[1]?.toLowerCase();
    if (chosen !== byDefault) out.set(c.name, chosen);
  }
  return out;
}

/**
 * Values a column can hold that decide access, in the schema's order: enum labels, else CHECK
 * literals; then the literals that policies and functions naming the table compare a column of that name with.
 */
export function columnValues(snapshot: Snapshot, rel: Relation, column: string, enumLabels: ReadonlyMap<string, readonly string[]>): string[] {
  const c = rel.columns.find((x) => x.name === column);
  if (!c) return [];
  const constraints = snapshot.constraints.filter((x) => x.schema === rel.schema && x.table === rel.name);
  const labels = enumLabels.get(c.typeName);
  const own = labels ?? checkLiterals(constraints, column);
  // Values only the policies and helpers name have no order of their own: the most privileged first, by their names.
  // An enum column holds its labels only: a word compared with it elsewhere (a claim's 'admin') is no value of it.
  return [...new Set([...own, ...byPrivilege(comparedLiterals(snapshot, column, rel.name)).filter((v) => labels === undefined || labels.includes(v))])];
}

const PRIVILEGE_ORDER = [/owner|founder|creator/i, /super/i, /admin/i, /manag|lead|head|moderat|supervis/i, /edit|write|contrib|author|staff/i, /member|user|employee|client|customer|agent/i, /view|read|guest|observ/i];

/** The rank of the first privilege word a role value holds (0: owner), or -1: none. */
function privilegeWord(value: string): number {
  return PRIVILEGE_ORDER.findIndex((re) => re.test(value));
}

/**
 * Whether role value `a` ranks above `b` among a membership's `roles`: by the words they hold
 * (owner over admin over member) where both hold one, else by the schema's order (highest first).
 */
export function outranks(roles: readonly string[], a: string, b: string): boolean {
  const [wa, wb] = [privilegeWord(a), privilegeWord(b)];
  if (wa !== -1 && wb !== -1 && wa !== wb) return wa < wb;
  const [ia, ib] = [roles.indexOf(a), roles.indexOf(b)];
  return ia !== -1 && ib !== -1 && ia < ib;
}

/**
 * Whether some policy or function (one naming `table`) grants role value `higher` something `held`
 * does not get: it compares the column with `higher` alone (`role = 'owner'`), or with a list that
 * holds `higher` and not `held` (`role in ('owner')` against an admin). Where every check that
 * names the owner names the admin too, an admin making itself owner gains nothing.
 */
export function grantsMore(snapshot: Snapshot, column: string, table: string, higher: string, held: string): boolean {
  const naming = new RegExp(`\\b${literalPattern(table)}\\b`, 'i');
  const name = literalPattern(column);
  // The column itself, or a helper named after it that returns it (`my_role(team_id) = 'owner'`).
  const helperStart = `\\b\\w*${name}\\w*\\s*\\(`;
  const helper = `${helperStart}[^()]*\\)`;
  const lit = (v: string) => `'${literalPattern(v.replaceAll("'", "''"))}'`;
  const alone = new RegExp(`(?:\\b${name}"?|${helper})\\s*(?:::\\w+\\s*)?=\\s*${lit(higher)}|${lit(higher)}(?:::\\w+)?\\s*=\\s*(?:(?:\\w+\\.)?"?${name}\\b|${helper})`, 'i');
  const list = new RegExp(`(?:\\b${name}"?|${helper})\\s*(?:::\\w+\\s*)?(?:in\\s*\\(|=\\s*any\\s*\\(\\s*(?:array\\s*)?\\[?)([^)\\]]*)`, 'gi');
  const mentionsHelper = new RegExp(helperStart, 'i');
  const helperCalls = new RegExp(helperStart, 'gi');
  /** A list of values that holds `higher` and not `held`. */
  const apart = (values: readonly string[]) => values.includes(higher) && !values.includes(held);
  for (const text of accessTexts(snapshot)) {
    if (!naming.test(text) && !mentionsHelper.test(text)) continue;
    if (alone.test(text)) return true;
    for (const m of text.matchAll(list)) if (apart(quotedLiterals(m[1]!))) return true;
    // A helper named after the column given the value (`has_team_role(auth.uid(), team_id, 'owner')`).
    for (const m of text.matchAll(helperCalls)) if (apart(callArguments(text, m.index! + m[0].length).flatMap((arg) => quotedLiterals(arg)))) return true;
  }
  return false;
}

/** Role names ranked by the words they hold (owner, admin, manager, editor, member, viewer); unknown ones between members and viewers, in their order. */
export function byPrivilege(values: readonly string[]): string[] {
  const rank = (v: string) => {
    const i = privilegeWord(v);
    return i === -1 ? PRIVILEGE_ORDER.length - 1.5 : i;
  };
  return [...values].sort((a, b) => rank(a) - rank(b));
}

/**
 * The columns of a membership that name the member's account: a key to an account (not who did
 * something to the row, `invited_by`), else a uuid named like one (`user_id`) that no key claims.
 */
export function memberAccountColumns(snapshot: Snapshot, m: Relation): string[] {
  const fks = snapshot.constraints.filter((c) => c.schema === m.schema && c.table === m.name && c.type === 'foreign_key' && c.refSchema && c.refTable);
  const keyed = fks.filter((fk) => fk.columns.length === 1 && toAccount(snapshot, fk) && !/_by$/i.test(fk.columns[0]!)).map((fk) => fk.columns[0]!);
  return keyed.length > 0 ? keyed : m.columns.filter((c) => c.type === 'uuid' && MEMBER_ACCOUNT.test(c.name) && !fks.some((fk) => fk.columns.includes(c.name))).map((c) => c.name);
}

/** Whether a foreign key names an account: to auth.users, or to a table keyed by a key to auth.users (a profile). */
function toAccount(snapshot: Snapshot, fk: Constraint): boolean {
  return (fk.refSchema === 'auth' && fk.refTable === 'users') || (fk.refSchema !== null && fk.refTable !== null && keyedByAccount(snapshot, fk.refSchema, fk.refTable));
}

/** How many tables point at `key`, directly or through a parent: how much of the schema hangs off a root. */
function dependents(snapshot: Snapshot, key: string): number {
  const seen = new Set<string>([key]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const c of snapshot.constraints) {
      const from = `${c.schema}.${c.table}`;
      if (c.type === 'foreign_key' && seen.has(`${c.refSchema}.${c.refTable}`) && !seen.has(from)) {
        seen.add(from);
        grew = true;
      }
    }
  }
  return seen.size - 1;
}

/**
 * The tenant roots of the user's tables, most depended-on first (capped at TENANT_CAPS.roots).
 * A membership is a table with a key to the root and a key to an account, read by a policy of
 * another table or a function body; of several for one root, one with a unique key over both
 * (a real membership, not an invitation or a row written by someone) wins, else one with a role-like column.
 */
export function findTenantRoots(snapshot: Snapshot, tables: readonly Relation[], enumLabels: ReadonlyMap<string, readonly string[]>): TenantModel {
  const byKey = new Map(tables.map((t) => [`${t.schema}.${t.name}`, t]));
  const candidates: { root: Relation; membership: Relation; rootColumns: readonly string[]; refColumns: readonly string[]; unique: boolean; single: boolean; roleColumn?: string; roles: string[]; cappedRoles: string[]; plainRole?: string; platformRoles: string[] }[] = [];
  for (const m of tables) {
    const fks = snapshot.constraints.filter((c) => c.schema === m.schema && c.table === m.name && c.type === 'foreign_key' && c.refSchema && c.refTable);
    // The member's key: not who did something to the row (`granted_by`, `invited_by`, `created_by`).
    // No key to an account (dropped, or never made): a uuid named like the member's account, that no key claims.
    const accounts = memberAccountColumns(snapshot, m);
    if (accounts.length === 0) continue;
    const named = new RegExp(`\\b${literalPattern(m.name)}\\b`, 'i');
    const read =
      snapshot.policies.some((p) => !(p.schema === m.schema && p.table === m.name) && named.test(`${p.using ?? ''} ${p.withCheck ?? ''}`)) ||
      snapshot.functions.some((f) => f.returnType !== 'trigger' && named.test(f.source ?? ''));
    if (!read) continue;
    const keyColumns = new Set(fks.flatMap((c) => c.columns));
    // Named like a role: its values may be unknown (no CHECK, no enum, nothing compared), it still marks a membership.
    const roleColumns = m.columns.filter((c) => ROLE_NAME.test(c.name) && !keyColumns.has(c.name) && !c.generated);
    const roleColumn = (roleColumns.find((c) => columnValues(snapshot, m, c.name, enumLabels).length > 0) ?? roleColumns[0])?.name;
    for (const fk of fks) {
      const root = byKey.get(`${fk.refSchema}.${fk.refTable}`);
      if (!root || root === m || toAccount(snapshot, fk) || accounts.some((a) => fk.columns.includes(a))) continue;
      // A list of roles (`user_roles.role_id → roles`) names what a user may do, not whose data it is.
      if (ROLE_LIST.test(root.name)) continue;
      const unique = snapshot.constraints.some(
        (c) =>
          c.schema === m.schema && c.table === m.name && (c.type === 'primary_key' || c.type === 'unique') &&
          fk.columns.every((x) => c.columns.includes(x)) && accounts.some((a) => c.columns.includes(a)) && c.columns.length === fk.columns.length + 1,
      );
      // One tenant per account (a profile's tenant_id): a membership where some policy or helper
      // reads that column with the table (`select tenant_id from profiles where id = auth.uid()`).
      const single =
        !unique &&
        snapshot.constraints.some((c) => c.schema === m.schema && c.table === m.name && (c.type === 'primary_key' || c.type === 'unique') && c.columns.length === 1 && accounts.includes(c.columns[0]!)) &&
        fk.columns.length === 1 &&
        accessTexts(snapshot).some((text) => named.test(text) && new RegExp(`\\b${literalPattern(fk.columns[0]!)}\\b`, 'i').test(text));
      if (!unique && !roleColumn && !single) continue;
      const groups = roleColumn ? comparedGroups(snapshot, roleColumn, m.name) : [];
      const known = roleColumn ? columnValues(snapshot, m, roleColumn, enumLabels) : [];
      const plainRole = roleColumn ? plainMemberRole(m, roleColumn, known, groups) : undefined;
      // The column's default is a value too (what a new member holds), where no policy names it.
      const all = plainRole !== undefined && !known.includes(plainRole) ? [...known, plainRole] : known;
      const unscoped = roleColumn ? comparedGroups(snapshot, roleColumn, undefined, fk.columns).flat() : [];
      // An operator's role: named so, or (where the account's one row holds its tenant and its role,
      // not a membership per tenant) one that every policy arm testing it grants without asking which tenant.
      const platformRoles = all.filter((v) => v !== plainRole && unscoped.includes(v) && (PLATFORM.test(v) || (!unique && roleColumn !== undefined && grantedUnscoped(snapshot, roleColumn, v, fk.columns))));
      const values = all.filter((v) => !platformRoles.includes(v));
      // Highest first; the plain member's value (the column's default, what a new member holds) last,
      // whatever the schema's order (`enum ('member', 'facilitator')` lists it first).
      const picked = roleColumn ? pickRoles(values, groups, TENANT_CAPS.roles, plainRole) : [];
      const roles = plainRole !== undefined && picked.includes(plainRole) ? [...picked.filter((v) => v !== plainRole), plainRole] : picked;
      candidates.push({ root, membership: m, rootColumns: fk.columns, refColumns: fk.refColumns, unique, single, ...(roleColumn ? { roleColumn } : {}), roles, cappedRoles: values.filter((v) => !roles.includes(v)), ...(plainRole !== undefined ? { plainRole } : {}), platformRoles });
    }
  }
  const best = new Map<string, (typeof candidates)[number]>();
  // A membership of many tenants per account (a key over both) first, then one tenant per account (a profile's tenant_id).
  const rank = (c: (typeof candidates)[number]) => [c.unique ? 0 : c.single ? 1 : 2, c.roleColumn ? 0 : 1, `${c.membership.schema}.${c.membership.name}`] as const;
  for (const c of candidates) {
    const key = `${c.root.schema}.${c.root.name}`;
    const was = best.get(key);
    if (!was || compareTuples(rank(c), rank(was)) < 0) best.set(key, c);
  }
  const ordered = [...best.entries()]
    .map(([key, c]) => ({ key, c, weight: dependents(snapshot, key) }))
    .sort((a, b) => b.weight - a.weight || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    roots: ordered.slice(0, TENANT_CAPS.roots).map(({ c }) => ({
      root: { schema: c.root.schema, name: c.root.name },
      membership: { schema: c.membership.schema, name: c.membership.name },
      rootColumns: c.rootColumns,
      refColumns: c.refColumns,
      ...(c.roleColumn ? { roleColumn: c.roleColumn } : {}),
      roles: c.roles,
      cappedRoles: c.cappedRoles,
      ...(c.plainRole !== undefined ? { plainRole: c.plainRole } : {}),
      platformRoles: c.platformRoles,
    })),
    cappedRoots: ordered.slice(TENANT_CAPS.roots).map(({ c }) => qualified(c.root.schema, c.root.name)),
  };
}

/** The plain member's value of a role column: one no test names (its default first), else the least privileged. */
function plainMemberRole(m: Relation, column: string, values: readonly string[], groups: readonly (readonly string[])[]): string | undefined {
  const untested = (v: string) => !groups.some((g) => g.includes(v));
  const byDefault = /^'((?:[^']|'')*)'(?:::[\w." ]+)?$/.exec(m.columns.find((c) => c.name === column)?.default ?? '')?.[1]?.replaceAll("''", "'");
  if (byDefault !== undefined && untested(byDefault)) return byDefault;
  const ranked = byPrivilege(values).reverse();
  return ranked.find(untested) ?? ranked[0];
}

function compareTuples(a: readonly (number | string)[], b: readonly (number | string)[]): number {
  for (let i = 0; i < a.length; i++) if (a[i]! !== b[i]!) return a[i]! < b[i]! ? -1 : 1;
  return 0;
}
