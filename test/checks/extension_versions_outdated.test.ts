import { expect, it } from 'vitest';
import check from '../../checks/extension_versions_outdated.ts';
import { fixtureSql } from '../fixtures/advisor/index.ts';
import { auditFixture, describeAdvisorCheck } from '../support/advisor.ts';

describeAdvisorCheck(check, {
  extra: (engine) => {
    it('names the installed and the available version', async () => {
      const { report, snapshot } = await auditFixture(engine, [fixtureSql('extension_versions_outdated.sql')], { checks: [check] });
      const available = snapshot.extensions.find((e) => e.name === 'hstore')?.defaultVersion;
      expect(available).not.toBe('1.4');
      expect(report.findings[0]?.evidence).toMatchObject({ installed: '1.4', available });
      expect(String(report.findings[0]?.evidence?.['updatePath'])).toMatch(new RegExp(`^1\\.4--.*${available}$`));
      // citext at a version the server has no script for: differs from the default, but cannot be updated
      const citext = snapshot.extensions.find((e) => e.name === 'citext');
      expect(citext?.version).toBe('0.0-unknown');
      expect(citext?.updatePath).toBeNull();
      expect(report.findings.map((f) => f.object.name)).toEqual(['hstore']);
      expect(report.findings[0]?.remediation.sql).toBe('ALTER EXTENSION hstore UPDATE;');
    });
  },
});
