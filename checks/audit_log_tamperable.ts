import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified } from '../src/model/ident.ts';
import { cellRows, relationObject, roleList, userTables } from './_shared.ts';
import { apiWriters, isAuditLog } from './_audit_trail.ts';

export default defineCheck({
  meta: {
    id: 'audit_log_tamperable',
    title: 'Audit log can be rewritten by API users',
    level: 'high',
    category: 'security',
    facing: 'external',
    description:
      'An audit trail (a table named like audit_log, activity_log, change_history, or supa_audit\'s record_version) that anon or authenticated can UPDATE or DELETE through the API: whoever did something can erase or alter the record of it.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    for (const rel of userTables(ctx)) {
      if (!isAuditLog(ctx, rel) || !(ctx.isExposed(rel.schema) || rel.schema === 'audit')) continue;
      const update = apiWriters(ctx, rel, 'UPDATE');
      const del = apiWriters(ctx, rel, 'DELETE');
      const roles = [...new Set([...update, ...del])];
      if (roles.length === 0) continue;
      const verbs = [update.length > 0 ? 'rewrite' : null, del.length > 0 ? 'delete' : null].filter(Boolean).join(' and ');
      // The lab tried: where every persona's UPDATE and DELETE failed (a policy that reads what the
      // API roles may not, and errors) or reached no row at all, its own included (`auth.role() =
      // 'service_role'`), the grant and the policy allow nothing.
      const cells = (ctx.snapshot.labMatrix ?? []).filter((m) => m.schema === rel.schema && m.name === rel.name);
      const refused = rel.rlsEnabled && cells.length > 0 && cells.every((m) => cellRows(m.update) === 0 && cellRows(m.delete) === 0);
      out.push({
        level: refused ? 'low' : roles.includes('anon') ? 'critical' : 'high',
        message:
          `${qualified(rel.schema, rel.name)} looks like an audit trail, but ${roleList(roles)} can ${verbs} its entries through the API` +
          `${rel.rlsEnabled ? ' (a policy allows it)' : ' (RLS is off)'}: a user can remove the record of what they did, so the log proves nothing.` +
          (refused ? ` In the lab every UPDATE and DELETE by ${cells.map((m) => m.persona).join(', ')} was refused, failed or reached no row: the grants are there, the policy lets nothing through today.` : ''),
        object: relationObject(rel),
        roles,
        remediation: {
          text: 'Audit entries are written by triggers or the server, never changed by clients: revoke UPDATE and DELETE from the API roles (and drop any UPDATE/DELETE policy).',
          sql: `REVOKE UPDATE, DELETE ON ${qualified(rel.schema, rel.name)} FROM ${['anon', 'authenticated'].join(', ')};`,
        },
        evidence: { update, delete: del, rls: rel.rlsEnabled },
      });
    }
    return out;
  },
});
