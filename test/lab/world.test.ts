/**
 * The lab's world: on a schema with no rows and no users, supaudit signs up its own accounts and
 * gives every exposed table rows that satisfy its constraints, so that exploit proofs act as real
 * users instead of reporting "no user to act as".
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { introspect } from '../../src/introspect/index.ts';
import { buildWorld, worldSummary, PERSONAS } from '../../src/lab/world.ts';
import type { Report } from '../../src/model/report.ts';
import { isSystemSchema } from '../../src/model/schemas.ts';
import { loadPglite } from '../support/audit.ts';
import { auditMigration, runCli } from '../support/cli.ts';

const SCHEMA = `
create type public.plan as enum ('free', 'pro', 'enterprise');
create table public.organizations (
  id bigint generated always as identity primary key,
  slug text not null unique check (slug ~ '^[a-z0-9-]+$'),
  plan public.plan not null,
  tier text not null check (tier in ('gold', 'silver'))
);
create table public.memberships (
  org_id bigint not null references public.organizations on delete cascade,
  user_id uuid not null references auth.users on delete cascade,
  role text not null check (role = any (array['owner', 'admin', 'member'])),
  primary key (org_id, user_id)
);
create table public.documents (
  id uuid primary key default gen_random_uuid(),
  org_id bigint not null,
  author_id uuid not null default auth.uid(),
  title varchar(8) not null,
  constraint documents_member foreign key (org_id, author_id) references public.memberships (org_id, user_id)
);
-- A signup trigger, as Supabase projects write them: a profile per account.
create table public.profiles (id uuid primary key references auth.users, display_name text not null);
create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  insert into public.profiles (id, display_name) values (new.id, coalesce(new.raw_user_meta_data ->> 'full_name', 'someone'));
  return new;
end $$;
create trigger on_auth_user_created after insert on auth.users for each row execute function public.handle_new_user();
-- A table no row can be made for: a type nothing makes up.
create table public.shapes (id int primary key, area point not null);
-- Refuses every insert: the reason is kept.
create table public.frozen (id int primary key);
-- A code made by a cipher the embedded database lacks (pgcrypto's blowfish): every row fails in its generated column.
create function public.short_code(n bigint) returns text language plpgsql immutable as $$ begin raise exception 'encrypt error: Cipher cannot be initialized' using errcode = '39000'; end $$;
create table public.invites (id bigint generated always as identity primary key, created_by uuid not null references auth.users, code text unique generated always as (public.short_code(id)) stored);
create table public.links (id bigint generated always as identity primary key, created_by uuid not null references auth.users);
create index links_code on public.links (public.short_code(id));
-- A uuid with no foreign key that a trigger copies into a key to an account: the owner's id.
create table public.notices (id bigint generated always as identity primary key, created_by uuid references auth.users);
create table public.consents (id uuid primary key default gen_random_uuid(), student_id uuid not null, reviewer uuid);
create function public.notify_consent() returns trigger language plpgsql as $$
  begin insert into public.notices (created_by) values (new.student_id); return new; end $$;
create trigger consents_notify after insert on public.consents for each row execute function public.notify_consent();
create function public.refuse() returns trigger language plpgsql as $$ begin raise exception 'frozen'; end $$;
create trigger frozen_refuse before insert on public.frozen for each row execute function public.refuse();
alter table public.organizations enable row level security;
alter table public.memberships enable row level security;
alter table public.documents enable row level security;
`;

describe('the lab world', () => {
  test('accounts signed up as Auth does, rows in foreign-key order that meet CHECK, enum, UNIQUE and composite keys, one tenant per owner', async () => {
    const session = await loadPglite(SCHEMA);
    try {
      const snapshot = await introspect(session, { exposedSchemas: ['public'] });
      const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
      expect(world.accounts.map((a) => a.name)).toEqual(['alice', 'bob', 'outsider']);
      expect(world.accountErrors).toEqual([]);
      const fill = Object.fromEntries(world.tables.map((t) => [t.name, t]));
      expect(fill['organizations']).toEqual({ schema: 'public', name: 'organizations', rows: 2 });
      expect(fill['memberships']!.rows).toBe(2);
      expect(fill['documents']!.rows).toBe(2);
      // The sign-up trigger made the profiles: the world does not add its own.
      expect(fill['profiles']).toMatchObject({ rows: 0, reason: 'made by sign-up' });
      expect(fill['shapes']).toMatchObject({ rows: 0, reason: 'no value can be made up for area (point)' });
      expect(fill['frozen']).toMatchObject({ rows: 0, reason: 'the database refused every row tried: raised by a function or trigger (SQLSTATE P0001)' });
      // The generated column that cannot run here became a plain column in the lab's copy; a trigger's refusal (P0001) is left alone.
      expect(fill['invites']).toEqual({ schema: 'public', name: 'invites', rows: 2 });
      expect(fill['links']).toEqual({ schema: 'public', name: 'links', rows: 2 });
      expect(fill['consents']).toEqual({ schema: 'public', name: 'consents', rows: 2 });
      const consents = await session.query<{ s: string }>('select student_id::text as s from public.consents order by 1');
      expect(consents.map((c) => c.s)).toEqual([PERSONAS[0]!.id, PERSONAS[1]!.id]);
      expect(world.adjusted).toEqual(['public.invites.code (SQLSTATE 39000)', 'index links_code (SQLSTATE 39000)']);
      expect(worldSummary(world)).toContain(
        'expressions that fail in the embedded database set aside to make rows (generated columns made plain, expression indexes dropped): public.invites.code (SQLSTATE 39000), index links_code (SQLSTATE 39000)',
      );
      // Each owner is a member of its own organisation, and writes in it: two tenants.
      const rows = await session.query<{ email: string; slug: string; role: string; docs: number }>(
        `select u.email::text as email, o.slug, m.role, (select count(*)::int from public.documents d where d.org_id = o.id and d.author_id = u.id) as docs
           from public.memberships m join public.organizations o on o.id = m.org_id join auth.users u on u.id = m.user_id order by 1`,
      );
      expect(rows.map((r) => [r.email, r.role, r.docs])).toEqual([
        [PERSONAS[0]!.email, 'owner', 1],
        [PERSONAS[1]!.email, 'owner', 1],
      ]);
      expect(new Set(rows.map((r) => r.slug)).size).toBe(2);
      const [identities] = await session.query<{ n: number }>('select count(*)::int as n from auth.identities');
      expect(identities!.n).toBe(3);
    } finally {
      await session.close();
    }
  });

  test('the demo with no seed: every exploit proof acts as a lab account and is confirmed, its fix verified', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'supaudit-noseed-'));
    try {
      cpSync(new URL('../../supabase', import.meta.url), join(dir, 'supabase'), { recursive: true });
      rmSync(join(dir, 'supabase', 'seed.sql'));
      const run = await runCli(['--migrations', join(dir, 'supabase', 'migrations'), '--no-tui', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
      expect(run.code, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout) as Report;
      expect(report.notes.find((n) => n.area === 'lab')!.message).toBe(
        'lab world: 7 accounts signed up (alice, bob, outsider, t1_admin, t1_member, t2_admin, t2_member); ' +
          'two tenants of public.organizations through public.organization_members (role: owner, admin, member) and public.teams through public.team_members (role: member), ' +
          "alice and bob members with the first role; rows added to 19 of 20 tables (the user's schemas and storage.objects), 1 by the sign-up trigger",
      );
      const proofs = report.findings.filter((f) => f.proof).map((f) => [f.check, `${f.object.schema}.${f.object.name}`, f.proof!.status, f.proof!.fixVerified?.status]);
      expect(proofs.sort()).toEqual(
        [
          ['check_null_bypass', 'public.organization_members', 'confirmed', 'verified'],
          ['privilege_escalation', 'public.profiles', 'confirmed', 'verified'],
          ['storage_bucket_open', 'storage.objects', 'confirmed', 'verified'],
          ['tenant_self_join', 'public.team_members', 'confirmed', 'verified'],
        ].sort(),
      );
      // The access matrix, measured as each persona in the lab's world.
      const cell = (table: string, persona: string) => report.lab!.matrix.find((m) => m.name === table && m.persona === persona)!;
      // RLS off: anon reads, changes and deletes both owners' rows.
      expect(cell('payment_methods', 'anon')).toMatchObject({ select: { own: 0, tenant: 0, other_tenants: 2, ownerless: 0 }, delete: { own: 0, tenant: 0, other_tenants: 2, ownerless: 0 }, insert: 'allowed_into_others' });
      // Tenant isolation holds for reads: each owner sees its own organisation and task, the outsider nothing.
      expect(cell('organizations', 'alice').select).toEqual({ own: 1, tenant: 0, other_tenants: 0, ownerless: 0 });
      expect(cell('tasks', 'bob')).toMatchObject({ select: { own: 1, tenant: 0, other_tenants: 0, ownerless: 0 }, update: { own: 1, tenant: 0, other_tenants: 0, ownerless: 0 } });
      expect(cell('tasks', 'outsider').select).toEqual({ own: 0, tenant: 0, other_tenants: 0, ownerless: 0 });
      // …but the outsider can add itself to another owner's team: the takeover tenant_self_join proves.
      expect(cell('team_members', 'outsider').insert).toBe('allowed_into_others');
      expect(cell('team_members', 'alice').insert).toBe('allowed');
      expect(report.lab!.accounts).toEqual(['alice', 'bob', 'outsider', 't1_admin', 't1_member', 't2_admin', 't2_member']);
      // Tenants: an admin of alice's organisation updates its projects, a member only reads them; neither reaches bob's.
      expect(cell('projects', 't1_admin')).toMatchObject({ select: { own: 0, tenant: 1, other_tenants: 0 }, update: { own: 0, tenant: 1, other_tenants: 0 } });
      expect(cell('projects', 't1_member')).toMatchObject({ select: { own: 0, tenant: 1, other_tenants: 0 }, update: { own: 0, tenant: 0, other_tenants: 0 } });
      // The attack search finds the three escalations by effect, with no rule for their shape; each is
      // folded into the check that proved it, so a flaw is reported once.
      const attacks = report.lab!.attacks.map((a) => `${a.attacker} ${a.command} ${a.table.name}.${a.column}`);
      expect(attacks).toEqual(
        expect.arrayContaining(['outsider insert organization_members.organization_id', 'outsider insert team_members.team_id', 'outsider update profiles.is_support', 'bob update profiles.is_support']),
      );
      // The outsider, support staff now, reads both owners' audit entries; bob reads alice's.
      const support = (who: string) => report.lab!.attacks.find((a) => a.table.name === 'profiles' && a.attacker === who)!.gained;
      expect(support('outsider')).toEqual({ 'public.audit_log': { before: 0, after: 2 } });
      expect(support('bob')).toEqual({ 'public.audit_log': { before: 0, after: 1 } });
      // What no check proves stays the lab's own: a project filed under another organization's team.
      expect(report.findings.filter((f) => f.check === 'lab_confirmed_escalation').map((f) => [f.object.name, f.object.column, f.level, f.evidence?.['lab']])).toEqual([
        ['projects', 'team_id', 'high', expect.objectContaining({ attacker: 'member', planted: 'insert', gained: { 'public.projects': { before: 0, after: 1 } } })],
      ]);
      for (const check of ['check_null_bypass', 'tenant_self_join', 'privilege_escalation']) {
        expect(report.findings.find((f) => f.check === check)!.message).toMatch(/The lab confirmed it by effect too \(\d attacks?: .+\)$/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A join request that a trigger approves with its owner's rights: no policy shape says "anyone joins any tenant". */
