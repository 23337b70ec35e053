/**
 * The arguments persona × function gives a call decide whether the lab reaches what the function
 * does: a key of the table an argument names (by its last words, by a bare `id` the body uses, only
 * of the argument's type), the words the body compares a text argument with (each branch), and a
 * member's own rows with one argument of the victim's (its own invitation, another tenant's team).
 */
import { expect, test } from 'vitest';
import { introspect } from '../../src/introspect/index.ts';
import { parameterLiterals } from '../../src/lab/attack.ts';
import { callFunctions, leakedIn, type FunctionCalls } from '../../src/lab/calls.ts';
import { stageOf } from '../../src/lab/stage.ts';
import { buildWorld, type World } from '../../src/lab/world.ts';
import { initPolicyParser } from '../../src/policy/parse.ts';
import { isSystemSchema } from '../../src/model/schemas.ts';
import type { Snapshot } from '../../src/model/snapshot.ts';
import type { Session } from '../../src/introspect/session.ts';
import { auditMigration } from '../support/cli.ts';
import { loadOn } from '../support/audit.ts';

const SCHEMA = `
create table public.teams (id uuid primary key default gen_random_uuid(), name text not null);
create table public.team_members (team_id uuid not null references public.teams, user_id uuid not null references auth.users,
  role text not null check (role in ('owner', 'member')), primary key (team_id, user_id));
create table public.invites (id bigint generated always as identity primary key, team_id uuid not null references public.teams,
  email text not null, code text not null, note text not null default 'open');
alter table public.invites enable row level security;
create table public.waitlist (id bigint generated always as identity primary key, email text not null);
create table public.billing (id uuid primary key default gen_random_uuid(), team_id uuid not null references public.teams, state text not null default 'trial');
create table public.credits (id uuid primary key default gen_random_uuid(), team_id uuid not null references public.teams, balance integer not null default 0);
-- Redeems the caller's own invitation (the address must be the caller's), into whichever team it is told.
create function public.redeem_invite(invite_id bigint, p_team_id uuid) returns void language plpgsql security definer set search_path = '' as $$
begin
  if not exists (select 1 from public.invites i where i.id = invite_id and i.email = (select u.email from auth.users u where u.id = auth.uid())) then
    raise exception 'not your invitation';
  end if;
  insert into public.team_members (team_id, user_id, role) values (p_team_id, auth.uid(), 'member');
end $$;
-- Acts only for some words of p_state; the first it compares with does nothing.
create function public.set_billing(_team_id uuid, p_state text) returns void language plpgsql security definer set search_path = '' as $$
begin
  if p_state = 'pending' then
    return;
  elsif p_state in ('paid', 'cancelled') then
    update public.billing set state = p_state where team_id = _team_id;
  end if;
end $$;
-- A bare id: the key of the table the body updates. A reference compared with its column: bob's value there.
create function public.invite_by_code(p_code text) returns text language sql stable security definer set search_path = '' as $$
  select i.email from public.invites i where i.code = p_code $$;
create function public.close_invite(p_id bigint) returns void language sql security definer set search_path = '' as $$
  update public.invites set note = 'closed' where id = p_id $$;
-- An amount named like a table of uuid keys: still a number.
create function public.add_credits(p_team_id uuid, p_credits integer) returns void language sql security definer set search_path = '' as $$
  update public.credits set balance = balance + p_credits where team_id = p_team_id $$;
-- Deletes a team and what it knows of; the notes it forgets refuse, and the error is returned, not raised.
create table public.notes (id bigint generated always as identity primary key, team_id uuid not null references public.teams, body text not null);
create function public.purge_team(p_team_id uuid) returns jsonb language plpgsql security definer set search_path = '' as $$
begin
  delete from public.team_members where team_id = p_team_id;
  delete from public.invites where team_id = p_team_id;
  delete from public.billing where team_id = p_team_id;
  delete from public.credits where team_id = p_team_id;
  begin
    delete from public.teams where id = p_team_id;
  exception when others then
    return jsonb_build_object('error', sqlerrm);
  end;
  return '{}';
end $$;
-- The team named by its last word.
create function public.rename_team(target_team_id uuid, p_name text) returns void language sql security definer set search_path = '' as $$
  update public.teams set name = p_name where id = target_team_id $$;
`;

