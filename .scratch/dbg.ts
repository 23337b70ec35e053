import { initPolicyParser, parseExpression } from '../src/policy/index.ts';
import { deparseSync } from 'pgsql-deparser';
await initPolicyParser();
const t = `EXISTS (SELECT 1 FROM public.team_members m WHERE m.team_id = team_members.team_id AND m.user_id = (SELECT auth.uid() AS uid) AND m.role = 'admin'::text)`;
const p = parseExpression(t) as any;
console.log(deparseSync(p.ast, { pretty: false }));
const ADMINISH = /'(?:[a-z_]*_)?(?:admin|administrator|owner|manager|moderator|staff|superuser|editor)s?'/i;
const sh = deparseSync(p.ast, { pretty: false });
console.log(/\bauth\.(uid|jwt)\s*\(/i.test(sh), /\bSELECT\b/i.test(sh), ADMINISH.test(sh));
