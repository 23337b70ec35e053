import { defineCheck, type CheckContext } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import { PUBLIC_ROLE, type Policy, type Relation } from '../src/model/snapshot.ts';
import { policyAnalysesByTable, type PolicyAnalysis } from '../src/policy/index.ts';
import { clauses, policyAnalyses, policyLabel, policyObject, rlsSubjectRoles, userPolicyAnalyses } from './_policy_checks.ts';

/** `schema\0name` of a relation. */
type Node = string;

/** One step of a recursion path: the policy applied on `from` reads `to`, directly or through `through`. */
interface Step {
  readonly from: Node;
  readonly to: Node;
  readonly policy: string;
  /** A SECURITY INVOKER function or security_invoker view the read goes through. */
  readonly through: string | null;
}

/** What fails, by the policy's command. */
const STATEMENTS: Readonly<Record<Policy['command'], string>> = {
  ALL: 'queries on it',
  SELECT: 'reads of it',
  INSERT: 'inserts into it',
  UPDATE: 'updates of it',
  DELETE: 'deletes from it',
};

const key = (schema: string, name: string): Node => `${schema}\u0000${name}`;
const label = (node: Node): string => {
  const [schema, name] = node.split('\u0000') as [string, string];
  return qualified(schema, name);
};

function isInvokerView(r: Relation): boolean {
  return r.kind === 'view' && ['true', 'on', '1', 'yes'].includes((r.options['security_invoker'] ?? '').toLowerCase());
}

/**
 * The relations a policy reads with the caller's rights, so under their RLS: tables of its
 * subqueries, the tables under a security_invoker view it reads, and what the SECURITY INVOKER
 * functions it calls read. Views that run as their owner and SECURITY DEFINER functions read with
 * their owner's rights (the usual way out of a recursion) and are not followed.
 */
function policyReads(ctx: CheckContext, a: PolicyAnalysis, viewRefs: ReadonlyMap<Node, readonly Node[]>, byDotted: ReadonlyMap<string, Relation>): { to: Node; through: string | null }[] {
  const out = new Map<string, { to: Node; through: string | null }>();
  const add = (to: Node, through: string | null) => {
    const k = `${to}\u0001${through ?? ''}`;
    if (!out.has(k)) out.set(k, { to, through });
  };
  const addRelation = (r: Relation, through: string | null, seen: Set<Node>) => {
    const node = key(r.schema, r.name);
    if (r.kind === 'table' || r.kind === 'partitioned_table') add(node, through);
    else if (isInvokerView(r) && !seen.has(node)) {
      seen.add(node);
      for (const ref of viewRefs.get(node) ?? []) {
        const [schema, name] = ref.split('\u0000') as [string, string];
        const under = ctx.relation(schema, name);
        if (under) addRelation(under, through ?? `view ${qualified(r.schema, r.name)}`, seen);
      }
    }
  };
  for (const { analysis } of clauses(a)) {
    if (analysis.parseError !== null) continue;
    for (const sub of analysis.subqueries) {
      const r = sub.known ? ctx.relation(sub.schema, sub.name) : undefined;
      if (r) addRelation(r, null, new Set());
    }
    for (const fn of analysis.functionCalls) {
      if (fn.securityDefiner !== false || fn.builtin) continue;
      const name = `${fn.schema ? `${fn.schema}.` : ''}${fn.name}()`;
      for (const dotted of fn.readsRlsTables) {
        const r = byDotted.get(dotted);
        if (r) add(key(r.schema, r.name), `${name} (SECURITY INVOKER)`);
      }
    }
  }
  return [...out.values()];
}

