-- Taskflow: core schema.
-- Adds profiles (created by a trigger on auth.users), organizations and their members, teams and
-- team members, projects, tasks, comments, task watchers, saved filters, the private helper
-- functions the policies use, and two storage buckets: `avatars` (public) and `attachments`.
--
-- This is the bundled supaudit demo: flaws are planted on purpose. Each one is marked on the
-- line(s) above with `-- FLAW(<check_id>): why`, and objects done right on purpose, that a
-- careless check could flag, with `-- OK(<check_id>): why it must not be flagged`.


-- ---------------------------------------------------------------------------
-- Private helpers (schema not exposed through the API)
-- ---------------------------------------------------------------------------
create schema if not exists private;
grant usage on schema private to authenticated, service_role;

-- A trigger keeps updated_at current.
-- FLAW(function_search_path_mutable): no `set search_path`; an object named like one it uses,
-- earlier in the caller's search_path, would be picked up instead.
create function public.set_updated_at()
returns trigger
language plpgsql
as $$
begin
  new.updated_at = now();
  return new;
end;
$$;


-- ---------------------------------------------------------------------------
-- Profiles (as in the Supabase user-management quickstart)
-- ---------------------------------------------------------------------------
create table public.profiles (
  id uuid not null references auth.users (id) on delete cascade,
  updated_at timestamptz,
  username text unique,
  full_name text,
  avatar_url text,
  website text,
  primary key (id),
  constraint username_length check (char_length(username) >= 3)
);

alter table public.profiles enable row level security;

-- OK(policy_role_unrestricted): deliberately public (a user directory); no auth function involved.
-- OK(rls_policy_always_true): USING (true) on SELECT is an intended public read.
create policy "Public profiles are viewable by everyone." on public.profiles
  for select using (true);

-- FLAW(auth_rls_initplan): auth.uid() is called per row instead of (select auth.uid()).
-- FLAW(policy_role_unrestricted): no TO clause, so the policy is also evaluated for anon.
-- OK(insert_without_owner_check): the check ties the owner column (id) to auth.uid().
create policy "Users can insert their own profile." on public.profiles
  for insert with check (auth.uid() = id);

-- FLAW(auth_rls_initplan): auth.uid() per row.
-- FLAW(policy_role_unrestricted): no TO clause.
create policy "Users can update own profile." on public.profiles
  for update using (auth.uid() = id);

-- Creates the profile when someone signs up.
-- OK(anon_security_definer_function_executable): EXECUTE is revoked below, and a function
-- returning trigger cannot be called through /rest/v1/rpc anyway.
-- OK(authenticated_security_definer_function_executable): same.
-- OK(function_search_path_mutable): search_path is pinned to ''.
create function public.handle_new_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.profiles (id, username, full_name, avatar_url)
  values (
    new.id,
    new.raw_user_meta_data ->> 'user_name',
    new.raw_user_meta_data ->> 'full_name',
    new.raw_user_meta_data ->> 'avatar_url'
  );
  return new;
end;
$$;
revoke execute on function public.handle_new_user() from public, anon, authenticated;

create trigger on_auth_user_created
  after insert on auth.users
  for each row execute procedure public.handle_new_user();


-- ---------------------------------------------------------------------------
-- Organizations and members
-- ---------------------------------------------------------------------------
create table public.organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  slug text not null unique,
  -- FLAW(unindexed_foreign_keys): no index on owner_id; deleting a user scans the table.
  -- FLAW(unindexed_policy_column): the UPDATE policy filters on owner_id, which has no index.
  owner_id uuid not null references auth.users (id),
  plan text not null default 'free' check (plan in ('free', 'pro', 'enterprise')),
  created_at timestamptz not null default now()
);

create table public.organization_members (
  -- OK(unindexed_foreign_keys): organization_id leads the primary key, which covers the FK.
  organization_id uuid not null references public.organizations (id) on delete cascade,
  -- FLAW(unindexed_foreign_keys): user_id is only the second column of the primary key.
  -- FLAW(unindexed_policy_column): policies filter on user_id; the primary key
  -- (organization_id, user_id) does not index it (not the leading column).
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null default 'member' check (role in ('owner', 'admin', 'member')),
  created_at timestamptz not null default now(),
  primary key (organization_id, user_id)
);

alter table public.organizations enable row level security;
alter table public.organization_members enable row level security;

-- Policy helpers: SECURITY DEFINER so they can read organization_members without recursing
-- into its own policies.
-- OK(anon_security_definer_function_executable): schema `private` is not exposed and EXECUTE is
-- revoked from PUBLIC and anon.
-- OK(authenticated_security_definer_function_executable): authenticated may execute it (the
-- policies need that), but `private` is not an exposed schema, so there is no /rpc endpoint.
-- OK(function_search_path_mutable): search_path is pinned to ''.
create function private.is_org_member(org_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1
      from public.organization_members m
     where m.organization_id = org_id
       and m.user_id = (select auth.uid())
  );
