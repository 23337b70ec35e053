import { initPolicyParser } from '../src/policy/index.ts';
import { nullBypasses } from '../src/policy/index-match.ts';
await initPolicyParser();
for (const t of ["((join_code IS NULL) OR (project_id IN ( SELECT invites.project_id FROM public.invites WHERE (invites.code = members.join_code))))",
  "((user_id = auth.uid()) AND ((org_id IS NULL) OR (org_id IN (SELECT 1))))", "(join_code IS NOT NULL) AND (x = 1)", "COALESCE(is_public, true)", "(a IS NULL) OR (b IS NULL) OR (c = 1)"]) console.log(JSON.stringify(nullBypasses(t, 'members')));
