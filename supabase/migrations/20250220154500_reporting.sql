-- Taskflow: dashboards, search and indexes.
-- Adds the dashboard views (task counts, member directory, "my tasks"), the organization usage
-- materialized view, user search and project progress functions, trigram search on task titles
-- (pg_trgm), and indexes for the board and the admin pages.


-- ---------------------------------------------------------------------------
-- Search
-- ---------------------------------------------------------------------------
-- FLAW(extension_in_public): created without `with schema extensions`, so pg_trgm's functions
-- and operators land in public, the exposed schema (the embedded PGlite target ships pg_trgm;
-- where an extension is missing, supaudit skips the statement and says so).
create extension if not exists pg_trgm;

create index tasks_title_trgm_idx on public.tasks using gin (title gin_trgm_ops);


-- ---------------------------------------------------------------------------
-- Indexes for the board and the admin pages
-- ---------------------------------------------------------------------------
-- The board loads a project's tasks by status. (It makes tasks_project_id_idx, from the first
-- migration, redundant: see the FLAW(redundant_index) note there.)
create index tasks_project_id_status_idx on public.tasks (project_id, status);

-- Two people added the same index for the status filter, under two names.
create index idx_tasks_status on public.tasks (status);
-- FLAW(duplicate_index): same definition as idx_tasks_status.
create index tasks_status_idx on public.tasks (status);

-- No query filters or sorts organizations by creation date: on a live database this index would
-- show as unused_index (never scanned). The embedded database runs no workload, so supaudit does
-- not judge scan counters there (the report says so in its notes).
create index organizations_created_at_idx on public.organizations (created_at);


-- ---------------------------------------------------------------------------
-- Shared dashboards
-- ---------------------------------------------------------------------------
create table public.dashboard_shares (
  dashboard_id uuid not null,
  user_id uuid not null references auth.users (id) on delete cascade,
  shared_at timestamptz not null default now(),
  primary key (dashboard_id, user_id)
);
create index dashboard_shares_user_id_idx on public.dashboard_shares (user_id);
alter table public.dashboard_shares enable row level security;

-- FLAW(policy_infinite_recursion): "see who else a dashboard is shared with" written as a
-- policy on the share table itself: its subquery reads dashboard_shares under RLS, whose SELECT
-- policy holds a subquery again, so every read by authenticated fails with "infinite recursion
-- detected in policy for relation dashboard_shares". The fix is a SECURITY DEFINER helper in
-- private (like private.is_org_member), called as `dashboard_id in (select private.…())`.
create policy "Users see the shares of dashboards shared with them" on public.dashboard_shares
  for select to authenticated
  using (exists (
    select 1 from public.dashboard_shares mine
    where mine.dashboard_id = dashboard_shares.dashboard_id and mine.user_id = (select auth.uid())
  ));


-- ---------------------------------------------------------------------------
-- Dashboard views
-- ---------------------------------------------------------------------------
-- FLAW(security_definer_view): no security_invoker, so the view reads projects and tasks with
-- its owner's rights (postgres) and bypasses their RLS: anon and authenticated see the task
-- counts of every project of every organization.
create view public.project_task_counts as
select
  p.id as project_id,
  p.organization_id,
  p.name,
  count(t.id) as total_tasks,
  count(t.id) filter (where t.status = 'done') as done_tasks,
  count(t.id) filter (where t.due_date < current_date and t.status not in ('done', 'cancelled')) as overdue_tasks
from public.projects p
left join public.tasks t on t.project_id = p.id
group by p.id, p.organization_id, p.name;

-- OK(security_definer_view): security_invoker = true, so the caller's RLS on tasks applies.
create view public.my_tasks
with (security_invoker = true)
as
select t.id, t.project_id, t.title, t.status, t.priority, t.due_date
from public.tasks t
where t.assignee_id = (select auth.uid());

-- FLAW(auth_users_exposed): exposes auth.users (emails, last sign-in) through the API to anon
-- and authenticated.
-- FLAW(security_definer_view): and runs as its owner, so auth.users' RLS does not apply.
create view public.member_directory as
select
  u.id,
  u.email,
  p.full_name,
  p.avatar_url,
  u.last_sign_in_at,
  u.created_at
from auth.users u
left join public.profiles p on p.id = u.id;

-- FLAW(materialized_view_in_api): materialized views have no RLS; the default privileges let
-- anon and authenticated read every organization's usage figures.
create materialized view public.organization_usage as
select
  o.id as organization_id,
  o.plan,
  (select count(*) from public.organization_members m where m.organization_id = o.id) as members,
  (select count(*) from public.projects p where p.organization_id = o.id) as projects,
  (select count(*) from public.tasks t join public.projects p on p.id = t.project_id where p.organization_id = o.id) as tasks
from public.organizations o;
create unique index organization_usage_organization_id_idx on public.organization_usage (organization_id);


-- ---------------------------------------------------------------------------
-- Functions (callable at /rest/v1/rpc/<name>)
-- ---------------------------------------------------------------------------
-- "Invite a teammate" autocomplete. SECURITY DEFINER to read auth.users.
-- FLAW(anon_security_definer_function_executable): EXECUTE is granted to PUBLIC by default and
-- to anon by the default privileges: anyone with the anon key can enumerate user emails.
-- FLAW(authenticated_security_definer_function_executable): and any signed-in user of any
-- organization can.
-- OK(function_search_path_mutable): search_path is set (to public).
create function public.search_users(search text)
returns table (id uuid, email text, full_name text)
language sql
stable
security definer
set search_path = public
as $$
  select u.id, u.email::text, p.full_name
    from auth.users u
    left join public.profiles p on p.id = u.id
   where u.email ilike '%' || search || '%'
      or p.full_name ilike '%' || search || '%'
   order by u.email
   limit 20;
$$;

-- OK(function_search_path_mutable): search_path is pinned to '' and every name is qualified.
-- OK(anon_security_definer_function_executable): SECURITY INVOKER: the caller's RLS applies.
create function public.project_progress(p_project_id uuid)
returns numeric
language sql
stable
set search_path = ''
as $$
  select round(100.0 * count(*) filter (where t.status = 'done') / nullif(count(*), 0), 1)
    from public.tasks t
   where t.project_id = p_project_id;
$$;