const TRIGGER_JOIN = (approve: 'active' | 'pending') => `
create table public.orgs (id uuid primary key default gen_random_uuid(), name text not null);
create table public.members (org_id uuid not null references public.orgs on delete cascade, user_id uuid not null references auth.users,
  status text not null default 'active' check (status in ('active', 'pending')), primary key (org_id, user_id));
create table public.docs (id uuid primary key default gen_random_uuid(), org_id uuid not null references public.orgs, body text not null);
create table public.join_requests (id uuid primary key default gen_random_uuid(), org_id uuid not null references public.orgs,
  user_id uuid not null default auth.uid() references auth.users);
create function public.is_member(o uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.members m where m.org_id = o and m.user_id = auth.uid() and m.status = 'active')
$$;
create function public.approve_request() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  insert into public.members (org_id, user_id, status) values (new.org_id, new.user_id, '${approve}') on conflict do nothing;
  return new;
end $$;
create trigger join_requests_approve after insert on public.join_requests for each row execute function public.approve_request();
alter table public.orgs enable row level security;
alter table public.members enable row level security;
alter table public.docs enable row level security;
alter table public.join_requests enable row level security;
create policy "members read orgs" on public.orgs for select to authenticated using (public.is_member(id));
create policy "members create orgs" on public.orgs for insert to authenticated with check (true);
create policy "own membership" on public.members for select to authenticated using (user_id = (select auth.uid()));
create policy "members read docs" on public.docs for select to authenticated using (public.is_member(org_id));
create policy "members write docs" on public.docs for insert to authenticated with check (public.is_member(org_id));
create policy "request to join" on public.join_requests for insert to authenticated with check (user_id = (select auth.uid()));
create policy "own requests" on public.join_requests for select to authenticated using (user_id = (select auth.uid()));
`;

