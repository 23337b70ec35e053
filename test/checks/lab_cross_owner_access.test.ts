/**
 * lab_cross_owner_access: what the lab's access matrix measured, as findings. The migrations below
 * have no seed and no users: the lab makes both.
 */
import { describe, expect, test } from 'vitest';
import { auditMigration } from '../support/cli.ts';

const MIGRATION = `
-- Every signed-in user passes: any account changes and deletes every project.
create table public.projects (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null default auth.uid() references auth.users on delete cascade,
  name text not null
);
alter table public.projects enable row level security;
create policy "signed-in users" on public.projects for all to authenticated using (auth.role() = 'authenticated');

-- Near miss: tied to the owner.
create table public.notes (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null default auth.uid() references auth.users on delete cascade,
  body text not null
);
alter table public.notes enable row level security;
create policy "owners" on public.notes for all to authenticated using (owner_id = (select auth.uid())) with check (owner_id = (select auth.uid()));

-- A public directory: read by anyone (low, no sensitive column); one with e-mails (high).
create table public.handles (id uuid primary key references auth.users on delete cascade, handle text not null);
alter table public.handles enable row level security;
create policy "public" on public.handles for select using (true);
create table public.contacts (id uuid primary key references auth.users on delete cascade, email text not null);
alter table public.contacts enable row level security;
create policy "signed-in read" on public.contacts for select to authenticated using (auth.uid() is not null);

-- A shared catalog with no owner column: any account rewrites what every user relies on (high).
create table public.categories (id uuid primary key default gen_random_uuid(), name text not null);
alter table public.categories enable row level security;
create policy "signed-in users manage categories" on public.categories for all to authenticated using (auth.uid() is not null);

-- A waiting list: no owner column, the e-mails of whoever joined it, readable by anon (high), folded
-- into the always-true SELECT policy that lets it.
create table public.waiting_list (id bigint generated always as identity primary key, email text not null, note text);
alter table public.waiting_list enable row level security;
create policy "join" on public.waiting_list for insert to anon, authenticated with check (true);
create policy "read" on public.waiting_list for select to anon, authenticated using (true);

-- A shared library the service writes, read by every signed-in user: no owner, no secret (a word
-- of a sensitive pattern inside a longer name, salt in drought_salt_tolerance, is not one): nothing.
create table public.plant_library (id uuid primary key default gen_random_uuid(), identity_key text not null unique, drought_salt_tolerance text, token_count int, email_verified boolean);
alter table public.plant_library enable row level security;
create policy "signed-in read" on public.plant_library for select using (auth.role() = 'authenticated');

-- RLS off: the catalog fact is the finding; the measurement is its evidence, not a second finding.
create table public.ledger (id uuid primary key default gen_random_uuid(), owner_id uuid not null references auth.users, amount int not null);
`;

