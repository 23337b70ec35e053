/**
 * The world in the state the app's own rules count:
 * - a CHECK read arm by arm (a length bound, a scope that decides which keys are set), so a table
 *   behind it gets rows and every table that points at it too;
 * - the world's memberships in the state the helpers count (`active`, not the `pending` a request
 *   starts with), and an attacker's membership written in that state;
 * - an attacker's row refused by a trigger's rule on an optional value: tried again without it.
 */
import { expect, test } from 'vitest';
import { introspect } from '../../src/introspect/index.ts';
import { buildWorld } from '../../src/lab/world.ts';
import { checkArms, fitLength } from '../../src/lab/check-arms.ts';
import { initPolicyParser } from '../../src/policy/parse.ts';
import { isSystemSchema } from '../../src/model/schemas.ts';
import { auditMigration } from '../support/cli.ts';
import { loadOn } from '../support/audit.ts';
import { GYMS } from './gyms-schema.ts';

test('a CHECK read arm by arm: values per column, a length bound, the arms of an OR, and nothing taken from another column', async () => {
  await initPolicyParser();
  expect(checkArms('CHECK (((char_length(username) >= 3) AND (char_length(username) <= 24)))')).toEqual([
    { conditions: [{ column: 'username', kind: 'length', min: 3 }, { column: 'username', kind: 'length', max: 24 }] },
  ]);
  const scope = checkArms("CHECK ((((scope = 'b2c'::text) AND (gym_id IS NULL)) OR ((scope = 'b2b'::text) AND (gym_id IS NOT NULL))))");
  expect(scope).toEqual([
    { conditions: [{ column: 'scope', kind: 'values', values: ['b2c'] }, { column: 'gym_id', kind: 'null' }] },
    { conditions: [{ column: 'scope', kind: 'values', values: ['b2b'] }, { column: 'gym_id', kind: 'not_null' }] },
  ]);
  expect(checkArms("CHECK ((role = ANY (ARRAY['owner'::text, 'member'::text])))")).toEqual([{ conditions: [{ column: 'role', kind: 'values', values: ['owner', 'member'] }] }]);
  expect(checkArms('CHECK (((length(TRIM(BOTH FROM label)) >= 2) AND (length(TRIM(BOTH FROM label)) <= 80)))')?.[0]?.conditions).toHaveLength(2);
  // Two columns compared: nothing it can set.
  expect(checkArms('CHECK ((ends_at > starts_at))')).toEqual([{ conditions: [] }]);
  expect(checkArms('UNIQUE (a)')).toBeNull();
  expect(fitLength('alice-profiles-username-0', 3, 24, 'alice', 0)).toBe('alice0');
  expect(fitLength('t1_officer-profiles-username-12', 3, 6, 't1_officer', 12)).toHaveLength(6);
  expect(fitLength('a', 3, undefined, 'a', 1)).toBe('axx');
});


test('pglite: the world satisfies a length CHECK and a scoped CHECK, and its memberships are active as the helpers count them', async () => {
  const session = await loadOn('pglite', GYMS);
  try {
    const snapshot = await introspect(session, { exposedSchemas: ['public'] });
    const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
    const rows = (t: string) => world.tables.find((x) => x.name === t)?.rows ?? 0;
    // Every table behind the profile (its username within 3..24) gets rows.
    for (const t of ['profiles', 'gyms', 'gym_members', 'invoices', 'offers']) expect(rows(t), t).toBeGreaterThan(0);
    const members = world.made.get('public.gym_members') ?? [];
    expect(members.length).toBeGreaterThan(0);
    expect(new Set(members.map((m) => m.row['status']))).toEqual(new Set(['active']));
    // A flag that grants more than membership stays as the schema makes it.
    expect(new Set(members.map((m) => m.row['is_super_admin']))).toEqual(new Set([false]));
    // The offers: one arm of the CHECK, the row tied to its gym rather than the platform's.
    expect((world.made.get('public.offers') ?? []).every((m) => m.row['scope'] === 'gym' && m.row['gym_id'] !== null)).toBe(true);
  } finally {
    await session.close();
  }
});

