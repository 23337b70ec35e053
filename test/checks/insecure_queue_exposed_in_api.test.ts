import { expect, it } from 'vitest';
import check from '../../checks/insecure_queue_exposed_in_api.ts';
import { fixtureSql } from '../fixtures/advisor/index.ts';
import { auditFixture, describeAdvisorCheck } from '../support/advisor.ts';

// pgmq is not available on the test servers: the fixture builds what pgmq.create() leaves in the
// catalog (schema pgmq, a q_<queue> table, grants), which is what the check reads.
describeAdvisorCheck(check, {
  extra: (engine) => {
    it('is silent when pgmq_public is not exposed', async () => {
      const { report } = await auditFixture(engine, [fixtureSql('insecure_queue_exposed_in_api.sql')], { checks: [check], exposedSchemas: ['public'] });
      expect(report.findings).toEqual([]);
    });
  },
});