test('pglite: arguments from the tables the function names, the words it compares, and one victim argument at a time', async () => {
  const session = await loadOn('pglite', SCHEMA);
  try {
    const snapshot = await introspect(session, { exposedSchemas: ['public'] });
    const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
    // The invitations carry their owners' own addresses: what redeem_invite compares with the caller's.
    const [alices] = await session.query<{ email: string }>(`select email from public.invites i join public.team_members m on m.team_id = i.team_id where m.user_id = 'a11ce000-0000-4000-8000-00000000000a'`);
    expect(alices!.email).toBe('alice@lab.supaudit.invalid');
    // An address nothing compares with the caller's is one of its own: a waiting list does not hold the accounts'.
    const waiting = await session.query<{ email: string }>('select email from public.waitlist order by 1');
    expect(waiting.map((w) => w.email)).toEqual(['alice+0@lab.supaudit.invalid', 'bob+1@lab.supaudit.invalid']);
    const out = await callFunctions(session, snapshot, world, { calls: 400, ms: 600_000 });
    const calls = (name: string, persona: string) => out.rows.find((r) => r.name === name && r.persona === persona)?.calls ?? [];
    // alice's own invitation, bob's team: she joins it. Her own team, or bob's invitation: nothing.
    const redeem = calls('redeem_invite', 'alice');
    expect(redeem.find((c) => c.victimArgs?.join() === 'p_team_id')).toMatchObject({ result: 'ok', joined: ['public.team_members'] });
    expect(redeem.find((c) => c.victimArgs?.join() === 'invite_id')).toMatchObject({ result: 'error', sqlstate: 'P0001' });
    // _team_id is bob's team; p_state each word the body compares it with (what it sets is not
    // taken from the column it is named after): 'pending' changes nothing, 'paid' and 'cancelled'
    // change bob's billing.
    const billing = calls('set_billing', 'anon').filter((c) => c.args === 'victim_rows');
    expect(billing.map((c) => Object.keys(c.others ?? {}))).toEqual([[], ['public.billing'], ['public.billing']]);
    expect(billing[1]!.others!['public.billing']).toEqual({ updated: 1, deleted: 0, columns: ['state'] });
    // p_id is bob's invitation's key.
    expect(calls('close_invite', 'anon').find((c) => c.args === 'victim_rows')!.others).toEqual({ 'public.invites': { updated: 1, deleted: 0, columns: ['note'] } });
    // p_credits is an amount: the call runs, it is not given a key of public.credits; a balance is
    // worth something, not a counter.
    expect(calls('add_credits', 'anon').find((c) => c.args === 'victim_rows')).toMatchObject({ result: 'ok', others: { 'public.credits': { updated: 1, deleted: 0, columns: ['balance'] } } });
    expect(calls('add_credits', 'anon').find((c) => c.args === 'victim_rows')!.others!['public.credits']!.countersOnly).toBeUndefined();
    // p_code is bob's invitation's code: his account's address comes back, which anon reads nowhere.
    expect(calls('invite_by_code', 'anon').find((c) => c.args === 'victim_rows')).toMatchObject({ result: 'ok', leaked: ['auth.users.email'] });
    // Only bob's notes kept his team: with the keys of notes, and the other keys to teams that do not
    // cascade, set aside (a team with no such rows), anon deletes it.
    const purge = calls('purge_team', 'anon').find((c) => c.args === 'victim_rows')!;
    expect(purge.setAside).toEqual([
      'public.billing.billing_team_id_fkey',
      'public.credits.credits_team_id_fkey',
      'public.invites.invites_team_id_fkey',
      'public.notes.notes_team_id_fkey',
      'public.team_members.team_members_team_id_fkey',
    ]);
    expect(purge.others!['public.teams']).toEqual({ updated: 0, deleted: 1 });
    // target_team_id names bob's team.
    expect(calls('rename_team', 'anon').find((c) => c.args === 'victim_rows')!.others).toEqual({ 'public.teams': { updated: 1, deleted: 0, columns: ['name'] } });
  } finally {
    await session.close();
  }
});

