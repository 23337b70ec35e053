import { expect, it } from 'vitest';
import check from '../../checks/extension_in_public.ts';
import { fixtureSql } from '../fixtures/advisor/index.ts';
import { auditFixture, describeAdvisorCheck } from '../support/advisor.ts';

describeAdvisorCheck(check, {
  extra: (engine) => {
    it('moves a relocatable extension with ALTER EXTENSION … SET SCHEMA', async () => {
      const { report } = await auditFixture(engine, [fixtureSql('extension_in_public.sql')], { checks: [check] });
      const [finding] = report.findings;
      expect(finding?.remediation.sql).toBe('ALTER EXTENSION citext SET SCHEMA extensions;');
      expect(finding?.evidence).toMatchObject({ relocatable: true });
    });
  },
});
