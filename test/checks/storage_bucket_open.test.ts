/**
 * storage_bucket_open on real Postgres: every finding is a write or a private read another user's
 * object really allows (checked as that role), and owner-, folder- and admin-gated policies are silent.
 */
import { describe, expect, it } from 'vitest';
import check from '../../checks/storage_bucket_open.ts';
import { auditOn, auditSession, loadOn, queryAs, testEngines } from '../support/audit.ts';

const A = '00000000-0000-0000-0000-00000000000a';
const B = '00000000-0000-0000-0000-00000000000b';

const SCHEMA = `
create function public.is_admin() returns boolean language sql stable security definer set search_path = '' as $$
  select coalesce((auth.jwt() -> 'app_metadata' ->> 'role') = 'admin', false)
$$;
insert into storage.buckets (id, name, public) values ('avatars', 'avatars', true), ('invoices', 'invoices', false), ('shared', 'shared', false);
insert into storage.objects (bucket_id, name, owner_id) values
  ('avatars', '${B}/me.png', '${B}'), ('invoices', '${B}/2025-01.pdf', '${B}'), ('shared', '${B}/notes.txt', '${B}');
-- positives
create policy "anyone updates avatars" on storage.objects for update to anon using (bucket_id = 'avatars');
create policy "signed-in delete invoices" on storage.objects for delete to authenticated using (bucket_id = 'invoices');
create policy "anyone reads invoices" on storage.objects for select to anon, authenticated using (bucket_id = 'invoices');
-- near misses
create policy "owner reads" on storage.objects for select to authenticated using (bucket_id = 'shared' and owner_id = (select auth.uid())::text);
create policy "owner updates" on storage.objects for update to authenticated using (bucket_id = 'shared' and owner_id = (select auth.uid())::text);
create policy "folder deletes" on storage.objects for delete to authenticated using (bucket_id = 'shared' and (storage.foldername(name))[1] = (select auth.uid())::text);
create policy "public read avatars" on storage.objects for select to anon using (bucket_id = 'avatars');
create policy "admin deletes" on storage.objects for delete to authenticated using (bucket_id = 'shared' and (select public.is_admin()));
create policy "service cleans" on storage.objects for delete to service_role using (bucket_id = 'shared');
`;

describe.each(testEngines())('storage_bucket_open on %s', (engine) => {
  it('reports bucket-only writes and private reads at their level, each one a real reach in Postgres', async () => {
    const session = await loadOn(engine, SCHEMA);
    try {
      const { findings } = await auditSession(session, { checks: [check], prove: true });
      // Each one proven in Postgres (as anon, or a signed-in user who owns nothing), its fix applied and the exploit refused, the owner's access kept.
      expect(findings.map((f) => [f.object.policy, f.proof?.status, f.proof?.fixVerified?.status]).sort()).toEqual(
        [
          ['anyone reads invoices', 'confirmed', 'verified'],
          ['anyone updates avatars', 'confirmed', 'verified'],
          ['signed-in delete invoices', 'confirmed', 'verified'],
        ].sort(),
      );
      expect(findings.find((f) => f.object.policy === 'signed-in delete invoices')!.proof).toMatchObject({
        kind: 'reach',
        reason: 'a signed-in user who owns nothing there deleted 1 object of another user',
      });
      expect(findings.find((f) => f.object.policy === 'signed-in delete invoices')!.remediation.sql).toBe(
        `ALTER POLICY "signed-in delete invoices" ON storage.objects USING (((bucket_id = 'invoices'::text)) AND owner_id = (SELECT auth.uid())::text);`,
      );
      expect(findings.map((f) => [f.object.policy, f.level, f.roles]).sort()).toEqual(
        [
          ['anyone reads invoices', 'critical', ['anon', 'authenticated']],
          ['anyone updates avatars', 'critical', ['anon']],
          ['signed-in delete invoices', 'high', ['authenticated']],
        ].sort(),
      );
      const count = async (role: string, sql: string, sub = A) => Number((await queryAs<{ n: string }>(session, role, `with x as (${sql} returning 1) select count(*) as n from x`, sub))[0]!.n);
      // Reaches that the findings claim: anon overwrites B's avatar, A deletes B's invoice, anon reads it.
      expect(await count('anon', `update storage.objects set name = name where bucket_id = 'avatars' and owner_id = '${B}'`)).toBe(1);
      expect(await count('authenticated', `delete from storage.objects where bucket_id = 'invoices' and owner_id = '${B}'`)).toBe(1);
      expect(Number((await queryAs<{ n: string }>(session, 'anon', "select count(*) as n from storage.objects where bucket_id = 'invoices'"))[0]!.n)).toBe(1);
      // Near misses: A cannot touch B's object in 'shared'; B can update its own.
      expect(await count('authenticated', `update storage.objects set name = name where bucket_id = 'shared'`)).toBe(0);
      expect(await count('authenticated', `delete from storage.objects where bucket_id = 'shared'`)).toBe(0);
      expect(await count('authenticated', `update storage.objects set name = name where bucket_id = 'shared'`, B)).toBe(1);
    } finally {
      await session.close();
    }
  });
});

