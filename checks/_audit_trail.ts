/** Shared by the repudiation checks: which API roles can change a table's rows, and what records it. */
import type { CheckContext } from '../src/model/check.ts';
import type { Relation } from '../src/model/snapshot.ts';
import { literalPattern } from '../src/model/sql-text.ts';
import { policyAnalysesByTable } from '../src/policy/index.ts';
import { decidingClause, policyEffectiveRoles } from './_policy_checks.ts';

export type WriteCommand = 'INSERT' | 'UPDATE' | 'DELETE';
const API_ROLES = ['anon', 'authenticated'] as const;

/**
 * The API roles that can run `command` on the table: the grant (and schema usage), and with RLS on a
 * permissive policy for the command that applies to the role (for anon, one not tied to the caller's
 * own rows). Restrictive policies are not weighed.
 */
export function apiWriters(ctx: CheckContext, rel: Relation, command: WriteCommand): string[] {
  const granted = API_ROLES.filter((role) => ctx.privileges.hasSchemaUsage(rel.schema, role) && ctx.privileges.hasOnRelation(rel, role, command));
  if (!rel.rlsEnabled || granted.length === 0) return [...granted];
  const mine = (policyAnalysesByTable(ctx).get(`${rel.schema}\u0000${rel.name}`) ?? []).filter((a) => a.policy.permissive && (a.policy.command === command || a.policy.command === 'ALL'));
  // A policy tied to the caller's own rows (auth.uid() = owner…) matches no row for anon, whose uid is NULL.
  return granted.filter((role) => mine.some((a) => policyEffectiveRoles(ctx, a).granted.includes(role) && !(role === 'anon' && decidingClause(a)?.callerTied === true)));
}

/** Something records changes to the table: pgaudit, or an AFTER write trigger, or a trigger function that inserts elsewhere. */
export function recordsChanges(ctx: CheckContext, rel: Relation): string | null {
  if (ctx.snapshot.extensions.some((e) => e.name === 'pgaudit')) return 'pgaudit';
  if ((rel.afterWriteFunctions ?? []).length > 0) return `trigger ${rel.afterWriteFunctions![0]}`;
  const before = [...(rel.beforeInsertFunctions ?? []), ...(rel.beforeUpdateFunctions ?? [])];
  for (const name of before) {
    const fn = ctx.snapshot.functions.find((f) => `${f.schema}.${f.name}` === name);
    if (fn?.source && /\binsert\s+into\b/i.test(fn.source)) return `trigger ${name}`;
  }
  return null;
}

/**
 * Names of audit trails: audit tables, activity/event/change/access logs and histories, supa_audit's
 * record_version. Not any log or history: error logs, e-mail logs and a user's search or chat
 * history are data the user may own and delete, not a record of who did what.
 */
const AUDIT_NAME = /^audits?$|(^|_)audit_?(logs?|trails?|events?|entries|records?|history)$|(^|_)(activity|event|change|access|security|admin|action|login)_?(logs?|history)$|^record_version$/i;

/**
 * An audit trail: named like one, or named with "audit" (`user_audits`) and written by the database
 * itself (a trigger or a function inserts into it). A `website_audits` that only the app fills
 * (an SEO report, a checklist) is the user's data, not a record of who did what.
 */
export function isAuditLog(ctx: CheckContext, rel: Relation): boolean {
  if (AUDIT_NAME.test(rel.name)) return true;
  if (!/audit/i.test(rel.name)) return false;
  const into = new RegExp(`\\binsert\\s+into\\s+(?:(?:"?${literalPattern(rel.schema)}"?)\\s*\\.\\s*)?"?${literalPattern(rel.name)}"?(?![\\w$])`, 'i');
  return ctx.snapshot.functions.some((f) => f.source !== null && into.test(f.source));
}
