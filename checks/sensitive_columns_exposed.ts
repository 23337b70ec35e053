import { sensitiveMatcher } from '../src/engine/context.ts';
import { defineCheck, type CheckContext } from '../src/model/check.ts';
import { policyAnalysesByTable } from '../src/policy/index.ts';
import { privilegeGate, requiresCaller } from '../src/policy/index-match.ts';
import { policyEffectiveRoles } from './_policy_checks.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import { API_ROLES } from '../src/model/schemas.ts';
import type { Relation } from '../src/model/snapshot.ts';
import { enableRlsSql, relationObject, roleList, rowsText, userTables } from './_shared.ts';

/**
 * Column REVOKE does not remove a table-level grant, so hiding columns means revoking SELECT on
 * the table and granting it back on the other columns.
 */
function columnRevokeSql(table: Relation, hidden: readonly string[], roles: readonly string[]): string[] {
  const name = qualified(table.schema, table.name);
  const keep = table.columns.map((c) => c.name).filter((c) => !hidden.includes(c));
  const grantees = roles.map(quoteIdent).join(', ');
  return [
    '-- and if clients never need those columns:',
    `REVOKE SELECT ON ${name} FROM ${grantees};`,
    ...(keep.length > 0 ? [`GRANT SELECT (${keep.map(quoteIdent).join(', ')}) ON ${name} TO ${grantees};`] : []),
  ];
}

export default defineCheck({
  meta: {
    id: 'sensitive_columns_exposed',
    title: 'Sensitive columns readable without RLS',
    level: 'critical',
    category: 'security',
    facing: 'external',
    labClaim: 'read',
    splinter: 'sensitive_columns_exposed',
    description:
      'A table in an exposed schema without Row Level Security has columns whose names suggest secrets or personal data, readable by anon or authenticated.',
  },
  run(ctx) {
    const isSensitive = sensitiveMatcher(ctx.options.sensitiveColumnPatterns);
    const out: FindingDraft[] = [];
    for (const table of userTables(ctx)) {
      if (!ctx.isExposed(table.schema) || table.rlsEnabled) continue;
      const readers = API_ROLES.filter((role) => ctx.privileges.role(role) && ctx.privileges.hasSchemaUsage(table.schema, role));
      const exposedBy = new Map<string, string[]>();
      for (const role of readers) {
        for (const column of ctx.privileges.readableColumns(table, role)) {
          if (!isSensitive(column)) continue;
          const list = exposedBy.get(column) ?? [];
          list.push(role);
          exposedBy.set(column, list);
        }
      }
      if (exposedBy.size === 0) continue;
      const columns = [...exposedBy.keys()];
      const roles = [...new Set([...exposedBy.values()].flat())].sort();
      const name = qualified(table.schema, table.name);
      out.push({
        level: roles.includes('anon') ? 'critical' : 'high',
        message:
          `${name} has no Row Level Security and ${roleList(roles)} can read its sensitive column${columns.length > 1 ? 's' : ''} ` +
          `${columns.map((c) => quoteIdent(c)).join(', ')} (${rowsText(table)}).`,
        object: relationObject(table),
        roles,
        remediation: {
          text: 'Enable RLS with policies that scope rows to their owner, and revoke column access the client never needs.',
          sql: [enableRlsSql(table), ...columnRevokeSql(table, columns, roles)].join('\n'),
        },
        evidence: { columns, rowEstimate: table.rowEstimate },
      });
    }
    out.push(...sharedSecrets(ctx));
    return out;
  },
});

/** Credentials, not personal data: a shared row may show its owner's name or e-mail by design, never its key. */
const isSecret = sensitiveMatcher(['passw(or)?d', 'secret', 'token', 'api_?key', 'private_?key', 'access_?key', 'otp', 'totp']);

/**
 * With RLS on, a SELECT policy that lets a role read rows it does not own (`sharing <> 'private'`,
 * `true`, a membership) on a table whose credential columns the role may read: every row it can
 * see carries someone else's key.
 */
function sharedSecrets(ctx: CheckContext): FindingDraft[] {
  const out: FindingDraft[] = [];
  for (const table of userTables(ctx)) {
    if (!ctx.isExposed(table.schema) || !table.rlsEnabled) continue;
    const analyses = (policyAnalysesByTable(ctx).get(`${table.schema}\u0000${table.name}`) ?? []).filter(
      (a) => a.policy.permissive && (a.policy.command === 'SELECT' || a.policy.command === 'ALL'),
    );
    const byRole = new Map<string, { columns: string[]; policies: string[] }>();
    for (const role of API_ROLES) {
      if (!ctx.privileges.role(role) || !ctx.privileges.hasSchemaUsage(table.schema, role)) continue;
      const columns = ctx.privileges.readableColumns(table, role).filter((c) => isSecret(c) !== null);
      if (columns.length === 0) continue;
      const opening = analyses.filter((a) => {
        if (!policyEffectiveRoles(ctx, a).granted.includes(role)) return false;
        const using = a.using;
        if (!using || using.parseError !== null || using.callerTied || privilegeGate(using.text) !== null) return false;
        if (role === 'anon' && requiresCaller(using.text)) return false;
        return true;
      });
      if (opening.length > 0) byRole.set(role, { columns, policies: opening.map((a) => a.policy.name) });
    }
    if (byRole.size === 0) continue;
    const roles = [...byRole.keys()].sort();
    const columns = [...new Set([...byRole.values()].flatMap((v) => v.columns))];
    const policies = [...new Set([...byRole.values()].flatMap((v) => v.policies))];
    const name = qualified(table.schema, table.name);
    out.push({
      level: 'high',
      message:
        `${name} has RLS, but ${policies.map((p) => `policy ${quoteIdent(p)}`).join(' and ')} lets ${roleList(roles)} read rows they do not own, and ${roleList(roles)} may read ` +
        `the credential column${columns.length > 1 ? 's' : ''} ${columns.map((c) => quoteIdent(c)).join(', ')}: every such row hands over its owner's secret (${rowsText(table)}).`,
      object: relationObject(table),
      roles,
      detail: 'shared-rows',
      remediation: {
        text:
          'Keep credentials out of rows others can read: move them to a table only the owner (or only the server) reads, or hide the columns from the API roles. ' +
          'The SQL below hides them from every client, the owner included: if the owner\'s client reads its own key, move the column to an owner-only table instead.',
        sql: columnRevokeSql(table, columns, roles).slice(1).join('\n'),
      },
      evidence: { columns, policies, shared: true },
    });
  }
  return out;
}
