import { sensitiveMatcher } from '../src/engine/context.ts';
import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import { policyAnalysesByTable } from '../src/policy/index.ts';
import { definerWrites, harmlessColumns, observed, reachOf, trustSources, writePaths } from './_authz.ts';
import { closeFunctionSql } from '../src/policy/index.ts';
import { functionObject } from './_shared.ts';
import { policyLabel, policyObject } from './_policy_checks.ts';
import { relationObject } from './_shared.ts';

export default defineCheck({
  meta: {
    id: 'privilege_escalation',
    title: 'User can write the value a policy trusts',
    level: 'critical',
    category: 'security',
    facing: 'external',
    labClaim: 'escalation',
    proves: true,
    description:
      'Policies decide access from a column of the caller\'s own row (role, kind, is_admin, plan, e-mail…) and the caller may write that column (a table-wide UPDATE grant with an "update own row" policy, or an "insert own rows" policy that leaves it free): a user makes itself privileged.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    const isSensitive = sensitiveMatcher(ctx.options.sensitiveColumnPatterns);
    for (const src of trustSources(ctx)) {
      const s = src.source;
      const analyses = policyAnalysesByTable(ctx).get(`${s.schema}\u0000${s.name}`) ?? [];
      const reach = reachOf(ctx, src, isSensitive);
      for (const column of src.privilegeColumns) {
        // On a membership table a new row is also a new tenant: tenant_self_join reports inserts there.
        const paths = writePaths(ctx, s, src.keyColumn, column, analyses, src.tenantColumns.size > 0 ? ['UPDATE'] : ['UPDATE', 'INSERT']);
        const byWay = new Map<string, typeof paths>();
        for (const p of paths) byWay.set(p.command, [...(byWay.get(p.command) ?? []), p]);
        for (const group of byWay.values()) {
          const first = group[0]!;
          const roles = group.map((p) => p.role);
          const constants = src.constants.get(column) ?? [];
          const col = s.columns.find((c) => c.name === column)!;
          const candidates = [...constants, ...(col.type === 'boolean' ? ['true'] : [])];
          const where = first.policy ? policyLabel(first.policy) : `${qualified(s.schema, s.name)} (RLS off)`;
          const how =
            first.command === 'UPDATE'
              ? `a signed-in user updates ${column} of its own row (${src.keyColumn} = its id)`
              : `a signed-in user inserts a row of its own (${src.keyColumn} = its id) with any ${column}`;
          const keep = harmlessColumns(src).filter((c) => first.command === 'UPDATE' || c !== column);
          const verb = first.command;
          const allowed = first.command === 'INSERT' ? [src.keyColumn, ...keep] : keep;
          const sql = [
            `REVOKE ${verb} ON ${qualified(s.schema, s.name)} FROM ${roles.map(quoteIdent).join(', ')};`,
            ...(allowed.length > 0 ? [`GRANT ${verb} (${allowed.map(quoteIdent).join(', ')}) ON ${qualified(s.schema, s.name)} TO ${roles.map(quoteIdent).join(', ')};`] : []),
          ].join('\n');
          out.push({
            level: reach.severe ? 'critical' : 'high',
            message:
              `${where}: ${how}${constants.length > 0 ? `, e.g. ${column} = ${constants.slice(0, 3).map((c) => `'${c}'`).join(' or ')}` : ''}; ` +
              `${qualified(s.schema, s.name)}.${column} is trusted by ${reach.policies.slice(0, 6).join(', ')}${reach.policies.length > 6 ? ` and ${reach.policies.length - 6} more` : ''}` +
              (reach.tables.length > 0 ? `, so the user gains what they grant on ${reach.tables.join(', ')}` : '') +
              (reach.sensitive.length > 0 ? ` (sensitive columns: ${reach.sensitive.slice(0, 5).join(', ')})` : '') +
              '.',
            object: first.policy ? policyObject(first.policy) : relationObject(s),
            roles,
            detail: `${column}:${first.command}`,
            remediation: {
              text:
                `Users must not write ${column}: grant ${verb} only on the columns they may set (below), and set ${column} from a SECURITY DEFINER function or the service role. ` +
                'Alternatively keep privileges in a table users cannot write, or in app_metadata (server-set) instead of a user-writable row.',
              sql,
            },
            evidence: { source: `${s.schema}.${s.name}`, keyColumn: src.keyColumn, column, command: first.command, values: constants, trustedBy: reach.policies, opens: reach.tables },
            exploit: {
              role: roles.includes('authenticated') ? 'authenticated' : roles[0]!,
              table: { schema: s.schema, name: s.name },
              write: first.command === 'INSERT' ? 'insert' : 'update',
              actorColumn: src.keyColumn,
              column,
              candidates,
              observe: observed(src),
              fix: sql,
              ...(first.command === 'UPDATE' && keep.length > 0 ? { ownerColumn: keep[0]! } : {}),
            },
          });
        }
        for (const w of definerWrites(ctx, s, column)) {
          const signature = `${qualified(w.fn.schema, w.fn.name)}(${w.fn.identityArgs})`;
          out.push({
            level: reach.severe ? 'critical' : 'high',
            message:
              `SECURITY DEFINER function ${signature} writes ${qualified(s.schema, s.name)}.${column} from its arguments with its owner's rights (RLS does not apply) and checks no admin role; ` +
              `${w.roles.join(', ')} call${w.roles.length === 1 ? 's' : ''} it at /rest/v1/rpc/${w.fn.name}. ${qualified(s.schema, s.name)}.${column} is trusted by ${reach.policies.slice(0, 6).join(', ')}` +
              (reach.tables.length > 0 ? `, so a user who sets it gains what they grant on ${reach.tables.join(', ')}` : '') +
              '. (Not exploited automatically: the function\'s arguments are not modelled; read its body.)',
            object: functionObject(w.fn),
            roles: w.roles,
            detail: `${s.schema}.${s.name}.${column}`,
            remediation: {
              text: `Make the function refuse to set ${column} for ordinary callers (check an admin role inside it), or revoke EXECUTE from the API roles and call it from the server.`,
              sql: w.roles.map((r) => closeFunctionSql(ctx, w.fn, r)).join('\n'),
            },
            evidence: { source: `${s.schema}.${s.name}`, column, via: 'security definer function', trustedBy: reach.policies, opens: reach.tables },
          });
        }
      }
    }
    return out;
  },
});