test('the words a body compares a parameter with, in order', () => {
  const body = `begin if p_state = 'pending' then return; end if; if 'x''y' <> p_state then null; end if;
    if p_state in ('paid', 'cancelled') then null; end if; perform case p_state when 'late' then 1 end; if t.p_state = 'no' then null; end if; end`;
  expect(parameterLiterals(body, 'p_state')).toEqual(['pending', "x'y", 'paid', 'cancelled', 'late']);
  expect(parameterLiterals(body, 'state')).toEqual([]);
  expect(parameterLiterals(null, 'p_state')).toEqual([]);
});

test("a value held in several places leaks only where the caller reads none of them", () => {
  const secrets = new Map([['bob@lab.supaudit.invalid', ['auth.users.email', 'public.profiles.email']], ['bob-notes-body-1', ['public.notes.body']]]);
  const output = '[{"email": "bob@lab.supaudit.invalid", "body": "bob-notes-body-1"}]';
  expect(leakedIn(output, secrets, new Set())).toEqual(['auth.users.email', 'public.notes.body', 'public.profiles.email']);
  // The caller reads profiles anyway: the address is no leak, the note is.
  expect(leakedIn(output, secrets, new Set(['public.profiles']))).toEqual(['public.notes.body']);
});

const INVITE = (inviteCheck: string, accept = `insert into public.org_members (org_id, user_id, role) values (inv.org_id, auth.uid(), inv.role);`) => `
create table public.orgs (id uuid primary key default gen_random_uuid(), name text not null);
create table public.org_members (org_id uuid not null references public.orgs on delete cascade, user_id uuid not null references auth.users on delete cascade,
  role text not null check (role in ('owner', 'admin', 'member')), seen_by uuid references auth.users, primary key (org_id, user_id));
create table public.org_invitations (id uuid primary key default gen_random_uuid(), org_id uuid not null references public.orgs on delete cascade,
  invited_email text not null, role text not null default 'member', unique (org_id, invited_email));
create function public.is_member(o uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.org_members m where m.org_id = o and m.user_id = auth.uid()) $$;
-- Invites someone into an organisation${inviteCheck ? ', if the caller is one of its admins' : ', whoever calls'}.
create function public.create_invite(p_org_id uuid, p_invited_email text, p_role text) returns void language plpgsql security definer set search_path = '' as $$
begin
  ${inviteCheck}
  insert into public.org_invitations (org_id, invited_email, role) values (p_org_id, p_invited_email, p_role);
end $$;
-- Accepts an invitation addressed to the caller.
create function public.accept_invite(p_invitation_id uuid) returns void language plpgsql security definer set search_path = '' as $$
declare inv public.org_invitations;
begin
  select * into inv from public.org_invitations where id = p_invitation_id and invited_email = (select email from auth.users where id = auth.uid());
  if not found then raise exception 'no such invitation'; end if;
  ${accept}
  delete from public.org_invitations where id = inv.id;
end $$;
alter table public.orgs enable row level security;
alter table public.org_members enable row level security;
alter table public.org_invitations enable row level security;
-- A directory of organisations anyone signed in may browse: their ids are no secret.
create policy "anyone reads organisations" on public.orgs for select to authenticated using (true);
create policy "members read members" on public.org_members for select to authenticated using (public.is_member(org_id));
`;

