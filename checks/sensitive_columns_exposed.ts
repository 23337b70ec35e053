import { sensitiveMatcher } from '../src/engine/context.ts';
import { defineCheck } from '../src/model/check.ts';
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
    return out;
  },
});