describe('the attack search', () => {
  test('a trigger that approves any join request: confirmed by effect (rows of another tenant gained), critical, with its steps', async () => {
    const report = await auditMigration(TRIGGER_JOIN('active'));
    const found = report.findings.filter((f) => f.check === 'lab_confirmed_escalation');
    expect(found.map((f) => [f.level, f.fingerprint])).toEqual([['critical', 'lab_confirmed_escalation:public.join_requests:insert.org_id']]);
    expect(found[0]!.message).toBe(
      'Confirmed in the lab: any signed-up account (one that owns nothing) inserts into public.join_requests a row whose org_id points at another user\'s row, ' +
        'and then reads public.docs (0 → 1 row of another owner), public.orgs (0 → 1 row of another owner) it could not read before.',
    );
    expect((found[0]!.evidence as { lab: { steps: string[] } }).lab.steps[0]).toBe(
      'INSERT INTO public.join_requests (…, org_id) VALUES (…, <key of a row of the victim in public.orgs>) -- as :attacker',
    );
  });

  test('near miss: the trigger files the request as pending, which the policies do not trust: nothing', async () => {
    const report = await auditMigration(TRIGGER_JOIN('pending'));
    expect(report.lab!.attacks).toEqual([]);
    expect(report.findings.filter((f) => f.check === 'lab_confirmed_escalation')).toEqual([]);
    // The victim's rows are there to be gained all the same: the outsider reads none of them.
    expect(report.lab!.tables.find((t) => t.name === 'docs')!.rows).toBe(2);
    expect(report.lab!.matrix.find((m) => m.name === 'docs' && m.persona === 'outsider')!.select).toEqual({ own: 0, tenant: 0, other_tenants: 0, ownerless: 0 });
  });
});

