/**
 * Calls with the caller's own values, and accounts named by a qualified argument: a function that
 * makes its caller a platform admin by e-mail (any account passes its own address), one that
 * deletes any account by id (`target_user_id` is an account, not a row of `user_roles`), and the
 * app's own onboarding function, which grants nothing beyond the new tenant where the policies
 * keep admins to their tenant.
 */
import { expect, test } from 'vitest';
import { auditMigration } from '../support/cli.ts';

const PLATFORM = `
create type public.app_role as enum ('super_admin', 'admin', 'member');
create table public.companies (id uuid primary key default gen_random_uuid(), name text not null);
create table public.profiles (id uuid primary key references auth.users on delete cascade, company_id uuid references public.companies, full_name text);
create table public.user_roles (id uuid primary key default gen_random_uuid(), user_id uuid not null references auth.users on delete cascade, role public.app_role not null, unique (user_id, role));
create table public.invoices (id uuid primary key default gen_random_uuid(), company_id uuid not null references public.companies, total numeric not null default 0);
create function public.my_company() returns uuid language sql stable security definer set search_path = '' as $$ select company_id from public.profiles where id = auth.uid() $$;
create function public.has_role(_uid uuid, _role public.app_role) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.user_roles where user_id = _uid and role = _role) $$;
alter table public.companies enable row level security;
alter table public.profiles enable row level security;
alter table public.user_roles enable row level security;
alter table public.invoices enable row level security;
create policy companies_read on public.companies for select to authenticated using (id = public.my_company() or public.has_role(auth.uid(), 'super_admin'));
create policy profiles_read on public.profiles for select to authenticated using (id = auth.uid() or company_id = public.my_company());
create policy roles_read on public.user_roles for select to authenticated using (user_id = auth.uid());
create policy invoices_rw on public.invoices for all to authenticated using (company_id = public.my_company() or public.has_role(auth.uid(), 'super_admin'));
-- Meant for the operators' console, left open to the API: by e-mail, the caller's own does.
create function public.assign_super_admin_by_email(_email text) returns void language plpgsql security definer set search_path = public as $$
declare _user_id uuid;
begin
  select id into _user_id from auth.users where email = _email;
  if _user_id is null then return; end if;
  insert into public.user_roles (user_id, role) values (_user_id, 'super_admin') on conflict (user_id, role) do nothing;
end $$;
`;

const DELETE_ACCOUNT = `
create function public.hard_delete_auth_user(target_user_id uuid) returns boolean language plpgsql security definer set search_path = public as $$
begin
  delete from auth.users where id = target_user_id;
  return found;
end $$;
`;

test('an account that makes itself a platform admin with its own address is confirmed critical; a function that deletes any account by target_user_id too', async () => {
  const report = await auditMigration(PLATFORM + DELETE_ACCOUNT);
  const own = report.lab!.functions!.find((r) => r.name === 'assign_super_admin_by_email' && r.persona === 'outsider')!.calls.find((c) => c.args === 'own');
  expect(own).toMatchObject({ result: 'ok', granted: ['public.user_roles'] });
  const grant = report.findings.find((f) => /lab_function_cross_owner|authenticated_security_definer_function_executable/.test(f.check) && f.object.name === 'assign_super_admin_by_email' && /gave the caller access/.test(f.message));
  expect(grant?.level).toBe('critical');
  expect(grant?.message).toMatch(/with its own values .* gave the caller access to other users' rows \(it wrote the caller's own row of public\.user_roles/);
  // The static finding follows the lab: confirmed, at its own level.
  const definer = report.findings.find((f) => f.check === 'authenticated_security_definer_function_executable' && f.object.name === 'assign_super_admin_by_email');
  expect(definer?.message).toMatch(/Measured in the lab: any signed-up account/);
  expect(['critical', 'high']).toContain(definer?.level);
  // target_user_id names an account: the victim's id deletes the victim.
  const victim = report.lab!.functions!.find((r) => r.name === 'hard_delete_auth_user' && r.persona === 'anon')!.calls.find((c) => c.args === 'victim');
  expect(victim?.others?.['auth.users']).toEqual({ updated: 0, deleted: 1 });
  // Reported once, on the grant that lets anon call it, with what the lab measured.
  const deleted = report.findings.find((f) => f.check === 'anon_security_definer_function_executable' && f.object.name === 'hard_delete_auth_user');
  // No table anon or an outsider reads shows the victim's id here: a capability short of a leaked id, one level lower.
  expect(deleted?.level).toBe('high');
  expect(deleted?.message).toMatch(/deleted 1 row of another user in auth\.users — given target_user_id/);
});

test('the same function keeping to the operators, and onboarding that makes the caller admin of its own new company only: no grant', async () => {
  const guarded = PLATFORM.replace(
    'begin\n  select id into _user_id',
    "begin\n  if not public.has_role(auth.uid(), 'super_admin') then raise exception 'forbidden' using errcode = '42501'; end if;\n  select id into _user_id",
  );
  const onboarding = `
create function public.create_company(_name text) returns uuid language plpgsql security definer set search_path = public as $$
declare _id uuid;
begin
  insert into public.companies (name) values (_name) returning id into _id;
  update public.profiles set company_id = _id where id = auth.uid();
  insert into public.user_roles (user_id, role) values (auth.uid(), 'admin') on conflict do nothing;
  return _id;
end $$;
`;
  const report = await auditMigration(guarded + onboarding);
  for (const name of ['assign_super_admin_by_email', 'create_company']) {
    const calls = report.lab!.functions!.filter((r) => r.name === name).flatMap((r) => r.calls);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.filter((c) => c.granted !== undefined)).toEqual([]);
    expect(report.findings.filter((f) => f.check === 'lab_function_cross_owner' && f.object.name === name)).toEqual([]);
  }
});
