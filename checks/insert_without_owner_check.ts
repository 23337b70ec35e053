import { defineCheck, type CheckContext } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { quoteIdent } from '../src/model/ident.ts';
import { PUBLIC_ROLE, type Policy, type Relation } from '../src/model/snapshot.ts';
import { alterPolicySql, analyzeExpression } from '../src/policy/index.ts';
import { disjunctTexts, privilegeGate } from '../src/policy/index-match.ts';
import { clientWritable, ownerColumn, policyEffectiveRoles, policyLabel, policyObject, userPolicyAnalyses } from './_policy_checks.ts';
import { literalPattern } from './_shared.ts';

const API_GRANTEES = new Set([PUBLIC_ROLE, 'anon', 'authenticated']);

/** `NEW.owner := auth.uid()` (or `= (select auth.uid())`) in the body of a BEFORE INSERT trigger function of the table. */
function triggerSetsCaller(ctx: CheckContext, rel: Relation | null, owner: string): boolean {
  if (!rel?.beforeInsertFunctions) return false;
  const column = literalPattern(owner);
  const assigns = new RegExp(`\\bnew\\s*\\.\\s*"?${column}"?\\s*:?=\\s*\\(?\\s*(select\\s+)?auth\\.uid\\s*\\(\\s*\\)`, 'i');
  return rel.beforeInsertFunctions.some((name) => {
    const fn = ctx.snapshot.functions.find((f) => `${f.schema}.${f.name}` === name && f.returnType === 'trigger');
    return fn?.source ? assigns.test(fn.source) : false;
  });
}

/**
 * `auth.uid() = author_id OR auth.role() = 'service_role'`: the arms only a privileged caller
 * satisfies (service_role, an admin helper, an app_metadata claim) aside, every way through ties
 * the row to the caller.
 */
function tiedBesidesPrivileged(ctx: CheckContext, policy: Policy, text: string): boolean {
  const arms = disjunctTexts(text);
  if (!arms || arms.length < 2 || arms.includes('')) return false;
  const user = arms.filter((arm) => privilegeGate(arm) === null);
  if (user.length === arms.length) return false;
  if (user.length === 0) return true;
  const rest = analyzeExpression(user.map((arm) => `(${arm})`).join(' OR '), { schema: policy.schema, table: policy.table }, ctx.snapshot);
  return rest.parseError === null && (rest.callerTied || (user.length === 1 && rest.ownerTie.some((t) => t.conjunctive)));
}

export default defineCheck({
  meta: {
    id: 'insert_without_owner_check',
    title: 'Write policy does not tie new rows to the caller',
    level: 'high',
    category: 'security',
    facing: 'external',
    labClaim: 'escalation',
    description:
      'An INSERT, UPDATE or ALL policy for the API roles whose WITH CHECK (or USING, when it stands in for it) does not tie an owner or tenant column to the caller, so users can write rows that belong to others.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    for (const a of userPolicyAnalyses(ctx)) {
      const p = a.policy;
      if (!p.permissive || !(p.command === 'INSERT' || p.command === 'UPDATE' || p.command === 'ALL')) continue;
      if (!p.roles.some((r) => API_GRANTEES.has(r))) continue;
      if (!clientWritable(ctx, p)) continue;
      // Only roles that an API request can run as, that RLS applies to and that hold the privilege.
      const effective = policyEffectiveRoles(ctx, a).granted;
      if (effective.length === 0) continue;
      const check = a.effectiveWithCheck;
      // No check at all, or one that is always true, is rls_policy_always_true's finding.
      if (check === null || check.parseError !== null || check.alwaysTrue !== 'no') continue;
      if (check.callerTied || check.ownerTie.some((t) => t.conjunctive)) continue;
      // Admin- and service-gated writes (auth.role() = 'service_role', is_admin(), an app_metadata role) are
      // writes by privileged callers on purpose, not rows any user writes for others.
      if (privilegeGate(check.text) !== null) continue;
      if (tiedBesidesPrivileged(ctx, a.policy, check.text)) continue;
      // Storage's own convention: the first folder of the object path is the owner's id.
      if (check.usesAuthUid && /\bfoldername\s*\(/.test(check.text)) continue;
      if (p.schema === 'storage' && p.table === 'objects') {
        // Anonymous uploads into a bucket are storage_bucket_open's finding (high): one finding per hole.
        if (effective.includes('anon')) continue;
        // The Storage API records the uploader in owner / owner_id itself: a client cannot set
        // them. What a bucket-only check leaves open is the object path.
        const tiedBefore = a.using !== null && (a.using.callerTied || a.using.ownerTie.some((t) => t.conjunctive));
        if (p.command !== 'INSERT' && tiedBefore) continue;
        out.push({
          level: 'medium',
          message:
            `${policyLabel(p)} lets ${effective.join(', ')} ${p.command === 'INSERT' ? 'upload' : 'write'} objects at any path its check allows: ` +
            'the Storage API records the uploader as owner, but nothing keeps one user from taking the names another user will need (another user\'s folder or file name).',
          object: policyObject(p),
          roles: effective,
          remediation: {
            text:
              "Tie the path to the caller, Supabase's convention being a first folder named after the user: " +
              "`(storage.foldername(name))[1] = (select auth.uid())::text`; and limit the policy to authenticated unless anonymous uploads are intended.",
          },
          evidence: { withCheck: check.text, ownerColumn: null, command: p.command },
        });
        continue;
      }
      const owner = ownerColumn(a.relation);
      // A BEFORE INSERT trigger that overwrites the owner with the caller decides it, whatever the client sends.
      if (owner && p.command === 'INSERT' && triggerSetsCaller(ctx, a.relation, owner)) continue;
      const tie = owner ? `(select auth.uid()) = ${quoteIdent(owner)}` : null;
      out.push({
        level: owner ? 'high' : 'medium',
        message:
          `${policyLabel(p)} lets ${effective.join(', ')} ${p.command === 'INSERT' ? 'insert' : 'write'} rows without tying them to the caller` +
          (owner ? `: nothing stops a user from setting ${owner} to someone else's id.` : ' (no owner column like user_id was found on the table; check the tenant column).'),
        object: policyObject(p),
        roles: effective,
        remediation: {
          text: owner
            ? `Require the new row's ${owner} to be the caller in WITH CHECK.`
            : 'Add a WITH CHECK that ties the row to the caller (an owner column, or a tenant the caller is a member of).',
          ...(tie ? { sql: alterPolicySql(p, { withCheck: `(${check.text}) AND (${tie})` }) } : {}),
        },
        evidence: { withCheck: check.text, ownerColumn: owner, command: p.command },
      });
    }
    return out;
  },
});
