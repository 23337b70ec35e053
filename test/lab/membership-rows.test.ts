/**
 * Two things the world must get right before anything it measures means something: an account
 * that belongs to no tenant has no row in a membership that cannot hold one without a tenant (a
 * row there would make it a member of whichever tenant the key pointed at, and every read of that
 * tenant's rows a false alarm); and a row addressed to the holders of a role (`target_role`) is
 * made with one, so a policy that lets any holder of that role anywhere read it is seen.
 */
import { expect, test } from 'vitest';
import { introspect } from '../../src/introspect/index.ts';
import { buildWorld } from '../../src/lab/world.ts';
import { isSystemSchema } from '../../src/model/schemas.ts';
import { loadOn } from '../support/audit.ts';
import { auditMigration } from '../support/cli.ts';

const ORGS = `
create table public.organizations (id uuid primary key default gen_random_uuid(), name text not null);
create table public.members (
  id uuid primary key references auth.users on delete cascade,
  organization_id uuid not null references public.organizations,
  email text not null,
  role text not null check (role in ('owner', 'admin', 'staff'))
);
create table public.students (id uuid primary key default gen_random_uuid(), organization_id uuid not null references public.organizations, email text not null, ssn text);
create function public.current_org() returns uuid language sql stable security definer set search_path = '' as $$
  select organization_id from public.members where id = auth.uid() $$;
alter table public.organizations enable row level security;
alter table public.members enable row level security;
alter table public.students enable row level security;
create policy org_read on public.organizations for select to authenticated using (id = public.current_org());
create policy members_read on public.members for select to authenticated using (organization_id = public.current_org());
create policy students_rw on public.students for all to authenticated using (organization_id = public.current_org());
`;

test('pglite: the outsider has no row in a membership whose tenant key is required; the tenants\' accounts do', async () => {
  const session = await loadOn('pglite', ORGS);
  try {
    const snapshot = await introspect(session, { exposedSchemas: ['public'] });
    const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
    const members = (world.made.get('public.members') ?? []).map((m) => `${m.owner.name}:${m.owner.tenant}`);
    // Each tenant's accounts are members of it; the outsider of none.
    expect(members.filter((m) => m.endsWith(':1')).length).toBeGreaterThan(0);
    expect(members.filter((m) => m.endsWith(':2')).length).toBeGreaterThan(0);
    expect(members.filter((m) => m.startsWith('outsider:'))).toEqual([]);
  } finally {
    await session.close();
  }
});

test('so nothing says an account of no tenant reads or deletes the students of one', async () => {
  const report = await auditMigration(ORGS);
  const outsider = report.lab!.matrix.filter((m) => m.persona === 'outsider' && m.name === 'students');
  expect(outsider).toHaveLength(1);
  expect(outsider[0]!.select).toEqual({ own: 0, tenant: 0, other_tenants: 0, ownerless: 0 });
  expect(report.findings.filter((f) => f.check === 'lab_cross_owner_access')).toEqual([]);
});

const NOTICES = `
create type public.app_role as enum ('admin', 'sales');
create table public.companies (id uuid primary key default gen_random_uuid(), owner_id uuid not null references auth.users, name text not null);
create table public.profiles (id uuid primary key references auth.users on delete cascade, company_id uuid references public.companies);
create table public.user_roles (id uuid primary key default gen_random_uuid(), user_id uuid not null references auth.users on delete cascade, company_id uuid not null references public.companies on delete cascade, role public.app_role not null);
create table public.notifications (id uuid primary key default gen_random_uuid(), company_id uuid not null references public.companies, title text not null, target_user_id uuid references auth.users, target_role public.app_role);
create function public.my_company() returns uuid language sql stable security definer set search_path = '' as $$ select company_id from public.profiles where id = auth.uid() $$;
-- Every sign-up founds a company of its own and is its admin.
create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  insert into public.companies (id, owner_id, name) values (new.id, new.id, 'mine');
  insert into public.profiles (id, company_id) values (new.id, new.id);
  insert into public.user_roles (user_id, company_id, role) values (new.id, new.id, 'admin');
  return new;
end $$;
create trigger on_auth_user_created after insert on auth.users for each row execute function public.handle_new_user();
alter table public.companies enable row level security;
alter table public.profiles enable row level security;
alter table public.user_roles enable row level security;
alter table public.notifications enable row level security;
create policy companies_read on public.companies for select to authenticated using (id = public.my_company());
create policy profiles_read on public.profiles for select to authenticated using (company_id = public.my_company());
create policy roles_read on public.user_roles for select to authenticated using (company_id = public.my_company());
`;

const BY_ROLE_ANYWHERE = `
create policy notices_read on public.notifications for select to authenticated using (
  target_user_id = auth.uid() or target_role in (select r.role from public.user_roles r where r.user_id = auth.uid()));
-- Marked as read by whoever it is for.
create policy notices_mark on public.notifications for update to authenticated using (
  target_user_id = auth.uid() or target_role in (select r.role from public.user_roles r where r.user_id = auth.uid()));
`;

test('a notice addressed to admins is read by the admin of any company where the policy forgets the company; not where it asks', async () => {
  const open = await auditMigration(NOTICES + BY_ROLE_ANYWHERE);
  const read = open.findings.find((f) => f.check === 'lab_cross_owner_access' && f.object.name === 'notifications' && f.fingerprint.endsWith(':read'));
  expect(read?.level).toBe('high');
  expect(read?.message).toMatch(/any signed-up account .* reads \d+ rows? of other users in public\.notifications, rows of other tenants of public\.companies/);
  const scoped = await auditMigration(NOTICES + BY_ROLE_ANYWHERE.replaceAll('where r.user_id = auth.uid()))', 'where r.user_id = auth.uid() and r.company_id = notifications.company_id))'));
  expect(scoped.findings.filter((f) => f.check === 'lab_cross_owner_access' && f.object.name === 'notifications')).toEqual([]);
  // The world wrote the rows with an audience: the scoped policy is judged on the same rows.
  expect(scoped.lab!.tables.find((t) => t.name === 'notifications')?.rows).toBeGreaterThan(0);
});
