/**
 * The attack search runs on a budget of attempts. A tenant's membership is tried before the other
 * tables, whatever their names: a self-join is the takeover, and with a schema of many tables the
 * budget may run out before the last one (here six notes tables sort before \`members\`). And each
 * attacker's memberships come before any attacker's other searches.
 */
import { expect, test } from 'vitest';
import { introspect } from '../../src/introspect/index.ts';
import { searchAttacks } from '../../src/lab/attack.ts';
import { buildWorld } from '../../src/lab/world.ts';
import { isSystemSchema } from '../../src/model/schemas.ts';
import { loadPglite } from '../support/audit.ts';

const SQL = `
create table public.clubs (id uuid primary key default gen_random_uuid(), name text not null);
create table public.members (club_id uuid not null references public.clubs on delete cascade, user_id uuid not null references auth.users on delete cascade,
  role text not null check (role in ('owner', 'member')), primary key (club_id, user_id));
create function public.in_club(c uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.members m where m.club_id = c and m.user_id = auth.uid()) $$;
alter table public.clubs enable row level security;
alter table public.members enable row level security;
create policy "read club" on public.clubs for select to authenticated using (public.in_club(id));
create policy "read members" on public.members for select to authenticated using (public.in_club(club_id));
create policy "join" on public.members for insert to authenticated with check (user_id = (select auth.uid()));
${['a', 'b', 'c', 'd', 'e', 'f'].map((x) => `create table public.${x}_notes (id uuid primary key default gen_random_uuid(), club_id uuid not null references public.clubs, author uuid not null default auth.uid() references auth.users, body text not null);
alter table public.${x}_notes enable row level security;
create policy "read" on public.${x}_notes for select to authenticated using (public.in_club(club_id));
create policy "write" on public.${x}_notes for insert to authenticated with check (public.in_club(club_id));`).join('\n')}
`;

test('a budget that runs out before the last table still tries the membership: the outsider\'s self-join is found', async () => {
  const session = await loadPglite(SQL);
  try {
    const snapshot = await introspect(session, { exposedSchemas: ['public'] });
    const tables = snapshot.relations.filter((r) => r.kind === 'table' && r.extension === null && !isSystemSchema(r.schema));
    expect(tables.map((t) => t.name).indexOf('members')).toBe(tables.length - 1);
    const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
    const search = await searchAttacks(session, snapshot, world, tables, { attempts: 40, ms: 120_000 });
    expect(search.stopped).toMatch(/budget of 40 attempts reached/);
    // In two rounds: each attacker's memberships first, so the member of another club tries its self-join too before the budget runs out.
    expect(search.attacks.map((a) => [a.attacker, a.command, a.table.name, a.column])).toEqual([
      ['outsider', 'insert', 'members', 'club_id'],
      ['bob', 'insert', 'members', 'club_id'],
    ]);
  } finally {
    await session.close();
  }
}, 120_000);
