/**
 * lab_function_cross_owner: what persona × function measured, as findings, folded into the static
 * finding on the same function and role. No seed and no users: the lab makes both.
 */
import { expect, test } from 'vitest';
import { auditMigration } from '../support/cli.ts';

const MIGRATION = `
create schema private;
-- Keys kept out of the API on purpose: a private schema.
create table private.api_keys (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references auth.users on delete cascade,
  label text not null,
  secret_value text not null
);
alter table private.api_keys enable row level security;
-- Returns one text value, whoever asks: anon reads another user's key by its id.
create function public.get_key(p_key_id uuid) returns text language sql stable security definer set search_path = '' as $$
  select secret_value from private.api_keys where id = p_key_id $$;
-- The same, checking the caller: nothing for anyone but the owner.
create function public.get_my_key(p_key_id uuid) returns text language sql stable security definer set search_path = '' as $$
  select secret_value from private.api_keys where id = p_key_id and owner_id = (select auth.uid()) $$;
`;

/** A public list of the keys' ids (kept by a trigger), readable by `roles`: where a caller learns the ids it asks about. */
const KEY_DIRECTORY = (roles: string) => `
create table public.key_directory (key_id uuid primary key references private.api_keys on delete cascade, label text);
alter table public.key_directory enable row level security;
create policy "list keys" on public.key_directory for select to ${roles} using (true);
create function private.list_key() returns trigger language plpgsql security definer set search_path = '' as $$
begin insert into public.key_directory (key_id, label) values (new.id, new.label); return new; end $$;
create trigger api_keys_listed after insert on private.api_keys for each row execute function private.list_key();
`;

test("a definer function that hands out a private schema's value by an id anon can read is high for anon; one that checks its caller is not confirmed", async () => {
  // The keys' ids are listed for everyone: anon learns them, then asks for the values.
  const report = await auditMigration(MIGRATION + KEY_DIRECTORY('anon, authenticated'));
  const anon = report.findings.find((f) => f.check === 'anon_security_definer_function_executable' && f.object.name === 'get_key')!;
  expect(anon.level).toBe('high');
  expect(anon.message).toMatch(/Measured in the lab: anyone with the anon key \(no account\) calls public\.get_key\(p_key_id uuid\) with another user's rows as arguments, and it returned another user's private\.api_keys\.secret_value, which the caller cannot read through the table itself\.$/);
  expect(report.findings.filter((f) => f.check === 'lab_function_cross_owner')).toEqual([]);
  const guarded = report.findings.filter((f) => f.object.name === 'get_my_key');
  expect(guarded.every((f) => f.level !== 'critical' && f.level !== 'high')).toBe(true);
  expect(guarded.some((f) => /Measured in the lab/.test(f.message))).toBe(false);
});

test('the same function when no table or view shows anon the ids: one level lower (medium), saying it needs a leaked id', async () => {
  const report = await auditMigration(MIGRATION);
  const measured = report.findings.filter((f) => f.check === 'lab_function_cross_owner');
  expect(measured.map((f) => [f.object.name, f.level])).toEqual([['get_key', 'medium']]);
  expect(measured[0]!.message).toContain("given p_key_id of another user's, random uuids or tokens the caller cannot read anywhere through the API (only a leaked id opens it)");
  const anon = report.findings.find((f) => f.check === 'anon_security_definer_function_executable' && f.object.name === 'get_key')!;
  expect(anon.level).not.toMatch(/^(critical|high)$/);
  expect((anon.evidence?.['labVerdict'] as { status: string; why: string }).why).toMatch(/random uuids or tokens the caller cannot read anywhere through the API$/);
  expect(report.findings.filter((f) => f.object.name === 'get_key' && (f.level === 'critical' || f.level === 'high'))).toEqual([]);
});

test('ids any signed-up account reads are ids anon can learn (it signs up first): high for anon again', async () => {
  const report = await auditMigration(MIGRATION + KEY_DIRECTORY('authenticated'));
  const anon = report.findings.find((f) => f.check === 'anon_security_definer_function_executable' && f.object.name === 'get_key')!;
  expect(anon.level).toBe('high');
  expect(anon.message).not.toContain('leaked id');
});