const STORAGE = (using: string) => `
insert into storage.buckets (id, name, public) values ('vault', 'vault', false);
create policy "read files" on storage.objects for select to authenticated using (${using});
create policy "upload own files" on storage.objects for insert to authenticated
  with check (bucket_id = 'vault' and (storage.foldername(name))[1] = (select auth.uid())::text);
`;

describe('storage in the lab', () => {
  test('a SELECT policy of `true` on storage.objects: any account reads another user’s file in a private bucket, confirmed', async () => {
    const report = await auditMigration(STORAGE('true'));
    const found = report.findings.filter((f) => f.check === 'lab_confirmed_escalation');
    expect(found.map((f) => [f.level, f.fingerprint])).toEqual([['critical', "lab_confirmed_escalation:storage.objects:reach.in private bucket 'vault'"]]);
    expect(found[0]!.message).toBe(
      "Confirmed in the lab: any signed-up account (one that owns nothing) can read 1 object of another user in private bucket 'vault' through the Storage API: the policies on storage.objects let it.",
    );
    expect(report.lab!.matrix.find((m) => m.schema === 'storage' && m.name === 'objects' && m.persona === 'outsider')!.select).toEqual({ own: 0, tenant: 0, other_tenants: 2, ownerless: 0 });
  });

  test('near miss: the policy ties objects to their owner: each owner reads its own file, nobody else', async () => {
    const report = await auditMigration(STORAGE(`bucket_id = 'vault' and owner_id = (select auth.uid())::text`));
    expect(report.findings.filter((f) => f.check === 'lab_confirmed_escalation')).toEqual([]);
    const cell = (persona: string) => report.lab!.matrix.find((m) => m.schema === 'storage' && m.name === 'objects' && m.persona === persona)!.select;
    expect(cell('alice')).toEqual({ own: 1, tenant: 0, other_tenants: 0, ownerless: 0 });
    expect(cell('outsider')).toEqual({ own: 0, tenant: 0, other_tenants: 0, ownerless: 0 });
  });
});

