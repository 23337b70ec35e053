import { expect, it } from 'vitest';
import check from '../../checks/realtime_rls_cost.ts';
import { fixtureSql } from '../fixtures/advisor/index.ts';
import { auditFixture, describeAdvisorCheck } from '../support/advisor.ts';

describeAdvisorCheck(check, {
  // A join has no mechanical fix: the finding explains the options instead of carrying SQL.
  afterFix: ['realtime_rls_cost:public.rc_room_messages'],
  extra: (engine) => {
    it('wraps per-row calls, classifies joins, and names the tables they read', async () => {
      const { report } = await auditFixture(engine, [fixtureSql('realtime_rls_cost.sql')], { checks: [check] });
      const byTable = Object.fromEntries(report.findings.map((f) => [f.object.name, f]));
      expect(byTable['rc_messages']?.remediation.sql).toBe(
        'ALTER POLICY "rc users read their messages" ON public.rc_messages USING (((SELECT auth.uid())) = user_id);',
      );
      expect(byTable['rc_messages']?.evidence).toMatchObject({ cost: 'per_row_function' });
      expect(byTable['rc_room_messages']?.evidence).toMatchObject({ cost: 'subquery_join' });
      expect(byTable['rc_room_messages']?.message).toContain('reads public.rc_room_members');
      expect(byTable['rc_room_messages']?.remediation.sql).toBeUndefined();
    });
  },
});
