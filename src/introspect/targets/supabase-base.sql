-- =============================================================================
-- supabase-base.sql: a bare Postgres made to look like a hosted Supabase project
-- before the user's migrations run (what `supabase db reset` starts from).
--
-- Run it as the superuser `postgres`. It runs on PGlite (PostgreSQL 18 in WASM,
-- plpgsql only) and on PostgreSQL 15 and 17, and again on a fresh database of a
-- cluster where the roles already exist: roles are cluster-wide, so they are
-- created inside DO blocks that look in pg_roles first, then their attributes
-- are set with ALTER ROLE; everything else is per database and uses IF NOT
-- EXISTS where Postgres has it.
--
-- Adapted, compactly, from Supabase's own init scripts:
--   supabase/postgres  migrations/db/init-scripts/00000000000000-initial-schema.sql,
--                      ...01-auth-schema.sql, ...02-storage-schema.sql,
--                      ...03-post-setup.sql, ...03-realtime-schema.sql
--   supabase/auth      migrations (auth.users columns and indexes, auth.uid(),
--                      auth.role(), auth.email() as of 20220224000811, auth.jwt()
--                      as of 20220531120530; RLS on auth tables, 20240612123726)
--   supabase/storage   migrations/tenant (buckets, objects, helper functions)
--   supabase/realtime  realtime.subscription, realtime.messages, realtime.topic()
--
-- What it emulates:
--   * roles anon, authenticated, service_role, authenticator, supabase_admin,
--     supabase_auth_admin, supabase_storage_admin, dashboard_user
--   * schemas auth, storage, realtime, extensions, graphql_public with their
--     owners and USAGE grants
--   * auth.users (hosted columns and unique indexes) and the auth.*() helpers
--   * storage.buckets and storage.objects with RLS enabled and hosted grants
--   * realtime.subscription and the (empty) supabase_realtime publication
--   * the classic default privileges: every table, function and sequence that
--     postgres or supabase_admin creates in public is granted ALL to anon,
--     authenticated and service_role
--   * pgcrypto and uuid-ossp in schema extensions, only where the server has
--     them (real Postgres, or PGlite started with those extensions), and
--     postgres's search_path "$user", public, extensions
--
-- What it leaves out:
--   * postgres stays a superuser and supabase_admin is not one (hosted:
--     postgres is NOSUPERUSER BYPASSRLS, supabase_admin is the superuser)
--   * anon, authenticated and service_role are NOINHERIT as in the original
--     init script; hosted projects made them INHERIT in 2023 (it changes
--     nothing here: they are members of no other role)
--   * passwords, database-level grants, per-database PostgREST settings (the
--     exposed schemas come from supabase/config.toml), the other roles'
--     search_path
--   * storage.migrations/prefixes/s3_*, realtime.messages' partitions, vault, pgsodium,
--     pg_graphql, pg_net, pg_cron, pg_stat_statements, pgbouncer
--   * event triggers (pgrst_ddl_watch, grant_pg_*_access, auth schema DDL lock)
--   * realtime.subscription.filters is jsonb here, not
--     realtime.user_defined_filter[], and has no realtime.* functions
-- =============================================================================


-- -----------------------------------------------------------------------------
-- Roles (cluster-wide)
-- -----------------------------------------------------------------------------
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticator') then
    create role authenticator;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'supabase_admin') then
    create role supabase_admin;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'supabase_auth_admin') then
    create role supabase_auth_admin;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'supabase_storage_admin') then
    create role supabase_storage_admin;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'dashboard_user') then
    create role dashboard_user;
  end if;
end
$$;

-- Attributes are (re)applied every time, so a role left behind by something
-- else ends up the way a hosted project has it.
alter role anon                   nologin noinherit;
alter role authenticated          nologin noinherit;
alter role service_role           nologin noinherit bypassrls;
alter role authenticator          login noinherit;
alter role supabase_admin         nologin createrole createdb replication bypassrls;
alter role supabase_auth_admin    login noinherit createrole noreplication;
alter role supabase_storage_admin login noinherit createrole noreplication;
alter role dashboard_user         nologin nosuperuser createdb createrole replication;

-- authenticator is PostgREST's login role: it switches to one of these per request.
do $$
declare
  r text;
begin
  foreach r in array array['anon', 'authenticated', 'service_role'] loop
    if not exists (
      select 1
        from pg_auth_members m
       where m.roleid = (select oid from pg_roles where rolname = r)
         and m.member = (select oid from pg_roles where rolname = 'authenticator')
    ) then
      execute format('grant %I to authenticator', r);
    end if;
  end loop;
