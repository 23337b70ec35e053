/** Shared by the parsed-policy checks: the analysis (computed once per audit), policy objects, index lookups. */
import type { CheckContext } from '../src/model/check.ts';
import type { FindingObject } from '../src/model/finding.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import type { Index, Policy, Relation } from '../src/model/snapshot.ts';
import { isPlatformRole } from '../src/model/schemas.ts';
import { PUBLIC_ROLE } from '../src/model/snapshot.ts';
import { policyAnalysesOf, type ExpressionAnalysis, type PolicyAnalysis } from '../src/policy/index.ts';
import { leadingExpressionMentions, leadingExpressionUsed, policyShape, predicateImplied, type PolicyShape } from '../src/policy/index-match.ts';

export function policyAnalyses(ctx: CheckContext): readonly PolicyAnalysis[] {
  return policyAnalysesOf(ctx);
}

/** Roles whose API requests go through RLS: anon, authenticated and custom roles; not BYPASSRLS, superusers or platform roles. */
export function rlsSubjectRoles(ctx: CheckContext): string[] {
  return ctx.snapshot.roles
    .filter((r) => !r.superuser && !r.bypassRls && (r.name === 'anon' || r.name === 'authenticated' || (!isPlatformRole(r.name) && r.name !== 'service_role')))
    .map((r) => r.name);
}

/**
 * Roles a request can run as: anon and authenticated (PostgREST's roles, whatever role it logs in
 * as), login roles, and every role one of those may SET ROLE to through memberships, transitively.
 * Memoised per audit.
 */
export function reachableRoles(ctx: CheckContext): ReadonlySet<string> {
  return ctx.memo('reachable-roles', () => {
    const reachable = new Set(ctx.snapshot.roles.filter((r) => r.canLogin || r.name === 'anon' || r.name === 'authenticated').map((r) => r.name));
    let grew = true;
    while (grew) {
      grew = false;
      for (const m of ctx.snapshot.memberships) {
        if (m.canSet && reachable.has(m.member) && !reachable.has(m.role)) {
          reachable.add(m.role);
          grew = true;
        }
      }
    }
    return reachable;
  });
}

