import { sensitiveMatcher } from '../src/engine/context.ts';
import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified, quoteIdent, quoteLiteral } from '../src/model/ident.ts';
import { alterPolicySql, policyAnalysesByTable } from '../src/policy/index.ts';
import type { CheckContext } from '../src/model/check.ts';
import type { Policy } from '../src/model/snapshot.ts';
import { nullBypasses } from '../src/policy/index-match.ts';
import { adminValues, freeArm, harmlessColumns, observed, reachOf, trustSources, writePaths, type TrustSource } from './_authz.ts';
import { policyEffectiveRoles, policyLabel, policyObject } from './_policy_checks.ts';
import { relationObject } from './_shared.ts';

const ADMIN_NAME = /admin|owner|manage|lead/i;

/**
 * WITH CHECK that lets only a member (an admin, when the policies name admin values) of the same
 * tenant add a row. Through a SECURITY DEFINER helper: a policy on S that reads S directly recurses
 * (42P17). An existing helper of the project is reused; otherwise one is created in schema private.
 */
function joinFixSql(
  ctx: CheckContext,
  src: TrustSource,
  tenant: string,
  policy: Policy,
  roles: readonly string[],
  admins: { c: string; v: string[] } | undefined,
): string {
  const helper = [...src.helpers].sort((a, b) => Number(ADMIN_NAME.test(b.name)) - Number(ADMIN_NAME.test(a.name)))[0];
  if (helper) return alterPolicySql(policy, { withCheck: `${qualified(helper.schema, helper.name)}(${quoteIdent(tenant)})` });
  const s = src.source;
  const type = s.columns.find((c) => c.name === tenant)?.type ?? 'uuid';
  let name = `${s.name}_${admins ? 'admin' : 'member'}_of`.replace(/[^A-Za-z0-9_]+/g, '_').toLowerCase();
  while (Buffer.byteLength(name) > 63) name = name.slice(0, -1);
  const fn = `private.${quoteIdent(name)}`;
  const taken = new Set(ctx.snapshot.functions.filter((f) => f.schema === 'private').map((f) => f.name));
  if (taken.has(name)) return alterPolicySql(policy, { withCheck: `${fn}(${quoteIdent(tenant)})` });
  const grantees = roles.map(quoteIdent).join(', ');
  return [
    'CREATE SCHEMA IF NOT EXISTS private;',
    `GRANT USAGE ON SCHEMA private TO ${grantees};`,
    `CREATE FUNCTION ${fn}(p_tenant ${type}) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path = '' AS $fn$`,
    `  SELECT EXISTS (SELECT 1 FROM ${qualified(s.schema, s.name)} m WHERE m.${quoteIdent(tenant)} = p_tenant AND m.${quoteIdent(src.keyColumn)} = (SELECT auth.uid())` +
      (admins ? ` AND m.${quoteIdent(admins.c)} IN (${admins.v.map(quoteLiteral).join(', ')}))` : ')'),
    '$fn$;',
    `REVOKE ALL ON FUNCTION ${fn}(${type}) FROM PUBLIC, anon;`,
    `GRANT EXECUTE ON FUNCTION ${fn}(${type}) TO ${grantees};`,
    alterPolicySql(policy, { withCheck: `${fn}(${quoteIdent(tenant)})` }),
  ].join('\n');
}

