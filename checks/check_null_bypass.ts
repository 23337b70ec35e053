import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { alterPolicySql, policyAnalysesByTable, type PolicyAnalysis } from '../src/policy/index.ts';
import type { CheckContext } from '../src/model/check.ts';
import { nullBypasses } from '../src/policy/index-match.ts';
import { clientWritable, policyEffectiveRoles, policyLabel, policyObject, userPolicyAnalyses } from './_policy_checks.ts';
import { literalPattern } from './_shared.ts';
import { freeArm, mentions, observed, reachOf, trustSources } from './_authz.ts';
import { sensitiveMatcher } from '../src/engine/context.ts';
import { qualified } from '../src/model/ident.ts';
import { constraintsOf } from './_indexes.ts';

/** The column a permissive INSERT policy of the table ties to auth.uid() (the caller's own rows), if any. */
function actorColumnOf(ctx: CheckContext, a: PolicyAnalysis): string | null {
  const all = policyAnalysesByTable(ctx).get(`${a.policy.schema}\u0000${a.policy.table}`) ?? [];
  for (const x of [a, ...all]) {
    if (!x.policy.permissive || (x.policy.command !== 'INSERT' && x.policy.command !== 'ALL')) continue;
    const tie = x.effectiveWithCheck?.ownerTie.find((t) => t.via === 'eq_auth_uid' && t.conjunctive);
    if (tie) return tie.column;
  }
  return null;
}

/** `CHECK (col IS NOT NULL)` (or NOT NULL itself) forbids the NULL the bypass needs. */
function notNullByConstraint(definitions: readonly string[], column: string): boolean {
  const name = literalPattern(column);
  const re = new RegExp(`^CHECK \\(+"?${name}"? IS NOT NULL\\)+$`, 'i');
  return definitions.some((d) => re.test(d.trim()));
}