test('a definer function that writes Vault secrets for anon: critical, whatever the arguments; one that checks the caller is an admin: nothing', async () => {
  const report = await auditMigration(`
create extension if not exists supabase_vault with schema vault;
create table public.admins (user_id uuid primary key references auth.users);
create function public.manage_secret(secret_name text, secret_value text) returns void language plpgsql security definer set search_path = '' as $$
begin
  perform vault.create_secret(secret_value, secret_name);
end $$;
revoke execute on function public.manage_secret(text, text) from public;
create function public.manage_secret_checked(secret_name text, secret_value text) returns void language plpgsql security definer set search_path = '' as $$
begin
  if not exists (select 1 from public.admins where user_id = auth.uid()) then raise exception 'admins only'; end if;
  perform vault.create_secret(secret_value, secret_name);
end $$;
-- A signed-in user stores an API key of its own: what Vault is for, not a platform write.
create function public.create_my_key(description text) returns uuid language plpgsql security definer set search_path = '' as $$
begin
  if auth.uid() is null then raise exception 'sign in first'; end if;
  return vault.create_secret(md5(random()::text), auth.uid()::text || '-' || md5(random()::text), description);
end $$;
`);
  const found = report.findings.filter((f) => f.check === 'lab_function_cross_owner' || (f.object.name === 'manage_secret' && f.level === 'critical'));
  expect(found.map((f) => [f.object.name, f.level])).toEqual([['manage_secret', 'critical']]);
  expect(found[0]!.message).toContain('wrote Vault secrets (credentials other functions and cron jobs read) (1 inserted in vault.secrets)');
  expect(report.findings.filter((f) => (f.object.name === 'manage_secret_checked' || f.object.name === 'create_my_key') && (f.level === 'critical' || f.level === 'high'))).toEqual([]);
  // The outsider did store a key (the call ran and inserted): it is simply its own.
  const own = report.lab!.functions!.find((r) => r.name === 'create_my_key' && r.persona === 'outsider')!;
  expect(own.calls.some((c) => c.result === 'ok' && (c.changed['vault.secrets']?.inserted ?? 0) === 1)).toBe(true);
});

test("another tenant's own rows a definer function returns are high, whatever they hold; from a table that publishes its rows by a flag, not confirmed", async () => {
  const report = await auditMigration(`
create table public.orgs (id uuid primary key default gen_random_uuid(), name text not null);
create table public.org_members (org_id uuid not null references public.orgs, user_id uuid not null references auth.users, primary key (org_id, user_id));
create table public.products (id uuid primary key default gen_random_uuid(), org_id uuid not null references public.orgs, name text not null);
create table public.events (id uuid primary key default gen_random_uuid(), org_id uuid not null references public.orgs, title text not null, is_public boolean not null default true);
alter table public.orgs enable row level security;
alter table public.org_members enable row level security;
alter table public.products enable row level security;
alter table public.events enable row level security;
create function public.is_member(o uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.org_members m where m.org_id = o and m.user_id = (select auth.uid())) $$;
create policy "own memberships" on public.org_members for select to authenticated using (user_id = (select auth.uid()));
create policy "members read" on public.products for select to authenticated using (public.is_member(org_id));
create policy "members add" on public.products for insert to authenticated with check (public.is_member(org_id));
create policy "members read events" on public.events for select to authenticated using (public.is_member(org_id));
create policy "members add events" on public.events for insert to authenticated with check (public.is_member(org_id));
create policy "published events" on public.events for select to anon using (is_public);
-- No arguments, no check, for signed-in users: every organisation's products; every organisation's events.
create function public.low_stock() returns setof text language sql stable security definer set search_path = '' as $$ select name from public.products $$;
create function public.upcoming() returns setof text language sql stable security definer set search_path = '' as $$ select title from public.events $$;
revoke execute on function public.low_stock(), public.upcoming(), public.is_member(uuid) from public, anon;
`);
  const measured = (fn: string) => report.findings.filter((f) => f.object.name === fn && /Measured in the lab/.test(f.message)).map((f) => [f.check, f.level]);
  expect(measured('low_stock')).toEqual([['authenticated_security_definer_function_executable', 'high']]);
  expect(report.findings.find((f) => f.object.name === 'low_stock' && f.level === 'high')!.message).toContain("returned another user's public.products.name");
  // Rows a flag publishes, returned by a function that takes no argument: a listing, not confirmed.
  expect(measured('upcoming')).toEqual([]);
});

test('a function with no arguments that writes what it picks itself (a clean-up, a job queue) is its batch work: not confirmed by the rows it changed', async () => {
  const report = await auditMigration(`
create table public.orgs (id uuid primary key default gen_random_uuid(), name text not null);
create table public.org_members (org_id uuid not null references public.orgs, user_id uuid not null references auth.users, primary key (org_id, user_id));
create table public.exports (id uuid primary key default gen_random_uuid(), org_id uuid not null references public.orgs, state text not null default 'queued');
alter table public.orgs enable row level security;
alter table public.org_members enable row level security;
alter table public.exports enable row level security;
create policy "own memberships" on public.org_members for select to authenticated using (user_id = (select auth.uid()));
create policy "members queue" on public.exports for insert to authenticated with check (exists (select 1 from public.org_members m where m.org_id = exports.org_id and m.user_id = (select auth.uid())));
create function public.purge_exports() returns void language sql security definer set search_path = '' as $$ delete from public.exports where state = 'queued' $$;
`);
  const fn = report.findings.filter((f) => f.object.name === 'purge_exports');
  expect(fn.length).toBeGreaterThan(0);
  expect(fn.filter((f) => f.level === 'critical' || f.level === 'high' || /Measured in the lab/.test(f.message))).toEqual([]);
});

