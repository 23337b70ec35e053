/**
 * A user that grants itself what it should pay for: its own profile's credits and plan, which a
 * function and a policy read to decide what it gets, are writable through its own UPDATE policy.
 * The lab sets them on the persona's own row and reads them back.
 */
import { describe, expect, test } from 'vitest';
import { auditMigration } from '../support/cli.ts';

const SCHEMA = (guard: string) => `
create table public.profiles (
  id uuid primary key references auth.users on delete cascade,
  display_name text,
  bonus_credits integer not null default 0,
  plan text not null default 'free' check (plan in ('free', 'pro')),
  meal_plan text
);
create table public.premium_reports (id uuid primary key default gen_random_uuid(), title text not null);
create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  insert into public.profiles (id, display_name) values (new.id, new.raw_user_meta_data ->> 'full_name');
  return new;
end $$;
create trigger on_auth_user_created after insert on auth.users for each row execute function public.handle_new_user();
-- The AI feature spends a credit; the reports are for paying users.
create function public.spend_credit() returns boolean language sql security definer set search_path = '' as $$
  update public.profiles set bonus_credits = bonus_credits - 1 where id = auth.uid() and bonus_credits > 0 returning true $$;
alter table public.profiles enable row level security;
alter table public.premium_reports enable row level security;
create policy "read own profile" on public.profiles for select to authenticated using (id = (select auth.uid()));
create policy "edit own profile" on public.profiles for update to authenticated using (id = (select auth.uid())) with check (id = (select auth.uid()));
create policy "paying users read reports" on public.premium_reports for select to authenticated
  using (exists (select 1 from public.profiles p where p.id = (select auth.uid()) and p.plan = 'pro'));
${guard}
`;

const entitled = (report: Awaited<ReturnType<typeof auditMigration>>) =>
  report.findings
    .filter((f) => f.check === 'lab_confirmed_escalation' && f.fingerprint.includes(':entitle.'))
    .map((f) => [f.level, f.object.column, (f.evidence?.['lab'] as { entitlement?: { value: string } }).entitlement?.value]);

describe('a user grants itself an entitlement', () => {
  test('credits a definer function spends and a plan a policy compares: both set on its own profile and kept (high); a meal plan nothing reads is not one', async () => {
    const report = await auditMigration(SCHEMA(''));
    expect(entitled(report)).toEqual([
      ['high', 'bonus_credits', '1000000'],
      ['high', 'plan', 'pro'],
    ]);
    const plan = report.findings.find((f) => f.fingerprint.endsWith(':entitle.plan'))!;
    expect(plan.message).toMatch(/^Confirmed in the lab: any signed-up account sets plan of its own row in public\.profiles to 'pro' through the API, and it stays; policy "paying users read reports" on public\.premium_reports reads plan/);
    const credits = report.findings.find((f) => f.fingerprint.endsWith(':entitle.bonus_credits'))!;
    expect(credits.message).toContain('public.spend_credit reads bonus_credits');
    expect(credits.remediation.text).toContain('revoke UPDATE (bonus_credits)');
  });

  test('guarded: a column grant for the name only, or a trigger that keeps the plan: nothing is granted', async () => {
    const granted = await auditMigration(SCHEMA(`revoke update on public.profiles from authenticated; grant update (display_name) on public.profiles to authenticated;`));
    expect(entitled(granted)).toEqual([]);
    const kept = await auditMigration(
      SCHEMA(`create function public.keep_billing() returns trigger language plpgsql set search_path = '' as $$
begin
  if current_user = 'authenticated' then new.plan := old.plan; new.bonus_credits := old.bonus_credits; end if;
  return new;
end $$;
create trigger keep_billing before update on public.profiles for each row execute function public.keep_billing();`),
    );
    expect(entitled(kept)).toEqual([]);
  });
});

test("a plan that is a key of the plans catalogue (workspaces.plan_id → plans): the owner moves its workspace to a paid plan the migrations list, not to a row the lab made up", async () => {
  const report = await auditMigration(`
create table public.plans (id text primary key, max_clients integer);
insert into public.plans (id, max_clients) values ('free', 1), ('max', null);
create table public.workspaces (id uuid primary key default gen_random_uuid(), owner_id uuid not null default auth.uid() references auth.users, name text not null, plan_id text references public.plans default 'free');
create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = '' as $fn$
begin insert into public.workspaces (owner_id, name) values (new.id, 'mine'); return new; end $fn$;
create trigger on_auth_user_created after insert on auth.users for each row execute function public.handle_new_user();
create function public.client_limit(w uuid) returns integer language sql stable security definer set search_path = '' as $fn$
  select p.max_clients from public.plans p join public.workspaces ws on ws.plan_id = p.id where ws.id = w $fn$;
alter table public.workspaces enable row level security;
create policy "owners" on public.workspaces for all to authenticated using (owner_id = (select auth.uid())) with check (owner_id = (select auth.uid()));
`);
  expect(entitled(report)).toEqual([['high', 'plan_id', 'max']]);
});

