import { describe, expect, it } from 'vitest';
import check from '../../checks/public_bucket_allows_listing.ts';
import { fixtureSql } from '../fixtures/advisor/index.ts';
import { auditFixture, describeAdvisorCheck } from '../support/advisor.ts';
import { auditOn, testEngines } from '../support/audit.ts';

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

describe.each(testEngines())('public_bucket_allows_listing: literals, prefixes and a storage schema without grants (%s)', (engine) => {
  it('matches a bucket id with a backslash, skips a prefix-limited listing, and assumes hosted grants when storage.objects has none', async () => {
    const { findings } = await auditOn(
      engine,
      `insert into storage.buckets (id, name, public) values ('a|b[1]^{x}\\z', 'metachar', true), ('docs', 'docs', true), ('media', 'media', true);
       create policy "metachar listable" on storage.objects for select to authenticated using (bucket_id = 'a|b[1]^{x}\\z');
       create policy "only the public folder" on storage.objects for select to authenticated using (bucket_id = 'docs' and name like 'public/%');
       create policy "media listable" on storage.objects for select to anon using (bucket_id = 'media');
       revoke all on storage.objects from anon, authenticated, public;`,
      { checks: [check] },
    );
    expect(findings.map((f) => f.object.name).sort()).toEqual(['a|b[1]^{x}\\z', 'media']);
  });
});
