import { expect, it } from 'vitest';
import check from '../../checks/authenticated_security_definer_function_executable.ts';
import { fixtureSql } from '../fixtures/advisor/index.ts';
import { auditFixture, describeAdvisorCheck } from '../support/advisor.ts';

describeAdvisorCheck(check, {
  extra: (engine) => {
    it('revokes from PUBLIC and authenticated, and says where EXECUTE comes from', async () => {
      const { report } = await auditFixture(engine, [fixtureSql('security_definer_function_executable.sql')], { checks: [check] });
      const mine = report.findings.find((f) => f.object.name === 'sd_my_account');
      expect(mine?.remediation.sql).toBe('REVOKE EXECUTE ON FUNCTION public.sd_my_account() FROM PUBLIC, authenticated;');
      expect(mine?.message).toContain('EXECUTE through a grant to authenticated');
      expect(mine?.roles).toEqual(['authenticated']);
    });
  },
});
