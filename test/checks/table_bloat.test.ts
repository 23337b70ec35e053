import { expect, it } from 'vitest';
import check from '../../checks/table_bloat.ts';
import { fixtureSql } from '../fixtures/advisor/index.ts';
import { auditFixture, describeAdvisorCheck } from '../support/advisor.ts';

describeAdvisorCheck(check, {
  extra: (engine) => {
    it('carries the estimate: about nine tenths of the pages are waste', async () => {
      const { report } = await auditFixture(engine, [fixtureSql('table_bloat.sql')], { checks: [check] });
      const evidence = report.findings[0]?.evidence as { ratio: number; wastedBytes: number; rowEstimate: number };
      expect(evidence.ratio).toBeGreaterThan(0.85);
      expect(evidence.ratio).toBeLessThan(0.95);
      expect(evidence.wastedBytes).toBeGreaterThan(20 * 1024 * 1024);
      expect(evidence.rowEstimate).toBeGreaterThan(1500);
      expect(evidence.rowEstimate).toBeLessThan(2500);
    });
  },
});
