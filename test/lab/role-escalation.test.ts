/**
 * A user gives itself a role: a global `user_roles` table (a user may hold several roles) whose
 * INSERT and UPDATE policies check only "your own row", read by a `has_role()` helper that the
 * admin-only policies of other tables trust. The lab's plainest account sets, or adds, each role
 * value and is confirmed when it then reaches rows it could not before; a column users pick
 * themselves that no policy trusts gives nothing and is not reported.
 */
import { expect, test } from 'vitest';
import { auditMigration } from '../support/cli.ts';

const SCHEMA = (rolePolicies: string) => `
create type public.app_role as enum ('admin', 'editor', 'viewer');
create table public.user_roles (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users on delete cascade,
  role public.app_role not null default 'viewer',
  unique (user_id, role)
);
create table public.profiles (
  id uuid primary key references auth.users on delete cascade,
  account_type text not null default 'personal' check (account_type in ('personal', 'business'))
);
create function public.has_role(_user uuid, _role public.app_role) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.user_roles where user_id = _user and role = _role) $$;
create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  insert into public.profiles (id) values (new.id);
  insert into public.user_roles (user_id, role) values (new.id, 'viewer');
  return new;
end $$;
create trigger on_auth_user_created after insert on auth.users for each row execute function public.handle_new_user();
create table public.articles (
  id uuid primary key default gen_random_uuid(),
  author_id uuid not null references auth.users,
  title text not null
);
alter table public.user_roles enable row level security;
alter table public.profiles enable row level security;
alter table public.articles enable row level security;
create policy "read own roles" on public.user_roles for select to authenticated using (user_id = (select auth.uid()));
${rolePolicies}
create policy "own profile" on public.profiles for all to authenticated using (id = (select auth.uid())) with check (id = (select auth.uid()));
create policy "authors read own articles" on public.articles for select to authenticated using (author_id = (select auth.uid()) or public.has_role((select auth.uid()), 'admin'));
create policy "admins delete articles" on public.articles for delete to authenticated using (public.has_role((select auth.uid()), 'admin'));
`;

test('"your own row" on user_roles: any account gives itself admin and reads and deletes every article (critical)', async () => {
  const report = await auditMigration(
    SCHEMA(`create policy "add own role" on public.user_roles for insert to authenticated with check (user_id = (select auth.uid()));
create policy "change own role" on public.user_roles for update to authenticated using (user_id = (select auth.uid()));`),
  );
  const escalations = report.lab!.attacks.filter((a) => a.promotedTo !== undefined);
  expect(escalations.map((a) => [a.attacker, a.table.name, a.command, a.column, a.promotedTo, a.gained])).toEqual([
    // Two articles (alice's and bob's), each now read and deleted: 0 → 4; through either policy, each its own door.
    ['outsider', 'user_roles', 'update', 'role', 'admin', { 'public.articles': { before: 0, after: 4 } }],
    ['outsider', 'user_roles', 'insert', 'role', 'admin', { 'public.articles': { before: 0, after: 4 } }],
  ]);
  // profiles.account_type is the user's to pick, and nothing trusts it: not an escalation.
  expect(escalations.some((a) => a.table.name === 'profiles')).toBe(false);
  // The static suspicion on each policy is confirmed by the effect and stays critical.
  expect(report.findings.filter((f) => f.object.name === 'user_roles' && f.level === 'critical').map((f) => [f.check, f.object.policy, (f.evidence?.['labVerdict'] as { status: string }).status])).toEqual([
    ['privilege_escalation', 'add own role', 'confirmed'],
    ['privilege_escalation', 'change own role', 'confirmed'],
  ]);
});

test('roles granted by an admin only: no account gives itself a role', async () => {
  const report = await auditMigration(
    SCHEMA(`create policy "admins grant roles" on public.user_roles for insert to authenticated with check (public.has_role((select auth.uid()), 'admin'));`),
  );
  expect(report.lab!.attacks.filter((a) => a.promotedTo !== undefined)).toEqual([]);
  expect(report.findings.filter((f) => f.object.name === 'user_roles' && (f.level === 'critical' || f.level === 'high'))).toEqual([]);
});

test('an UPDATE of the role refused by a trigger: the search goes on and finds the INSERT of a role of its own', async () => {
  const report = await auditMigration(
    SCHEMA(`create function public.roles_frozen() returns trigger language plpgsql as $$ begin raise exception 'roles cannot be changed'; end $$;
create trigger user_roles_frozen before update on public.user_roles for each row execute function public.roles_frozen();
create policy "add own role" on public.user_roles for insert to authenticated with check (user_id = (select auth.uid()));
create policy "change own role" on public.user_roles for update to authenticated using (user_id = (select auth.uid()));`),
  );
  expect(report.lab!.attacks.filter((a) => a.promotedTo !== undefined).map((a) => [a.attacker, a.table.name, a.command, a.promotedTo])).toEqual([['outsider', 'user_roles', 'insert', 'admin']]);
});
