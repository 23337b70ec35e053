/**
 * A gate the caller satisfies itself: any account may create an organisation (and a trigger makes
 * it the owner), so "the caller owns some organisation" is no barrier. The attack search founds a
 * tenant as the outsider and measures what it reads afterwards.
 */
import { describe, expect, test } from 'vitest';
import { auditMigration } from '../support/cli.ts';

const SCHEMA = (projectsRead: string) => `
create table public.organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  created_by uuid not null default auth.uid() references auth.users
);
create table public.org_members (
  org_id uuid not null references public.organizations on delete cascade,
  user_id uuid not null references auth.users on delete cascade,
  role text not null check (role in ('owner', 'admin', 'member')),
  primary key (org_id, user_id)
);
create table public.projects (id uuid primary key default gen_random_uuid(), org_id uuid not null references public.organizations on delete cascade, title text not null);
create function public.is_member(o uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.org_members m where m.org_id = o and m.user_id = auth.uid()) $$;
create function public.owns_an_org() returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.org_members m where m.user_id = auth.uid() and m.role = 'owner') $$;
-- The creator becomes the owner of the organisation it creates.
create function public.add_creator() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  insert into public.org_members (org_id, user_id, role) values (new.id, new.created_by, 'owner');
  return new;
end $$;
create trigger add_creator after insert on public.organizations for each row execute function public.add_creator();
alter table public.organizations enable row level security;
alter table public.org_members enable row level security;
alter table public.projects enable row level security;
create policy "create an organisation" on public.organizations for insert to authenticated with check (created_by = (select auth.uid()));
create policy "members read their organisation" on public.organizations for select to authenticated using (public.is_member(id));
create policy "members read memberships" on public.org_members for select to authenticated using (public.is_member(org_id));
create policy "read projects" on public.projects for select to authenticated using (${projectsRead});
`;

describe('the founder', () => {
  test('"owner of some organisation" reads every project: any account creates one, then reads the other tenants\' projects', async () => {
    const report = await auditMigration(SCHEMA('public.owns_an_org()'));
    const attack = report.lab!.attacks.find((a) => a.column === '(a tenant of its own)');
    expect(attack).toMatchObject({ attacker: 'outsider', table: { schema: 'public', name: 'organizations' }, command: 'insert', gained: { 'public.projects': { before: 0, after: 2 } } });
    const finding = report.findings.find((f) => f.check === 'lab_confirmed_escalation' && f.object.name === 'organizations');
    expect(finding?.level).toBe('critical');
    expect(finding?.message).toMatch(/^Confirmed in the lab: any signed-up account \(one that owns nothing\) creates a tenant of its own in public\.organizations \(as any new customer can\), and then reads public\.projects \(0 → 2 rows of another owner\) it could not read before: /);
  });

  test('"member of this organisation": the founder reads its own tenant only, nothing is found', async () => {
    const report = await auditMigration(SCHEMA('public.is_member(org_id)'));
    expect(report.lab!.attacks.filter((a) => a.column === '(a tenant of its own)')).toEqual([]);
    expect(report.findings.filter((f) => f.check === 'lab_confirmed_escalation')).toEqual([]);
  });
});

/** Garden-Tracker's shape: an owner adds members to its household, and members read each other's journals. */
const HOUSEHOLD = (memberInsert: string) => `
create table public.households (id uuid primary key default gen_random_uuid(), name text not null, owner_id uuid not null default auth.uid() references auth.users);
create table public.household_members (id uuid primary key default gen_random_uuid(), household_id uuid not null references public.households on delete cascade,
  user_id uuid not null references auth.users on delete cascade, role text not null default 'member' check (role in ('owner', 'member')), unique (household_id, user_id));
create table public.journal (id uuid primary key default gen_random_uuid(), user_id uuid not null default auth.uid() references auth.users on delete cascade, note text not null);
create function public.my_housemates() returns setof uuid language sql stable security definer set search_path = '' as $$
  select m2.user_id from public.household_members m1 join public.household_members m2 on m2.household_id = m1.household_id where m1.user_id = auth.uid() $$;
create function public.owns_household(h uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.households where id = h and owner_id = auth.uid()) $$;
alter table public.households enable row level security;
alter table public.household_members enable row level security;
alter table public.journal enable row level security;
create policy "create own" on public.households for insert to authenticated with check (owner_id = auth.uid());
create policy "read mine" on public.households for select to authenticated using (owner_id = auth.uid() or id in (select m.household_id from public.household_members m where m.user_id = auth.uid()));
create policy "owners add members" on public.household_members for insert to authenticated with check (${memberInsert});
create policy "read members" on public.household_members for select to authenticated using (user_id = auth.uid() or public.owns_household(household_id));
create policy "own journal" on public.journal for all to authenticated using (user_id = auth.uid()) with check (user_id = auth.uid());
create policy "housemates read" on public.journal for select to authenticated using (user_id in (select public.my_housemates()));
`;

describe('a founder adds someone to its new tenant, unasked', () => {
  test('the owner may add any user: any account creates a household, adds the victim and reads its journal (critical)', async () => {
    const report = await auditMigration(HOUSEHOLD('public.owns_household(household_id)'));
    const pulled = report.lab!.attacks.filter((a) => a.pulledIn);
    expect(pulled.map((a) => [a.attacker, a.table.name, a.column, Object.keys(a.gained)])).toEqual([['outsider', 'household_members', 'user_id', expect.arrayContaining(['public.journal'])]]);
    const finding = report.findings.find((f) => /adds another user to it in public\.household_members \(user_id = the victim's id, with no invitation the victim accepted\)/.test(f.message));
    expect(finding?.level).toBe('critical');
  });

  test('an owner may add only itself (others join with a code): nothing is pulled in', async () => {
    const report = await auditMigration(HOUSEHOLD('user_id = auth.uid() and public.owns_household(household_id)'));
    expect(report.lab!.attacks.filter((a) => a.pulledIn)).toEqual([]);
  });
});
