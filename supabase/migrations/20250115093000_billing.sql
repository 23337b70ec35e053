-- Taskflow: billing, invitations and the audit log.
-- Adds payment methods, invoices, third-party integrations (API tokens), a raw Stripe webhook
-- event store, organization invitations and an append-only audit log.


-- ---------------------------------------------------------------------------
-- Payment methods
-- ---------------------------------------------------------------------------
-- FLAW(rls_disabled_in_public): RLS never enabled; the default privileges granted ALL on it to
-- anon and authenticated, so anyone with the anon key reads and writes every row.
-- FLAW(sensitive_columns_exposed): iban, phone and billing_email are readable by anon.
-- FLAW(blast_radius): anon reads ~2,400 rows of bank details and can insert, update and delete them.
create table public.payment_methods (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  added_by uuid references auth.users (id) on delete set null,
  kind text not null default 'card' check (kind in ('card', 'sepa_debit')),
  card_brand text,
  card_last4 text,
  card_exp_month smallint,
  card_exp_year smallint,
  account_holder text,
  iban text,
  billing_email text,
  phone text,
  is_default boolean not null default false,
  created_at timestamptz not null default now()
);
create index payment_methods_organization_id_idx on public.payment_methods (organization_id);
create index payment_methods_added_by_idx on public.payment_methods (added_by);


-- ---------------------------------------------------------------------------
-- Invoices
-- ---------------------------------------------------------------------------
create table public.invoices (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  number text not null unique,
  amount_cents integer not null check (amount_cents >= 0),
  currency text not null default 'eur',
  status text not null default 'open' check (status in ('draft', 'open', 'paid', 'void', 'uncollectible')),
  issued_at timestamptz not null default now(),
  due_at timestamptz,
  paid_at timestamptz,
  pdf_path text
);
create index invoices_organization_id_idx on public.invoices (organization_id);

alter table public.invoices enable row level security;

-- FLAW(rls_references_user_metadata): user_metadata is editable by the user
-- (supabase.auth.updateUser({ data: { role: 'billing_admin' } })), so anyone can grant
-- themselves this role.
-- FLAW(auth_rls_initplan): auth.jwt() per row.
create policy "Billing admins can view invoices" on public.invoices
  for select to authenticated
  using (
    (auth.jwt() -> 'user_metadata' ->> 'role') = 'billing_admin'
    and private.is_org_member(organization_id)
  );


-- ---------------------------------------------------------------------------
-- Integrations (Slack, GitHub, webhooks)
-- ---------------------------------------------------------------------------
create table public.integrations (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  provider text not null check (provider in ('slack', 'github', 'webhook')),
  webhook_url text,
  -- OK(sensitive_columns_exposed): sensitive names, but the table has RLS and an admin-only policy.
  api_token text,
  signing_secret text,
  enabled boolean not null default true,
  created_at timestamptz not null default now()
);
create index integrations_organization_id_idx on public.integrations (organization_id);

alter table public.integrations enable row level security;

create policy "Org admins manage integrations" on public.integrations
  for all to authenticated
  using (private.is_org_admin(organization_id))
  with check (private.is_org_admin(organization_id));


-- ---------------------------------------------------------------------------
-- Stripe webhook events (written by an Edge Function with the service role key)
-- ---------------------------------------------------------------------------
create table public.stripe_events (
  id text primary key,
  type text not null,
  payload jsonb not null,
  received_at timestamptz not null default now(),
  processed_at timestamptz
);

-- FLAW(rls_enabled_no_policy): RLS on and no policy: every API request is denied (only the
-- service role gets through). Often intended, as here; reported as INFO.
alter table public.stripe_events enable row level security;


-- ---------------------------------------------------------------------------
-- Invitations
-- ---------------------------------------------------------------------------
-- FLAW(policy_exists_rls_disabled): the policies below were written but RLS was never enabled
-- on the table, so none of them applies.
-- FLAW(rls_disabled_in_public): readable and writable by anon through the default privileges.
-- FLAW(sensitive_columns_exposed): email and the invitation token (which joins an
-- organization) are readable by anon.
create table public.invitations (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  email text not null,
  role text not null default 'member' check (role in ('admin', 'member')),
  token text not null unique default replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''),
  invited_by uuid not null references auth.users (id) on delete cascade,
  expires_at timestamptz not null default now() + interval '7 days',
  accepted_at timestamptz
);
create index invitations_organization_id_idx on public.invitations (organization_id);
create index invitations_invited_by_idx on public.invitations (invited_by);

create policy "Org admins can view invitations" on public.invitations
  for select to authenticated
  using (private.is_org_admin(organization_id));

-- OK(insert_without_owner_check): invited_by is tied to the caller.
create policy "Org admins can invite" on public.invitations
  for insert to authenticated
  with check (invited_by = (select auth.uid()) and private.is_org_admin(organization_id));

create policy "Org admins can revoke invitations" on public.invitations
  for delete to authenticated
  using (private.is_org_admin(organization_id));


-- ---------------------------------------------------------------------------
-- Audit log
-- ---------------------------------------------------------------------------
-- FLAW(no_primary_key): append-only log without a primary key (no row identity for
-- logical replication UPDATE/DELETE, no way to address a single entry).
create table public.audit_log (
  occurred_at timestamptz not null default now(),
  -- OK(unindexed_foreign_keys): organization_id leads audit_log_organization_id_occurred_at_idx.
  organization_id uuid not null references public.organizations (id) on delete cascade,
  actor_id uuid,
  action text not null,
  entity_type text not null,
  entity_id text,
  details jsonb not null default '{}'::jsonb
);
create index audit_log_organization_id_occurred_at_idx on public.audit_log (organization_id, occurred_at desc);

alter table public.audit_log enable row level security;

-- FLAW(rls_policy_always_true): INSERT with WITH CHECK (true): actor_id is not tied to
-- auth.uid(), so anyone signed in can forge audit entries in someone else's name, for any
-- organization. (insert_without_owner_check leaves an always-true check to this finding.)
create policy "Authenticated users can write audit entries" on public.audit_log
  for insert to authenticated
  with check (true);

create policy "Org admins can read the audit log" on public.audit_log
  for select to authenticated
  using (private.is_org_admin(organization_id));