const PUBLIC_BUCKETS = `
insert into storage.buckets (id, name, public) values ('message-attachments', 'message-attachments', true), ('profiles', 'profiles', true), ('cadence-audio', 'cadence-audio', true);
create policy "Anyone can view message attachments" on storage.objects for select using (bucket_id = 'message-attachments');
create policy "Users upload attachments" on storage.objects for insert to authenticated
  with check (bucket_id = 'message-attachments' and (storage.foldername(name))[1] = (select auth.uid())::text);
create policy "Profile pictures are public" on storage.objects for select using (bucket_id = 'profiles');
-- Only the platform's admins fill this one: what the project publishes.
create table public.platform_admins (user_id uuid primary key references auth.users);
create policy "Public can read cadence audio" on storage.objects for select using (bucket_id = 'cadence-audio');
create policy "Admins upload cadence audio" on storage.objects for insert to authenticated
  with check (bucket_id = 'cadence-audio' and exists (select 1 from public.platform_admins a where a.user_id = (select auth.uid())));
`;

describe('public buckets in the lab', () => {
  test('anon lists another user’s files: a bucket of attachments users upload is disclosed (high); one of profile pictures, and one only admins fill, are public by design (medium)', async () => {
    const report = await auditMigration(PUBLIC_BUCKETS);
    const listing = report.findings.filter((f) => f.check === 'public_bucket_allows_listing');
    expect(listing.map((f) => [f.object.name, f.level, (f.evidence?.['lab'] as { attacker: string } | undefined)?.attacker])).toEqual([
      ['message-attachments', 'high', 'anon'],
      ['cadence-audio', 'medium', 'anon'],
      ['profiles', 'medium', 'anon'],
    ]);
    expect(listing.find((f) => f.object.name === 'cadence-audio')!.message).toContain('only privileged accounts upload there');
    expect(listing[0]!.message).toContain('Confirmed in the lab: anyone with the anon key listed 1 file(s) another user uploaded, and with their paths downloads them: every file in the bucket is disclosed');
    // The listing is that check's: the lab's own storage finding is for reads of private buckets and for writes.
    expect(report.findings.filter((f) => f.check === 'lab_confirmed_escalation')).toEqual([]);
  });
});

describe('--no-lab', () => {
  test('on an embedded target: no world, no matrix, no attack search, no lab finding', async () => {
    const report = await auditMigration(TRIGGER_JOIN('active'), '--no-lab');
    expect(report.lab).toBeUndefined();
    expect(report.notes.filter((n) => n.area === 'lab')).toEqual([]);
    expect(report.findings.filter((f) => f.check === 'lab_confirmed_escalation')).toEqual([]);
  });
});

describe('an invite-only sign-up', () => {
  test('the sign-up trigger refuses addresses nobody invited: the lab makes its accounts without it, says so, and the world still has rows and a matrix', async () => {
    const report = await auditMigration(`
create table public.roles (id uuid primary key default gen_random_uuid(), name text not null unique);
insert into public.roles (name) values ('admin'), ('user');
create table public.user_roles (user_id uuid not null references auth.users on delete cascade, role_id uuid not null references public.roles, primary key (user_id, role_id));
create table public.invitations (email text primary key, role_id uuid not null references public.roles);
create function public.has_role(r text) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.user_roles ur join public.roles ro on ro.id = ur.role_id where ur.user_id = auth.uid() and ro.name = r) $$;
create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  if not exists (select 1 from public.invitations i where i.email = new.email) then raise exception 'sign-up is by invitation only'; end if;
  insert into public.user_roles (user_id, role_id) select new.id, i.role_id from public.invitations i where i.email = new.email;
  return new;
end $$;
create trigger on_auth_user_created after insert on auth.users for each row execute function public.handle_new_user();
create table public.notes (id uuid primary key default gen_random_uuid(), owner_id uuid not null references auth.users, body text not null);
alter table public.roles enable row level security;
alter table public.user_roles enable row level security;
alter table public.invitations enable row level security;
alter table public.notes enable row level security;
create policy "own notes" on public.notes for all to authenticated using (owner_id = (select auth.uid()) or public.has_role('admin')) with check (owner_id = (select auth.uid()));
`);
    expect(report.lab!.accounts).toEqual(['alice', 'bob', 'outsider']);
    // roles lists what a user may do: not a tenant.
    expect(report.lab!.tenants).toBeUndefined();
    expect(report.notes.find((n) => n.area === 'lab' && n.message.startsWith('lab world:'))!.message).toContain('the sign-up trigger refused 3 accounts, made without it (an invite-only sign-up?)');
    expect(report.lab!.tables.find((t) => t.name === 'notes')!.rows).toBe(2);
    expect(report.lab!.matrix.find((m) => m.name === 'notes' && m.persona === 'alice')!.select).toEqual({ own: 1, tenant: 0, other_tenants: 0, ownerless: 0 });
  });
});

