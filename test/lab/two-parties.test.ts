/**
 * Relations between two accounts (a follow, a friendship) that another table's policies trust:
 * - the world makes them although a CHECK keeps the two accounts apart (`follower_id <> followed_id`):
 *   the second key names another account;
 * - the victim's rows are attacked in an audience a relation opens (`visibility = 'followers'`), not
 *   as published to everyone, which would hide what forging the relation gains;
 * - an attacker's row naming the victim as the other party, in the state the helper counts
 *   (`status = 'accepted'`), is a confirmed escalation; where only the followed user may accept, none.
 */
import { expect, test } from 'vitest';
import { introspect } from '../../src/introspect/index.ts';
import { buildWorld } from '../../src/lab/world.ts';
import { isSystemSchema } from '../../src/model/schemas.ts';
import { auditMigration } from '../support/cli.ts';
import { loadOn } from '../support/audit.ts';

const FOLLOWS = (insertCheck: string) => `
create type public.audience as enum ('public', 'followers', 'private');
create type public.follow_status as enum ('pending', 'accepted', 'blocked');
create table public.profiles (id uuid primary key references auth.users on delete cascade, handle text not null);
create table public.follows (
  id uuid primary key default gen_random_uuid(),
  follower_id uuid not null references public.profiles (id) on delete cascade,
  followed_id uuid not null references public.profiles (id) on delete cascade,
  status public.follow_status not null default 'pending',
  unique (follower_id, followed_id),
  check (follower_id <> followed_id)
);
create table public.posts (
  id uuid primary key default gen_random_uuid(),
  author_id uuid not null references public.profiles (id) on delete cascade,
  body text not null,
  audience public.audience not null default 'public'
);
create function public.can_see(_author uuid, _audience public.audience) returns boolean
language sql stable security definer set search_path = public as $$
  select _author = auth.uid() or _audience = 'public'
    or (_audience = 'followers' and exists (select 1 from public.follows f where f.follower_id = auth.uid() and f.followed_id = _author and f.status = 'accepted'))
$$;
alter table public.profiles enable row level security;
alter table public.follows enable row level security;
alter table public.posts enable row level security;
create policy profiles_read on public.profiles for select to authenticated using (true);
create policy profiles_own on public.profiles for insert to authenticated with check (id = auth.uid());
create policy follows_read on public.follows for select to authenticated using (follower_id = auth.uid() or followed_id = auth.uid());
create policy follows_insert on public.follows for insert to authenticated with check (${insertCheck});
create policy follows_accept on public.follows for update to authenticated using (followed_id = auth.uid()) with check (followed_id = auth.uid());
create policy posts_read on public.posts for select to authenticated using (public.can_see(author_id, audience));
create policy posts_write on public.posts for insert to authenticated with check (author_id = auth.uid());
`;

test('pglite: the world makes a follow between two accounts although a CHECK keeps them apart', async () => {
  const session = await loadOn('pglite', FOLLOWS(`follower_id = auth.uid()`));
  try {
    const snapshot = await introspect(session, { exposedSchemas: ['public'] });
    const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
    const follows = world.made.get('public.follows') ?? [];
    expect(follows.length).toBeGreaterThan(0);
    for (const m of follows) {
      expect(m.row['follower_id']).toBe(m.owner.id);
      expect(m.row['followed_id']).not.toBe(m.owner.id);
    }
  } finally {
    await session.close();
  }
});

test('a follower that writes its follow as accepted reads the followed user\'s followers-only posts: confirmed', async () => {
  const report = await auditMigration(FOLLOWS(`follower_id = auth.uid()`));
  const attack = report.lab!.attacks.find((a) => a.table.name === 'follows' && a.command === 'insert');
  expect(attack?.column).toBe('followed_id');
  expect(attack?.party).toEqual({ status: 'accepted' });
  // Before: the other owner's public post; after, the victim's post for its followers too.
  expect(attack?.gained['public.posts']).toEqual({ before: 1, after: 2 });
  // Reported once, at critical: by the lab's own finding, or by the policy's that the lab confirms.
  const finding = report.findings.find((f) => f.object.name === 'follows' && f.level === 'critical' && /Confirmed in the lab/.test(f.message));
  expect(finding?.message).toMatch(/naming another user as followed_id, with status = 'accepted', as if that user had agreed, and then reads public\.posts \(1 → 2 rows/);
});

test('where a follow starts pending and only the followed user accepts it, no forged follow is confirmed', async () => {
  const report = await auditMigration(FOLLOWS(`follower_id = auth.uid() and status = 'pending'`));
  expect(report.lab!.attacks.filter((a) => a.table.name === 'follows')).toEqual([]);
  expect(report.findings.filter((f) => f.check === 'lab_confirmed_escalation' && f.object.name === 'follows')).toEqual([]);
});

test('a forged follow is high, not critical: one user\'s rows shared with its followers, not a tenant\'s', async () => {
  // The two keys straight to auth.users (no profile table): the policy's own finding carries the lab's confirmation and its level.
  const report = await auditMigration(FOLLOWS(`follower_id = auth.uid()`).replaceAll('references public.profiles (id)', 'references auth.users (id)'));
  const confirmed = report.findings.filter((f) => /naming another user as followed_id, with status = 'accepted'/.test(f.message));
  expect(confirmed.length).toBeGreaterThan(0);
  expect(confirmed.map((f) => f.level)).toEqual(confirmed.map(() => 'high'));
});