export default defineCheck({
  meta: {
    id: 'policy_infinite_recursion',
    title: 'Policy that reads its own table again under RLS',
    // It fails closed: every query errors, nothing is exposed; the feature is broken, not open.
    level: 'medium',
    category: 'schema',
    facing: 'external',
    labClaim: 'recursion',
    description:
      'A policy reads, with the caller\'s rights, a table whose policies lead back to the policy\'s own table (directly, through other tables\' policies, a security_invoker view or a SECURITY INVOKER function), so every query by that role fails with "infinite recursion detected in policy".',
  },
  run(ctx) {
    const snapshot = ctx.snapshot;
    const roleNames = new Set(rlsSubjectRoles(ctx));
    const viewRefs = new Map<Node, Node[]>();
    for (const d of snapshot.viewDependencies) {
      const k = key(d.schema, d.view);
      const list = viewRefs.get(k) ?? [];
      list.push(key(d.refSchema, d.refName));
      viewRefs.set(k, list);
    }
    const byDotted = new Map<string, Relation>();
    for (const r of snapshot.relations) byDotted.set(`${r.schema}.${r.name}`, r);

    const analyses = policyAnalyses(ctx).filter((a) => a.relation !== null);
    const reads = new Map<PolicyAnalysis, { to: Node; through: string | null }[]>();
    const readsOf = (a: PolicyAnalysis) => {
      let r = reads.get(a);
      if (!r) reads.set(a, (r = policyReads(ctx, a, viewRefs, byDotted)));
      return r;
    };
    const byTable = policyAnalysesByTable(ctx);
    const appliesTo = (p: Policy, role: string) => p.roles.includes(PUBLIC_ROLE) || p.roles.includes(role);
    /** What a subquery on the table meets: its SELECT and ALL policies for the role. */
    const selectPolicies = (node: Node, role: string): PolicyAnalysis[] =>
      (byTable.get(node) ?? []).filter((a) => a.relation !== null && (a.policy.command === 'SELECT' || a.policy.command === 'ALL') && appliesTo(a.policy, role));
    /** RLS runs for this role on the relation: enabled, and the role is not its owner (unless forced). */
    const rlsFor = (node: Node, role: string): boolean => {
      const [schema, name] = node.split('\u0000') as [string, string];
      const r = ctx.relation(schema, name);
      return r !== undefined && r.rlsEnabled && (r.kind === 'table' || r.kind === 'partitioned_table') && (r.owner !== role || r.rlsForced);
    };
    /** A subquery reads with SELECT: the SELECT and ALL policies of the table apply. */
    const selectSteps = (node: Node, role: string): Step[] =>
      selectPolicies(node, role).flatMap((a) => readsOf(a).filter((r) => rlsFor(r.to, role)).map((r) => ({ from: node, to: r.to, policy: a.policy.name, through: r.through })));
    // What each table reaches through SELECT policies, per role: computed once per table that a policy reads.
    const reachMemo = new Map<string, Map<Node, Step | null>>();
    /** Every node reachable from `start` (itself included), each with the step that first reached it. */
    const reach = (start: Node, role: string): Map<Node, Step | null> => {
      const k = `${role}\u0001${start}`;
      let seen = reachMemo.get(k);
      if (seen) return seen;
      seen = new Map<Node, Step | null>([[start, null]]);
      const queue = [start];
      while (queue.length > 0) {
        const node = queue.shift()!;
        for (const step of selectSteps(node, role)) {
          if (seen.has(step.to)) continue;
          seen.set(step.to, step);
          queue.push(step.to);
        }
      }
      reachMemo.set(k, seen);
      return seen;
    };

    /**
     * Postgres stops with "infinite recursion detected in policy" when, while expanding a table's
     * policies, it meets the same table again and the policies it would add there hold a
     * sub-select of any kind (`EXISTS`, `IN (SELECT …)`, even `(select auth.uid())`: a subquery
     * depth above 0): here the SELECT/ALL policies of the home table (a subquery reads with SELECT).
     */
    const revisitFails = (node: Node, role: string): boolean => selectPolicies(node, role).some((a) => (a.using?.maxDepth ?? 0) > 0);

    const out: FindingDraft[] = [];
    for (const a of userPolicyAnalyses(ctx)) {
      if (a.relation === null) continue;
      const p = a.policy;
      const home = key(p.schema, p.table);
      const applying = p.roles.includes(PUBLIC_ROLE) ? [...roleNames] : p.roles.filter((r) => roleNames.has(r));
      const failing: string[] = [];
      let path: Step[] | null = null;
      for (const role of applying) {
        if (!rlsFor(home, role)) continue;
        for (const first of readsOf(a)) {
          if (!rlsFor(first.to, role)) continue;
          const seen = reach(first.to, role);
          if (!seen.has(home)) continue;
          // Walk back from the policy's table to the first read.
          const back: Step[] = [];
          for (let node = home, step = seen.get(node); step; node = step.from, step = seen.get(node)) back.unshift(step);
          const candidate = [{ from: home, to: first.to, policy: p.name, through: first.through }, ...back];
          // A SECURITY INVOKER function runs its query separately, once per row: that recursion never ends either.
          if (!candidate.some((s) => s.through?.includes('SECURITY INVOKER')) && !revisitFails(home, role)) continue;
          failing.push(role);
          path ??= candidate;
          break;
        }
      }
      if (failing.length === 0 || path === null) continue;
      const route = [label(home), ...path.map((s) => `${label(s.to)}${s.through ? ` (through ${s.through})` : ''}`)].join(' → ');
      const steps = path.map((s) => `${quoteIdent(s.policy)} on ${label(s.from)} reads ${label(s.to)}${s.through ? ` through ${s.through}` : ''}`);
      const viaFunction = path.some((s) => s.through?.includes('SECURITY INVOKER'));
      // Tables whose policies read this one fail the same way: say so, users meet the error there too.
      const alsoBroken = [
        ...new Set(
          analyses
            .filter((b) => key(b.policy.schema, b.policy.table) !== home && failing.some((role) => appliesTo(b.policy, role) && readsOf(b).some((r) => rlsFor(r.to, role) && reach(r.to, role).has(home))))
            .map((b) => label(key(b.policy.schema, b.policy.table))),
        ),
      ].sort();
      out.push({
        message:
          `${policyLabel(p)} reads ${label(home)} again under RLS (${route}), so ${STATEMENTS[p.command]} by ${failing.join(', ')} fail` +
          (viaFunction
            ? ': each evaluation calls the function again until Postgres stops with "stack depth limit exceeded"'
            : ` with: infinite recursion detected in policy for relation ${JSON.stringify(p.table)}`) +
          (alsoBroken.length > 0 ? `; so do queries on ${alsoBroken.join(', ')}, whose policies read it.` : '.'),
        object: policyObject(p),
        roles: failing,
        remediation: {
          text:
            'Break the cycle with a SECURITY DEFINER helper that reads the membership table with its owner\'s rights (so without RLS): ' +
            'create it in a schema the API does not expose, with `SET search_path = \'\'`, revoke EXECUTE from PUBLIC and anon, and call it as ' +
            '`(select private.is_member(group_id))` in the policy instead of the subquery. Or key the policy on a JWT claim.',
        },
        evidence: { path: steps, roles: failing, alsoBroken, using: a.using?.text ?? null, withCheck: a.withCheck?.text ?? null },
      });
    }
    return out;
  },
});