test('a value a CHECK pattern accepts: LIKE and simple regular expressions (groups: the optional left out, the first alternative), one per owner; beyond them, none', async () => {
  const { patternValue } = await import('../../src/lab/world.ts');
  const check = (column: string, definition: string) => [{ schema: 'public', table: 't', name: `t_${column}_check`, type: 'check' as const, columns: [column], definition, validated: true, refSchema: null, refTable: null, refColumns: [], refIndex: null, index: null }];
  expect(patternValue(check('email', "CHECK ((email ~~ '%@cornell.edu'::text))"), 'email', 'alice', 0)).toBe('alice@cornell.edu');
  const netid = check('netid', "CHECK ((netid ~ '^[a-z]{2,3}[0-9]{1,4}$'::text))");
  const [a, b] = [patternValue(netid, 'netid', 'alice', 0), patternValue(netid, 'netid', 'bob', 1)];
  expect(a).toMatch(/^[a-z]{2,3}[0-9]{1,4}$/);
  expect(b).toMatch(/^[a-z]{2,3}[0-9]{1,4}$/);
  expect(a).not.toBe(b);
  expect(patternValue(check('code', "CHECK ((code ~* '^(ab|cd)+$'::text))"), 'code', 'alice', 0)).toBe('ab');
  // A locale: the optional region left out; a group that must be there, as often as it must.
  expect(patternValue(check('locale', "CHECK ((locale ~ '^[a-z]{2}(-[A-Z]{2})?$'::text))"), 'locale', 'alice', 0)).toMatch(/^[a-z]{2}$/);
  expect(patternValue(check('tag', "CHECK ((tag ~ '^(?:x[0-9]){2}$'::text))"), 'tag', 'alice', 0)).toMatch(/^(x[0-9]){2}$/);
  // A back-reference or a class it cannot read: none.
  expect(patternValue(check('code', "CHECK ((code ~ '^(a)\\1$'::text))"), 'code', 'alice', 0)).toBeUndefined();
  expect(patternValue(check('n', 'CHECK ((n > 0))'), 'n', 'alice', 0)).toBeUndefined();
});

test('an allowlist no account may add itself to (RLS on, no INSERT policy), read by a gate: no account of the world is on it, so the gate stays shut', async () => {
  const report = await auditMigration(`
create table public.developer_users (user_id uuid primary key references auth.users on delete cascade, added_at timestamptz not null default now());
alter table public.developer_users enable row level security;
create table public.feedback (id uuid primary key default gen_random_uuid(), user_id uuid not null default auth.uid() references auth.users on delete cascade, message text not null, user_email text);
alter table public.feedback enable row level security;
create policy "own feedback" on public.feedback for all to authenticated using (user_id = auth.uid()) with check (user_id = auth.uid());
create function public.admin_list_feedback() returns setof public.feedback language plpgsql stable security definer set search_path = '' as $$
begin
  if not exists (select 1 from public.developer_users where user_id = auth.uid()) then raise exception 'Not authorized' using errcode = '42501'; end if;
  return query select * from public.feedback;
end $$;
grant execute on function public.admin_list_feedback() to authenticated;
-- A profile each account makes for itself: every account has one.
create table public.profiles (id uuid primary key references auth.users on delete cascade, bio text);
alter table public.profiles enable row level security;
create policy "own profile" on public.profiles for all to authenticated using (id = auth.uid()) with check (id = auth.uid());
`);
  expect(report.lab!.tables.filter((t) => t.name === 'developer_users' || t.name === 'profiles').map((t) => [t.name, t.rows])).toEqual([
    ['developer_users', 0],
    ['profiles', report.lab!.accounts.length],
  ]);
  for (const persona of ['outsider', 'alice']) {
    expect(report.lab!.functions!.find((f) => f.name === 'admin_list_feedback' && f.persona === persona)!.calls.map((c) => c.result)).toEqual(['denied']);
  }
  expect(report.findings.filter((f) => f.object.name === 'admin_list_feedback' && (f.level === 'critical' || f.level === 'high'))).toEqual([]);
});