describe('lab_cross_owner_access', () => {
  test('reports what the matrix measured: writes by an account that owns nothing critical, public reads low, owner-tied tables nothing, RLS off folded', async () => {
    const report = await auditMigration(MIGRATION);
    const lab = report.findings.filter((f) => f.check === 'lab_cross_owner_access').map((f) => [f.object.name, f.level, f.message]);
    expect(lab).toEqual([
      ['projects', 'critical', 'Measured in the lab: any signed-up account (one that owns nothing and belongs to no tenant) can update 2 and delete 2 rows of other users in public.projects.'],
      ['categories', 'high', 'Measured in the lab: any signed-up account (one that owns nothing and belongs to no tenant) can update 2 and delete 2 rows that the lab made for other users in public.categories (a table with no owner column: shared by every user, or owned through a parent row).'],
      ['contacts', 'high', 'Measured in the lab: any signed-up account (one that owns nothing and belongs to no tenant) reads 2 rows of other users in public.contacts, with their email.'],
      ['handles', 'low', 'Measured in the lab: anyone with the anon key (no account) reads 3 rows of other users in public.handles (fine if the table is public by design).'],
    ]);
    const ledger = report.findings.filter((f) => f.object.name === 'ledger' && f.check === 'rls_disabled_in_public');
    expect(ledger).toHaveLength(1);
    expect(ledger[0]!.message).toMatch(/Measured in the lab: anyone with the anon key \(no account\) can update 2 and delete 2 rows of other users in public\.ledger/);
    expect(report.findings.some((f) => f.object.name === 'notes' && f.check === 'lab_cross_owner_access')).toBe(false);
    expect(report.findings.filter((f) => f.object.name === 'plant_library' && f.level !== 'low' && f.level !== 'info' && f.check !== 'auth_rls_initplan').map((f) => f.message)).toEqual([]);
    const waiting = report.findings.filter((f) => f.object.name === 'waiting_list' && (f.check === 'rls_policy_always_true' || f.check === 'lab_cross_owner_access'));
    expect(waiting.map((f) => [f.check, f.level, f.evidence?.['command']])).toEqual([
      ['rls_policy_always_true', 'high', 'SELECT'],
      ['rls_policy_always_true', 'medium', 'INSERT'],
    ]);
    expect(waiting[0]!.message).toMatch(/Measured in the lab: anyone with the anon key \(no account\) reads \d+ rows with no owner \(a table with no owner column: written by users or by the service\) in public\.waiting_list, with their email\.$/);
    // The INSERT policy is not raised by what reading measured.
    expect(waiting[1]!.message).not.toMatch(/Measured in the lab/);
  });

  test("a tenant's rows read by someone of no tenant, and a table anon reads more of than a signed-in account: high, whatever the columns", async () => {
    const report = await auditMigration(`
create table public.projects (id uuid primary key default gen_random_uuid(), name text not null);
create table public.project_members (project_id uuid not null references public.projects on delete cascade, user_id uuid not null references auth.users on delete cascade,
  role text not null default 'member' check (role in ('admin', 'member')), primary key (project_id, user_id));
create function public.is_member(p uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.project_members m where m.project_id = p and m.user_id = (select auth.uid())) $$;
create table public.chat_messages (id uuid primary key default gen_random_uuid(), project_id uuid not null references public.projects on delete cascade,
  sender_id uuid not null default auth.uid() references auth.users, body text not null);
-- Recreated without its foreign keys: still a project's rows, by the name of its key.
create table public.task_notes (id uuid primary key default gen_random_uuid(), project_id uuid not null, author_id uuid not null default auth.uid(), note text not null);
alter table public.task_notes enable row level security;
create policy "signed-in users read notes" on public.task_notes for select to authenticated using (true);
create policy "authors write notes" on public.task_notes for insert to authenticated with check (author_id = (select auth.uid()));
-- Reference data the project curates (nobody writes it through the API): read by all on purpose.
create table public.field_types (id uuid primary key default gen_random_uuid(), project_id uuid references public.projects, label text not null);
alter table public.field_types enable row level security;
create policy "read field types" on public.field_types for select to authenticated using (true);
-- A project's store items, shown to every signed-in user when active: published on purpose.
create table public.store_items (id uuid primary key default gen_random_uuid(), project_id uuid not null references public.projects on delete cascade, title text not null, active boolean not null default true);
alter table public.store_items enable row level security;
create policy "active items" on public.store_items for select to authenticated using (active = true);
-- A profile per account; a user sees its own, anon (auth.uid() is null) every one.
create table public.profiles (user_id uuid primary key references auth.users on delete cascade, display_name text, company text);
alter table public.projects enable row level security;
alter table public.project_members enable row level security;
alter table public.chat_messages enable row level security;
alter table public.profiles enable row level security;
create policy "members read projects" on public.projects for select to authenticated using (public.is_member(id));
create policy "members read members" on public.project_members for select to authenticated using (public.is_member(project_id));
create policy "signed-in users read chat" on public.chat_messages for select to authenticated using (true);
create policy "members post" on public.chat_messages for insert to authenticated with check (public.is_member(project_id) and sender_id = (select auth.uid()));
create policy "profiles" on public.profiles for select using ((select auth.uid()) = user_id or (select auth.uid()) is null);
`);
    const lab = report.findings.filter((f) => f.check === 'lab_cross_owner_access' || (f.check === 'rls_policy_always_true' && f.object.name === 'chat_messages'));
    const chat = report.findings.filter((f) => f.object.name === 'chat_messages' && (f.level === 'high' || f.level === 'critical'));
    expect(chat).toHaveLength(1);
    expect(chat[0]!.message).toMatch(/Measured in the lab: any signed-up account \(one that owns nothing and belongs to no tenant\) reads \d+ rows of other users in public\.chat_messages, rows of other tenants of public\.projects, to someone who belongs to none\.$/);
    expect(report.findings.filter((f) => (f.object.name === 'store_items' || f.object.name === 'field_types') && (f.level === 'high' || f.level === 'critical'))).toEqual([]);
    const notes = report.findings.filter((f) => f.object.name === 'task_notes' && (f.level === 'high' || f.level === 'critical'));
    expect(notes.map((f) => f.message)).toEqual([expect.stringMatching(/reads \d+ rows of other users in public\.task_notes, rows of other tenants of public\.projects, to someone who belongs to none\.$/)]);
    const profiles = report.findings.filter((f) => f.object.name === 'profiles' && (f.level === 'high' || f.level === 'critical'));
    expect(profiles).toHaveLength(1);
    expect(profiles[0]!.message).toMatch(/Measured in the lab: anyone with the anon key \(no account\) reads \d+ rows of other users in public\.profiles, while a signed-in account that owns nothing reads 1 in all: signing out gives more\.$/);
    // The tenant root itself is not "a tenant's rows": nobody outside reads it here anyway.
    expect(lab.some((f) => f.object.name === 'projects')).toBe(false);
  });
});
