/** Which functions RLS policies call, and for which roles: revoking EXECUTE from such a role breaks its queries. */
import type { CheckContext } from '../model/check.ts';
import { qualified, quoteIdent } from '../model/ident.ts';
import { PUBLIC_ROLE, type FunctionInfo } from '../model/snapshot.ts';
import { analyzePolicies } from './analyze.ts';
import type { PolicyAnalysis } from './types.ts';

/** The parsed policies of the snapshot, computed once per audit (checks and scoring share it). */
export function policyAnalysesOf(ctx: Pick<CheckContext, 'snapshot' | 'memo'>): readonly PolicyAnalysis[] {
  return ctx.memo('policy-analysis', () => analyzePolicies(ctx.snapshot));
}

/** The parsed policies grouped by table (`schema\0table`), computed once per audit. */
export function policyAnalysesByTable(ctx: Pick<CheckContext, 'snapshot' | 'memo'>): ReadonlyMap<string, readonly PolicyAnalysis[]> {
  return ctx.memo('policy-analysis-by-table', () => {
    const map = new Map<string, PolicyAnalysis[]>();
    for (const a of policyAnalysesOf(ctx)) {
      const key = `${a.policy.schema}\u0000${a.policy.table}`;
      const list = map.get(key) ?? [];
      list.push(a);
      map.set(key, list);
    }
    return map;
  });
}

interface PolicyCall {
  /** `schema.table` of the policy. */
  readonly table: string;
  readonly roles: readonly string[];
}

/** Policies' calls by function (`schema\0name\0argument count`, resolved as the analysis resolved them). */
function callsByFunction(ctx: Pick<CheckContext, 'snapshot' | 'memo'>): ReadonlyMap<string, readonly PolicyCall[]> {
  return ctx.memo('policy-function-calls', () => {
    const map = new Map<string, PolicyCall[]>();
    for (const a of policyAnalysesOf(ctx)) {
      for (const analysis of [a.using, a.withCheck]) {
        for (const call of analysis?.functionCalls ?? []) {
          if (call.schema === null || !call.known) continue;
          const key = `${call.schema}\u0000${call.name}\u0000${call.argCount}`;
          const list = map.get(key) ?? [];
          list.push({ table: qualified(a.policy.schema, a.policy.table), roles: a.policy.roles });
          map.set(key, list);
        }
      }
    }
    return map;
  });
}

function callsOf(ctx: Pick<CheckContext, 'snapshot' | 'memo'>, fn: FunctionInfo): readonly PolicyCall[] {
  return callsByFunction(ctx).get(`${fn.schema}\u0000${fn.name}\u0000${fn.argCount}`) ?? [];
}

/** Tables whose policies call `fn` and apply to `role` (directly or through PUBLIC), sorted. */
export function policyTablesCalling(ctx: Pick<CheckContext, 'snapshot' | 'memo'>, fn: FunctionInfo, role: string): string[] {
  const calls = callsOf(ctx, fn);
  const applies = (roles: readonly string[]) => roles.includes(PUBLIC_ROLE) || roles.includes(role) || (role === PUBLIC_ROLE && roles.includes('anon'));
  return [...new Set(calls.filter((c) => applies(c.roles)).map((c) => c.table))].sort();
}

/**
 * SQL that stops `role` from calling `fn` over the API. Normally `REVOKE EXECUTE … FROM PUBLIC,
 * role`; but when policies that apply to the role call the function, revoking would make every
 * query on those tables fail with "permission denied for function", so the function is moved to
 * a schema the API does not expose instead (policies keep working: they hold the function
 * itself, not its name).
 */
export function closeFunctionSql(ctx: Pick<CheckContext, 'snapshot' | 'memo' | 'isExposed'>, fn: FunctionInfo, role: string): string {
  const signature = `${qualified(fn.schema, fn.name)}(${fn.identityArgs})`;
  const grantee = role === PUBLIC_ROLE ? 'anon' : quoteIdent(role);
  const tables = policyTablesCalling(ctx, fn, role);
  if (tables.length === 0) {
    // Policies of other roles call it: those roles may hold EXECUTE only through PUBLIC, so grant it to them by name.
    const others = [...new Set(callsOf(ctx, fn).flatMap((c) => c.roles))]
      .filter((r) => r !== role && r !== PUBLIC_ROLE && r !== 'anon')
      .sort();
    const keep = others.length > 0 ? `\nGRANT EXECUTE ON FUNCTION ${signature} TO ${others.map(quoteIdent).join(', ')};` : '';
    return `REVOKE EXECUTE ON FUNCTION ${signature} FROM PUBLIC, ${grantee};${keep}`;
  }
  const target = ['private', 'internal', 'app_private'].find((s) => !ctx.isExposed(s) && s !== fn.schema) ?? 'supaudit_private';
  const shown = tables.length > 3 ? `${tables.slice(0, 3).join(', ')} and ${tables.length - 3} more` : tables.join(', ');
  return (
    `-- RLS policies on ${shown} call ${signature} as ${role === PUBLIC_ROLE ? 'every role' : role}: REVOKE EXECUTE would make them fail.\n` +
    `-- Moved out of the exposed schemas it is no longer callable at /rest/v1/rpc, and the policies keep working.\n` +
    `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(target)};\n` +
    `ALTER FUNCTION ${signature} SET SCHEMA ${quoteIdent(target)};`
  );
}
