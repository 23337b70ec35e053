import { loadPglite } from '../test/support/audit.ts';
import { ESCALATION_SQL } from '../test/checks/escalation.fixture.ts';
import { introspect } from '../src/introspect/index.ts';
import { initPolicyParser, policyAnalysesByTable } from '../src/policy/index.ts';
import { createContext } from '../src/engine/context.ts';
import { freeArm, trustSources } from '../checks/_authz.ts';
const s = await loadPglite(ESCALATION_SQL);
const snap = await introspect(s, { exposedSchemas: ['public', 'app'] });
await initPolicyParser();
const ctx = createContext(snap);
for (const a of policyAnalysesByTable(ctx).get('public\u0000team_members') ?? []) {
  console.log(a.policy.name, a.effectiveWithCheck?.text, '=>', freeArm(ctx, a.effectiveWithCheck!.text, 'team_members', 'role'));
}
for (const t of trustSources(ctx)) console.log(t.source.name, t.keyColumn, [...t.tenantColumns], [...t.privilegeColumns], [...t.constants]);
await s.close();