test("what a signed-in caller does that anon cannot (its own invitation into another tenant's project) stands beside the signed-in grant", async () => {
  const report = await auditMigration(`
create table public.projects (id bigint generated always as identity primary key, name text not null);
create table public.project_members (project_id bigint not null references public.projects, user_id uuid not null references auth.users, primary key (project_id, user_id));
create table public.invites (id bigint generated always as identity primary key, project_id bigint not null references public.projects, email text not null);
alter table public.projects enable row level security;
alter table public.project_members enable row level security;
alter table public.invites enable row level security;
create policy "own memberships" on public.project_members for select to authenticated using (user_id = (select auth.uid()));
-- Everyone's ids are public: the outsider's call with bob's ids is as grave (critical) as alice's.
create table public.profiles (id uuid primary key references auth.users, display_name text);
alter table public.profiles enable row level security;
create policy "profiles are public" on public.profiles for select to authenticated using (true);
-- The invitation must be addressed to user_id; the project is whichever the caller names.
create function public.accept_invite(invite_id bigint, user_id uuid, p_project_id bigint) returns void language plpgsql security definer set search_path = '' as $$
begin
  if not exists (select 1 from public.invites i join auth.users u on u.email = i.email where i.id = invite_id and u.id = accept_invite.user_id) then
    raise exception 'no such invitation';
  end if;
  insert into public.project_members (project_id, user_id) values (p_project_id, accept_invite.user_id) on conflict do nothing;
  delete from public.invites where id = invite_id;
end $$;
`);
  const signedIn = report.findings.find((f) => f.check === 'authenticated_security_definer_function_executable' && f.object.name === 'accept_invite')!;
  expect(signedIn.level).toBe('critical');
  expect(signedIn.message).toContain('with its own rows as arguments but for p_project_id, another user\'s, and it made the caller a member of another tenant (a row in public.project_members)');
  const anon = report.findings.find((f) => f.check === 'anon_security_definer_function_executable' && f.object.name === 'accept_invite')!;
  expect(anon.message).toContain("deleted 1 row of another user in public.invites");
});

test("an invitation shown to whoever holds its token is not a leak: the token is the victim's secret, as a random uuid is", async () => {
  const report = await auditMigration(`
create table public.orgs (id uuid primary key default gen_random_uuid(), name text not null);
create table public.org_members (org_id uuid not null references public.orgs, user_id uuid not null references auth.users, primary key (org_id, user_id));
create table public.invitations (id uuid primary key default gen_random_uuid(), org_id uuid not null references public.orgs, email text not null, token text not null unique);
alter table public.orgs enable row level security;
alter table public.org_members enable row level security;
alter table public.invitations enable row level security;
create policy "own memberships" on public.org_members for select to authenticated using (user_id = (select auth.uid()));
create function public.invitation_by_token(p_token text) returns table (email text, org text) language sql stable security definer set search_path = '' as $$
  select i.email, o.name from public.invitations i join public.orgs o on o.id = i.org_id where i.token = p_token $$;
`);
  const fn = report.findings.filter((f) => f.object.name === 'invitation_by_token');
  expect(fn.length).toBeGreaterThan(0);
  expect(fn.filter((f) => f.level === 'critical' || f.level === 'high')).toEqual([]);
  const anon = fn.find((f) => f.check === 'anon_security_definer_function_executable')!;
  expect((anon.evidence?.['labVerdict'] as { why: string }).why).toMatch(/given p_token: random uuids or tokens the caller cannot read anywhere through the API$/);
});

test('an API of functions only (tables in a schema the API does not expose): ids its own calls return are learned; what an invoker function returns under the caller\'s policies is no leak', async () => {
  const report = await auditMigration(
    `
create schema hidden;
create schema api;
grant usage on schema hidden, api to anon, authenticated;
create table hidden.groups (id uuid primary key default gen_random_uuid(), name text not null, owner_id uuid not null references auth.users);
create table hidden.group_members (group_id uuid not null references hidden.groups, user_id uuid not null references auth.users, primary key (group_id, user_id));
grant select, insert, update, delete on all tables in schema hidden to authenticated;
alter table hidden.groups enable row level security;
alter table hidden.group_members enable row level security;
create policy "groups are public" on hidden.groups for select to authenticated using (true);
create policy "own memberships" on hidden.group_members for select to authenticated using (user_id = (select auth.uid()));
-- The app's functions: a listing (invoker: the policies apply), and a rename that checks nobody.
create function api.list_groups() returns table (id uuid, name text) language sql stable security invoker set search_path = '' as $$ select id, name from hidden.groups $$;
create function api.rename_group(_id uuid, _name text) returns void language sql security definer set search_path = '' as $$ update hidden.groups set name = _name where id = _id $$;
revoke execute on function api.rename_group(uuid, text), api.list_groups() from public, anon;
grant execute on function api.rename_group(uuid, text), api.list_groups() to authenticated;
`,
    '--schemas',
    'public,api',
  );
  const rename = report.findings.find((f) => f.check === 'authenticated_security_definer_function_executable' && f.object.name === 'rename_group')!;
  expect(rename.level).toBe('high');
  expect(rename.message).toContain("changed name of 1 row of another user in hidden.groups");
  expect(rename.message).not.toContain('random uuids');
  expect(report.findings.filter((f) => f.object.name === 'list_groups' && /Measured in the lab/.test(f.message))).toEqual([]);
});
