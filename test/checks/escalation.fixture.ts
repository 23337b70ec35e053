/** Fixtures for tenant_self_join and privilege_escalation: every class of the issue and its near misses. */
export const A = '00000000-0000-0000-0000-00000000000a';
export const B = '00000000-0000-0000-0000-00000000000b';
export const C = '00000000-0000-0000-0000-00000000000c';

export const ESCALATION_SQL = `
insert into auth.users (id, email) values ('${A}', 'a@example.com'), ('${B}', 'b@example.com'), ('${C}', 'c@example.com');

-- A tenant app in its own schema, with a quoted membership table and a helper two levels deep.
create schema app;
grant usage on schema app to anon, authenticated;
alter default privileges in schema app grant all on tables to anon, authenticated;
create table app.workspaces (id bigint primary key, name text not null);
create table app."Workspace Members" (
  workspace_id bigint not null references app.workspaces, user_id uuid not null references auth.users, role text not null default 'member',
  primary key (workspace_id, user_id));
create table app.documents (id bigint primary key, workspace_id bigint not null references app.workspaces, body text, api_token text);
create function app.member_row_exists(ws bigint, uid uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from app."Workspace Members" m where m.workspace_id = ws and m.user_id = uid)
$$;
create function app.is_workspace_member(ws bigint) returns boolean language sql stable security definer set search_path = '' as $$
  select app.member_row_exists(ws, auth.uid())
$$;
alter table app.workspaces enable row level security;
alter table app."Workspace Members" enable row level security;
alter table app.documents enable row level security;
create policy "members read workspaces" on app.workspaces for select to authenticated using (app.is_workspace_member(id));
create policy "members read members" on app."Workspace Members" for select to authenticated using (app.is_workspace_member(workspace_id));
create policy "join as yourself" on app."Workspace Members" for insert to authenticated
  with check (user_id = (select auth.uid()) or app.is_workspace_member(workspace_id));
create policy "members read documents" on app.documents for select to authenticated using (app.is_workspace_member(workspace_id));
create policy "members edit documents" on app.documents for update to authenticated using (app.is_workspace_member(workspace_id));
insert into app.workspaces values (1, 'A''s'), (2, 'B''s');
insert into app."Workspace Members" values (1, '${A}', 'owner'), (2, '${B}', 'owner');
insert into app.documents values (1, 1, 'a plan', null), (2, 2, 'b secret', 'tok'), (3, 2, 'b other', null);

-- E-mail trusted by a helper; users update their own member row (table-wide UPDATE grant).
create table public.members (id uuid primary key references auth.users, email text, display_name text);
create table public.files (id bigint primary key, name text, shared_with text[] not null default '{}');
create function public.can_edit(shared text[]) returns boolean language sql stable security definer set search_path = '' as $$
  select (select email from public.members where id = auth.uid()) = any(shared)
$$;
alter table public.members enable row level security;
alter table public.files enable row level security;
create policy "read own member row" on public.members for select to authenticated using (id = (select auth.uid()));
create policy "update own member row" on public.members for update to authenticated using (id = (select auth.uid()));
create policy "shared files" on public.files for select to authenticated using (public.can_edit(shared_with));
insert into public.members values ('${A}', 'a@example.com', 'A'), ('${B}', 'b@example.com', 'B');
insert into public.files values (1, 'b.pdf', '{b@example.com}');

-- A kind column checked inline by another table's policy.
create table public.accounts (id uuid primary key references auth.users, kind text not null default 'customer', nickname text);
create table public.reports (id bigint primary key, title text);
alter table public.accounts enable row level security;
alter table public.reports enable row level security;
create policy "own account" on public.accounts for all to authenticated using (id = (select auth.uid())) with check (id = (select auth.uid()));
create policy "staff read reports" on public.reports for select to authenticated
  using (exists (select 1 from public.accounts a where a.id = (select auth.uid()) and a.kind = 'staff'));
insert into public.accounts values ('${A}', 'customer', 'a'), ('${B}', 'staff', 'b');
-- An RPC that writes the trusted column from its argument, with its owner's rights.
create function public.set_my_kind(k text) returns void language sql security definer set search_path = '' as $$
  update public.accounts set kind = k where id = (select auth.uid())
$$;
-- Near miss: the same write behind an admin check.
create function public.admin_set_kind(p_id uuid, k text) returns void language plpgsql security definer set search_path = '' as $$
begin
  if not coalesce((auth.jwt() -> 'app_metadata' ->> 'role') = 'admin', false) then raise exception 'admins only'; end if;
  update public.accounts set kind = k where id = p_id;
end $$;
insert into public.reports values (1, 'q3');
-- An RPC that passes its argument through a variable first: still the caller's value.
create function public.set_kind_via_variable(p_kind text) returns void language plpgsql security definer set search_path = '' as $$
declare v_kind text;
begin
  v_kind := lower(p_kind);
  update public.accounts set kind = v_kind where id = (select auth.uid());
end $$;
-- Near miss: an invitation redeemed by its token; the kind comes from the invitation row, which
-- only its creator chose (the token is the capability).
create table public.invitations (token text primary key, kind text not null);
alter table public.invitations enable row level security;
create function public.redeem_invitation(p_token text) returns void language plpgsql security definer set search_path = '' as $$
declare v_kind text;
begin
  select i.kind into v_kind from public.invitations i where i.token = p_token;
  if v_kind is null then raise exception 'invitation not found'; end if;
  update public.accounts set kind = v_kind where id = (select auth.uid());
end $$;

-- A grants table whose "insert own rows" policy does not restrict the permission.
create table public.user_grants (user_id uuid not null references auth.users, permission text not null, primary key (user_id, permission));
create table public.vault_items (id bigint primary key, secret_value text);
alter table public.user_grants enable row level security;
alter table public.vault_items enable row level security;
create policy "insert own grants" on public.user_grants for insert to authenticated with check (user_id = (select auth.uid()));
create policy "read own grants" on public.user_grants for select to authenticated using (user_id = (select auth.uid()));
create policy "granted read vault" on public.vault_items for select to authenticated
  using ((select auth.uid()) in (select g.user_id from public.user_grants g where g.permission = 'read_vault'));
insert into public.user_grants values ('${B}', 'read_vault');
insert into public.vault_items values (1, 'shh');

-- Near misses.
-- (a) column grants exclude the trusted column
create table public.staff_accounts (id uuid primary key references auth.users, kind text not null default 'customer', nickname text);
alter table public.staff_accounts enable row level security;
create policy "own account" on public.staff_accounts for update to authenticated using (id = (select auth.uid()));
revoke update on public.staff_accounts from anon, authenticated;
grant update (nickname) on public.staff_accounts to authenticated;
create table public.audits (id bigint primary key);
alter table public.audits enable row level security;
create policy "staff read audits" on public.audits for select to authenticated
  using (exists (select 1 from public.staff_accounts a where a.id = (select auth.uid()) and a.kind = 'staff'));
-- (b) a trigger keeps the role
create table public.profiles (id uuid primary key references auth.users, role text not null default 'user', bio text);
alter table public.profiles enable row level security;
create policy "update own profile" on public.profiles for update to authenticated using (id = (select auth.uid()));
create policy "read own profile" on public.profiles for select to authenticated using (id = (select auth.uid()));
create function public.keep_role() returns trigger language plpgsql as $$
begin
  if new.role is distinct from old.role and current_user <> 'postgres' then raise exception 'role is read-only'; end if;
  return new;
end $$;
create trigger keep_role before update on public.profiles for each row execute function public.keep_role();
insert into public.profiles values ('${A}', 'user', null);
create table public.admin_notes (id bigint primary key);
alter table public.admin_notes enable row level security;
create policy "admins read notes" on public.admin_notes for select to authenticated
  using (exists (select 1 from public.profiles p where p.id = (select auth.uid()) and p.role = 'admin'));
-- (c) joining needs an admin row of the same tenant; (d) service-role-only joins; (e) invite code required
create table public.teams (id bigint primary key);
create table public.team_members (team_id bigint not null references public.teams, user_id uuid not null references auth.users, role text not null default 'member', primary key (team_id, user_id));
create table public.team_docs (id bigint primary key, team_id bigint not null references public.teams);
alter table public.team_members enable row level security;
alter table public.team_docs enable row level security;
create policy "read team docs" on public.team_docs for select to authenticated
  using (team_id in (select tm.team_id from public.team_members tm where tm.user_id = (select auth.uid())));
create policy "admins add members" on public.team_members for insert to authenticated
  with check (exists (select 1 from public.team_members m where m.team_id = team_members.team_id and m.user_id = (select auth.uid()) and m.role = 'admin'));
create table public.squads (id bigint primary key, join_code text);
create table public.squad_members (squad_id bigint not null references public.squads, user_id uuid not null references auth.users, join_code text, primary key (squad_id, user_id));
create table public.squad_docs (id bigint primary key, squad_id bigint not null references public.squads);
alter table public.squad_members enable row level security;
alter table public.squad_docs enable row level security;
create policy "read squad docs" on public.squad_docs for select to authenticated
  using (squad_id in (select sm.squad_id from public.squad_members sm where sm.user_id = (select auth.uid())));
-- (f) an ownership chain, not a membership: the parent's id is unique, a new row cannot take another's
create table public.documents (id bigint primary key generated always as identity, name text not null, created_by uuid not null references auth.users default auth.uid());
create table public.document_sections (id bigint primary key generated always as identity, document_id bigint not null references public.documents, content text not null);
alter table public.documents enable row level security;
alter table public.document_sections enable row level security;
create policy "insert documents" on public.documents for insert to authenticated with check (auth.uid() = created_by);
create policy "own documents" on public.documents for select to authenticated using (auth.uid() = created_by);
create policy "own sections" on public.document_sections for select to authenticated using (document_id in (select id from public.documents where created_by = auth.uid()));
create policy "service adds" on public.squad_members for insert to service_role with check (true);
create policy "join with code" on public.squad_members for insert to authenticated
  with check (user_id = (select auth.uid()) and join_code is not null and squad_id in (select s.id from public.squads s where s.join_code = squad_members.join_code));
`;
