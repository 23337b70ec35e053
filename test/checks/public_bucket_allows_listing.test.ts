import { expect, it } from 'vitest';
import check from '../../checks/public_bucket_allows_listing.ts';
import { fixtureSql } from '../fixtures/advisor/index.ts';
import { auditFixture, describeAdvisorCheck } from '../support/advisor.ts';

describeAdvisorCheck(check, {
  extra: (engine) => {
    it('drops only policies about the bucket alone, and a policy for every bucket gets advice instead', async () => {
      const { report } = await auditFixture(engine, [fixtureSql('public_bucket_allows_listing.sql')], { checks: [check] });
      const sqlOf = (bucket: string) => report.findings.find((f) => f.object.name === bucket)?.remediation.sql;
      expect(sqlOf('pb-media')).toBe('DROP POLICY "pb media listable" ON storage.objects;');
      expect(sqlOf("pb-it's")).toBe('DROP POLICY "pb quote listable" ON storage.objects;');

      const everyBucket = `${fixtureSql('public_bucket_allows_listing.sql')}
        create policy "pb anyone lists anything" on storage.objects for select to anon using (true);`;
      const wide = await auditFixture(engine, [everyBucket], { checks: [check] });
      // Every public bucket now matches, the caller-scoped and service_role ones included; never the private one.
      expect(wide.report.findings.map((f) => f.object.name).sort()).toEqual(['pb-avatars', "pb-it's", 'pb-logos', 'pb-media']);
      const logos = wide.report.findings.find((f) => f.object.name === 'pb-logos');
      expect(logos?.remediation.sql).toBeUndefined();
      expect(logos?.remediation.text).toContain("bucket_id <> 'pb-logos'");
    });
  },
});
