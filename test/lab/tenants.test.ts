/**
 * Tenants × role values in the lab: the world finds the tenant root (whatever it is called) and its
 * membership's role values, signs up one account per tenant and role, and the matrix says, per
 * persona, which rows are its own, its tenant's, and other tenants'. Persona × function calls every
 * function the API roles may execute as each persona and counts the rows each call changed.
 */
import { describe, expect, test } from 'vitest';
import { introspect } from '../../src/introspect/index.ts';
import { checkLiterals } from '../../src/lab/tenants.ts';
import { buildWorld, worldSummary } from '../../src/lab/world.ts';
import type { LabCell, Report } from '../../src/model/report.ts';
import { isSystemSchema } from '../../src/model/schemas.ts';
import { loadPglite } from '../support/audit.ts';
import { auditMigration } from '../support/cli.ts';

const TENANT = `public.is_member(org_id)`;
const ANY_MEMBER = `exists (select 1 from public.org_members m where m.user_id = auth.uid())`;

const SCHEMA = (update: string, addMember: string, read = TENANT) => `
create table public.organizations (id uuid primary key default gen_random_uuid(), name text not null);
create table public.org_members (
  org_id uuid not null references public.organizations on delete cascade,
  user_id uuid not null references auth.users on delete cascade,
  role text not null check (role in ('owner', 'admin', 'member')),
  primary key (org_id, user_id)
);
create table public.projects (id uuid primary key default gen_random_uuid(), org_id uuid not null references public.organizations on delete cascade, title text not null);
create function public.is_member(o uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.org_members m where m.org_id = o and m.user_id = auth.uid())
$$;
create function public.is_admin(o uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.org_members m where m.org_id = o and m.user_id = auth.uid() and m.role in ('owner', 'admin'))
$$;
create function public.add_member(org uuid, uid uuid, role text) returns void language plpgsql security definer set search_path = '' as $$
begin
  ${addMember}
  insert into public.org_members (org_id, user_id, role) values (org, uid, role);
end $$;
alter table public.organizations enable row level security;
alter table public.org_members enable row level security;
alter table public.projects enable row level security;
create policy "members read their org" on public.organizations for select to authenticated using (public.is_member(id));
create policy "members read memberships" on public.org_members for select to authenticated using (public.is_member(org_id));
create policy "members read projects" on public.projects for select to authenticated using (${read});
create policy "update projects" on public.projects for update to authenticated using (${update}) with check (${update});
`;

const GUARDED = `if not public.is_admin(org) then raise exception 'not an admin of this organisation' using errcode = '42501'; end if;`;

const cell = (report: Report, table: string, persona: string) => report.lab!.matrix.find((m) => m.name === table && m.persona === persona)!;
const counts = (c: LabCell) => (typeof c === 'string' ? c : [c.own, c.tenant, c.other_tenants, c.ownerless]);