$$;

-- OK(anon_security_definer_function_executable): as private.is_org_member.
-- OK(authenticated_security_definer_function_executable): as private.is_org_member.
create function private.is_org_admin(org_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1
      from public.organization_members m
     where m.organization_id = org_id
       and m.user_id = (select auth.uid())
       and m.role in ('owner', 'admin')
  );
$$;

revoke all on function private.is_org_member(uuid), private.is_org_admin(uuid) from public, anon;
grant execute on function private.is_org_member(uuid), private.is_org_admin(uuid) to authenticated, service_role;

-- FLAW(rls_policy_always_true): `auth.uid() is null or ...` is true for every anon request, so
-- anon reads every organization. (Written to let "server-side calls" through; the service role
-- bypasses RLS anyway.)
-- (No TO clause either, but here that is the point of the flaw above: the fix is TO authenticated.)
-- FLAW(auth_rls_initplan): auth.uid() per row, twice, once nested inside EXISTS.
-- FLAW(policy_join_slow_shape): OR of a plain condition and an EXISTS subquery.
create policy "Organizations are visible to their members" on public.organizations
  for select using (
    auth.uid() is null
    or exists (
      select 1
        from public.organization_members m
       where m.organization_id = organizations.id
         and m.user_id = auth.uid()
    )
  );

-- OK(insert_without_owner_check): the creator must be the owner.
-- OK(auth_rls_initplan): (select auth.uid()) is evaluated once per statement.
create policy "Users can create organizations" on public.organizations
  for insert to authenticated
  with check (owner_id = (select auth.uid()));

create policy "Owners can update their organization" on public.organizations
  for update to authenticated
  using (owner_id = (select auth.uid()))
  with check (owner_id = (select auth.uid()));

-- FLAW(auth_rls_initplan): auth.uid() per row.
-- FLAW(unindexed_policy_column): organization_members.user_id is not the leading column of any index.
create policy "Members can see their memberships" on public.organization_members
  for select to authenticated
  using (user_id = auth.uid());

create policy "Admins can manage memberships" on public.organization_members
  for delete to authenticated
  using (private.is_org_admin(organization_id));


-- ---------------------------------------------------------------------------
-- Teams
-- ---------------------------------------------------------------------------
create table public.teams (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  name text not null,
  created_at timestamptz not null default now()
);
create index teams_organization_id_idx on public.teams (organization_id);