end
$$;

-- Short timeouts for API requests, as hosted (applied at login, not on SET ROLE).
alter role anon          set statement_timeout = '3s';
alter role authenticated set statement_timeout = '8s';


-- -----------------------------------------------------------------------------
-- Schemas and USAGE
-- -----------------------------------------------------------------------------
create schema if not exists extensions;
create schema if not exists auth           authorization supabase_admin;
create schema if not exists storage        authorization supabase_admin;
create schema if not exists realtime       authorization supabase_admin;
create schema if not exists graphql_public authorization supabase_admin;

grant usage on schema public         to postgres, anon, authenticated, service_role;
grant all   on schema public         to postgres;
grant usage on schema extensions     to postgres, anon, authenticated, service_role;
grant all   on schema extensions     to dashboard_user;
grant usage on schema auth           to postgres, anon, authenticated, service_role;
grant all   on schema auth           to supabase_auth_admin, dashboard_user;
grant usage on schema storage        to postgres, anon, authenticated, service_role;
grant all   on schema storage        to supabase_storage_admin with grant option;
grant all   on schema storage        to dashboard_user;
grant usage on schema realtime       to postgres, anon, authenticated, service_role;
grant usage on schema graphql_public to postgres, anon, authenticated, service_role;

-- Hosted projects have these two in `extensions`; create them only where the
-- server ships them (bare PGlite has plpgsql alone).
do $$
begin
  if exists (select 1 from pg_available_extensions where name = 'uuid-ossp') then
    create extension if not exists "uuid-ossp" with schema extensions;
  end if;
  if exists (select 1 from pg_available_extensions where name = 'pgcrypto') then
    create extension if not exists pgcrypto with schema extensions;
  end if;
end
$$;

-- Hosted projects call extension functions without a schema (gen_random_bytes(),
-- uuid_generate_v4()): postgres, who runs the migrations, has extensions on its
-- search_path. (The embedded loader sets the same path for its session.)
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'postgres') then
    alter role postgres set search_path = "$user", public, extensions;
  end if;
end
$$;


-- -----------------------------------------------------------------------------
-- Default privileges, classic kind: what postgres or supabase_admin creates in
-- public is granted to the API roles (new projects opt out since 2026).
-- -----------------------------------------------------------------------------
alter default privileges for role postgres in schema public
  grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role postgres in schema public
  grant all on sequences to postgres, anon, authenticated, service_role;

alter default privileges for role supabase_admin in schema public
  grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_admin in schema public
  grant all on sequences to postgres, anon, authenticated, service_role;

-- Storage's own tables get the same treatment when supabase_storage_admin creates them.
alter default privileges for role supabase_storage_admin in schema storage
  grant all on tables to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_storage_admin in schema storage
  grant all on functions to postgres, anon, authenticated, service_role;
alter default privileges for role supabase_storage_admin in schema storage
  grant all on sequences to postgres, anon, authenticated, service_role;


-- -----------------------------------------------------------------------------
-- auth
-- -----------------------------------------------------------------------------
create table if not exists auth.users (
  instance_id                 uuid,
  id                          uuid not null,
  aud                         varchar(255),
  role                        varchar(255),
  email                       varchar(255),
  encrypted_password          varchar(255),
  email_confirmed_at          timestamptz,
  invited_at                  timestamptz,
  confirmation_token          varchar(255),
  confirmation_sent_at        timestamptz,
  recovery_token              varchar(255),
  recovery_sent_at            timestamptz,
  email_change_token_new      varchar(255),
  email_change                varchar(255),
  email_change_sent_at        timestamptz,
  last_sign_in_at             timestamptz,
  raw_app_meta_data           jsonb,
  raw_user_meta_data          jsonb,
  is_super_admin              boolean,
  created_at                  timestamptz,
  updated_at                  timestamptz,
  phone                       text default null,
  phone_confirmed_at          timestamptz,
  phone_change                text default '',
  phone_change_token          varchar(255) default '',
  phone_change_sent_at        timestamptz,
  confirmed_at                timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
  email_change_token_current  varchar(255) default '',
  email_change_confirm_status smallint default 0,
  banned_until                timestamptz,
  reauthentication_token      varchar(255) default '',
  reauthentication_sent_at    timestamptz,
  is_sso_user                 boolean not null default false,
  deleted_at                  timestamptz,
  is_anonymous                boolean not null default false,
  constraint users_pkey primary key (id),
  constraint users_phone_key unique (phone),
  constraint users_email_change_confirm_status_check
    check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2)
);
comment on table auth.users is 'Auth: Stores user login data within a secure schema.';
comment on column auth.users.is_sso_user is 'Auth: Set this column to true when the account comes from SSO. These accounts can have duplicate emails.';

