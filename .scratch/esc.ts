import { loadPglite, auditSession } from '../test/support/audit.ts';
import { ESCALATION_SQL } from '../test/checks/escalation.fixture.ts';
import tsj from '../checks/tenant_self_join.ts';
import pe from '../checks/privilege_escalation.ts';
const s = await loadPglite(ESCALATION_SQL);
const { findings } = await auditSession(s, { checks: [tsj, pe], exposedSchemas: ['public', 'app'], prove: true });
for (const f of findings) console.log(f.level, f.check, f.object.schema, f.object.name, f.object.policy, f.roles, '\n  ', f.message, '\n  ', JSON.stringify(f.proof), '\n  ', f.remediation.sql);
await s.close();
