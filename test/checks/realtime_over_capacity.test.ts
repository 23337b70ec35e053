import { expect, it } from 'vitest';
import check from '../../checks/realtime_over_capacity.ts';
import { DEFAULT_CHECK_OPTIONS } from '../../src/engine/context.ts';
import { fixtureSql } from '../fixtures/advisor/index.ts';
import { auditFixture, describeAdvisorCheck } from '../support/advisor.ts';

describeAdvisorCheck(check, {
  // No SQL can lower a load: the finding carries advice (see the test below for the fix applied by hand).
  afterFix: ['realtime_over_capacity:public.oc_ticks'],
  extra: (engine) => {
    it('gives the estimate and its inputs, and is silent once the table leaves the publication', async () => {
      const sql = fixtureSql('realtime_over_capacity.sql');
      const { report } = await auditFixture(engine, [sql], { checks: [check] });
      const evidence = report.findings[0]?.evidence as Record<string, unknown>;
      expect(evidence).toMatchObject({ subscribers: 3500, subscribersSource: 'measured', windowSource: 'stats_reset', limitPerSecond: 3000 });
      expect(evidence['changesPerSecond'] as number).toBeGreaterThan(1);
      expect(report.realtime?.subscribersSource).toBe('realtime.subscription');
      expect(report.realtime?.tables.map((t) => [t.name, t.subscribers, t.rls, t.policyCost])).toEqual([
        ['oc_idle', 3000, true, 'cheap'],
        ['oc_quiet', 1, true, 'cheap'],
        ['oc_ticks', 3500, true, 'cheap'],
      ]);
      const fixed = await auditFixture(engine, [sql, 'alter publication supabase_realtime drop table public.oc_ticks;'], { checks: [check] });
      expect(fixed.report.findings).toEqual([]);
    });

    it('uses the assumed subscriber count when realtime.subscription is empty', async () => {
      const sql = `${fixtureSql('realtime_over_capacity.sql')}\ndelete from realtime.subscription;`;
      const few = await auditFixture(engine, [sql], { checks: [check], checkOptions: { ...DEFAULT_CHECK_OPTIONS, realtimeSubscribers: 0 } });
      expect(few.report.findings).toEqual([]);
      expect(few.report.realtime).toMatchObject({ subscribersSource: 'assumed', assumedSubscribers: 0 });
      const many = await auditFixture(engine, [sql], { checks: [check], checkOptions: { ...DEFAULT_CHECK_OPTIONS, realtimeSubscribers: 5000 } });
      expect(many.report.findings.map((f) => f.object.name).sort()).toEqual(['oc_quiet', 'oc_ticks']);
      expect(many.report.findings[0]?.message).toContain('5,000 subscribers (assumed)');
    });
  },
});
