-- Self-service features added after launch: joining teams, accepting invitations, support staff.
-- Each one looked harmless in review; each lets a signed-in user reach other organizations' data.
-- supaudit proves each of them on the embedded database (a rolled-back exploit as a real user),
-- then applies its fix SQL and runs the exploit again.

-- ---------------------------------------------------------------------------
-- Joining teams
-- ---------------------------------------------------------------------------
-- FLAW(tenant_self_join): meant for "teams of your organization", but the check only ties the
-- row to the caller. Any user inserts (team_id = any team, user_id = itself) and then reads that
-- team's projects, because "Team members can view team projects" trusts team_members.
create policy "Users can join teams" on public.team_members
  for insert to authenticated
  with check (user_id = (select auth.uid()));


-- ---------------------------------------------------------------------------
-- Accepting invitations
-- ---------------------------------------------------------------------------
alter table public.organization_members add column invitation_token text;

-- OK(insert_without_owner_check): user_id is tied to the caller; the invitation is checked by
-- the restrictive policy below.
create policy "Invited users can join" on public.organization_members
  for insert to authenticated
  with check (user_id = (select auth.uid()));

-- FLAW(check_null_bypass): the restrictive check is skipped by sending invitation_token = null
-- (or leaving it out: the column has no default), so anyone joins any organization as a member
-- and reads its projects, teams and tasks.
create policy "An invitation is required" on public.organization_members
  as restrictive for insert to authenticated
  with check (
    invitation_token is null
    or exists (
      select 1
        from public.invitations i
       where i.token = invitation_token
         and i.organization_id = organization_members.organization_id
    )
  );


-- ---------------------------------------------------------------------------
-- Support staff
-- ---------------------------------------------------------------------------
alter table public.profiles add column is_support boolean not null default false;

-- FLAW(privilege_escalation): profiles keeps the table-wide UPDATE grant and "Users can update
-- own profile.", so any user sets is_support = true on its own row and reads every
-- organization's audit log.
-- FLAW(multiple_permissive_policies): a second permissive SELECT policy on audit_log.
create policy "Support staff can read the audit log" on public.audit_log
  for select to authenticated
  using (exists (select 1 from public.profiles p where p.id = (select auth.uid()) and p.is_support));
