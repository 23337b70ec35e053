import { expect, it } from 'vitest';
import check from '../../checks/realtime_publication_all_tables.ts';
import { fixtureSql } from '../fixtures/advisor/index.ts';
import { auditFixture, describeAdvisorCheck } from '../support/advisor.ts';

describeAdvisorCheck(check, {
  extra: (engine) => {
    it('lists the subscribed tables and keeps the publish option; no SQL without subscribers', async () => {
      const sql = fixtureSql('realtime_publication_all_tables.sql');
      const { report } = await auditFixture(engine, [sql], { checks: [check] });
      expect(report.findings[0]?.remediation.sql).toBe(
        "BEGIN;\nDROP PUBLICATION supabase_realtime;\nCREATE PUBLICATION supabase_realtime FOR TABLE public.pa_messages WITH (publish = 'insert, update, delete');\nCOMMIT;",
      );
      const none = await auditFixture(engine, [sql, 'delete from realtime.subscription;'], { checks: [check] });
      expect(none.report.findings[0]?.remediation.sql).toBeUndefined();
    });
  },
});