describe('a subscription row written through the API', () => {
  const PAID = (subscriptionWrite: string) => `
-- Personal organisations come with the account; through the API a user creates team ones only.
create table public.organizations (id uuid primary key default gen_random_uuid(), name text not null, owner_id uuid not null default auth.uid() references auth.users,
  type text not null check (type in ('personal', 'team')));
create table public.organization_members (organization_id uuid not null references public.organizations on delete cascade,
  user_id uuid not null references auth.users on delete cascade, role text not null default 'member' check (role in ('owner', 'admin', 'member')), primary key (organization_id, user_id));
create table public.organization_subscriptions (id uuid primary key default gen_random_uuid(), organization_id uuid not null references public.organizations on delete cascade,
  module_id text not null, status text not null default 'pending' check (status in ('pending', 'active', 'canceled')), unique (organization_id, module_id));
create function public.org_role(o uuid) returns text language sql stable security definer set search_path = '' as $$
  select role from public.organization_members where organization_id = o and user_id = auth.uid() $$;
create function public.can_use_feature(o uuid, m text) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.organization_subscriptions where organization_id = o and module_id = m and status = 'active') $$;
create function public.add_owner() returns trigger language plpgsql security definer set search_path = '' as $$
begin insert into public.organization_members (organization_id, user_id, role) values (new.id, new.owner_id, 'owner'); return new; end $$;
create trigger add_owner after insert on public.organizations for each row execute function public.add_owner();
alter table public.organizations enable row level security;
alter table public.organization_members enable row level security;
alter table public.organization_subscriptions enable row level security;
create policy "create" on public.organizations for insert to authenticated with check (owner_id = auth.uid() and type != 'personal');
create policy "read" on public.organizations for select to authenticated using (public.org_role(id) is not null);
create policy "read members" on public.organization_members for select to authenticated using (public.org_role(organization_id) is not null);
create policy "members read subscriptions" on public.organization_subscriptions for select to authenticated using (public.org_role(organization_id) is not null);
${subscriptionWrite}
`;

  test('owners and admins manage their organisation\'s subscriptions: any account founds one and activates every module (high)', async () => {
    const report = await auditMigration(PAID(`create policy "admins manage" on public.organization_subscriptions for all to authenticated using (public.org_role(organization_id) in ('owner', 'admin')) with check (public.org_role(organization_id) in ('owner', 'admin'));`));
    const paid = report.lab!.attacks.filter((a) => a.entitlement !== undefined && a.command === 'insert');
    expect(paid.map((a) => [a.table.name, a.column, a.entitlement!.value, a.entitlement!.readBy])).toEqual([['organization_subscriptions', 'status', 'active', ['public.can_use_feature']]]);
    const finding = report.findings.find((f) => f.check === 'lab_confirmed_escalation' && f.object.name === 'organization_subscriptions' && /inserts a row/.test(f.message));
    expect(finding?.level).toBe('high');
    // An admin of the world's organisation also sets its own row's status (the status of a paid row is an entitlement too): said once, by the insert.
    expect(report.lab!.attacks.some((a) => a.entitlement !== undefined && a.command === 'update' && a.column === 'status')).toBe(true);
    expect(report.findings.filter((f) => f.check === 'lab_confirmed_escalation' && f.object.name === 'organization_subscriptions')).toHaveLength(1);
    expect(finding?.message).toMatch(/creates a tenant of its own .*inserts a row for it into public\.organization_subscriptions with status = 'active' through the API, with no payment; public\.can_use_feature reads/);
  });

  test('only the webhook (the service role) writes subscriptions: nothing', async () => {
    const report = await auditMigration(PAID(''));
    expect(report.lab!.attacks.filter((a) => a.entitlement !== undefined)).toEqual([]);
  });
});

test('a column a function only writes (an UPDATE … SET, an upsert) is no entitlement: a trial end the join review sets, a tier the anonymiser resets', async () => {
  const { withoutSetLists } = await import('../../src/lab/entitlement.ts');
  const written = withoutSetLists(`update member_subscriptions set trial_ends_at = now() + interval '14 days', status = 'trialing' where id = v_id; if v.trial_ends_at > now() then return; end if;`);
  expect(written).not.toMatch(/trial_ends_at\s*=|status\s*=/);
  expect(written).toMatch(/v\.trial_ends_at > now\(\)/);
  // What an assignment reads stays: spending credits reads them.
  const spent = withoutSetLists(`update profiles set bonus_credits = bonus_credits - 1 where id = auth.uid();`);
  expect(spent).not.toMatch(/bonus_credits\s*=/);
  expect(spent).toMatch(/set\s+bonus_credits - 1 where/);
  const report = await auditMigration(`
create table public.profiles (id uuid primary key references auth.users on delete cascade, display_name text, rank_tier text not null default 'rookie' check (rank_tier in ('rookie', 'legend')));
alter table public.profiles enable row level security;
create policy "own profile" on public.profiles for all to authenticated using (id = auth.uid()) with check (id = auth.uid());
-- Resets a user's tier when it is anonymised: it writes rank_tier, it never reads it.
create function public.anonymize_user(p_user uuid) returns void language sql security definer set search_path = '' as $$
  update public.profiles set rank_tier = 'rookie', display_name = null where id = p_user $$;
revoke execute on function public.anonymize_user(uuid) from public, anon, authenticated;
`);
  expect(report.lab!.attacks.filter((a) => a.entitlement !== undefined)).toEqual([]);
  // Once a policy compares it, it is one.
  const read = await auditMigration(`
create table public.profiles (id uuid primary key references auth.users on delete cascade, rank_tier text not null default 'rookie' check (rank_tier in ('rookie', 'legend')));
create table public.lounges (id uuid primary key default gen_random_uuid(), name text not null);
alter table public.profiles enable row level security;
alter table public.lounges enable row level security;
create policy "own profile" on public.profiles for all to authenticated using (id = auth.uid()) with check (id = auth.uid());
create policy "legends only" on public.lounges for select to authenticated using (exists (select 1 from public.profiles p where p.id = auth.uid() and p.rank_tier = 'legend'));
`);
  expect(read.lab!.attacks.filter((a) => a.entitlement !== undefined).map((a) => a.column)).toEqual(['rank_tier']);
});