test("pglite: a plan's limit that raises against the world's rows is set aside for them only; a key with no foreign key gets the table its name points at elsewhere; the sign-up's rows are there before their table's turn", async () => {
  const session = await loadPglite(`
create table public.plans (id text primary key, max_clients integer not null default 0);
-- Made by the sign-up: each account's own workspace. Its plan key makes it come late in key order.
create table public.workspaces (id uuid primary key default gen_random_uuid(), owner_id uuid not null references auth.users on delete cascade, plan_id text references public.plans);
create table public.workspace_members (workspace_id uuid not null references public.workspaces on delete cascade, user_id uuid not null references auth.users on delete cascade, role text not null default 'owner', primary key (workspace_id, user_id));
create function public.on_signup() returns trigger language plpgsql security definer set search_path = public as $fn$
declare w uuid;
begin
  insert into workspaces (owner_id) values (new.id) returning id into w;
  insert into workspace_members (workspace_id, user_id) values (w, new.id);
  return new;
end $fn$;
create trigger on_signup after insert on auth.users for each row execute function public.on_signup();
create table public.folders (id uuid primary key default gen_random_uuid(), conta_id uuid not null references public.workspaces on delete cascade, name text not null);
create table public.notes (id uuid primary key default gen_random_uuid(), conta_id uuid not null references public.workspaces on delete cascade, body text not null);
-- A table older than the keys: its conta_id holds a workspace id, with no foreign key; a trigger files it in a folder.
create table public.clients (id uuid primary key default gen_random_uuid(), conta_id uuid not null, name text not null);
create function public.client_folder() returns trigger language plpgsql security definer set search_path = public as $fn$
begin insert into folders (conta_id, name) values (new.conta_id, new.name); return new; end $fn$;
create trigger client_folder after insert on public.clients for each row execute function public.client_folder();
-- The plan's limit: a workspace on no plan may have no client.
create function public.plan_limit() returns trigger language plpgsql security definer set search_path = public as $fn$
begin
  if (select count(*) from clients where conta_id = new.conta_id) >= coalesce((select p.max_clients from plans p join workspaces w on w.plan_id = p.id where w.id = new.conta_id), 0) then
    raise exception 'plan_limit_exceeded:max_clients';
  end if;
  return new;
end $fn$;
create trigger clients_limit before insert on public.clients for each row execute function public.plan_limit();
`);
  try {
    const snapshot = await introspect(session, { exposedSchemas: ['public'] });
    const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
    expect(world.tables.find((t) => t.name === 'clients')).toEqual({ schema: 'public', name: 'clients', rows: 2 });
    expect(world.triggersSetAside).toEqual(['clients_limit on public.clients']);
    // Each client is in its owner's workspace, filed in a folder there.
    const rows = await session.query<{ n: number }>(
      `select count(*)::int as n from public.clients c join public.workspaces w on w.id = c.conta_id join public.folders f on f.conta_id = w.id and f.name = c.name`,
    );
    expect(rows[0]!.n).toBe(2);
    expect(worldSummary(world)).toContain("triggers that raised against the world's own rows (a plan's limit, a rule of the app), set aside for those rows only: clients_limit on public.clients");
    // The limit is in force again for everyone else.
    const w = await session.query<{ id: string }>('select id::text from public.workspaces limit 1');
    await session.begin({ access: 'read write', statementTimeoutMs: 30_000, lockTimeoutMs: 3_000 });
    try {
      await expect(session.query(`insert into public.clients (conta_id, name) values ($1, 'one more')`, [w[0]!.id])).rejects.toThrow(/plan_limit_exceeded/);
    } finally {
      await session.exec('ROLLBACK');
    }
  } finally {
    await session.close();
  }
});
