import { loadPglite, auditSession } from '../test/support/audit.ts';
import check from '../checks/storage_bucket_open.ts';
const B = '00000000-0000-0000-0000-00000000000b';
const s = await loadPglite(`
create function public.is_admin() returns boolean language sql stable security definer set search_path = '' as $$
  select coalesce((auth.jwt() -> 'app_metadata' ->> 'role') = 'admin', false)
$$;
insert into storage.buckets (id, name, public) values ('avatars', 'avatars', true), ('invoices', 'invoices', false), ('shared', 'shared', false);
insert into storage.objects (bucket_id, name, owner_id) values
  ('avatars', '${B}/me.png', '${B}'), ('invoices', '${B}/2025-01.pdf', '${B}'), ('shared', '${B}/notes.txt', '${B}');
create policy "anyone updates avatars" on storage.objects for update to anon using (bucket_id = 'avatars');
create policy "signed-in delete invoices" on storage.objects for delete to authenticated using (bucket_id = 'invoices');
create policy "anyone reads invoices" on storage.objects for select to anon, authenticated using (bucket_id = 'invoices');
create policy "anyone uploads avatars" on storage.objects for insert to anon, authenticated with check (bucket_id = 'avatars');
`);
const { findings } = await auditSession(s, { checks: [check], prove: true });
for (const f of findings) console.log(f.level, f.object.policy, JSON.stringify(f.proof), '\n  ', f.remediation.sql);
await s.close();
