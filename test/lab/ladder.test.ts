/**
 * A middle role climbs: global roles in `user_roles` (super_admin, tenant_admin, user), and tenant
 * admins may manage roles. The lab makes a holder of the middle role and lets it try the roles above.
 */
import { describe, expect, test } from 'vitest';
import { auditMigration } from '../support/cli.ts';

const SCHEMA = (rolesInsert: string) => `
create type public.app_role as enum ('super_admin', 'tenant_admin', 'user');
create table public.tenants (id uuid primary key default gen_random_uuid(), name text not null);
create table public.profiles (id uuid primary key references auth.users on delete cascade, tenant_id uuid references public.tenants);
create table public.user_roles (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users on delete cascade,
  role public.app_role not null,
  unique (user_id, role)
);
create table public.customers (id uuid primary key default gen_random_uuid(), tenant_id uuid not null references public.tenants on delete cascade, name text not null);
create function public.has_role(_user_id uuid, _role public.app_role) returns boolean language sql stable security definer set search_path = public as $$
  select exists (select 1 from public.user_roles where user_id = _user_id and role = _role) $$;
create function public.my_tenant() returns uuid language sql stable security definer set search_path = public as $$
  select tenant_id from public.profiles where id = auth.uid() $$;
create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = public as $$
begin
  insert into public.profiles (id) values (new.id);
  insert into public.user_roles (user_id, role) values (new.id, 'user');
  return new;
end $$;
create trigger on_auth_user_created after insert on auth.users for each row execute function public.handle_new_user();
alter table public.tenants enable row level security;
alter table public.profiles enable row level security;
alter table public.user_roles enable row level security;
alter table public.customers enable row level security;
create policy "read own tenant" on public.tenants for select to authenticated using (id = public.my_tenant() or public.has_role(auth.uid(), 'super_admin'));
create policy "read profiles" on public.profiles for select to authenticated using (id = auth.uid() or tenant_id = public.my_tenant() or public.has_role(auth.uid(), 'super_admin'));
create policy "read roles" on public.user_roles for select to authenticated using (user_id = auth.uid() or public.has_role(auth.uid(), 'super_admin'));
create policy "admins grant roles" on public.user_roles for insert to authenticated with check (${rolesInsert});
create policy "read the tenant's customers" on public.customers for select to authenticated using (tenant_id = public.my_tenant() or public.has_role(auth.uid(), 'super_admin'));
`;

const climbs = (report: Awaited<ReturnType<typeof auditMigration>>) => report.findings.filter((f) => f.check === 'lab_confirmed_escalation' && f.fingerprint.includes(':climb.'));

describe('a middle role climbs', () => {
  test('tenant admins may insert any role: a tenant admin makes itself super_admin and reads every tenant (high)', async () => {
    const report = await auditMigration(SCHEMA(`public.has_role(auth.uid(), 'tenant_admin') or public.has_role(auth.uid(), 'super_admin')`));
    const [finding, ...more] = climbs(report);
    expect(more).toEqual([]);
    expect(finding).toMatchObject({ level: 'high', object: { schema: 'public', name: 'user_roles', column: 'role' } });
    expect(finding!.message).toMatch(/^Confirmed in the lab: an account holding 'tenant_admin' in public\.user_roles inserts a row of its own with role = 'super_admin', a role above its own, and then reads, updates or deletes rows it could not before: .*public\.customers \(1 → 2\)/);
    expect(report.lab!.attacks.find((a) => a.climbed)).toMatchObject({ promotedFrom: 'tenant_admin', promotedTo: 'super_admin', command: 'insert' });
  });

  test('capped: a tenant admin may grant every role but the highest: nothing climbs', async () => {
    const report = await auditMigration(
      SCHEMA(`public.has_role(auth.uid(), 'super_admin') or (public.has_role(auth.uid(), 'tenant_admin') and role <> 'super_admin')`),
    );
    expect(climbs(report)).toEqual([]);
    expect(report.lab!.attacks.filter((a) => a.climbed)).toEqual([]);
  });
});