-- Email is unique only among non-SSO users (20221215195500); phone is plainly unique.
create unique index if not exists users_email_partial_key on auth.users (email) where (is_sso_user = false);
create index if not exists users_instance_id_idx on auth.users (instance_id);
create index if not exists users_instance_id_email_idx on auth.users (instance_id, lower((email)::text));
create index if not exists users_is_anonymous_idx on auth.users (is_anonymous);

alter table auth.users owner to supabase_auth_admin;
alter table auth.users enable row level security;
grant select on auth.users to postgres with grant option;
grant all on auth.users to dashboard_user;

-- The rest of the auth schema a hosted project has (supabase/auth migrations), so that seeds that
-- create users with their identities, sessions or factors load, and policies that read them resolve.
do $$ begin
  create type auth.aal_level as enum ('aal1', 'aal2', 'aal3');
exception when duplicate_object then null; end $$;
do $$ begin
  create type auth.factor_type as enum ('totp', 'webauthn', 'phone');
exception when duplicate_object then null; end $$;
do $$ begin
  create type auth.factor_status as enum ('unverified', 'verified');
exception when duplicate_object then null; end $$;
do $$ begin
  create type auth.code_challenge_method as enum ('s256', 'plain');
exception when duplicate_object then null; end $$;
do $$ begin
  create type auth.one_time_token_type as enum ('confirmation_token', 'reauthentication_token', 'recovery_token',
    'email_change_token_new', 'email_change_token_current', 'phone_change_token');
exception when duplicate_object then null; end $$;

create table if not exists auth.instances (
  id uuid not null primary key, uuid uuid, raw_base_config text, created_at timestamptz, updated_at timestamptz
);
create table if not exists auth.schema_migrations (version varchar(255) not null primary key);
create table if not exists auth.audit_log_entries (
  instance_id uuid, id uuid not null primary key, payload json, created_at timestamptz,
  ip_address varchar(64) not null default ''
);
create table if not exists auth.identities (
  provider_id text not null,
  user_id uuid not null references auth.users (id) on delete cascade,
  identity_data jsonb not null,
  provider text not null,
  last_sign_in_at timestamptz,
  created_at timestamptz,
  updated_at timestamptz,
  email text generated always as (lower(identity_data ->> 'email')) stored,
  id uuid not null default gen_random_uuid() primary key,
  constraint identities_provider_id_provider_unique unique (provider_id, provider)
);
create index if not exists identities_user_id_idx on auth.identities (user_id);
create table if not exists auth.sessions (
  id uuid not null primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz, updated_at timestamptz,
  factor_id uuid, aal auth.aal_level, not_after timestamptz,
  refreshed_at timestamp, user_agent text, ip inet, tag text
);
create index if not exists sessions_user_id_idx on auth.sessions (user_id);
create table if not exists auth.refresh_tokens (
  instance_id uuid,
  id bigserial primary key,
  token varchar(255) unique,
  user_id varchar(255),
  revoked boolean,
  created_at timestamptz, updated_at timestamptz,
  parent varchar(255),
  session_id uuid references auth.sessions (id) on delete cascade
);
create table if not exists auth.mfa_factors (
  id uuid not null primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  friendly_name text,
  factor_type auth.factor_type not null,
  status auth.factor_status not null,
  created_at timestamptz not null, updated_at timestamptz not null,
  secret text, phone text, last_challenged_at timestamptz unique,
  web_authn_credential jsonb, web_authn_aaguid uuid
);
create table if not exists auth.mfa_challenges (
  id uuid not null primary key,
  factor_id uuid not null references auth.mfa_factors (id) on delete cascade,
  created_at timestamptz not null, verified_at timestamptz,
  ip_address inet not null, otp_code text, web_authn_session_data jsonb
);
create table if not exists auth.mfa_amr_claims (
  session_id uuid not null references auth.sessions (id) on delete cascade,
  created_at timestamptz not null, updated_at timestamptz not null,
  authentication_method text not null,
  id uuid not null primary key,
  constraint mfa_amr_claims_session_id_authentication_method_pkey unique (session_id, authentication_method)
);
create table if not exists auth.one_time_tokens (
  id uuid not null primary key,
  user_id uuid not null references auth.users (id) on delete cascade,
  token_type auth.one_time_token_type not null,
  token_hash text not null check (char_length(token_hash) > 0),
  relates_to text not null,
  created_at timestamp not null default now(),
  updated_at timestamp not null default now()
);
create table if not exists auth.flow_state (
  id uuid not null primary key,
  user_id uuid, auth_code text not null,
  code_challenge_method auth.code_challenge_method not null,
  code_challenge text not null, provider_type text not null,
  provider_access_token text, provider_refresh_token text,
  created_at timestamptz, updated_at timestamptz,
  authentication_method text not null, auth_code_issued_at timestamptz
);
create table if not exists auth.sso_providers (
  id uuid not null primary key, resource_id text, created_at timestamptz, updated_at timestamptz
);
create table if not exists auth.sso_domains (
  id uuid not null primary key,
  sso_provider_id uuid not null references auth.sso_providers (id) on delete cascade,
  domain text not null, created_at timestamptz, updated_at timestamptz
);
create table if not exists auth.saml_providers (
  id uuid not null primary key,
  sso_provider_id uuid not null references auth.sso_providers (id) on delete cascade,
  entity_id text not null unique, metadata_xml text not null, metadata_url text,
  attribute_mapping jsonb, created_at timestamptz, updated_at timestamptz, name_id_format text
);
create table if not exists auth.saml_relay_states (
  id uuid not null primary key,
  sso_provider_id uuid not null references auth.sso_providers (id) on delete cascade,
  request_id text not null, for_email text, redirect_to text,
  created_at timestamptz, updated_at timestamptz,
  flow_state_id uuid references auth.flow_state (id) on delete cascade
);
do $$
declare t text;
begin
  foreach t in array array['instances', 'schema_migrations', 'audit_log_entries', 'identities', 'sessions', 'refresh_tokens',
    'mfa_factors', 'mfa_challenges', 'mfa_amr_claims', 'one_time_tokens', 'flow_state', 'sso_providers', 'sso_domains',
    'saml_providers', 'saml_relay_states'] loop
    execute format('alter table auth.%I owner to supabase_auth_admin', t);
    execute format('alter table auth.%I enable row level security', t);
    execute format('grant all on auth.%I to dashboard_user', t);
    execute format('grant select on auth.%I to postgres with grant option', t);
  end loop;
