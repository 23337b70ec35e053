import { expect, it } from 'vitest';
import check from '../../checks/materialized_view_in_api.ts';
import { fixtureSql } from '../fixtures/advisor/index.ts';
import { auditFixture, describeAdvisorCheck } from '../support/advisor.ts';

describeAdvisorCheck(check, {
  extra: (engine) => {
    it('quotes the name in the REVOKE, and stays silent on schemas that are not exposed', async () => {
      const { report } = await auditFixture(engine, [fixtureSql('materialized_view_in_api.sql')], { checks: [check] });
      const quoted = report.findings.find((f) => f.object.name === 'MV "quoted" totals');
      expect(quoted?.remediation.sql).toBe('REVOKE SELECT ON public."MV ""quoted"" totals" FROM anon, authenticated;');
      expect(quoted?.roles).toEqual(['anon', 'authenticated']);
      const notExposed = await auditFixture(engine, [fixtureSql('materialized_view_in_api.sql')], { checks: [check], exposedSchemas: ['api'] });
      expect(notExposed.report.findings).toEqual([]);
    });
  },
});