describe('tenants × role values', () => {
  test('members read their tenant, only admins and owners update it, nobody reaches the other tenant', async () => {
    const report = await auditMigration(SCHEMA(`public.is_admin(org_id)`, GUARDED));
    expect(report.lab!.accounts).toEqual(['alice', 'bob', 'outsider', 't1_admin', 't1_member', 't2_admin', 't2_member']);
    expect(report.lab!.tenants).toEqual([{ root: 'public.organizations', membership: 'public.org_members', roleColumn: 'role', roles: ['owner', 'admin', 'member'] }]);
    expect(report.notes.find((n) => n.area === 'lab')!.message).toContain('two tenants of public.organizations through public.org_members (role: owner, admin, member)');
    // projects has no owner column: alice's project is her tenant's, not her own.
    expect(counts(cell(report, 'projects', 't1_member').select)).toEqual([0, 1, 0, 0]);
    expect(counts(cell(report, 'projects', 't1_member').update)).toEqual([0, 0, 0, 0]);
    expect(counts(cell(report, 'projects', 't1_admin').update)).toEqual([0, 1, 0, 0]);
    expect(counts(cell(report, 'projects', 'alice').update)).toEqual([0, 1, 0, 0]);
    expect(counts(cell(report, 'projects', 'outsider').select)).toEqual([0, 0, 0, 0]);
    // Members stay in their tenant: nothing measured of a member reaching another tenant.
    expect(report.findings.filter((f) => /a member of one tenant/.test(f.message))).toEqual([]);
    // Memberships: a member sees its own and its tenant's (alice's, t1_admin's), never tenant 2's.
    expect(counts(cell(report, 'org_members', 't1_member').select)).toEqual([1, 2, 0, 0]);
    for (const m of report.lab!.matrix) {
      for (const c of [m.select, m.update, m.delete]) if (typeof c !== 'string') expect(c.other_tenants, `${m.name} ${m.persona}`).toBe(0);
    }
  });

  test('policies that let any member update (and so read) any organisation’s project: other_tenants for a member', async () => {
    const report = await auditMigration(SCHEMA(ANY_MEMBER, GUARDED, ANY_MEMBER));
    expect(counts(cell(report, 'projects', 't1_member').update)).toEqual([0, 1, 1, 0]);
    expect(counts(cell(report, 'projects', 't2_admin').update)).toEqual([0, 1, 1, 0]);
    expect(counts(cell(report, 'projects', 'outsider').update)).toEqual([0, 0, 0, 0]);
    // A role check without a tenant filter: reported from the role accounts' cells, folded into a static finding that claims it or standing alone.
    const measured = report.findings.filter((f) => f.object.name === 'projects' && /Measured in the lab: a member of one tenant \(t1_admin\) can update 1 row of another tenant in public\.projects\./.test(f.message));
    expect(measured.map((f) => f.level)).toEqual(['critical']);
  });

  test('a loose UPDATE policy behind a tenant-bound SELECT policy: the filtered update PostgREST sends (pg-safeupdate refuses one with no filter) reaches only rows the member can read', async () => {
    const report = await auditMigration(SCHEMA(ANY_MEMBER, GUARDED));
    for (const persona of ['t1_member', 'alice']) {
      expect(counts(cell(report, 'projects', persona).select)).toEqual([0, 1, 0, 0]);
      expect(counts(cell(report, 'projects', persona).update)).toEqual([0, 1, 0, 0]);
    }
  });
});

describe('persona × function', () => {
  const changedBy = (report: Report, persona: string) => report.lab!.functions!.find((f) => f.name === 'add_member' && f.persona === persona)!.calls;

  test('a SECURITY DEFINER add_member with no caller check: the outsider adds itself to another tenant (1 row into org_members)', async () => {
    const report = await auditMigration(SCHEMA(`public.is_admin(org_id)`, ''));
    const calls = changedBy(report, 'outsider');
    // The row it inserted points at tenant 2's organisation: the outsider joined it.
    // The organisation's uuid is the lab's to give: no table the outsider reads shows it.
    expect(calls.find((c) => c.args === 'victim_rows')).toEqual({ args: 'victim_rows', result: 'ok', changed: { 'public.org_members': { inserted: 1, updated: 0, deleted: 0 } }, joined: ['public.org_members'], unlearned: ['org'] });
    // Joining is critical; needing a leaked id makes it high.
    const [finding] = report.findings.filter((f) => f.object.name === 'add_member' && f.level === 'high' && f.message.includes('Measured in the lab'));
    expect(finding?.message).toMatch(/Measured in the lab: any signed-up account \(one that belongs to no tenant\) calls public\.add_member\(org uuid, uid uuid, role text\) with another user's rows as arguments, and it made the caller a member of another tenant \(a row in public\.org_members\) — given org of another user's, random uuids or tokens the caller cannot read anywhere through the API \(only a leaked id opens it\)\.$/);
    expect(report.findings.filter((f) => f.object.name === 'add_member' && f.level === 'critical')).toEqual([]);
    // NULLs break the NOT NULL constraint: an error with its SQLSTATE, nothing changed.
    expect(calls.find((c) => c.args === 'nulls')).toEqual({ args: 'nulls', result: 'error', sqlstate: '23502', changed: {} });
    // Helper functions are called too: they change nothing.
    const helper = report.lab!.functions!.find((f) => f.name === 'is_admin' && f.persona === 'alice')!;
    expect(helper.calls.every((c) => c.result === 'ok' && Object.keys(c.changed).length === 0)).toBe(true);
    expect(report.lab!.functionCalls!.calls).toBeGreaterThan(0);
  });

  test('guarded: only an admin of the organisation adds members; the outsider and a member are denied', async () => {
    const report = await auditMigration(SCHEMA(`public.is_admin(org_id)`, GUARDED));
    for (const persona of ['outsider', 't1_member']) {
      for (const c of changedBy(report, persona)) {
        expect(c.changed, `${persona} ${c.args}`).toEqual({});
        if (c.args !== 'nulls') expect(c.result, `${persona} ${c.args}`).toBe('denied');
      }
    }
    // t1_admin adds to its own organisation (the own ids: itself, already a member → unique violation), not to tenant 2's.
    const admin = changedBy(report, 't1_admin');
    expect(admin.find((c) => c.args === 'victim_rows')!.result).toBe('denied');
  });
});

