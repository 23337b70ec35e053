/**
 * A schema exercising the parsed-policy checks: nested, aliased, schema-qualified and quoted
 * identifiers, each positive next to its near miss. Shared by the tests in this folder.
 */
export const POLICY_FIXTURE = `
create schema "App Data";
grant usage on schema "App Data" to anon, authenticated;

create table public.teams (id bigint primary key, name text);
create table public.team_members (team_id bigint not null references public.teams (id), user_id uuid not null references auth.users (id));
alter table public.team_members enable row level security;
create policy "members see their memberships" on public.team_members for select to authenticated using ((select auth.uid()) = user_id);

-- per-row auth.uid(), and per-row inside EXISTS with an alias and a quoted table
create table "App Data"."Project Docs" (id bigint primary key, "Owner Id" uuid, team_id bigint, title text);
grant select, insert, update, delete on all tables in schema "App Data" to anon, authenticated;
alter table "App Data"."Project Docs" enable row level security;
create policy "owner reads" on "App Data"."Project Docs" for select to authenticated using (auth.uid() = "Owner Id");
create policy "team reads" on "App Data"."Project Docs" for select to authenticated
  using (exists (select 1 from public.team_members tm where tm.team_id = "Project Docs".team_id and tm.user_id = auth.uid()));
-- near miss: already wrapped, at depth
create table public.notes (id bigint primary key, user_id uuid not null, body text);
create index notes_user_id_idx on public.notes (user_id);
alter table public.notes enable row level security;
create policy notes_owner on public.notes for all to authenticated
  using ((select auth.uid()) = user_id) with check (user_id = (select auth.uid()));

-- current_setting per row; the JWT's user_metadata in several spellings
create table public.admin_things (id bigint primary key, tenant text);
create index admin_things_tenant_idx on public.admin_things (tenant);
alter table public.admin_things enable row level security;
create policy by_claim on public.admin_things for select to authenticated
  using (tenant = current_setting('request.jwt.claims', true)::jsonb ->> 'tenant');
create policy meta_arrow on public.admin_things for update to authenticated
  using ((select auth.jwt()) -> 'user_metadata' ->> 'role' = 'admin') with check ((select auth.jwt()) -> 'user_metadata' ->> 'role' = 'admin');
create policy meta_path on public.admin_things for delete to authenticated
  using (((select auth.jwt()) #>> '{user_metadata,role}') = 'admin');
create policy meta_users on public.admin_things for insert to authenticated
  with check (exists (select 1 from auth.users u where u.id = (select auth.uid()) and jsonb_extract_path_text(u.raw_user_meta_data, 'role') = 'admin'));
-- near miss: app_metadata is set by the server only
create table public.app_things (id bigint primary key, owner_id uuid not null);
create index app_things_owner_id_idx on public.app_things (owner_id);
alter table public.app_things enable row level security;
create policy app_meta on public.app_things for select to authenticated
  using (((select auth.jwt()) -> 'app_metadata' ->> 'role') = 'admin');

-- always true, in several shapes
create table public.customers (id bigint primary key, email text, phone text, user_id uuid);
create index customers_user_id_idx on public.customers (user_id);
alter table public.customers enable row level security;
create policy customers_public on public.customers for select to anon, authenticated using (true);
create table public.posts (id bigint primary key, user_id uuid, title text);
create index posts_user_id_idx on public.posts (user_id);
alter table public.posts enable row level security;
create policy posts_public_read on public.posts for select using (true);
create policy posts_anyone_updates on public.posts for update to authenticated using (1 = 1) with check (coalesce(title = 'x', true));
create policy posts_anonymous_branch on public.posts for delete using (auth.uid() is null or user_id = (select auth.uid()));
create policy posts_members_read on public.posts as restrictive for select to authenticated using (true);
create policy posts_insert on public.posts for insert to authenticated with check (title is not null or true);
create table public.announcements (id bigint primary key, body text);
alter table public.announcements enable row level security;
create policy announcements_signed_in on public.announcements for select to authenticated using (true);

-- writes not tied to the caller, next to writes that are
create table public.orders (id bigint primary key, user_id uuid not null references auth.users (id), team_id bigint, status text);
create index orders_user_id_idx on public.orders (user_id);
create index orders_team_id_idx on public.orders (team_id);
alter table public.orders enable row level security;
create policy orders_insert_any on public.orders for insert to authenticated with check (status = 'new');
create policy orders_update_own on public.orders for update to authenticated
  using ((select auth.uid()) = user_id) with check ((select auth.uid()) = user_id);
create policy orders_insert_team on public.orders for insert to authenticated
  with check (team_id in (select tm.team_id from public.team_members tm where tm.user_id = (select auth.uid())));

-- overlapping permissive policies; restrictive ones do not count
create table public.tasks (id bigint primary key, user_id uuid, done boolean);
create index tasks_user_id_idx on public.tasks (user_id);
alter table public.tasks enable row level security;
create policy tasks_read_own on public.tasks for select to authenticated using ((select auth.uid()) = user_id);
create policy tasks_manage on public.tasks for all using ((select auth.uid()) = user_id);
create policy tasks_not_done on public.tasks as restrictive for select to authenticated using (done is not true);

-- a policy for PUBLIC that needs a signed-in user; OR mixing a subquery; an invoker helper reading an RLS table
create table public.files (id bigint primary key, owner_id uuid, team_id bigint, shared boolean);
create index files_owner_id_idx on public.files (owner_id);
alter table public.files enable row level security;
create policy files_owner on public.files for select using ((select auth.uid()) = owner_id);
create policy files_owner_or_team on public.files for update to authenticated
  using ((select auth.uid()) = owner_id or team_id in (select team_id from public.team_members where user_id = (select auth.uid())));
create function public.my_team_ids() returns setof bigint language sql stable as
  $$ select team_id from public.team_members where user_id = (select auth.uid()) $$;
create policy files_via_helper on public.files for delete to authenticated using (team_id in (select public.my_team_ids()));
create function public.is_team_member(t bigint) returns boolean language sql stable as
  $$ select exists (select 1 from public.team_members where team_id = t and user_id = (select auth.uid())) $$;
create policy files_helper_per_row on public.files for insert to authenticated with check (public.is_team_member(team_id));

-- a partial index serves the policies that imply its predicate; an expression index those that use it
create table public.docs (id bigint primary key, user_id uuid, deleted_at timestamptz, email text);
create index docs_live_user_idx on public.docs (user_id) where deleted_at is null;
create index docs_lower_email_idx on public.docs (lower(email));
alter table public.docs enable row level security;
create policy docs_live on public.docs for select to authenticated using (deleted_at is null and (select auth.uid()) = user_id);
create policy docs_any on public.docs for update to authenticated using ((select auth.uid()) = user_id) with check ((select auth.uid()) = user_id);
create policy docs_email on public.docs for delete to authenticated using (lower(email) = lower((select auth.email())));
`;
