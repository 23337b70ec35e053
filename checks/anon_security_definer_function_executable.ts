import { defineCheck, type Check, type CheckContext } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { closeFunctionSql, policyTablesCalling } from '../src/policy/index.ts';
import type { Level } from '../src/model/level.ts';
import type { FunctionInfo } from '../src/model/snapshot.ts';
import { apiRolesExecuting, functionObject, functionSignature } from './_shared.ts';

const TRIGGER_TYPES: ReadonlySet<string> = new Set(['trigger', 'event_trigger']);

const WRITES = /\b(insert\s+into|update\s+[\w."]+\s+(?:as\s+\w+\s+)?set|delete\s+from|truncate|merge\s+into|alter\s+(?:table|role|user|policy|function)|drop\s+\w+|create\s+(?:table|role|user|policy|function|or)|grant\s|revoke\s|copy\s)/i;
const DYNAMIC = /\bexecute\s+(?!procedure\b|function\b)|\b(?:net\.http_\w+|http_(?:get|post|put|patch|delete)|extensions\.http|dblink\w*)\s*\(/i;
const SECRETS = /\b(auth\.(users|identities|sessions|refresh_tokens|mfa_factors|one_time_tokens)|vault\.|decrypted_secrets|pgsodium\.)/i;
const CALLER = /\bauth\.(uid|jwt|role|email)\s*\(|request\.jwt\.claim|\bcurrent_setting\s*\(\s*'request\.jwt/i;
const SCALAR = /^(boolean|integer|bigint|smallint|numeric|text|character varying|uuid|date|timestamp with time zone|double precision|real|void)$/;

/** Comments and string literals out of a body, so keywords inside them do not count. */
function code(source: string): string {
  return source.replace(/--[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/'(?:[^']|'')*'/g, "''");
}

/**
 * What a definer function does, from its body (SQL and PL/pgSQL): writes, dynamic SQL or HTTP
 * calls, reads of auth/vault, whether it looks at its caller, whether it returns rows. The level
 * of "role can call it" follows: an unguarded writer or secret reader is high; a read-only function
 * that returns one value (an existence check, a count) is low; one that checks its caller is
 * medium (low for anon, whom such a check refuses); others stay at the check's level.
 */
export function gradeDefiner(fn: FunctionInfo, role: 'anon' | 'authenticated', base: Level): { level: Level; why: string } {
  if (fn.source === null || !/^(sql|plpgsql)$/i.test(fn.language)) return { level: base, why: '' };
  const body = code(fn.source);
  const writes = WRITES.test(body);
  const dynamic = DYNAMIC.test(fn.source);
  const secrets = SECRETS.test(body);
  const caller = CALLER.test(fn.source);
  const scalar = !fn.returnsSet && SCALAR.test(fn.returnType);
  if ((writes || dynamic || secrets) && !caller) {
    const what = [writes ? 'writes tables' : '', dynamic ? 'runs dynamic SQL or HTTP calls' : '', secrets ? 'reads auth/vault tables' : ''].filter(Boolean).join(', ');
    return { level: 'high', why: ` Its body ${what} and never looks at who calls it.` };
  }
  if (caller) return { level: role === 'anon' ? 'low' : 'medium', why: ` Its body checks its caller (auth.uid()/auth.jwt()${role === 'anon' ? ', which anon does not have' : ''}); make sure every path does.` };
  if (!writes && !dynamic && !secrets && scalar) return { level: 'low', why: ` Its body only reads and returns one ${fn.returnType} value.` };
  return { level: base, why: '' };
}

/**
 * SECURITY DEFINER functions in exposed schemas that `role` may call over /rest/v1/rpc (EXECUTE,
 * directly, through PUBLIC or a parent role, plus USAGE on the schema).
 */
export function definerExecutable<Id extends string>(id: Id, role: 'anon' | 'authenticated', level: Level, description: string): Check<Id> {
  return defineCheck({
    meta: { id, title: `SECURITY DEFINER function callable by ${role}`, level, category: 'security', facing: 'external', splinter: id, description },
    run(ctx: CheckContext) {
      const out: FindingDraft[] = [];
      for (const fn of ctx.snapshot.functions) {
        if (!fn.securityDefiner || fn.kind !== 'function' || TRIGGER_TYPES.has(fn.returnType)) continue;
        if (!ctx.isExposed(fn.schema) || !ctx.isUserObject(fn.schema, fn.extension)) continue;
        if (!apiRolesExecuting(ctx, fn).includes(role)) continue;
        const grant = ctx.privileges.grantFor(fn.acl, role, 'EXECUTE');
        const via = grant === undefined ? 'superuser' : grant.grantee === role ? `a grant to ${role}` : `a grant to ${grant.grantee}`;
        const signature = functionSignature(fn);
        const revoke = closeFunctionSql(ctx, fn, role);
        const calledByPolicies = policyTablesCalling(ctx, fn, role);
        const grade = gradeDefiner(fn, role, level);
        out.push({
          level: grade.level,
          message:
            `SECURITY DEFINER function ${signature} runs with the rights of its owner ${fn.owner}, bypassing RLS, and ${role} can call it ` +
            `at /rest/v1/rpc/${fn.name} (EXECUTE through ${via})` +
            (role === 'anon' ? ': anyone with the public anon key can run it.' : ': every signed-in user can run it.') +
            grade.why,
          object: functionObject(fn),
          roles: [role],
          remediation: {
            text:
              (calledByPolicies.length > 0
                ? `RLS policies that ${role} runs call it (on ${calledByPolicies.join(', ')}), so revoking EXECUTE would break them: move it to a schema the API does not expose (the policies keep working), and make sure it checks its caller. `
                : '') +
              (role === 'anon'
                ? `Revoke EXECUTE from PUBLIC and anon (revoking from anon alone leaves the PUBLIC grant every new function gets); if signed-in users should keep calling it, also GRANT EXECUTE ON FUNCTION ${signature} TO authenticated. `
                : `Revoke EXECUTE from PUBLIC and authenticated if users should not call it, or make sure the function checks the caller (auth.uid()) before acting. `) +
              'A function the API should not call at all belongs in a schema the API does not expose; one that must run as its owner should check its caller and set search_path.',
            sql: revoke,
          },
          evidence: { owner: fn.owner, grantee: grant?.grantee ?? null, language: fn.language, calledByPolicies },
        });
      }
      return out;
    },
  });
}

export default definerExecutable(
  'anon_security_definer_function_executable',
  'anon',
  'high',
  'A SECURITY DEFINER function in an exposed schema can be executed by anon, so anyone with the public key runs it with its owner\'s rights.',
);