test('any signed-up user inserts an active membership into another gym (past a trigger on a value it need not send): critical', async () => {
  const insert = `create policy "join yourself" on public.gym_members for insert to authenticated with check (user_id = auth.uid());`;
  const report = await auditMigration(GYMS + insert);
  const join = report.findings.find((f) => f.object.name === 'gym_members' && f.level === 'critical');
  expect(join?.message).toMatch(/Confirmed in the lab by effect .*public\.invoices \(0 → 1 row/);
  // The probe's own try (a pending row) showed nothing; the lab's answers it, and the message says one thing.
  expect(join?.message).not.toMatch(/inconclusive/);
  // The attack's row: in the state the helpers count, with no coach (the trigger refused its own id there).
  const attack = report.lab!.attacks.find((a) => a.table.name === 'gym_members' && a.command === 'insert');
  expect(attack?.steps[0]).toMatch(/'active'/);
});

test('without the self-join policy: no membership of another gym is confirmed', async () => {
  const report = await auditMigration(GYMS);
  expect(report.findings.filter((f) => f.object.name === 'gym_members' && (f.level === 'critical' || f.level === 'high'))).toEqual([]);
});


const CLUBS = (eventsPolicy: string) => `
create table public.clubs (id uuid primary key default gen_random_uuid(), name text not null, is_public boolean not null default true);
create table public.club_members (club_id uuid not null references public.clubs, user_id uuid not null references auth.users, role text not null default 'member' check (role in ('owner', 'member')), primary key (club_id, user_id));
create table public.club_events (id uuid primary key default gen_random_uuid(), club_id uuid not null references public.clubs, title text not null, contact_email text);
-- The platform's own staff: no tenant, a privilege; keyed by the account, or by its profile.
create table public.platform_admins (user_id uuid primary key references auth.users, since timestamptz not null default now());
create table public.profiles (id uuid primary key references auth.users on delete cascade, display_name text);
create table public.platform_operator_accounts (user_id uuid primary key references public.profiles(id) on delete cascade, role text not null default 'read_only');
alter table public.platform_operator_accounts enable row level security;
create policy "operators add operators" on public.platform_operator_accounts for insert to authenticated with check (exists (select 1 from public.platform_operator_accounts o where o.user_id = auth.uid() and o.role = 'admin'));
alter table public.clubs enable row level security;
alter table public.club_members enable row level security;
alter table public.club_events enable row level security;
alter table public.platform_admins enable row level security;
create function public.can_view_club(c uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.clubs k where k.id = c and (k.is_public or exists (select 1 from public.club_members m where m.club_id = c and m.user_id = auth.uid())))
      or exists (select 1 from public.platform_admins a where a.user_id = auth.uid()) $$;
create policy "visible clubs" on public.clubs for select to authenticated using (public.can_view_club(id));
create policy "members" on public.club_members for select to authenticated using (user_id = auth.uid());
create policy "admins list themselves" on public.platform_admins for select to authenticated using (user_id = auth.uid());
create policy "admins add admins" on public.platform_admins for insert to authenticated with check (exists (select 1 from public.platform_admins a where a.user_id = auth.uid()));
create policy "events" on public.club_events for select to authenticated using (${eventsPolicy});
`;

test("rows a stranger reads only because their owners published them (a public club's events) are the owners' choice: low, not high; the platform's staff table gets no customer of the world", async () => {
  const report = await auditMigration(CLUBS('public.can_view_club(club_id)'));
  expect(report.lab!.published).toContain('public.club_events');
  expect(report.findings.filter((f) => f.object.name === 'club_events' && (f.level === 'critical' || f.level === 'high'))).toEqual([]);
  expect(report.findings.find((f) => f.check === 'lab_cross_owner_access' && f.object.name === 'club_events')?.message).toMatch(/only rows their owners published/);
  expect(report.lab!.tables.find((t) => t.name === 'platform_admins')).toMatchObject({ rows: 0, reason: expect.stringMatching(/platform's own privileged accounts/) });
  expect(report.lab!.tables.find((t) => t.name === 'platform_operator_accounts')).toMatchObject({ rows: 0, reason: expect.stringMatching(/platform's own privileged accounts/) });
  // A helper that lets everyone in whatever the owner chose (a typo'd condition): still another tenant's rows.
  const open = await auditMigration(CLUBS('public.can_view_club(club_id)').replace('(k.is_public or exists', '(k.name is not null or exists'));
  expect(open.lab!.published ?? []).not.toContain('public.club_events');
  expect(open.findings.find((f) => f.object.name === 'club_events' && /Measured in the lab: any signed-up account .* reads 2 rows of other users/.test(f.message))?.level).toBe('high');
});

test('a JSON document a CHECK gives a shape: the keys it tests, typed as it says, two levels deep', async () => {
  const { jsonShaped } = await import('../../src/lab/world.ts');
  expect(
    JSON.parse(
      jsonShaped(
        "CHECK (((jsonb_typeof(deadline) = 'object'::text) AND (deadline ? 'writing'::text) AND (deadline ? 'reviewing'::text) AND (jsonb_typeof((deadline -> 'writing'::text)) = 'string'::text) AND ((deadline ->> 'reviewing'::text) IS NOT NULL)))",
        'deadline',
      )!,
    ),
  ).toEqual({ writing: 'x', reviewing: true });
  expect(
    JSON.parse(
      jsonShaped(
        "CHECK (((notification_preferences ? 'push_enabled'::text) AND (jsonb_typeof((notification_preferences -> 'notifications'::text)) = 'object'::text) AND ((notification_preferences -> 'notifications'::text) ? 'new_exercise'::text)))",
        'notification_preferences',
      )!,
    ),
  ).toEqual({ push_enabled: true, notifications: { new_exercise: true } });
  expect(jsonShaped("CHECK ((jsonb_typeof(tags) = 'array'::text))", 'tags')).toBe('[]');
  expect(jsonShaped('CHECK ((total > 0))', 'data')).toBeUndefined();
});

test('pglite: a table whose JSON column a CHECK shapes gets rows, and the tables behind it too', async () => {
  const session = await loadOn(
    'pglite',
    `create table public.boards (id uuid primary key default gen_random_uuid(), owner_id uuid not null references auth.users, name text not null);
create table public.tasks (id uuid primary key default gen_random_uuid(), board_id uuid not null references public.boards, owner_id uuid not null references auth.users,
  deadline jsonb not null constraint deadline_schema check (jsonb_typeof(deadline) = 'object' and deadline ? 'start' and deadline ? 'end' and jsonb_typeof(deadline -> 'end') = 'string'));
create table public.task_notes (id uuid primary key default gen_random_uuid(), task_id uuid not null references public.tasks, owner_id uuid not null references auth.users, body text not null);
alter table public.boards enable row level security; alter table public.tasks enable row level security; alter table public.task_notes enable row level security;
create policy own_boards on public.boards for all to authenticated using (owner_id = auth.uid());
create policy own_tasks on public.tasks for all to authenticated using (owner_id = auth.uid());
create policy own_notes on public.task_notes for all to authenticated using (owner_id = auth.uid());`,
  );
  try {
    const snapshot = await introspect(session, { exposedSchemas: ['public'] });
    const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
    const tasks = world.made.get('public.tasks') ?? [];
    expect(tasks.length).toBeGreaterThan(0);
    expect(tasks[0]!.row['deadline']).toMatchObject({ start: true, end: expect.stringMatching(/^alice-tasks-deadline-/) });
    expect((world.made.get('public.task_notes') ?? []).length).toBeGreaterThan(0);
  } finally {
    await session.close();
  }
});

test('pglite: a document a trigger validates (unknown keys refused) is made again as an empty object', async () => {
  const session = await loadOn(
    'pglite',
    `create table public.audit_logs (id uuid primary key default gen_random_uuid(), actor_id uuid not null references auth.users, action text not null, metadata jsonb not null);
create function public.check_metadata() returns trigger language plpgsql as $$
begin
  if exists (select 1 from jsonb_object_keys(new.metadata) k where k not in ('gym_id', 'note')) then
    raise exception 'unknown metadata key' using errcode = 'invalid_parameter_value';
  end if;
  return new;
end $$;
create trigger audit_logs_metadata before insert on public.audit_logs for each row execute function public.check_metadata();
alter table public.audit_logs enable row level security;
create policy own_logs on public.audit_logs for select to authenticated using (actor_id = auth.uid());`,
  );
  try {
    const snapshot = await introspect(session, { exposedSchemas: ['public'] });
    const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
    const logs = world.made.get('public.audit_logs') ?? [];
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.every((m) => JSON.stringify(m.row['metadata']) === '{}')).toBe(true);
  } finally {
    await session.close();
  }
});