end $$;

create or replace function auth.uid()
returns uuid
language sql stable
as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.sub', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    )::uuid
$$;
comment on function auth.uid() is 'Deprecated. Use auth.jwt() -> ''sub'' instead.';

create or replace function auth.role()
returns text
language sql stable
as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.role', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
    )::text
$$;
comment on function auth.role() is 'Deprecated. Use auth.jwt() -> ''role'' instead.';

create or replace function auth.email()
returns text
language sql stable
as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim.email', true), ''),
      (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
    )::text
$$;
comment on function auth.email() is 'Deprecated. Use auth.jwt() -> ''email'' instead.';

create or replace function auth.jwt()
returns jsonb
language sql stable
as $$
  select
    coalesce(
      nullif(current_setting('request.jwt.claim', true), ''),
      nullif(current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

alter function auth.uid()   owner to supabase_auth_admin;
alter function auth.role()  owner to supabase_auth_admin;
alter function auth.email() owner to supabase_auth_admin;
alter function auth.jwt()   owner to supabase_auth_admin;
grant execute on all functions in schema auth to dashboard_user, postgres;


-- -----------------------------------------------------------------------------
-- storage
-- -----------------------------------------------------------------------------
create table if not exists storage.buckets (
  id                 text not null,
  name               text not null,
  owner              uuid,
  created_at         timestamptz default now(),
  updated_at         timestamptz default now(),
  public             boolean default false,
  avif_autodetection boolean default false,
  file_size_limit    bigint,
  allowed_mime_types text[],
  owner_id           text,
  constraint buckets_pkey primary key (id)
);
comment on column storage.buckets.owner is 'Field is deprecated, use owner_id instead';
create unique index if not exists bname on storage.buckets (name);

create table if not exists storage.objects (
  id               uuid not null default gen_random_uuid(),
  bucket_id        text,
  name             text,
  owner            uuid,
  created_at       timestamptz default now(),
  updated_at       timestamptz default now(),
  last_accessed_at timestamptz default now(),
  metadata         jsonb,
  path_tokens      text[] generated always as (string_to_array(name, '/')) stored,
  version          text,
  owner_id         text,
  user_metadata    jsonb,
  constraint objects_pkey primary key (id),
  constraint "objects_bucketId_fkey" foreign key (bucket_id) references storage.buckets (id)
);
comment on column storage.objects.owner is 'Field is deprecated, use owner_id instead';
create unique index if not exists bucketid_objname on storage.objects (bucket_id, name);
create index if not exists name_prefix_search on storage.objects (name text_pattern_ops);

alter table storage.buckets enable row level security;
alter table storage.objects enable row level security;
alter table storage.buckets owner to supabase_storage_admin;
alter table storage.objects owner to supabase_storage_admin;
-- What the default privileges above would have granted had supabase_storage_admin created them.
grant all on storage.buckets, storage.objects to postgres, anon, authenticated, service_role;
grant all on storage.buckets, storage.objects to dashboard_user;

-- Path helpers used in storage policies, e.g. (storage.foldername(name))[1] = auth.uid()::text
create or replace function storage.foldername(name text)
returns text[]
language plpgsql
as $function$
declare
  _parts text[];
begin
  select string_to_array(name, '/') into _parts;
  return _parts[1:array_length(_parts, 1) - 1];
end
$function$;

create or replace function storage.filename(name text)
returns text
language plpgsql
as $function$
declare
  _parts text[];
begin
  select string_to_array(name, '/') into _parts;
  return _parts[array_length(_parts, 1)];
end
$function$;

create or replace function storage.extension(name text)
returns text
language plpgsql
as $function$
declare
  _parts text[];
  _filename text;
begin
  select string_to_array(name, '/') into _parts;
  select _parts[array_length(_parts, 1)] into _filename;
  return reverse(split_part(reverse(_filename), '.', 1));
end
$function$;

alter function storage.foldername(text) owner to supabase_storage_admin;
alter function storage.filename(text)   owner to supabase_storage_admin;
alter function storage.extension(text)  owner to supabase_storage_admin;
grant execute on all functions in schema storage to postgres, anon, authenticated, service_role;


-- -----------------------------------------------------------------------------
-- realtime: one row per client subscribed to Postgres Changes on a table
-- -----------------------------------------------------------------------------
create table if not exists realtime.subscription (
  id              bigint generated always as identity,
  subscription_id uuid not null,
  entity          regclass not null,
  filters         jsonb not null default '[]'::jsonb,
  claims          jsonb not null,
  claims_role     text generated always as (coalesce(claims ->> 'role', 'anon')) stored,
  created_at      timestamp not null default timezone('utc', now()),
  constraint pk_subscription primary key (id)
);
create index if not exists ix_realtime_subscription_entity on realtime.subscription (entity);
alter table realtime.subscription owner to supabase_admin;
grant select on realtime.subscription to postgres, dashboard_user;

-- realtime.messages: Realtime Authorization (broadcast and presence on private
-- channels) checks the app's RLS policies on it as the connecting user
create table if not exists realtime.messages (
  topic          text not null,
  extension      text not null,
  payload        jsonb,
  event          text,
  private        boolean default false,
  updated_at     timestamp without time zone not null default now(),
  inserted_at    timestamp without time zone not null default now(),
  id             uuid not null default gen_random_uuid(),
  binary_payload bytea,
  skip_broadcast boolean not null default false,
  constraint messages_payload_exclusive check (payload is null or binary_payload is null),
  constraint messages_pkey primary key (id, inserted_at)
) partition by range (inserted_at);
alter table realtime.messages enable row level security;
alter table realtime.messages owner to supabase_admin;
grant insert, select, update on realtime.messages to anon, authenticated, service_role;
grant all on realtime.messages to postgres, dashboard_user;

-- the channel a Realtime Authorization policy is evaluated for
create or replace function realtime.topic() returns text
  language sql stable
  as $$ select nullif(current_setting('realtime.topic', true), '')::text $$;
alter function realtime.topic() owner to supabase_admin;
grant execute on function realtime.topic() to postgres, anon, authenticated, service_role, dashboard_user;

do $$
begin
  if not exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
end
$$;


-- -----------------------------------------------------------------------------
-- graphql_public: the placeholder hosted projects have until pg_graphql is on
-- -----------------------------------------------------------------------------
create or replace function graphql_public.graphql(
  "operationName" text default null,
  query text default null,
  variables jsonb default null,
  extensions jsonb default null
)
returns jsonb
language plpgsql
as $$
begin
  return jsonb_build_object(
    'errors', jsonb_build_array(jsonb_build_object('message', 'pg_graphql extension is not enabled.'))
  );
end
$$;
alter function graphql_public.graphql(text, text, jsonb, jsonb) owner to supabase_admin;
