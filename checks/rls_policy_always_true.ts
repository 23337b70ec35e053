import { sensitiveMatcher } from '../src/engine/context.ts';
import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import type { Level } from '../src/model/level.ts';
import { alterPolicySql } from '../src/policy/index.ts';
import { appliesToAnon, ownerColumn, policyEffectiveRoles, policyLabel, policyObject, userPolicyAnalyses } from './_policy_checks.ts';

export default defineCheck({
  meta: {
    id: 'rls_policy_always_true',
    title: 'Permissive policy that is true for every row',
    level: 'medium',
    category: 'security',
    facing: 'external',
    labClaim: 'access',
    splinter: 'rls_policy_always_true',
    description:
      'A permissive policy whose USING or WITH CHECK is true for every row (true, 1 = 1, x OR true, coalesce(…, true)), or for every anonymous caller (auth.uid() IS NULL OR …), found on the parsed expression.',
  },
  run(ctx) {
    const isSensitive = sensitiveMatcher(ctx.options.sensitiveColumnPatterns);
    const out: FindingDraft[] = [];
    for (const a of userPolicyAnalyses(ctx)) {
      const p = a.policy;
      if (!p.permissive) continue;
      // A policy no API request can meet (only service_role, a role nobody becomes, RLS off) opens nothing.
      const reach = policyEffectiveRoles(ctx, a);
      if (reach.roles.length === 0) continue;
      // Latent: no role holds the command's privilege today; it opens every row once one is granted.
      const latent = reach.granted.length === 0;
      const effective = latent ? reach.roles : reach.granted;
      const command = p.command;
      const anon = appliesToAnon(p) && effective.includes('anon');
      // Which clause lets every row through: USING for reads/updates/deletes, WITH CHECK for writes.
      let clause: 'USING' | 'WITH CHECK' | null = null;
      let anonymousOnly = false;
      if (command !== 'INSERT' && a.using) {
        if (a.using.alwaysTrue === 'always') clause = 'USING';
        else if (a.using.alwaysTrue === 'anonymous' && anon) [clause, anonymousOnly] = ['USING', true];
      }
      if (clause === null && (command === 'INSERT' || command === 'UPDATE' || command === 'ALL')) {
        // No WITH CHECK (and, for UPDATE/ALL, no USING) admits no new row: Postgres denies, it does not allow.
        const check = a.effectiveWithCheck;
        if (check?.alwaysTrue === 'always') clause = 'WITH CHECK';
        else if (check?.alwaysTrue === 'anonymous' && anon) [clause, anonymousOnly] = ['WITH CHECK', true];
      }
      if (clause === null) continue;
      const relation = a.relation;
      const sensitive = relation?.columns.map((c) => c.name).filter((c) => isSensitive(c) !== null) ?? [];
      // Only the WITH CHECK of an ALL or UPDATE policy is true: its USING still decides which rows
      // the caller reads and changes; what is open is the values (an INSERT of any row, a row moved
      // to another owner or tenant).
      const checkOnly = clause === 'WITH CHECK' && command !== 'INSERT';
      let level: Level;
      if (latent) level = 'low';
      // INSERT alone adds rows (junk, a forged author): medium; a membership or role row that other
      // policies trust is the escalation tenant_self_join and privilege_escalation report.
      else if (command === 'INSERT' || checkOnly) level = 'medium';
      else if (anonymousOnly || command !== 'SELECT') level = 'high';
      else if (!anon) level = 'low';
      else if (sensitive.length > 0) level = 'high';
      // A public read policy on a table without sensitive columns is the documented way to publish
      // a table (profiles, posts): intended, not reported.
      else continue;
      const what = command === 'SELECT' ? 'read' : command === 'ALL' ? 'read and change' : command === 'INSERT' ? 'insert' : command.toLowerCase();
      const who = anonymousOnly ? 'every anonymous caller (the anon key)' : effective.join(', ');
      const owner = ownerColumn(relation);
      let sql: string | undefined;
      if (anonymousOnly) {
        sql = `ALTER POLICY ${quoteIdent(p.name)} ON ${qualified(p.schema, p.table)} TO authenticated;`;
      } else if (owner) {
        const tie = `(select auth.uid()) = ${quoteIdent(owner)}`;
        sql = alterPolicySql(p, {
          ...(command !== 'INSERT' ? { using: tie } : {}),
          ...(command === 'INSERT' || command === 'UPDATE' || command === 'ALL' ? { withCheck: tie } : {}),
        });
      }
      out.push({
        level,
        message:
          (checkOnly
            ? `${policyLabel(p)} has a WITH CHECK that is true for every row (its USING is not), so ${who} can ${command === 'ALL' ? 'insert rows with any values and ' : ''}set any values (another owner, another tenant) on the rows its USING lets them change`
            : `${policyLabel(p)} is true for every row in its ${clause}, so ${who} can ${what} every row`) +
          (anonymousOnly ? ': auth.uid() is NULL without a JWT, which makes the expression true.' : command === 'SELECT' && !anon ? ' (fine if the table is meant to be readable by every signed-in user).' : '.') +
          (sensitive.length > 0 && command !== 'INSERT' ? ` The table has sensitive columns: ${sensitive.join(', ')}.` : '') +
          (latent ? ` Latent today: ${effective.join(', ')} hold no ${command === 'ALL' ? 'privilege' : command} on the table, so it opens nothing until one is granted (Supabase's default privileges grant all).` : ''),
        object: policyObject(p),
        roles: effective,
        remediation: {
          text: anonymousOnly
            ? 'Restrict the policy to signed-in users (the anonymous branch then never applies), or remove the IS NULL branch.'
            : owner
              ? `Tie the policy to the row's owner column ${owner}, or drop it if the table should not be open.`
              : 'Replace the condition with one that ties rows to the caller (an owner column, a membership subquery), or drop the policy.',
          ...(sql ? { sql } : {}),
        },
        evidence: { clause, command, using: a.using?.text ?? null, withCheck: a.withCheck?.text ?? null, anonymousOnly, sensitiveColumns: sensitive, latent },
      });
    }
    return out;
  },
});