/** Companies whose users' one row holds the company and the role, an operators' helper, a company admins' helper, and tickets. */
const COMPANIES = (roles: string) => `
create table public.companies (id uuid primary key default gen_random_uuid(), name text not null);
create table public.users (id uuid primary key references auth.users on delete cascade, company_id uuid references public.companies,
  role text not null default 'client' check (role in (${roles})));
create table public.tickets (id uuid primary key default gen_random_uuid(), company_id uuid not null references public.companies, title text not null);
create function public.is_acme_admin() returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.users u where u.id = auth.uid() and u.role = 'acme_admin') $$;
create function public.is_company_admin() returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.users u where u.id = auth.uid() and u.role = 'admin') $$;
create function public.my_company() returns uuid language sql stable security definer set search_path = '' as $$
  select company_id from public.users where id = auth.uid() $$;
alter table public.users enable row level security;
alter table public.tickets enable row level security;`;

const PROFILE_TENANCY = `
create table public.clinics (id uuid primary key default gen_random_uuid(), name text not null);
create table public.profiles (id uuid primary key references auth.users on delete cascade, clinic_id uuid references public.clinics,
  role text default 'staff', full_name text);
create table public.revenues (id uuid primary key default gen_random_uuid(), clinic_id uuid not null references public.clinics, amount numeric not null);
create function public.is_system_admin() returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.profiles p where p.id = auth.uid() and p.role in ('system_owner', 'super_admin')) $$;
create function public.my_clinic() returns uuid language sql stable security definer set search_path = '' as $$
  select clinic_id from public.profiles where id = auth.uid() $$;
alter table public.profiles enable row level security;
alter table public.revenues enable row level security;
create policy "own profile" on public.profiles for all to authenticated using (id = auth.uid()) with check (id = auth.uid());
create policy "clinic revenues" on public.revenues for all to authenticated using (clinic_id = public.my_clinic() or public.is_system_admin());
create policy "managers delete" on public.revenues for delete to authenticated
  using (exists (select 1 from public.profiles p where p.id = auth.uid() and p.clinic_id = revenues.clinic_id and p.role = 'manager'));
`;