export default defineCheck({
  meta: {
    id: 'tenant_self_join',
    title: 'User can join any tenant',
    level: 'critical',
    category: 'security',
    facing: 'external',
    labClaim: 'escalation',
    proves: true,
    description:
      'A membership table that other policies trust (the caller\'s rows decide which tenant\'s data it reads or writes) accepts a row, or a move of a row, for a tenant the caller does not belong to: any signed-in user joins any tenant.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    const isSensitive = sensitiveMatcher(ctx.options.sensitiveColumnPatterns);
    for (const src of trustSources(ctx)) {
      const s = src.source;
      const analyses = policyAnalysesByTable(ctx).get(`${s.schema}\u0000${s.name}`) ?? [];
      const reach = reachOf(ctx, src, isSensitive);
      for (const tenant of src.tenantColumns) {
        // A restrictive check that pins the tenant unless a column is NULL is check_null_bypass's finding (its fix keeps the invite flow).
        const nullSkipped = (role: string) =>
          analyses.some(
            (a) =>
              !a.policy.permissive &&
              (a.policy.command === 'INSERT' || a.policy.command === 'ALL') &&
              policyEffectiveRoles(ctx, a).roles.includes(role) &&
              a.effectiveWithCheck !== null &&
              nullBypasses(a.effectiveWithCheck.text, s.name).some((b) => freeArm(ctx, b.without, s.name, tenant) === null),
          );
        const paths = writePaths(ctx, s, src.keyColumn, tenant, analyses).filter((p) => p.command !== 'INSERT' || !nullSkipped(p.role));
        const byWay = new Map<string, typeof paths>();
        for (const p of paths) byWay.set(`${p.command}\u0000${p.policy?.name ?? ''}`, [...(byWay.get(`${p.command}\u0000${p.policy?.name ?? ''}`) ?? []), p]);
        for (const group of byWay.values()) {
          const first = group[0]!;
          const roles = group.map((p) => p.role);
          const where = first.policy ? policyLabel(first.policy) : `${qualified(s.schema, s.name)} (RLS off)`;
          const how =
            first.command === 'INSERT'
              ? `a signed-in user inserts a row with ${src.keyColumn} = its own id and ${tenant} = any tenant`
              : `a signed-in user moves its own row to any ${tenant}`;
          const why = first.freeArm ? ` (the check's arm ${first.freeArm.length > 160 ? `${first.freeArm.slice(0, 157)}...` : first.freeArm} never ties ${tenant} to a tenant the caller belongs to)` : '';
          const admins = [...src.privilegeColumns].map((c) => ({ c, v: adminValues(src.constants.get(c) ?? []) })).find((x) => x.v.length > 0);
          const keep = harmlessColumns(src);
          const sql =
            first.command === 'INSERT' && first.policy
              ? joinFixSql(ctx, src, tenant, first.policy, roles, admins)
              : [
                  `REVOKE UPDATE ON ${qualified(s.schema, s.name)} FROM ${roles.map(quoteIdent).join(', ')};`,
                  ...(keep.length > 0 ? [`GRANT UPDATE (${keep.map(quoteIdent).join(', ')}) ON ${qualified(s.schema, s.name)} TO ${roles.map(quoteIdent).join(', ')};`] : []),
                ].join('\n');
          out.push({
            level: reach.severe || reach.tables.length > 0 ? 'critical' : 'high',
            message:
              `${where}: ${how}${why}. ${qualified(s.schema, s.name)} decides access for ${reach.policies.slice(0, 6).join(', ')}${reach.policies.length > 6 ? ` and ${reach.policies.length - 6} more` : ''}: ` +
              `joining a tenant this way ${reach.tables.length > 0 ? `opens its rows of ${reach.tables.join(', ')}` : `shows its members`}` +
              (reach.sensitive.length > 0 ? ` (sensitive columns: ${reach.sensitive.slice(0, 5).join(', ')})` : '') +
              '.',
            object: first.policy ? policyObject(first.policy) : relationObject(s),
            roles,
            detail: `${tenant}:${first.command}`,
            remediation: {
              text:
                first.command === 'INSERT'
                  ? `Only let a member${admins ? ` with ${admins.c} ${admins.v.join('/')}` : ''} of the same tenant add rows (or add members through an invite-accepting SECURITY DEFINER function that checks the invite). ` +
                    'If a user creates a tenant and adds itself as its first member, do that in the same definer function or a trigger on the tenant table.'
                  : `Do not let users change ${tenant} of their own membership: grant UPDATE only on the columns they may change.`,
              sql,
            },
            evidence: { source: `${s.schema}.${s.name}`, keyColumn: src.keyColumn, tenantColumn: tenant, command: first.command, trustedBy: reach.policies, opens: reach.tables },
            exploit: {
              role: roles.includes('authenticated') ? 'authenticated' : roles[0]!,
              table: { schema: s.schema, name: s.name },
              write: first.command === 'INSERT' ? 'insert' : 'update',
              actorColumn: src.keyColumn,
              column: tenant,
              observe: observed(src),
              fix: sql,
              ...(first.command === 'UPDATE' && keep.length > 0 ? { ownerColumn: keep[0]! } : {}),
            },
          });
        }
      }
    }
    return out;
  },
});