export default defineCheck({
  meta: {
    id: 'check_null_bypass',
    title: 'Write check skipped by sending NULL',
    level: 'high',
    proves: true,
    category: 'security',
    facing: 'external',
    labClaim: 'escalation',
    description:
      'A WITH CHECK (or the USING that stands in for it) has an OR arm that holds when the new row has NULL in a column the caller writes (`join_code IS NULL OR …`, `coalesce(x, true) OR …`): the caller sends NULL and the rest of the check is never applied.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    for (const a of userPolicyAnalyses(ctx)) {
      const p = a.policy;
      if (p.command !== 'INSERT' && p.command !== 'UPDATE' && p.command !== 'ALL') continue;
      if (!clientWritable(ctx, p)) continue;
      const check = a.effectiveWithCheck;
      const rel = a.relation;
      if (!check || check.parseError !== null || !rel) continue;
      const roles = policyEffectiveRoles(ctx, a).granted;
      if (roles.length === 0) continue;
      const bypasses = nullBypasses(check.text, p.table);
      if (bypasses.length === 0) continue;
      const checks = constraintsOf(ctx, rel).filter((c) => c.type === 'check');
      // A CHECK whose text is unknown (its table was locked) may forbid the NULL: no finding on a guess.
      if (checks.some((c) => c.unreadable !== undefined)) continue;
      const constraints = checks.map((c) => c.definition);
      const privilege = p.command === 'UPDATE' ? 'UPDATE' : 'INSERT';
      for (const bypass of bypasses) {
        const column = rel.columns.find((c) => c.name === bypass.column);
        if (!column || column.notNull || column.generated || notNullByConstraint(constraints, column.name)) continue;
        // Who can get NULL there: a grant to write the column, or (INSERT) no default, so that leaving it out is NULL.
        // A default whose text could not be read counts as one: it may fill the column.
        const omitted = privilege === 'INSERT' && column.defaultUnreadable === undefined && (column.default === null || /^NULL(::.*)?$/i.test(column.default.trim()));
        const writers = roles.filter((r) => omitted || ctx.privileges.has(rel.acl, r, privilege) || ctx.privileges.has(column.acl, r, privilege));
        if (writers.length === 0) continue;
        const skipsMembership = /\bSELECT\b|\bEXISTS\b/i.test(bypass.without) || /\w+\s*\(/.test(bypass.without);
        // What the skipped rest decides besides the NULL column itself: other columns of the new row
        // (`join_code IS NULL OR project_id IN (…)`: the caller then picks any project). Where it
        // only checks the NULL column (`course_id IS NULL OR <course_id is one of mine>`), the row
        // is one of no course: nothing else is left unchecked.
        const others = rel.columns.filter((c) => c.name !== column.name && mentions(ctx, bypass.without, rel.name, c.name));
        const level = (!p.permissive || skipsMembership) && others.length > 0 ? 'high' : 'medium';
        const fix = alterPolicySql(p, { withCheck: bypass.without });
        // Provable when the table is a membership table whose tenant the rest of the check pins: insert a row of one's own for another tenant, leaving the column NULL.
        const src = omitted && privilege === 'INSERT' ? trustSources(ctx).find((t) => t.source === rel && [...t.tenantColumns].some((c) => c !== column.name && freeArm(ctx, bypass.without, rel.name, c) === null)) : undefined;
        const tenant = src ? [...src.tenantColumns].find((c) => c !== column.name && freeArm(ctx, bypass.without, rel.name, c) === null) : undefined;
        // Joining any tenant is what the bypass reaches: its level is the reach of that tenant's data.
        const reach = src ? reachOf(ctx, src, sensitiveMatcher(ctx.options.sensitiveColumnPatterns)) : undefined;
        const clause = a.withCheck ? 'WITH CHECK' : 'USING (which checks new rows when there is no WITH CHECK)';
        out.push({
          level: reach ? (reach.severe ? 'critical' : 'high') : level,
          message:
            `${policyLabel(p)}: its ${clause} holds whenever ${column.name} is NULL (${bypass.disjunct}), and ${writers.join(', ')} ${omitted ? `get NULL there by leaving ${column.name} out (it has no default) or sending null` : `may write ${column.name}`}: ` +
            `a caller sends ${column.name} = null and the rest of the check (${bypass.without.length > 160 ? `${bypass.without.slice(0, 157)}...` : bypass.without}) is never applied` +
            (p.permissive ? '.' : ', though the policy is RESTRICTIVE and meant to hold for every row.') +
            (others.length === 0 ? ` That rest checks only ${column.name} itself: the row written belongs to no ${column.name}, and what that gains is what the policies give such rows.` : '') +
            (reach && tenant ? ` ${qualified(rel.schema, rel.name)} decides access for ${reach.policies.length} polic${reach.policies.length === 1 ? 'y' : 'ies'}: a caller joins any ${tenant} this way and reads ${reach.tables.join(', ')}.` : ''),
          object: policyObject(p),
          roles: writers,
          detail: column.name,
          remediation: {
            text:
              `Remove the NULL arm, or make it require the rest too. If NULL has a legitimate meaning, state it (${column.name} IS NULL AND <what makes that row acceptable>), ` +
              `or forbid NULL (ALTER TABLE … ALTER COLUMN ${column.name} SET NOT NULL).`,
            sql: fix,
          },
          evidence: { column: column.name, disjunct: bypass.disjunct, check: check.text, withoutBypass: bypass.without, restrictive: !p.permissive },
          ...(!(src && tenant) && omitted && privilege === 'INSERT'
            ? { exploit: { kind: 'bypass' as const, role: writers.includes('authenticated') ? 'authenticated' : writers[0]!, table: { schema: rel.schema, name: rel.name }, column: column.name, actorColumn: actorColumnOf(ctx, a), fix } }
            : {}),
          ...(src && tenant
            ? {
                exploit: {
                  role: writers.includes('authenticated') ? 'authenticated' : writers[0]!,
                  table: { schema: rel.schema, name: rel.name },
                  write: 'insert' as const,
                  actorColumn: src.keyColumn,
                  column: tenant,
                  observe: observed(src),
                  fix,
                },
              }
            : {}),
        });
      }
    }
    return out;
  },
});
