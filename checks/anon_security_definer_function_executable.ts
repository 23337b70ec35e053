import { defineCheck, type Check, type CheckContext } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { closeFunctionSql, policyTablesCalling } from '../src/policy/index.ts';
import type { Level } from '../src/model/level.ts';
import { apiRolesExecuting, functionObject, functionSignature } from './_shared.ts';
import { gradeDefiner } from './_definer.ts';

const TRIGGER_TYPES: ReadonlySet<string> = new Set(['trigger', 'event_trigger']);

export function definerExecutable<Id extends string>(id: Id, role: 'anon' | 'authenticated', level: Level, description: string): Check<Id> {
  return defineCheck({
    meta: { id, title: `SECURITY DEFINER function callable by ${role}`, level, category: 'security', facing: 'external', splinter: id, labClaim: 'call', description },
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
        const grade = gradeDefiner(fn, role, level, ctx.snapshot.functions);
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