-- FLAW(missing_unique_constraint): a membership table with a surrogate key and no
-- unique (team_id, user_id): the same person can be added to a team twice.
create table public.team_members (
  id bigint generated always as identity primary key,
  team_id uuid not null references public.teams (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null default 'member',
  joined_at timestamptz not null default now()
);
create index team_members_team_id_idx on public.team_members (team_id);
create index team_members_user_id_idx on public.team_members (user_id);

alter table public.teams enable row level security;
alter table public.team_members enable row level security;

create policy "Org members can view teams" on public.teams
  for select to authenticated
  using (private.is_org_member(organization_id));

-- OK(unindexed_policy_column): team_members.user_id has its own index.
create policy "Users can see their team memberships" on public.team_members
  for select to authenticated
  using (user_id = (select auth.uid()));


-- ---------------------------------------------------------------------------
-- Projects
-- ---------------------------------------------------------------------------
create table public.projects (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references public.organizations (id) on delete cascade,
  team_id uuid references public.teams (id) on delete set null,
  name text not null,
  description text,
  created_by uuid not null references auth.users (id),
  archived_at timestamptz,
  created_at timestamptz not null default now()
);
create index projects_organization_id_idx on public.projects (organization_id);
create index projects_team_id_idx on public.projects (team_id);
create index projects_created_by_idx on public.projects (created_by);

alter table public.projects enable row level security;

-- FLAW(policy_join_slow_shape): OR of a column comparison and an IN (subquery): the planner
-- cannot turn either side into an index condition and evaluates the subplan for each row.
-- FLAW(multiple_permissive_policies): second permissive SELECT policy for authenticated on
-- projects (see the next one); both run for every row.
create policy "Team members can view team projects" on public.projects
  for select to authenticated
  using (
    created_by = (select auth.uid())
    or team_id in (
      select tm.team_id
        from public.team_members tm
       where tm.user_id = (select auth.uid())
    )
  );

-- FLAW(multiple_permissive_policies): see above.
create policy "Org members can view projects" on public.projects
  for select to authenticated
  using (private.is_org_member(organization_id));

-- OK(insert_without_owner_check): created_by is tied to the caller.
-- FLAW(lab_confirmed_escalation): team_id is not tied to the organization (nor to the caller's
-- teams): a member of one organization files a project under another organization's team, whose
-- members then see it among their own.
create policy "Org members can create projects" on public.projects
  for insert to authenticated
  with check (created_by = (select auth.uid()) and private.is_org_member(organization_id));

create policy "Org admins can update projects" on public.projects
  for update to authenticated
  using (private.is_org_admin(organization_id))
  with check (private.is_org_admin(organization_id));


-- ---------------------------------------------------------------------------
-- Tasks
-- ---------------------------------------------------------------------------
create table public.tasks (
  id bigint generated by default as identity primary key,
  project_id uuid not null references public.projects (id) on delete cascade,
  title text not null,
  description text,
  status text not null default 'todo' check (status in ('todo', 'in_progress', 'done', 'cancelled')),
  priority smallint not null default 2 check (priority between 1 and 4),
  -- FLAW(unindexed_policy_column): the SELECT and UPDATE policies filter on assignee_id, which
  -- has no index.
  -- FLAW(unindexed_foreign_keys): and neither has the FK.
  -- OK(nullable_policy_column): nullable by design (unassigned tasks), and it is an assignee,
  -- not the row's owner: NULL never equals auth.uid(), and unassigned tasks stay visible
  -- through the project-membership policy.
  assignee_id uuid references auth.users (id) on delete set null,
  created_by uuid not null references auth.users (id),
  due_date date,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
-- OK(unindexed_policy_column): project_id (used by the membership policy) is indexed.
-- FLAW(redundant_index): once 20250220154500_reporting.sql adds tasks_project_id_status_idx
-- (project_id, status), this index is a prefix of it and serves nothing the other can't.
create index tasks_project_id_idx on public.tasks (project_id);
-- OK(unindexed_policy_column): created_by (used by the DELETE policy) is indexed.
create index tasks_created_by_idx on public.tasks (created_by);

create trigger tasks_set_updated_at
  before update on public.tasks
  for each row execute function public.set_updated_at();

alter table public.tasks enable row level security;

-- FLAW(auth_rls_initplan): auth.uid() per row.
-- FLAW(multiple_permissive_policies): one of two permissive SELECT policies for authenticated.
create policy "Assignees can view their tasks" on public.tasks
  for select to authenticated
  using (assignee_id = auth.uid());

-- FLAW(auth_rls_initplan): auth.uid() nested inside EXISTS is still evaluated per row.
-- FLAW(multiple_permissive_policies): the second permissive SELECT policy.
-- FLAW(unindexed_policy_column): the subquery filters organization_members.user_id.
create policy "Project members can view tasks" on public.tasks
  for select to authenticated
  using (
    exists (
      select 1
        from public.projects p
        join public.organization_members m on m.organization_id = p.organization_id
       where p.id = tasks.project_id
         and m.user_id = auth.uid()
    )
  );

-- OK(insert_without_owner_check): created_by must be the caller.
-- OK(auth_rls_initplan): every auth.uid() is wrapped in (select ...).
create policy "Project members can create tasks" on public.tasks
  for insert to authenticated
  with check (
    created_by = (select auth.uid())
    and exists (
      select 1
        from public.projects p
        join public.organization_members m on m.organization_id = p.organization_id
       where p.id = tasks.project_id
         and m.user_id = (select auth.uid())
    )
  );

create policy "Assignees can update their tasks" on public.tasks
  for update to authenticated
  using (assignee_id = (select auth.uid()))
  with check (assignee_id = (select auth.uid()));

-- OK(unindexed_policy_column): created_by is indexed (tasks_created_by_idx).
create policy "Creators can delete their tasks" on public.tasks
  for delete to authenticated
  using (created_by = (select auth.uid()));


-- ---------------------------------------------------------------------------
-- Comments
-- ---------------------------------------------------------------------------
create table public.comments (
  id bigint generated by default as identity primary key,
  -- FLAW(unindexed_foreign_keys): 50k comments and no index on task_id; deleting a task scans them all.
  task_id bigint not null references public.tasks (id) on delete cascade,
  -- FLAW(nullable_policy_column): the owner column used by the policies is nullable; rows with
  -- a NULL author match no policy and are orphaned (invisible to everyone but the service role).
  author_id uuid references auth.users (id) on delete set null,
  body text not null,
  created_at timestamptz not null default now(),
  edited_at timestamptz
);
create index comments_author_id_idx on public.comments (author_id);

alter table public.comments enable row level security;

create policy "Comments are visible with their task" on public.comments
  for select to authenticated
  using (exists (select 1 from public.tasks t where t.id = comments.task_id));

-- FLAW(insert_without_owner_check): any signed-in user can insert a comment with any author_id,
-- i.e. post in someone else's name.
-- FLAW(auth_rls_initplan): auth.role() per row.
create policy "Authenticated users can comment" on public.comments
  for insert to authenticated
  with check (auth.role() = 'authenticated');

-- FLAW(rls_policy_always_true): UPDATE with USING (true): anyone signed in can edit any comment.
create policy "Authors can edit their comments" on public.comments
  for update to authenticated
  using (true);

create policy "Authors can delete their comments" on public.comments
  for delete to authenticated
  using (author_id = (select auth.uid()));


-- ---------------------------------------------------------------------------
-- Task watchers (done right)
-- ---------------------------------------------------------------------------
create table public.task_watchers (
  task_id bigint not null references public.tasks (id) on delete cascade,
  organization_id uuid not null,
  -- OK(unindexed_foreign_keys): user_id leads the primary key.
  user_id uuid not null references auth.users (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (user_id, organization_id, task_id),
  -- OK(unindexed_foreign_keys): the composite FK (organization_id, user_id) is covered by the
  -- primary key, whose leading columns are the same two in the other order.
  constraint task_watchers_membership_fkey foreign key (organization_id, user_id)
    references public.organization_members (organization_id, user_id) on delete cascade
);
create index task_watchers_task_id_idx on public.task_watchers (task_id);

alter table public.task_watchers enable row level security;

-- OK(unindexed_policy_column): user_id leads the primary key.
create policy "Users can see what they watch" on public.task_watchers
  for select to authenticated
  using (user_id = (select auth.uid()));

-- OK(insert_without_owner_check): user_id is tied to the caller.
create policy "Users can watch tasks" on public.task_watchers
  for insert to authenticated
  with check (user_id = (select auth.uid()));

create policy "Users can unwatch tasks" on public.task_watchers
  for delete to authenticated
  using (user_id = (select auth.uid()));


-- ---------------------------------------------------------------------------
-- Saved filters (done right: the reference shape for per-user rows)
-- ---------------------------------------------------------------------------
create table public.saved_filters (
  id bigint generated by default as identity primary key,
  -- OK(missing_foreign_key): references auth.users, cascades on delete.
  -- OK(nullable_policy_column): not null.
  user_id uuid not null default auth.uid() references auth.users (id) on delete cascade,
  name text not null,
  query jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now()
);
-- OK(unindexed_foreign_keys): covered.
-- OK(unindexed_policy_column): covered.
create index saved_filters_user_id_idx on public.saved_filters (user_id);

alter table public.saved_filters enable row level security;

-- OK(auth_rls_initplan): (select auth.uid()).
-- OK(policy_role_unrestricted): TO authenticated.
create policy "Users can view their saved filters" on public.saved_filters
  for select to authenticated
  using ((select auth.uid()) = user_id);

-- OK(insert_without_owner_check): user_id is tied to the caller.
create policy "Users can create saved filters" on public.saved_filters
  for insert to authenticated
  with check ((select auth.uid()) = user_id);

create policy "Users can update their saved filters" on public.saved_filters
  for update to authenticated
  using ((select auth.uid()) = user_id)
  with check ((select auth.uid()) = user_id);

create policy "Users can delete their saved filters" on public.saved_filters
  for delete to authenticated
  using ((select auth.uid()) = user_id);


-- ---------------------------------------------------------------------------
-- Storage: avatars (as in the quickstart)
-- ---------------------------------------------------------------------------
insert into storage.buckets (id, name, public)
values ('avatars', 'avatars', true);

-- FLAW(public_bucket_allows_listing): the bucket is public (object URLs work without any
-- policy), and this SELECT policy also lets anyone list every file in it.
create policy "Avatar images are publicly accessible." on storage.objects
  for select using (bucket_id = 'avatars');

-- FLAW(blast_radius): anyone, signed in or not, can upload into the avatars bucket (the
-- quickstart's policy): an anon write path.
-- FLAW(storage_bucket_open): the check is the bucket alone, so anon uploads into any user's
-- folder (proven on the embedded database: anon writes `<another user's id>/…`).
create policy "Anyone can upload an avatar." on storage.objects
  for insert with check (bucket_id = 'avatars');


-- ---------------------------------------------------------------------------
-- Storage: task attachments (private)
-- ---------------------------------------------------------------------------
insert into storage.buckets (id, name, public, file_size_limit)
values ('attachments', 'attachments', false, 52428800);

-- OK(public_bucket_allows_listing): the bucket is private and each user lists only their own
-- folder (<user id>/...).
create policy "Users can read their own attachments" on storage.objects
  for select to authenticated
  using (bucket_id = 'attachments' and (storage.foldername(name))[1] = (select auth.uid())::text);

create policy "Users can upload into their own folder" on storage.objects
  for insert to authenticated
  with check (bucket_id = 'attachments' and (storage.foldername(name))[1] = (select auth.uid())::text);
