/**
 * A sign-up that chooses its own privileges: the user metadata is the caller's to write
 * (`supabase.auth.signUp({ options: { data } })`), and a sign-up trigger that takes a role or a
 * tenant from it lets anyone make itself an administrator or a member of any tenant. The lab signs
 * up a plain account and one with chosen metadata and compares what each reads.
 */
import { describe, expect, test } from 'vitest';
import { auditMigration } from '../support/cli.ts';

/** A Lovable-style schema: roles in their own table, a tenant on the profile, both set by the sign-up trigger. */
const SCHEMA = (roleAtSignUp: string, tenantAtSignUp: string) => `
create type public.app_role as enum ('super_admin', 'tenant_admin', 'user');
create table public.tenants (id uuid primary key default gen_random_uuid(), name text not null);
create table public.profiles (
  id uuid primary key references auth.users on delete cascade,
  tenant_id uuid references public.tenants on delete set null,
  email text
);
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
declare
  meta jsonb := new.raw_user_meta_data;
begin
  insert into public.profiles (id, tenant_id, email) values (new.id, ${tenantAtSignUp}, new.email);
  insert into public.user_roles (user_id, role) values (new.id, ${roleAtSignUp});
  return new;
end $$;
create trigger on_auth_user_created after insert on auth.users for each row execute function public.handle_new_user();
alter table public.tenants enable row level security;
alter table public.profiles enable row level security;
alter table public.user_roles enable row level security;
alter table public.customers enable row level security;
create policy "read own tenant" on public.tenants for select to authenticated using (id = public.my_tenant() or public.has_role(auth.uid(), 'super_admin'));
create policy "read own profile and the tenant's" on public.profiles for select to authenticated using (id = auth.uid() or tenant_id = public.my_tenant() or public.has_role(auth.uid(), 'super_admin'));
create policy "read own roles" on public.user_roles for select to authenticated using (user_id = auth.uid());
create policy "read the tenant's customers" on public.customers for select to authenticated using (tenant_id = public.my_tenant() or public.has_role(auth.uid(), 'super_admin'));
`;

const signUpFindings = (report: Awaited<ReturnType<typeof auditMigration>>) =>
  report.findings.filter((f) => f.check === 'lab_confirmed_escalation' && f.fingerprint.includes(':signup.'));

