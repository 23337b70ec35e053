/**
 * Policies on storage.objects, as Supabase's own examples write them (user-management): the
 * Storage API sets owner itself and the table is Supabase's, so the owner-tie and index advice
 * that fits the project's own tables does not apply there.
 */
import { describe, expect, it } from 'vitest';
import insert_without_owner_check from '../../../checks/insert_without_owner_check.ts';
import storage_bucket_open from '../../../checks/storage_bucket_open.ts';
import unindexed_policy_column from '../../../checks/unindexed_policy_column.ts';
import { auditOn, testEngines } from '../../support/audit.ts';

const POLICIES = `
create policy "Avatar images are publicly accessible." on storage.objects for select using (bucket_id = 'avatars');
create policy "Anyone can upload an avatar." on storage.objects for insert with check (bucket_id = 'avatars');
create policy "Anyone can update their own avatar." on storage.objects for update using (auth.uid() = owner) with check (bucket_id = 'avatars');
create policy "Users upload to their own folder" on storage.objects for insert to authenticated
  with check (bucket_id = 'docs' and (storage.foldername(name))[1] = (select auth.uid())::text);
create policy "Members upload reports" on storage.objects for insert to authenticated with check (bucket_id = 'reports');
-- the same shapes on a table of the project's own
create table public.uploads (id bigint primary key, bucket text not null, owner uuid);
alter table public.uploads enable row level security;
create policy "Anyone can upload" on public.uploads for insert with check (bucket = 'avatars');
create policy "Owners read" on public.uploads for select using (auth.uid() = owner);
`;

describe.each(testEngines())('storage.objects policies on %s', (engine) => {
  it('an open upload path is reported without the owner claim, owner-tied updates are not, and no index is asked of storage.objects', async () => {
    const { findings } = await auditOn(engine, POLICIES, { checks: [insert_without_owner_check, unindexed_policy_column, storage_bucket_open] });
    const summary = findings.map((f) => `${f.check} ${f.level} ${f.object.schema}.${f.object.name} ${f.object.policy ?? ''}`.trim()).sort();
    expect(summary).toEqual([
      'insert_without_owner_check high public.uploads Anyone can upload',
      'insert_without_owner_check medium storage.objects Members upload reports',
      // Uploads open to anon are one finding, at the level of anyone-can-upload.
      'storage_bucket_open high storage.objects Anyone can upload an avatar.',
      'unindexed_policy_column info public.uploads',
    ]);
    const upload = findings.find((f) => f.object.policy === 'Members upload reports')!;
    expect(upload.message).toContain('lets authenticated upload objects at any path its check allows');
    expect(upload.roles).toEqual(['authenticated']);
    const anon = findings.find((f) => f.object.policy === 'Anyone can upload an avatar.')!;
    // PUBLIC narrowed to the roles a request can run as that hold INSERT and are subject to RLS.
    expect(anon.message).toContain("lets anon and authenticated upload any object in bucket 'avatars'");
    expect(anon.roles).toEqual(['anon', 'authenticated']);
    expect(upload.remediation.sql).toBeUndefined();
    expect(findings.find((f) => f.object.policy === 'Anyone can upload')!.message).toContain("nothing stops a user from setting owner to someone else's id");
  });
});
