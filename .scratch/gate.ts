import { initPolicyParser } from '../src/policy/index.ts';
import { conjunctTexts, privilegeGate } from '../src/policy/index-match.ts';
await initPolicyParser();
for (const t of ["(( SELECT auth.role() AS role) = 'service_role'::text)", "( SELECT public.is_admin() AS is_admin)", "((((auth.jwt() -> 'app_metadata'::text) ->> 'role'::text) = 'admin'::text) AND (body IS NOT NULL))"]) console.log(JSON.stringify(conjunctTexts(t)), privilegeGate(t));
