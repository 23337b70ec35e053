/**
 * Micro-benchmark: parse + analyse 10,000 generated policies (pg_get_expr-style texts) against a generated
 * snapshot of 2,500 tables. Run with `npx tsx bench/policy-parse.ts [count]`. Target: under 2 s for 10,000.
 */
import { analyzePolicies, initPolicyParser, parseExpression } from '../src/policy/index.ts';
import type { Policy, PolicyCommand } from '../src/model/snapshot.ts';
import { fn, policy, relation, snapshot } from '../test/policy/fixtures.ts';

const count = Number(process.argv[2] ?? 10_000);
const tables = Math.ceil(count / 4);

const templates: ((t: string, i: number) => string)[] = [
  () => '(auth.uid() = user_id)',
  () => '(( SELECT auth.uid() AS uid) = user_id)',
  (t) =>
    `(EXISTS ( SELECT 1\n   FROM team_members tm\n  WHERE ((tm.team_id = ${t}.team_id) AND (tm.user_id = auth.uid()))))`,
  () =>
    '(team_id IN ( SELECT team_members.team_id\n   FROM team_members\n  WHERE (team_members.user_id = ( SELECT auth.uid() AS uid))))',
  () => "(((auth.jwt() -> 'user_metadata'::text) ->> 'role'::text) = 'admin'::text)",
  () => 'true',
  () => "(((current_setting('request.jwt.claims'::text, true))::json ->> 'sub'::text) = (user_id)::text)",
  (_t, i) => `((user_id = auth.uid()) OR (is_public AND (org_id = ${i})))`,
  () => "(is_team_member(team_id) AND private.has_role('admin'::text))",
  () => '(team_id = ANY (ARRAY( SELECT user_teams() AS user_teams)))',
  () => '((auth.uid() IS NULL) OR (user_id = auth.uid()))',
  (t) =>
    `((team_id IN ( SELECT team_members.team_id\n   FROM team_members\n  WHERE ((team_members.user_id = auth.uid()) AND (team_members.role = 'admin'::text)))) OR (${t}.is_public = true))`,
  (_t, i) =>
    `((status = ANY (ARRAY['draft'::text, 'published'::text])) AND (org_id = ((auth.jwt() -> 'app_metadata'::text) ->> 'org_id'::text)::integer) AND (id > ${i}))`,
  (t) =>
    `(EXISTS ( SELECT 1\n   FROM (team_members tm\n     JOIN teams tt ON ((tt.id = tm.team_id)))\n  WHERE ((tm.user_id = ( SELECT auth.uid() AS uid)) AND (tt.org_id = ${t}.org_id) AND (tm.role = ANY (ARRAY['owner'::text, 'admin'::text])))))`,
];
const commands: PolicyCommand[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];

const relations = [
  relation('public', 'team_members', ['team_id', 'user_id', 'role']),
  relation('public', 'teams', ['id', 'org_id', 'name']),
];
const policies: Policy[] = [];
for (let i = 0; i < tables; i++) {
  const t = `table_${i}`;
  relations.push(relation('public', t, ['id', 'user_id', 'team_id', 'org_id', 'is_public', 'status', 'data']));
  for (let j = 0; j < 4 && policies.length < count; j++) {
    const text = templates[(i * 4 + j) % templates.length]!(t, i);
    const command = commands[j]!;
    policies.push(
      policy(t, `p_${i}_${j}`, {
        command,
        using: command === 'INSERT' ? null : text,
        withCheck: command === 'INSERT' || command === 'UPDATE' ? text : null,
      }),
    );
  }
}
const snap = snapshot({
  relations,
  functions: [
    fn('auth', 'uid', { volatility: 'stable' }),
    fn('auth', 'jwt', { volatility: 'stable' }),
    fn('public', 'is_team_member', { volatility: 'stable', argCount: 1, source: 'select exists (select 1 from team_members where team_id = $1 and user_id = auth.uid())' }),
    fn('public', 'user_teams', { volatility: 'stable', returnsSet: true, securityDefiner: true, source: 'select team_id from team_members where user_id = auth.uid()' }),
    fn('private', 'has_role', { volatility: 'stable', argCount: 1, securityDefiner: true, source: 'select true' }),
  ],
  policies,
});
const expressions = policies.reduce((n, p) => n + (p.using ? 1 : 0) + (p.withCheck ? 1 : 0), 0);

let t0 = performance.now();
await initPolicyParser();
const initMs = performance.now() - t0;

// Parse only, for reference.
t0 = performance.now();
for (const p of policies) {
  if (p.using) parseExpression(p.using);
  if (p.withCheck) parseExpression(p.withCheck);
}
const parseMs = performance.now() - t0;

t0 = performance.now();
const analyses = analyzePolicies(snap);
const totalMs = performance.now() - t0;

const errors = analyses.filter((a) => a.using?.parseError || a.withCheck?.parseError).length;
const perRow = analyses.filter((a) => (a.using?.authCalls ?? []).some((c) => c.perRow)).length;
console.log(`policies: ${analyses.length} (${expressions} expressions) on ${relations.length} tables; parse errors: ${errors}; with per-row auth calls: ${perRow}`);
console.log(`WASM init: ${initMs.toFixed(0)} ms; parse only: ${parseMs.toFixed(0)} ms`);
console.log(`parse + analyse: ${totalMs.toFixed(0)} ms total, ${Math.round((analyses.length / totalMs) * 1000)} policies/s`);
