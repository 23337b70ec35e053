import { expect, it } from 'vitest';
import check from '../../checks/unsupported_reg_types.ts';
import { fixtureSql } from '../fixtures/advisor/index.ts';
import { auditFixture, describeAdvisorCheck } from '../support/advisor.ts';

describeAdvisorCheck(check, {
  extra: (engine) => {
    it('converts arrays to text[] and quotes column names', async () => {
      const { report } = await auditFixture(engine, [fixtureSql('unsupported_reg_types.sql')], { checks: [check] });
      const sql = Object.fromEntries(report.findings.map((f) => [f.object.column, f.remediation.sql]));
      expect(sql).toEqual({
        handler: 'ALTER TABLE public.reg_jobs ALTER COLUMN handler TYPE text USING handler::text;',
        namespaces: 'ALTER TABLE public.reg_jobs ALTER COLUMN namespaces TYPE text[] USING namespaces::text[];',
        'Search Config': 'ALTER TABLE public.reg_jobs ALTER COLUMN "Search Config" TYPE text USING "Search Config"::text;',
      });
    });
  },
});