test('a definer function that invites anyone into any organisation, then the caller accepts its own invitation: a two-step join (critical)', async () => {
  const report = await auditMigration(INVITE(''));
  const calls = (report.lab!.functions ?? []).filter((f) => f.name === 'create_invite' && f.persona === 'outsider').flatMap((f) => f.calls);
  expect(calls.find((c) => c.redeemedBy !== undefined)).toMatchObject({ args: 'victim_rows', joined: ['public.org_members'], redeemedBy: 'public.accept_invite' });
  // The lab's effect is folded into the finding that the function is callable, and sets its level.
  const finding = report.findings.find((f) => f.object.name === 'create_invite' && /once it called public\.accept_invite with the rows this call inserted/.test(f.message));
  expect(finding).toMatchObject({ check: 'authenticated_security_definer_function_executable', level: 'critical' });
});

test("a second function that only stamps the caller on the organisation's memberships (seen_by) makes no member of it: no two-step join", async () => {
  const report = await auditMigration(INVITE('', `update public.org_members set seen_by = auth.uid() where org_id = inv.org_id;`));
  expect((report.lab!.functions ?? []).flatMap((f) => f.calls).filter((c) => c.redeemedBy !== undefined)).toEqual([]);
});

test('the inviting function checks that the caller is an admin of the organisation: no stranger joins', async () => {
  const report = await auditMigration(
    INVITE(`if not exists (select 1 from public.org_members m where m.org_id = p_org_id and m.user_id = auth.uid() and m.role in ('owner', 'admin')) then raise exception 'not an admin' using errcode = '42501'; end if;`),
  );
  expect((report.lab!.functions ?? []).flatMap((f) => f.calls).filter((c) => c.redeemedBy !== undefined)).toEqual([]);
  expect(report.findings.filter((f) => f.object.name === 'create_invite' && /once it called/.test(f.message))).toEqual([]);
});

/** `sql` loaded on PGlite, its world built and every function called (400 calls); `check` sees them all, then the session closes. */
async function withCalls(sql: string, check: (lab: { session: Session; snapshot: Snapshot; world: World; out: FunctionCalls }) => Promise<void>): Promise<void> {
  const session = await loadOn('pglite', sql);
  try {
    const snapshot = await introspect(session, { exposedSchemas: ['public'] });
    const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
    const out = await callFunctions(session, snapshot, world, { calls: 400, ms: 600_000 });
    await check({ session, snapshot, world, out });
  } finally {
    await session.close();
  }
}

test('pglite: a number that bounds by age is also tried at -1, so rows the world just made are within reach', async () => {
  await withCalls(
    `
create table public.teams (id uuid primary key default gen_random_uuid(), name text not null);
create table public.team_members (team_id uuid not null references public.teams, user_id uuid not null references auth.users, primary key (team_id, user_id));
create table public.holds (id uuid primary key default gen_random_uuid(), team_id uuid not null references public.teams, created_at timestamptz not null default now(), released boolean not null default false);
-- Releases a team's holds older than the age it is given, for any team, for anyone.
create function public.release_old_holds(p_team_id uuid, p_max_age_minutes integer) returns integer language sql security definer set search_path = '' as $$
  with r as (update public.holds set released = true where team_id = p_team_id and created_at < now() - make_interval(mins => p_max_age_minutes) returning 1) select count(*)::int from r $$;
`,
    async ({ out }) => {
      const calls = out.rows.find((r) => r.name === 'release_old_holds' && r.persona === 'anon')!.calls.filter((c) => c.args === 'victim_rows');
      // Ten minutes: bob's hold is younger. -1: every hold of his team.
      expect(calls.map((c) => c.others?.['public.holds']?.updated ?? 0)).toEqual([0, 1]);
    },
  );
});

