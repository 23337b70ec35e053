import { expect, it } from 'vitest';
import check from '../../checks/realtime_replica_identity_full_wide.ts';
import { fixtureSql } from '../fixtures/advisor/index.ts';
import { auditFixture, describeAdvisorCheck } from '../support/advisor.ts';

describeAdvisorCheck(check, {
  extra: (engine) => {
    it('goes back to the primary key, or to a unique index on NOT NULL columns without one', async () => {
      const { report } = await auditFixture(engine, [fixtureSql('realtime_replica_identity_full_wide.sql')], { checks: [check] });
      const sqlOf = (table: string) => report.findings.find((f) => f.object.name === table)?.remediation.sql?.split('\n').at(-1);
      expect(sqlOf('ri_documents')).toBe('ALTER TABLE public.ri_documents REPLICA IDENTITY DEFAULT;');
      expect(sqlOf('ri_keyless')).toBe('ALTER TABLE public.ri_keyless REPLICA IDENTITY USING INDEX ri_keyless_code_key;');
      const evidence = report.findings[0]?.evidence as { wideColumns: { name: string; avgWidth: number }[] };
      expect(evidence.wideColumns.map((c) => c.name)).toEqual(['body']);
      expect(evidence.wideColumns[0]!.avgWidth).toBeGreaterThan(1024);
    });
  },
});
