/**
 * A tenant's admin (every sign-up is one, of its own clinic) that sets its own subscription's status
 * to `active`: the status of a table of paid rows is an entitlement, and trusted code reads it
 * through the functions it is wrapped in (`lower(s.status) = 'active'`). Where only the payment
 * webhook (the service role) writes subscriptions, nothing.
 */
import { expect, test } from 'vitest';
import { auditMigration } from '../support/cli.ts';

const CLINICS = `
create table public.tenants (id uuid primary key default gen_random_uuid(), name text not null);
create table public.user_roles (user_id uuid not null references auth.users on delete cascade, tenant_id uuid not null references public.tenants on delete cascade,
  role text not null check (role in ('admin', 'staff')), primary key (user_id, tenant_id));
create table public.subscriptions (id uuid primary key default gen_random_uuid(), tenant_id uuid not null unique references public.tenants on delete cascade,
  status text not null default 'trialing', plan text, trial_end timestamptz not null default now() + interval '5 days', current_period_end timestamptz);
create table public.patients (id uuid primary key default gen_random_uuid(), tenant_id uuid not null references public.tenants, name text not null);
create function public.is_tenant_admin(_uid uuid, _tenant uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.user_roles where user_id = _uid and tenant_id = _tenant and role = 'admin') $$;
create function public.is_member(_tenant uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.user_roles where user_id = auth.uid() and tenant_id = _tenant) $$;
-- What the app may do: read while the subscription is active, or in its trial.
create function public.tenant_has_access(_tenant uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.subscriptions s where s.tenant_id = _tenant
    and (lower(s.status) = 'active' or (lower(s.status) = 'trialing' and now() <= s.trial_end))) $$;
create function public.plan_tier(_tenant uuid) returns text language sql stable security definer set search_path = '' as $$
  select case when split_part(lower(s.plan), '_', 1) in ('pro', 'premium') then split_part(lower(s.plan), '_', 1) else 'basic' end
    from public.subscriptions s where s.tenant_id = _tenant $$;
alter table public.tenants enable row level security;
alter table public.user_roles enable row level security;
alter table public.subscriptions enable row level security;
alter table public.patients enable row level security;
create policy tenants_read on public.tenants for select to authenticated using (public.is_member(id));
create policy roles_read on public.user_roles for select to authenticated using (user_id = auth.uid());
create policy subs_read on public.subscriptions for select to authenticated using (public.is_member(tenant_id));
create policy patients_rw on public.patients for all to authenticated using (public.is_member(tenant_id) and public.tenant_has_access(tenant_id));
`;

const ADMINS_WRITE = `
create policy subs_admin on public.subscriptions for update to authenticated using (public.is_tenant_admin(auth.uid(), tenant_id)) with check (public.is_tenant_admin(auth.uid(), tenant_id));
`;

test("a tenant's admin that sets its own subscription's status to active is confirmed; where only the webhook writes it, nothing", async () => {
  const open = await auditMigration(CLINICS + ADMINS_WRITE);
  const paid = open.lab!.attacks.filter((a) => a.entitlement !== undefined && a.table.name === 'subscriptions');
  expect(paid.map((a) => [a.column, a.entitlement!.value])).toEqual(expect.arrayContaining([['status', 'active']]));
  expect(paid.find((a) => a.column === 'status')!.entitlement!.readBy).toContain('public.tenant_has_access');
  const finding = open.findings.find((f) => f.check === 'lab_confirmed_escalation' && /sets status of its own row in public\.subscriptions/.test(f.message));
  expect(finding?.level).toBe('high');
  expect(finding?.message).toMatch(/to 'active' through the API, and it stays; public\.tenant_has_access reads status/);
  // The plan, read through split_part(lower(s.plan), '_', 1), too.
  expect(open.findings.some((f) => f.check === 'lab_confirmed_escalation' && /sets plan of its own row in public\.subscriptions to '(pro|premium)'/.test(f.message))).toBe(true);
  const closed = await auditMigration(CLINICS);
  expect(closed.lab!.attacks.filter((a) => a.entitlement !== undefined)).toEqual([]);
});

test('a column named in a long list that no parenthesis closes is read in linear time (no backtracking through every way to split it)', async () => {
  const { entitlementReaders } = await import('../../src/lab/entitlement.ts');
  const body = `select status${', a '.repeat(400)};`;
  const rel = { schema: 'public', name: 'subscriptions', columns: [] } as unknown as Parameters<typeof entitlementReaders>[1];
  const snapshot = { functions: [{ schema: 'public', name: 'f', extension: null, source: body }], policies: [] } as unknown as Parameters<typeof entitlementReaders>[0];
  expect(entitlementReaders(snapshot, rel, 'status')).toEqual([]);
  const wrapped = { ...snapshot, functions: [{ schema: 'public', name: 'g', extension: null, source: "select 1 from subscriptions s where lower(s.status) = 'active'" }] } as unknown as typeof snapshot;
  expect(entitlementReaders(wrapped, rel, 'status')).toEqual(['public.g']);
});