test('pglite: rows are first put in the state a function picks (status, source), not in an ended one, and never in a time', async () => {
  await withCalls(
    `
create table public.hostels (id uuid primary key default gen_random_uuid(), name text not null);
create table public.hostel_staff (hostel_id uuid not null references public.hostels, user_id uuid not null references auth.users, primary key (hostel_id, user_id));
create table public.bookings (id uuid primary key default gen_random_uuid(), hostel_id uuid not null references public.hostels,
  status text not null default 'confirmed' check (status in ('confirmed', 'pending_payment', 'cancelled', 'expired')),
  source text not null default 'app', paid boolean not null default true, created_at timestamptz not null default now());
-- Cancels a hostel's unpaid website bookings older than the age it is given: for any hostel, for anyone.
create function public.release_stale(p_hostel uuid, p_max_age_minutes integer default 30) returns integer language plpgsql security definer set search_path = public as $fn$
declare n integer;
begin
  with s as (update bookings b set status = 'cancelled'
              where b.hostel_id = p_hostel and b.status = 'pending_payment' and source = 'website' and not b.paid
                and b.created_at < now() - make_interval(mins => p_max_age_minutes) returning 1)
  select count(*) into n from s;
  return n;
end $fn$;
-- A clean-up of ended bookings: removing them is what it is for.
create function public.purge_expired(p_hostel uuid) returns void language sql security definer set search_path = public as $fn$
  delete from bookings where hostel_id = p_hostel and status = 'expired' $fn$;
-- Old bookings only, by a fixed age: the world's rows are new, and times are not staged.
create function public.archive_old(p_hostel uuid) returns void language sql security definer set search_path = public as $fn$
  update bookings set source = 'archive' where hostel_id = p_hostel and status = 'confirmed' and created_at < now() - interval '1 year' $fn$;
-- Raises unless the booking it read is a pending website one: the world's are confirmed app bookings.
create function public.unpay(p_booking_id uuid) returns void language plpgsql security definer set search_path = public as $fn$
declare v record;
begin
  select * into v from bookings where id = p_booking_id;
  if not found then raise exception 'not found'; end if;
  if v.status not in ('pending_payment') then raise exception 'not editable: %', v.status; end if;
  if v.source <> 'website' or not v.paid then raise exception 'not a paid website booking'; end if;
  update bookings set paid = false where id = p_booking_id;
end $fn$;
-- Demotes the hostel's paid bookings, then marks the one given paid: two states of one column; the statement aimed at the row given decides.
create function public.mark_paid(p_booking_id uuid) returns void language plpgsql security definer set search_path = public as $fn$
begin
  update bookings set paid = false where paid = true and id <> p_booking_id and hostel_id = (select hostel_id from bookings where id = p_booking_id);
  update bookings set paid = true where id = p_booking_id and paid = false;
end $fn$;
-- A hostel's daily figures, recomputed by anyone: the revenue is worth something, the page views are a counter.
create table public.hostel_reports (id uuid primary key default gen_random_uuid(), hostel_id uuid not null references public.hostels, revenue_total numeric not null default 0, page_views integer not null default 0);
create function public.recompute_report(p_hostel uuid) returns void language sql security definer set search_path = public as $fn$
  update hostel_reports set revenue_total = revenue_total + 10, page_views = page_views + 1 where hostel_id = p_hostel $fn$;
create function public.count_view(p_hostel uuid) returns void language sql security definer set search_path = public as $fn$
  update hostel_reports set page_views = page_views + 1 where hostel_id = p_hostel $fn$;
-- A hostel's metered usage, pushed by anyone: every number of a usage table is what a plan's limit is checked against.
create table public.hostel_usage (id uuid primary key default gen_random_uuid(), hostel_id uuid not null references public.hostels, period text not null, sms_sent integer not null default 0, unique (hostel_id, period));
create function public.meter_sms(p_hostel uuid, p_period text, p_count int) returns void language sql security definer set search_path = public as $fn$
  update hostel_usage set sms_sent = sms_sent + p_count where hostel_id = p_hostel and period = p_period $fn$;
-- A recount of the same meter from the hostel's own rows: the caller gives no amount, it only corrects.
create function public.recount_sms(p_hostel uuid) returns void language sql security definer set search_path = public as $fn$
  update hostel_usage set sms_sent = (select count(*) from bookings where hostel_id = p_hostel) where hostel_id = p_hostel $fn$;
-- A page of a hostel's bookings between two times: the bounds given reach every row the world made.
create function public.booked(p_hostel uuid, p_since timestamptz, p_before timestamptz) returns setof text language sql stable security definer set search_path = public as $fn$
  select h.name from hostels h join bookings b on b.hostel_id = h.id where h.id = p_hostel and b.created_at >= p_since and b.created_at < p_before $fn$;
`,
    async ({ session, snapshot, out }) => {
      const release = snapshot.functions.find((f) => f.name === 'release_stale')!;
      await initPolicyParser();
      expect(Object.fromEntries([...stageOf(snapshot, release)].map(([t, s]) => [t, Object.fromEntries(s)]))).toEqual({ 'public.bookings': { status: 'pending_payment', source: 'website', paid: 'false' } });
      const updated = (name: string) => out.rows.find((r) => r.name === name && r.persona === 'anon')!.calls.filter((c) => c.args === 'victim_rows').map((c) => c.others?.['public.bookings'] ?? null);
      // With -1 minutes, bob's booking, put in the state the function picks, is cancelled: only the status changed.
      expect(updated('release_stale')).toEqual([null, { updated: 1, deleted: 0, columns: ['status'] }]);
      expect(updated('purge_expired')).toEqual([null]);
      expect(updated('archive_old')).toEqual([null]);
      // The guards on the row it read want it pending, from the website, and paid: so staged, bob's booking is unpaid by anon.
      expect(Object.fromEntries(stageOf(snapshot, snapshot.functions.find((f) => f.name === 'unpay')!).get('public.bookings')!)).toEqual({ status: 'pending_payment', source: 'website', paid: 'true' });
      expect(updated('unpay')).toEqual([{ updated: 1, deleted: 0, columns: ['paid'] }]);
      expect(Object.fromEntries(stageOf(snapshot, snapshot.functions.find((f) => f.name === 'mark_paid')!).get('public.bookings')!)).toEqual({ paid: 'false' });
      expect(updated('mark_paid')).toEqual([{ updated: 1, deleted: 0, columns: ['paid'] }]);
      expect(out.rows.find((r) => r.name === 'booked' && r.persona === 'anon')!.calls.find((c) => c.args === 'victim_rows')!.leaked).toEqual(['public.hostels.name']);
      // A revenue rewritten is not a counter moved; page views are.
      const report = (name: string) => out.rows.find((r) => r.name === name && r.persona === 'anon')!.calls.find((c) => c.args === 'victim_rows')!.others!['public.hostel_reports'];
      expect(report('recompute_report')).toEqual({ updated: 1, deleted: 0, columns: ['page_views', 'revenue_total'] });
      expect(report('count_view')).toEqual({ updated: 1, deleted: 0, columns: ['page_views'], countersOnly: true });
      // A usage meter moved is no counter: it holds the victim against its plan's limit.
      expect(out.rows.find((r) => r.name === 'meter_sms' && r.persona === 'anon')!.calls.find((c) => c.args === 'victim_rows')!.others!['public.hostel_usage']).toEqual({ updated: 1, deleted: 0, columns: ['sms_sent'] });
      expect(out.rows.find((r) => r.name === 'recount_sms' && r.persona === 'anon')!.calls.find((c) => c.args === 'victim_rows')!.others!['public.hostel_usage']).toEqual({ updated: 1, deleted: 0, columns: ['sms_sent'], countersOnly: true });
      // The world's rows are as they were: every call and its staging rolled back.
      const rows = await session.query<{ status: string; source: string }>('select status, source from public.bookings');
      expect(rows.every((r) => r.status === 'confirmed' && r.source === 'app')).toBe(true);
    },
  );
});