describe.each(testEngines())('storage_bucket_open near misses (%s)', (engine) => {
  it('a bucket test ANDed with a helper or a subquery that picks the objects is not bucket-only; a constant folder is', async () => {
    const { findings } = await auditOn(
      engine,
      `
insert into storage.buckets (id, name, public) values ('files', 'files', false), ('docs', 'docs', false);
create table public.files (id uuid primary key, sharing text not null default 'private');
create function public.non_private_file_exists(p_name text) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.files where id::text = (storage.foldername(p_name))[2] and sharing <> 'private')
$$;
create policy "shared files are readable" on storage.objects for select to public using (bucket_id = 'files' and public.non_private_file_exists(name));
create policy "listed files" on storage.objects for select to authenticated
  using (bucket_id = 'files' and name in (select f.id::text from public.files f where f.sharing = 'public'));
create policy "public folder of docs" on storage.objects for select to anon using (bucket_id = 'docs' and (storage.foldername(name))[1] = 'public');
`,
      { checks: [check] },
    );
    expect(findings.map((f) => [f.object.policy, f.level])).toEqual([['public folder of docs', 'low']]);
  });
});

describe('storage_bucket_open: a private bucket whose name says its files are shown to everyone', () => {
  it('reading every group logo or profile picture is medium, saying so; every contract stays high', async () => {
    const { findings } = await auditOn(
      'pglite',
      `
insert into storage.buckets (id, name, public) values ('group_images', 'group_images', false), ('contracts', 'contracts', false);
create policy "group images are readable" on storage.objects for select to authenticated using (bucket_id = 'group_images');
create policy "contracts are readable" on storage.objects for select to authenticated using (bucket_id = 'contracts');
`,
      { checks: [check] },
    );
    expect(findings.map((f) => [f.object.policy, f.level])).toEqual([
      ['contracts are readable', 'high'],
      ['group images are readable', 'medium'],
    ]);
    expect(findings.find((f) => f.level === 'medium')!.message).toContain('Its name says its files are shown to everyone (pictures, logos): fine if so');
  });
});

describe('storage_bucket_open with the lab', () => {
  it('the lab reads another user\'s group logo: still medium for a bucket of pictures; another user\'s contract: critical', async () => {
    const { auditMigration } = await import('../support/cli.ts');
    const report = await auditMigration(`
insert into storage.buckets (id, name, public) values ('group_images', 'group_images', false), ('contracts', 'contracts', false);
create policy "group images are readable" on storage.objects for select to authenticated using (bucket_id = 'group_images');
create policy "contracts are readable" on storage.objects for select to authenticated using (bucket_id = 'contracts');
create policy "own uploads" on storage.objects for insert to authenticated with check ((storage.foldername(name))[1] = (select auth.uid())::text);
`);
    const open = report.findings.filter((f) => f.check === 'storage_bucket_open');
    expect(open.map((f) => [f.object.policy, f.level])).toEqual([
      ['contracts are readable', 'critical'],
      ['group images are readable', 'medium'],
    ]);
    // Nor the lab's own finding of that read.
    expect(report.findings.filter((f) => (f.level === 'critical' || f.level === 'high') && f.fingerprint.includes('group_images'))).toEqual([]);
    expect(report.findings.filter((f) => f.fingerprint.includes('group_images')).map((f) => f.level)).not.toContain('critical');
  });
});