describe('finding tenant roots', () => {
  test('by shape: the membership with a unique key wins over an invitation; role values only from texts naming the membership; caps said', async () => {
    const session = await loadPglite(`
create table public.organizations (id uuid primary key default gen_random_uuid(), name text not null);
create table public.org_members (org_id uuid not null references public.organizations, user_id uuid not null references auth.users,
  role text not null check (role in ('owner', 'admin', 'member', 'billing')), primary key (org_id, user_id));
create table public.invitations (id uuid primary key default gen_random_uuid(), org_id uuid not null references public.organizations,
  invited_by uuid not null references auth.users, role text not null check (role in ('admin', 'member')));
create table public.households (id uuid primary key default gen_random_uuid(), name text not null);
create table public.residents (household_id uuid not null references public.households, user_id uuid not null references auth.users,
  level text not null, primary key (household_id, user_id));
create table public.chores (id uuid primary key default gen_random_uuid(), household_id uuid not null references public.households, org_id uuid references public.organizations);
create table public.churches (id uuid primary key default gen_random_uuid());
create table public.congregants (church_id uuid not null references public.churches, user_id uuid not null references auth.users, primary key (church_id, user_id));
create function public.in_org(o uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.org_members m where m.org_id = o and m.user_id = auth.uid() and m.role in ('owner', 'admin')) $$;
create function public.resident(h uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.residents r where r.household_id = h and r.user_id = auth.uid()) $$;
create function public.congregant(c uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.congregants x where x.church_id = c and x.user_id = auth.uid()) $$;
alter table public.invitations enable row level security;
create policy "invited" on public.invitations for select to authenticated using (public.in_org(org_id) and role = 'admin');
`);
    try {
      const snapshot = await introspect(session, { exposedSchemas: ['public'] });
      const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
      expect(world.tenants.roots.map((t) => [t.root.name, t.membership.name, t.roleColumn, t.roles, t.cappedRoles])).toEqual([
        // Most depended-on first: chores points at both, invitations at organizations.
        ['organizations', 'org_members', 'role', ['owner', 'admin', 'member'], ['billing']],
        ['households', 'residents', 'level', [], []],
      ]);
      expect(world.tenants.cappedRoots).toEqual(['public.churches']);
      expect(world.accounts.map((a) => a.name)).toEqual(['alice', 'bob', 'outsider', 't1_admin', 't1_member', 't2_admin', 't2_member']);
      expect(worldSummary(world)).toContain(
        'capped: tenant roots public.churches not made (at most 2); role values billing of public.org_members given no account (at most 3)',
      );
      // A chore of alice's household is tenant 1's; t1_admin joined alice's organisation as admin.
      const chores = world.rowTenants.get('public.chores')!;
      expect([...chores.values()].sort()).toEqual([1, 2]);
      const [row] = await session.query<{ role: string; name: string }>(
        `select m.role, o.name from public.org_members m join public.organizations o on o.id = m.org_id where m.user_id = $1`,
        [world.accounts.find((a) => a.name === 't1_admin')!.id],
      );
      expect(row).toEqual({ role: 'admin', name: 'alice-organizations-name-0' });
    } finally {
      await session.close();
    }
  });

  test('more role values than accounts: one per way the policies treat them, so the admin every policy asks for gets an account before clinical titles no policy names', async () => {
    const session = await loadPglite(`
create type public.clinic_role as enum ('pt', 'pta', 'ot', 'ota', 'admin', 'front_office', 'biller');
create table public.clinics (id uuid primary key default gen_random_uuid(), name text not null);
create table public.clinic_memberships (clinic_id uuid not null references public.clinics, user_id uuid not null references auth.users,
  role public.clinic_role not null default 'pta', primary key (clinic_id, user_id));
create table public.notes (id uuid primary key default gen_random_uuid(), clinic_id uuid not null references public.clinics, body text);
create function public.note_role(c uuid) returns public.clinic_role language sql stable security definer set search_path = '' as $$
  select role from public.clinic_memberships where clinic_id = c and user_id = auth.uid() $$;
create function public.can_sign(c uuid) returns boolean language plpgsql stable security definer set search_path = '' as $$
declare v_role public.clinic_role;
begin
  select role into v_role from public.clinic_memberships where clinic_id = c and user_id = auth.uid();
  return v_role in ('pt', 'admin');
end $$;
alter table public.notes enable row level security;
create policy "read" on public.notes for select to authenticated using (exists (select 1 from public.clinic_memberships m where m.clinic_id = notes.clinic_id and m.user_id = auth.uid()));
create policy "edit" on public.notes for update to authenticated using (public.can_sign(clinic_id));
create policy "purge" on public.notes for delete to authenticated using (exists (select 1 from public.clinic_memberships m where m.clinic_id = notes.clinic_id and m.user_id = auth.uid() and m.role = 'admin'));
`);
    try {
      const snapshot = await introspect(session, { exposedSchemas: ['public'] });
      const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
      const [clinics] = world.tenants.roots;
      // admin: in both tests; pt: in can_sign's only; pta: in none (a plain member). ot, ota, front_office and biller are treated as pta is.
      // Highest first, the column's default (pta, what a new member holds) last.
      expect([clinics!.roles, clinics!.cappedRoles]).toEqual([['pt', 'admin', 'pta'], ['ot', 'ota', 'front_office', 'biller']]);
      expect(world.accounts.map((a) => a.name)).toContain('t2_admin');
    } finally {
      await session.close();
    }
  });

  test('one tenant per account (a profile\'s company_id) is a membership, ranked after a membership of many; the sign-up\'s empty profile gets its tenant; a row that outlives its parent (ON DELETE SET NULL) is not the parent\'s tenant\'s', async () => {
    const session = await loadPglite(`
create table public.workspaces (id uuid primary key default gen_random_uuid(), name text not null);
create table public.workspace_members (workspace_id uuid not null references public.workspaces, user_id uuid not null references auth.users,
  role text not null check (role in ('owner', 'viewer')), primary key (workspace_id, user_id));
create table public.companies (id uuid primary key default gen_random_uuid(), name text not null);
create table public.profiles (id uuid primary key references auth.users on delete cascade, company_id uuid references public.companies on delete set null,
  current_workspace_id uuid references public.workspaces, level text);
create table public.uploads (id uuid primary key default gen_random_uuid(), company_id uuid not null references public.companies on delete cascade);
create table public.catalog (id uuid primary key default gen_random_uuid(), name text not null, upload_id uuid references public.uploads on delete set null);
create function public.in_workspace(w uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.workspace_members m where m.workspace_id = w and m.user_id = auth.uid()) $$;
create function public.my_company() returns uuid language sql stable security definer set search_path = '' as $$
  select company_id from public.profiles where id = auth.uid() $$;
create function public.my_workspace() returns uuid language sql stable security definer set search_path = '' as $$
  select current_workspace_id from public.profiles where id = auth.uid() and level is not null $$;
create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  insert into public.profiles (id) values (new.id);
  return new;
end $$;
create trigger on_auth_user_created after insert on auth.users for each row execute function public.handle_new_user();
`);
    try {
      const snapshot = await introspect(session, { exposedSchemas: ['public'] });
      const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
      // profiles names both roots with a column some helper reads; for workspaces the membership of many wins.
      expect(world.tenants.roots.map((t) => [t.root.name, t.membership.name, t.rootColumns])).toEqual([
        ['companies', 'profiles', ['company_id']],
        ['workspaces', 'workspace_members', ['workspace_id']],
      ]);
      // The sign-up made alice's and bob's profiles with no company: each now names its owner's company.
      const rows = await session.query<{ who: string; company: string | null }>(
        `select u.email as who, c.name as company from public.profiles p join auth.users u on u.id = p.id left join public.companies c on c.id = p.company_id order by 1`,
      );
      expect(rows.map((r) => [r.who.split('@')[0], r.company]).filter(([who]) => !who!.startsWith('t'))).toEqual([
        ['alice', 'alice-companies-name-0'],
        ['bob', 'bob-companies-name-1'],
        ['outsider', null],
      ]);
      expect([...world.rowTenants.get('public.uploads')!.values()].sort()).toEqual([1, 2]);
      // A profile's key to its company names its tenant, though the profile outlives the company (ON DELETE SET NULL).
      const profiles = world.rowTenants.get('public.profiles')!;
      expect(['alice', 'bob'].map((n) => profiles.get(JSON.stringify([world.accounts.find((a) => a.name === n)!.id])))).toEqual([1, 2]);
      expect(world.made.get('public.catalog')?.length).toBe(2);
      expect(world.rowTenants.get('public.catalog')).toBeUndefined();
    } finally {
      await session.close();
    }
  });

  test("a profile that is the membership (its tenant and its role): the outsider's own profile holds the plain role and no tenant, each role account its own role, and no persona the operators' roles", async () => {
    const session = await loadPglite(`${PROFILE_TENANCY}`);
    try {
      const snapshot = await introspect(session, { exposedSchemas: ['public'] });
      const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
      // system_owner and super_admin pass is_system_admin() whatever the clinic: the operator's staff, held by no persona.
      expect(world.tenants.roots.map((t) => [t.membership.name, t.roles, t.plainRole, t.platformRoles])).toEqual([['profiles', ['manager', 'staff'], 'staff', ['system_owner', 'super_admin']]]);
      const rows = await session.query<{ who: string; role: string; clinic: string | null }>(
        `select split_part(u.email, '@', 1) as who, p.role, c.name as clinic from public.profiles p join auth.users u on u.id = p.id left join public.clinics c on c.id = p.clinic_id order by 1`,
      );
      // Were the outsider's profile a system owner's, every "any signed-up account reads …" would be the world's doing.
      expect(rows.map((r) => [r.who, r.role, r.clinic])).toEqual([
        ['alice', 'manager', 'alice-clinics-name-0'],
        ['bob', 'manager', 'bob-clinics-name-1'],
        ['outsider', 'staff', null],
        ['t1_manager', 'manager', 'alice-clinics-name-0'],
        ['t1_staff', 'staff', 'alice-clinics-name-0'],
        ['t2_manager', 'manager', 'bob-clinics-name-1'],
        ['t2_staff', 'staff', 'bob-clinics-name-1'],
      ]);
      expect(worldSummary(world)).toContain("public.clinics through public.profiles (role: manager, staff; the operators' system_owner, super_admin, held by no account)");
    } finally {
      await session.close();
    }
  });

  test("an operator's role of any name: the value every policy arm testing it grants without asking which company; a value some arm scopes to the company is a tenant's", async () => {
    const session = await loadPglite(`
${COMPANIES("'acme_admin', 'admin', 'agent', 'client'")}
create policy "own" on public.users for select to authenticated using (id = auth.uid() or public.is_acme_admin());
create policy "operators" on public.tickets for all to authenticated using (public.is_acme_admin());
-- The company admin: unscoped in its helper, scoped here (and the operator's test under NOT grants it nothing).
create policy "company admins" on public.tickets for all to authenticated
  using (public.is_company_admin() and not public.is_acme_admin() and company_id = public.my_company());
create policy "company reads" on public.tickets for select to authenticated
  using (company_id = public.my_company() or exists (select 1 from public.users u where u.id = auth.uid() and u.role = 'agent' and u.company_id is null));
`);
    try {
      const snapshot = await introspect(session, { exposedSchemas: ['public'] });
      const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
      expect(world.tenants.roots.map((t) => [t.membership.name, t.roles, t.plainRole, t.platformRoles])).toEqual([['users', ['admin', 'agent', 'client'], 'client', ['acme_admin']]]);
      expect(world.accounts.map((a) => a.name)).not.toContain('t1_acme_admin');
    } finally {
      await session.close();
    }
  });

  test("an enum role column holds its labels only: a word compared with a column of its name elsewhere (a token's portal role 'admin') gets no account that could not join", async () => {
    const session = await loadPglite(`
create type public.member_role as enum ('owner', 'manager', 'member');
create table public.hostels (id uuid primary key default gen_random_uuid(), name text not null);
create table public.hostel_members (hostel_id uuid not null references public.hostels, user_id uuid not null references auth.users,
  role public.member_role not null default 'member', primary key (hostel_id, user_id));
create table public.rooms (id uuid primary key default gen_random_uuid(), hostel_id uuid not null references public.hostels, label text not null);
create function public.portal_role(u uuid) returns text language sql stable security definer set search_path = '' as $$
  select case when m.role::text in ('owner', 'manager', 'admin') then 'admin' else 'staff' end from public.hostel_members m where m.user_id = u limit 1 $$;
alter table public.rooms enable row level security;
create policy "members" on public.rooms for select to authenticated using (exists (select 1 from public.hostel_members m where m.hostel_id = rooms.hostel_id and m.user_id = auth.uid()));
create policy "managers" on public.rooms for all to authenticated using (exists (select 1 from public.hostel_members m where m.hostel_id = rooms.hostel_id and m.user_id = auth.uid() and m.role in ('owner', 'manager')));
`);
    try {
      const snapshot = await introspect(session, { exposedSchemas: ['public'] });
      const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
      const root = world.tenants.roots.find((t) => t.membership.name === 'hostel_members')!;
      expect([...root.roles, ...root.cappedRoles]).not.toContain('admin');
      // Every role account is a member: none was made for a value the enum refuses.
      const roleAccounts = world.accounts.filter((a) => /^t[12]_/.test(a.name));
      expect(roleAccounts.map((a) => a.name).sort()).toEqual(['t1_manager', 't1_member', 't2_manager', 't2_member']);
      const joined = await session.query<{ user_id: string }>('select user_id::text from public.hostel_members where user_id = any ($1::uuid[])', [roleAccounts.map((a) => a.id)]);
      expect(joined.length).toBe(roleAccounts.length);
    } finally {
      await session.close();
    }
  });

  test("a company admin who may edit its company's users raises one of them to the operators' role: confirmed through that account's reach (high), beside the plainest member's own climb; a check that caps the role holds", async () => {
    const schema = (cap: string) => `
${COMPANIES("'acme_admin', 'admin', 'client'")}
create policy "own or operators" on public.users for select to authenticated using (id = auth.uid() or public.is_acme_admin());
create policy "company admins read" on public.users for select to authenticated using (public.is_company_admin() and company_id = public.my_company());
create policy "company admins edit" on public.users for update to authenticated
  using (public.is_company_admin() and company_id = public.my_company() and id <> auth.uid())
  with check (public.is_company_admin() and company_id = public.my_company()${cap});
-- And every user edits its own profile, role included: the plainest climbs by itself, a second hole.
create policy "own profile" on public.users for update to authenticated using (id = auth.uid());
create policy "operators" on public.tickets for all to authenticated using (public.is_acme_admin());
create policy "company tickets" on public.tickets for select to authenticated using (company_id = public.my_company());
`;
    const open = await auditMigration(schema(''));
    const raised = open.lab!.attacks.find((a) => a.appointed);
    expect(raised).toMatchObject({ attacker: 'member', command: 'update', column: 'role', promotedFrom: 'admin', promotedTo: 'acme_admin' });
    expect(raised!.gained['public.tickets']).toBeDefined();
    const finding = open.findings.find((f) => f.check === 'lab_confirmed_escalation' && f.fingerprint.includes(':appoint.role'));
    expect(finding?.level).toBe('high');
    expect(finding?.message).toMatch(/^Confirmed in the lab: a member of a tenant holding 'admin' sets role of another member's row in public\.users to 'acme_admin'/);
    expect(open.lab!.attacks.find((a) => !a.appointed && a.promotedTo !== undefined)).toMatchObject({ promotedFrom: 'client', promotedTo: 'acme_admin' });
    const capped = await auditMigration(schema(" and role <> 'acme_admin'"));
    expect(capped.lab!.attacks.filter((a) => a.appointed)).toEqual([]);
  });

  test("a member whose own profile lets it write its role makes itself the operators' role: the climb is tried though no persona holds that role", async () => {
    const report = await auditMigration(PROFILE_TENANCY);
    const promotion = report.lab!.attacks!.find((a) => a.table.name === 'profiles' && a.promotedTo !== undefined);
    expect(promotion).toMatchObject({ attacker: 'member', column: 'role', promotedFrom: 'staff' });
    expect(['system_owner', 'super_admin']).toContain(promotion!.promotedTo);
    // bob's clinic revenues: out of reach for staff of clinic 1, then reached.
    expect(promotion!.gained['public.revenues']).toBeDefined();
  });

  test('a free-text role: the values are the literals policies pass to the helper that compares it with its parameter, the most privileged first', async () => {
    const session = await loadPglite(`
create table public.org (id integer generated always as identity primary key, name text not null);
create table public.user_orgs (user_id uuid not null references auth.users, org_id integer not null references public.org, role text, primary key (user_id, org_id));
create table public.bank_account (id bigint generated always as identity primary key, org_id integer not null references public.org, iban text not null);
create schema private;
create function private.is_org_role(oid integer, roleName text) returns boolean language sql security definer set search_path = private as $$
  select case when exists (select from public.user_orgs where user_id = auth.uid() and org_id = oid and role = roleName) then true else false end $$;
create function private.in_org(o integer) returns boolean language sql security definer set search_path = '' as $$
  select exists (select from public.user_orgs where user_id = auth.uid() and org_id = o) $$;
-- The column read into a variable, then compared: another value, 'auditor'.
create function private.can_view(other uuid) returns boolean language plpgsql security definer set search_path = private as $$
declare r text;
begin
  select role from public.user_orgs where user_id = other into r;
  if r = 'auditor' then return true; end if;
  return false;
end $$;
alter table public.bank_account enable row level security;
create policy "admins manage" on public.bank_account for all to authenticated using ((select private.is_org_role(org_id, 'admin')) = true);
create policy "clients read" on public.bank_account for select to authenticated using (private.is_org_role(org_id, 'client') or private.in_org(org_id));
`);
    try {
      const snapshot = await introspect(session, { exposedSchemas: ['public'] });
      const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
      expect(world.tenants.roots.map((t) => [t.root.name, t.membership.name, t.roleColumn, t.roles])).toEqual([['org', 'user_orgs', 'role', ['admin', 'client', 'auditor']]]);
      expect(world.accounts.map((a) => a.name)).toEqual(['alice', 'bob', 'outsider', 't1_client', 't1_auditor', 't2_client', 't2_auditor']);
    } finally {
      await session.close();
    }
  });

  test('a grant someone wrote (granted_by) is not a membership; an optional parent key stays empty rather than tie bob\'s row to alice\'s tenant', async () => {
    const session = await loadPglite(`
create table public.workspaces (id uuid primary key default gen_random_uuid(), name text not null);
create table public.workspace_members (workspace_id uuid not null references public.workspaces, user_id uuid not null references auth.users,
  role text not null check (role in ('owner', 'editor')), primary key (workspace_id, user_id));
create table public.projects (id uuid primary key default gen_random_uuid(), workspace_id uuid not null references public.workspaces, name text not null);
create table public.project_grants (id uuid primary key default gen_random_uuid(), project_id uuid not null references public.projects,
  workspace_id uuid not null references public.workspaces, role text not null check (role in ('view', 'edit')),
  granted_by uuid not null references auth.users, unique (project_id, workspace_id));
create table public.documents (id uuid primary key default gen_random_uuid(), project_id uuid not null references public.projects,
  parent_id uuid references public.documents, name text not null);
create function public.member_of(w uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.workspace_members m where m.workspace_id = w and m.user_id = auth.uid()) $$;
alter table public.projects enable row level security;
create policy "members and grantees" on public.projects for select to authenticated using (public.member_of(workspace_id)
  or exists (select 1 from public.project_grants g where g.project_id = id and public.member_of(g.workspace_id)));
`);
    try {
      const snapshot = await introspect(session, { exposedSchemas: ['public'] });
      const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
      expect(world.tenants.roots.map((t) => [t.root.name, t.membership.name])).toEqual([['workspaces', 'workspace_members']]);
      const docs = world.made.get('public.documents')!;
      expect(docs.map((d) => [d.owner.name, d.row['parent_id'], world.rowTenants.get('public.documents')!.get(JSON.stringify([d.row['id']]))])).toEqual([
        ['alice', null, 1],
        ['bob', null, 2],
      ]);
    } finally {
      await session.close();
    }
  });

  test("a membership whose key to the account was dropped (user_id a plain uuid) is still the membership: tenants, role accounts and the member's self-promotion", async () => {
    const report = await auditMigration(`
create table public.teams (id uuid primary key default gen_random_uuid(), name text not null);
create table public.team_members (team_id uuid not null references public.teams on delete cascade, user_id uuid,
  role text not null default 'member' check (role in ('owner', 'admin', 'member')), primary key (team_id, user_id));
create function public.team_role(t uuid) returns text language sql stable security definer set search_path = '' as $$
  select m.role from public.team_members m where m.team_id = t and m.user_id = auth.uid() $$;
alter table public.teams enable row level security;
alter table public.team_members enable row level security;
create policy "read team" on public.teams for select to authenticated using (public.team_role(id) is not null);
create policy "read members" on public.team_members for select to authenticated using (public.team_role(team_id) is not null);
create policy "edit own membership" on public.team_members for update to authenticated using (user_id = (select auth.uid()));
create policy "owners rename the team" on public.teams for update to authenticated using (public.team_role(id) = 'owner');
`);
    expect(report.lab!.tenants).toMatchObject([{ root: 'public.teams', membership: 'public.team_members', roleColumn: 'role', roles: ['owner', 'admin', 'member'] }]);
    expect(report.lab!.attacks.filter((a) => a.promotedTo !== undefined)).toMatchObject([{ table: { name: 'team_members' }, column: 'role', promotedTo: 'owner', promotedFrom: 'member' }]);
  });
});

describe('values a CHECK asks for', () => {
  const check = (definition: string) => [{ schema: 'public', table: 't', name: 'c', type: 'check' as const, columns: ['qty'], definition, refSchema: null, refTable: null, refColumns: [] }] as unknown as Parameters<typeof checkLiterals>[0];
  test('a bound a number must meet: at `>=` and `=`, one past `>`; none from `<>` or `<=`', () => {
    expect(checkLiterals(check('CHECK ((qty >= 1))'), 'qty')).toEqual(['1']);
    expect(checkLiterals(check('CHECK ((qty > (0)::numeric))'), 'qty')).toEqual(['1']);
    expect(checkLiterals(check('CHECK ((qty <> (0)::numeric))'), 'qty')).toEqual([]);
    expect(checkLiterals(check('CHECK ((qty <= 9))'), 'qty')).toEqual([]);
  });
});