test("pglite: only the others' rows are staged: a function gated on its caller's own role stays shut, the same list with no gate leaks", async () => {
  await withCalls(
    `
create table public.profiles (id uuid primary key references auth.users on delete cascade, role text not null default 'member' check (role in ('member', 'admin')));
create function public.list_admins() returns setof text language sql stable security definer set search_path = public, auth as $fn$
  select u.email::text from profiles p join auth.users u on u.id = p.id
   where p.role = 'admin' and exists (select 1 from profiles me where me.id = auth.uid() and me.role = 'admin') $fn$;
create function public.list_admins_open() returns setof text language sql stable security definer set search_path = public, auth as $fn$
  select u.email::text from profiles p join auth.users u on u.id = p.id where p.role = 'admin' $fn$;
`,
    async ({ out }) => {
      const leaked = (name: string) => out.rows.find((r) => r.name === name && r.persona === 'outsider')!.calls.map((c) => c.leaked ?? []);
      expect(leaked('list_admins')).toEqual([[]]);
      expect(leaked('list_admins_open')).toEqual([['auth.users.email']]);
    },
  );
});

test("pglite: an argument takes the victim value of the column the body compares it with when its name points elsewhere, and a flag's other value; a word written into a CHECKed column takes a listed one", async () => {
  await withCalls(
    `
create table public.tenants (id uuid primary key default gen_random_uuid(), name text not null);
create table public.tenant_members (tenant_id uuid not null references public.tenants, user_id uuid not null references auth.users, primary key (tenant_id, user_id));
-- Named after "workspace", but not what the functions below read.
create table public.workspace_credits (id uuid primary key default gen_random_uuid(), tenant_id uuid not null references public.tenants, balance integer not null default 0);
create table public.conversations (id uuid primary key default gen_random_uuid(), tenant_id uuid not null references public.tenants, assigned_to uuid references auth.users);
create function public.is_member(t uuid) returns boolean language sql stable security definer set search_path = '' as $fn$
  select exists (select 1 from public.tenant_members m where m.tenant_id = t and m.user_id = auth.uid()) $fn$;
alter table public.conversations enable row level security;
create policy members on public.conversations for all to authenticated using (public.is_member(tenant_id));
-- Unassigned conversations only, unless told otherwise: bob's is assigned (to bob).
create function public.assign(p_workspace_id uuid, p_conversation_id uuid, p_profile_id uuid, p_only_if_unassigned boolean default true) returns boolean language plpgsql security definer set search_path = public as $fn$
begin
  if p_only_if_unassigned then
    update conversations set assigned_to = p_profile_id where id = p_conversation_id and tenant_id = p_workspace_id and assigned_to is null;
  else
    update conversations set assigned_to = p_profile_id where id = p_conversation_id and tenant_id = p_workspace_id;
  end if;
  return found;
end $fn$;
create table public.credit_log (id uuid primary key default gen_random_uuid(), tenant_id uuid not null references public.tenants, amount integer not null,
  type text not null check (type in ('purchase', 'usage', 'refund')));
create function public.add_credits(p_tenant_id uuid, p_amount integer, p_type text) returns void language plpgsql security definer set search_path = public as $fn$
begin
  insert into credit_log (tenant_id, amount, type) values (p_tenant_id, p_amount, p_type);
end $fn$;
`,
    async ({ out }) => {
      const calls = (name: string) => out.rows.find((r) => r.name === name && r.persona === 'outsider')!.calls.filter((c) => c.args === 'victim_rows');
      // By its name, p_workspace_id took bob's workspace_credits key: nothing, whatever the flag; by the
      // column it is compared with, his tenant: his assigned conversation is the outsider's once the flag is false.
      // Then its own rows but for one of bob's (it has none of its own there: nothing either).
      expect(calls('assign').map((c) => c.others?.['public.conversations'] ?? null)).toEqual([null, null, null, { updated: 1, deleted: 0, columns: ['assigned_to'] }, null, null]);
      expect(calls('add_credits').map((c) => [c.result, c.changed['public.credit_log']?.inserted ?? 0])).toEqual([['ok', 1]]);
    },
  );
});