describe('a sign-up that chooses its own privileges', () => {
  test('the trigger takes the role from the metadata: anyone signs up as super_admin and reads every tenant (critical)', async () => {
    const report = await auditMigration(SCHEMA(`coalesce((meta->>'role')::public.app_role, 'user')`, 'null'));
    const attack = report.lab!.attacks.find((a) => a.signedUpWith !== undefined);
    expect(attack).toMatchObject({ attacker: 'anon', table: { schema: 'auth', name: 'users' }, signedUpWith: { role: 'super_admin' }, metadataReadBy: ['public.handle_new_user'] });
    expect(attack!.needsTenantKey).toBeUndefined();
    expect(attack!.gained['public.customers']!.after).toBeGreaterThan(attack!.gained['public.customers']!.before);
    const [finding, ...more] = signUpFindings(report);
    expect(more).toEqual([]);
    expect(finding).toMatchObject({ level: 'critical', roles: ['anon'], object: { type: 'function', schema: 'public', name: 'handle_new_user' } });
    expect(finding!.message).toMatch(/^Confirmed in the lab: anyone with the anon key signs up with user metadata \{"role":"super_admin"\} .*which public\.handle_new_user reads at sign-up, and the new account then reads .*public\.customers \(0 → \d+ rows of another owner\).* that a plain sign-up cannot read: it chooses its own privileges\.$/);
  });

  test('the trigger takes the tenant from the metadata: anyone who knows a tenant\'s key joins it (high)', async () => {
    const report = await auditMigration(SCHEMA(`'user'`, `(meta->>'tenant_id')::uuid`));
    const [finding, ...more] = signUpFindings(report);
    expect(more).toEqual([]);
    expect(finding?.level).toBe('high');
    expect(finding?.message).toMatch(/signs up with user metadata \{"tenant_id":"[0-9a-f-]{36}"\} .*public\.customers \(0 → 1 row of another owner\).*another tenant's key, which the attacker must know/);
    expect(report.lab!.attacks.find((a) => a.signedUpWith)?.needsTenantKey).toBe(true);
  });

  test('near misses: the trigger reads only a display name, or clamps the role to the plain ones: nothing is found', async () => {
    const named = await auditMigration(SCHEMA(`'user'`, 'null').replace("insert into public.profiles (id, tenant_id, email) values (new.id, null, new.email)", "insert into public.profiles (id, tenant_id, email) values (new.id, null, meta->>'full_name')"));
    expect(signUpFindings(named)).toEqual([]);
    const clamped = await auditMigration(SCHEMA(`case when meta->>'role' = 'tenant_admin' then 'tenant_admin'::public.app_role else 'user'::public.app_role end`, 'null'));
    expect(clamped.lab!.attacks.filter((a) => a.signedUpWith)).toEqual([]);
    expect(signUpFindings(clamped)).toEqual([]);
  });

  test('the first account is made super_admin while user_roles is empty: on a new deployment whoever signs up first reads every tenant (high); a count that gives nothing is no attack', async () => {
    const report = await auditMigration(SCHEMA(`case when (select count(*) from public.user_roles) = 0 then 'super_admin'::public.app_role else 'user'::public.app_role end`, 'null'));
    const attack = report.lab!.attacks.find((a) => a.firstSignUp !== undefined);
    expect(attack).toMatchObject({ attacker: 'anon', table: { schema: 'auth', name: 'users' }, firstSignUp: { emptied: ['public.user_roles'], testedBy: ['public.handle_new_user'] } });
    expect(attack!.gained['public.customers']!.after).toBeGreaterThan(attack!.gained['public.customers']!.before);
    const findings = report.findings.filter((f) => f.check === 'lab_confirmed_escalation' && f.fingerprint.includes(':signup.first'));
    expect(findings.map((f) => [f.level, f.object.name])).toEqual([['high', 'handle_new_user']]);
    expect(findings[0]!.message).toMatch(/^Confirmed in the lab: while public\.user_roles has no rows .*the first account to sign up, anyone with the anon key, is given more by public\.handle_new_user at sign-up, and then reads .*public\.customers \(0 → \d+ rows of another owner\)/);
    // The world itself is unchanged: its accounts kept their roles (the emptying was rolled back).
    expect(report.lab!.accounts).toContain('alice');
    // Counting the profiles to number the new account gives it nothing.
    const numbered = await auditMigration(
      SCHEMA(`'user'`, 'null').replace('values (new.id, null, new.email)', "values (new.id, null, 'member-' || (select count(*) from public.profiles) || '@x.test')"),
    );
    expect(numbered.lab!.attacks.filter((a) => a.firstSignUp)).toEqual([]);
  });

  test("helpers that read the caller's metadata when the policies run: an admin flag and a current organisation, both the user's to set (critical, and high with the tenant's key)", async () => {
    const report = await auditMigration(`
create table public.organizations (id uuid primary key default gen_random_uuid(), name text not null);
create table public.organization_members (organization_id uuid not null references public.organizations on delete cascade,
  user_id uuid not null references auth.users on delete cascade, primary key (organization_id, user_id));
create table public.projects (id uuid primary key default gen_random_uuid(), organization_id uuid not null references public.organizations on delete cascade, name text not null);
create table public.usage_logs (id uuid primary key default gen_random_uuid(), user_id uuid not null default auth.uid() references auth.users on delete cascade, cost numeric not null);
create function public.is_admin() returns boolean language plpgsql stable security definer as $$
begin
  return exists (select 1 from auth.users where id = auth.uid() and (raw_user_meta_data->>'role')::text = 'admin');
end $$;
create function public.has_project_access(p uuid) returns boolean language plpgsql stable security definer set search_path = public as $$
declare v_org uuid;
begin
  if exists (select 1 from projects pr join organization_members m on m.organization_id = pr.organization_id where pr.id = p and m.user_id = auth.uid()) then return true; end if;
  v_org := (auth.jwt() -> 'user_metadata' ->> 'current_organization_id')::uuid;
  return v_org is not null and exists (select 1 from projects where id = p and organization_id = v_org);
end $$;
alter table public.organizations enable row level security;
alter table public.organization_members enable row level security;
alter table public.projects enable row level security;
alter table public.usage_logs enable row level security;
create policy "members" on public.organizations for select to authenticated using (exists (select 1 from public.organization_members m where m.organization_id = id and m.user_id = auth.uid()));
create policy "own memberships" on public.organization_members for select to authenticated using (user_id = auth.uid());
create policy "project access" on public.projects for select to authenticated using (public.has_project_access(id));
create policy "own usage" on public.usage_logs for select to authenticated using (user_id = auth.uid());
create policy "admins read all usage" on public.usage_logs for select to authenticated using (public.is_admin());
-- A role column of another table compared with 'owner': a value tried first for the key, that opens nothing here.
alter table public.organization_members add column role text not null default 'member';
create policy "owners read their members" on public.organization_members for select to authenticated
  using (exists (select 1 from public.organization_members m where m.organization_id = organization_members.organization_id and m.user_id = auth.uid() and m.role = 'owner'));
`);
    const attacks = report.lab!.attacks.filter((a) => a.signedUpWith !== undefined);
    expect(attacks.map((a) => [a.signedUpWith, a.metadataReadBy, a.metadataReadAnytime, a.needsTenantKey ?? false, Object.keys(a.gained).sort()])).toEqual([
      [{ role: 'admin' }, ['public.is_admin'], true, false, ['public.usage_logs']],
      [{ current_organization_id: expect.stringMatching(/^[0-9a-f-]{36}$/) }, ['public.has_project_access'], true, true, ['public.projects']],
    ]);
    const findings = signUpFindings(report).map((f) => [f.object.name, f.level]);
    expect(findings.sort()).toEqual([['has_project_access', 'high'], ['is_admin', 'critical']]);
    expect(signUpFindings(report).find((f) => f.object.name === 'is_admin')!.message).toMatch(/which public\.is_admin reads from the caller's user metadata \(the user also sets it later with supabase\.auth\.updateUser\(\)\)/);
  });

  test('a sign-up trigger that copies keys of the user metadata into the app metadata: the values a policy compares the claim with (under a COALESCE, as Postgres prints it) are tried, and the copied admin type reads the audit log (critical)', async () => {
    const schema = (copied: string) => `
create table public.audit_log (id uuid primary key default gen_random_uuid(), actor_id uuid not null references auth.users on delete cascade, action text not null);
alter table public.audit_log enable row level security;
create policy "admins read the audit log" on public.audit_log for select to authenticated using (coalesce(auth.jwt() -> 'app_metadata' ->> 'account_type', '') = 'admin');
create function public.sync_signup_app_metadata() returns trigger language plpgsql security definer set search_path = public as $$
begin
  new.raw_app_meta_data := coalesce(new.raw_app_meta_data, '{}'::jsonb) || jsonb_build_object('account_type', ${copied});
  return new;
end $$;
create trigger sync_signup_app_metadata before insert on auth.users for each row execute function public.sync_signup_app_metadata();
`;
    const report = await auditMigration(schema(`coalesce(new.raw_user_meta_data ->> 'account_type', 'vendor')`));
    const attack = report.lab!.attacks.find((a) => a.signedUpWith !== undefined);
    expect(attack?.signedUpWith).toEqual({ account_type: 'admin' });
    expect(Object.keys(attack?.gained ?? {})).toEqual(['public.audit_log']);
    expect(signUpFindings(report).map((f) => f.level)).toEqual(['critical']);
    // The type set by the trigger alone: nothing to choose.
    const fixed = await auditMigration(schema(`'vendor'`));
    expect(fixed.lab!.attacks.filter((a) => a.signedUpWith !== undefined)).toEqual([]);
  });
});