const COMMAND_PRIVILEGES = { SELECT: ['SELECT'], INSERT: ['INSERT'], UPDATE: ['UPDATE'], DELETE: ['DELETE'], ALL: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'] } as const;

/**
 * The roles this policy really constrains: a role it names (PUBLIC: every role; or a role whose
 * privileges the role has), that a request can run as, and that RLS applies to on the table (not
 * a superuser, not BYPASSRLS, not the owner of a non-forced table). `roles` is empty for a policy
 * that cannot matter: only for service_role, for a role nobody can become, on a table with RLS off.
 * `granted` are those that also hold the privilege for the policy's command today; a policy whose
 * `granted` is empty is latent: it opens nothing until someone grants the privilege.
 */
export function policyEffectiveRoles(ctx: CheckContext, a: PolicyAnalysis): { readonly roles: string[]; readonly granted: string[] } {
  const rel = a.relation;
  if (!rel || !rel.rlsEnabled) return { roles: [], granted: [] };
  const reachable = reachableRoles(ctx);
  const names = a.policy.roles;
  const privileges = COMMAND_PRIVILEGES[a.policy.command];
  const roles = ctx.snapshot.roles
    .filter((r) => reachable.has(r.name) && !isPlatformRole(r.name))
    .filter((r) => names.includes(PUBLIC_ROLE) || names.some((n) => ctx.privileges.privilegeHolders(r.name).has(n)))
    .filter((r) => !ctx.privileges.bypassesRls(rel, r.name))
    .map((r) => r.name);
  const granted = roles.filter((r) => privileges.some((p) => ctx.privileges.hasOnRelation(rel, r, p)));
  return { roles, granted };
}

/**
 * A client writes the rows of this policy's table directly: the table is in an exposed schema, or it
 * is storage.objects (written through the Storage API) or realtime.messages (broadcasts sent through
 * Realtime). Other tables are written through functions, whose own checks apply.
 */
export function clientWritable(ctx: CheckContext, policy: Policy): boolean {
  return ctx.isExposed(policy.schema) || isAppPolicyTable(policy.schema, policy.table);
}

/**
 * Tables of platform schemas whose policies the app writes: storage.objects (bucket policies) and
 * realtime.messages (Realtime Authorization: who may receive and send broadcast and presence
 * messages on a channel). Clients reach both through Supabase's own APIs, as themselves.
 */
export function isAppPolicyTable(schema: string, table: string): boolean {
  return (schema === 'storage' && table === 'objects') || (schema === 'realtime' && table === 'messages');
}

/** Policies users wrote: user schemas, plus storage.objects and realtime.messages (see isAppPolicyTable). */
export function userPolicyAnalyses(ctx: CheckContext): PolicyAnalysis[] {
  return policyAnalyses(ctx).filter((a) => ctx.isUserObject(a.policy.schema, null) || isAppPolicyTable(a.policy.schema, a.policy.table));
}

export function policyObject(policy: Policy): FindingObject {
  return { schema: policy.schema, name: policy.table, type: 'policy', policy: policy.name };
}

export function policyLabel(policy: Policy): string {
  return `policy ${quoteIdent(policy.name)} on ${qualified(policy.schema, policy.table)}`;
}

/** The clauses of a policy with their analysis, USING first. */
export function clauses(a: PolicyAnalysis): { readonly clause: 'using' | 'withCheck'; readonly analysis: ExpressionAnalysis }[] {
  const out: { clause: 'using' | 'withCheck'; analysis: ExpressionAnalysis }[] = [];
  if (a.using) out.push({ clause: 'using', analysis: a.using });
  if (a.withCheck) out.push({ clause: 'withCheck', analysis: a.withCheck });
  return out;
}

/** The policy applies to anonymous requests: to PUBLIC or to anon. */
/** The clause that decides what a policy lets a caller do: WITH CHECK for INSERT, USING for the others. */
export function decidingClause(a: PolicyAnalysis): ExpressionAnalysis | null {
  return a.policy.command === 'INSERT' ? a.withCheck : a.using;
}

export function appliesToAnon(policy: Policy): boolean {
  return policy.roles.includes(PUBLIC_ROLE) || policy.roles.includes('anon');
}

/** Indexes of each table, valid btree ones only, keyed `schema\0table`. */
export function btreeIndexes(ctx: CheckContext): ReadonlyMap<string, readonly Index[]> {
  return ctx.memo('policy-btree-indexes', () => {
    const map = new Map<string, Index[]>();
    for (const i of ctx.snapshot.indexes) {
      if (!i.valid || i.method !== 'btree') continue;
      const key = `${i.schema}\u0000${i.table}`;
      const list = map.get(key);
      if (list) list.push(i);
      else map.set(key, [i]);
    }
    return map;
  });
}

/** The parsed shapes of a policy's clauses, for matching partial and expression indexes. */
export function shapesOf(ctx: CheckContext, a: PolicyAnalysis): readonly PolicyShape[] {
  return ctx.memo(`policy-shape:${a.policy.schema}\u0000${a.policy.table}\u0000${a.policy.name}`, () =>
    [policyShape(a.using?.text ?? null), policyShape(a.withCheck?.text ?? null)].filter((s): s is PolicyShape => s !== null),
  );
}

/**
 * A valid btree index serves the column for this policy: it leads with the column, and if partial,
 * the policy implies its predicate; or it leads with an expression over the column that the policy
 * uses as such.
 */
export function hasLeadingIndex(ctx: CheckContext, schema: string, table: string, column: string, shapes: readonly PolicyShape[] = []): boolean {
  return (btreeIndexes(ctx).get(`${schema}\u0000${table}`) ?? []).some((i) => {
    // Expressions or predicate unknown (its table was locked): it may serve the column; no finding on a guess.
    if (i.unreadable !== undefined) return i.columns[0] === column || i.columns[0] === null;
    if (i.predicate !== null && !predicateImplied(i.predicate, shapes)) return false;
    if (i.columns[0] === column) return true;
    return i.columns[0] === null && i.expressions !== null && leadingExpressionMentions(i.expressions, column) && leadingExpressionUsed(i.expressions, shapes);
  });
}

const OWNER_COLUMNS = ['user_id', 'owner_id', 'author_id', 'created_by', 'profile_id', 'owner'];

/** An obvious owner column (a uuid named user_id, owner_id…), if the table has one. */
export function ownerColumn(relation: Relation | null | undefined): string | null {
  if (!relation) return null;
  for (const name of OWNER_COLUMNS) {
    const c = relation.columns.find((x) => x.name === name && x.type === 'uuid');
    if (c) return c.name;
  }
  return null;
}

/** Relation and index names per schema (built once per audit: thousands of findings ask). */
function takenNames(ctx: CheckContext): ReadonlyMap<string, ReadonlySet<string>> {
  return ctx.memo('relation-and-index-names', () => {
    const map = new Map<string, Set<string>>();
    const add = (schema: string, name: string) => {
      const set = map.get(schema);
      if (set) set.add(name);
      else map.set(schema, new Set([name]));
    };
    for (const i of ctx.snapshot.indexes) add(i.schema, i.name);
    for (const r of ctx.snapshot.relations) add(r.schema, r.name);
    return map;
  });
}

/** An index name that is free in the schema, at most 63 bytes. */
export function freeIndexName(ctx: CheckContext, schema: string, table: string, column: string): string {
  const taken = takenNames(ctx).get(schema) ?? new Set<string>();
  const fit = (s: string) => {
    let out = s;
    while (Buffer.byteLength(out, 'utf8') > 63) out = out.slice(0, -1);
    return out;
  };
  const base = `${table}_${column}`;
  for (let n = 0; ; n++) {
    const suffix = n === 0 ? '_idx' : `_idx${n}`;
    const name = fit(base.slice(0, 63)).slice(0, Math.max(1, 63 - suffix.length)) + suffix;
    const clipped = fit(name);
    if (!taken.has(clipped)) return clipped;
  }
}
