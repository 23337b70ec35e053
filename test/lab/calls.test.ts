/**
 * Persona × function counts what a call changed from the transaction's own statistics
 * (pg_stat_xact_user_tables, read before and after the call, in a savepoint rolled back): the same
 * numbers on PGlite (PG 18), PostgreSQL 15 and 17.
 */
import { expect, test } from 'vitest';
import { introspect } from '../../src/introspect/index.ts';
import { callFunctions } from '../../src/lab/calls.ts';
import { buildWorld } from '../../src/lab/world.ts';
import { isSystemSchema } from '../../src/model/schemas.ts';
import { loadOn, testEngines } from '../support/audit.ts';

const SCHEMA = `
create table public.organizations (id uuid primary key default gen_random_uuid(), name text not null);
create table public.org_members (org_id uuid not null references public.organizations, user_id uuid not null references auth.users,
  role text not null check (role in ('owner', 'admin', 'member')), primary key (org_id, user_id));
create function public.is_member(o uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.org_members m where m.org_id = o and m.user_id = auth.uid()) $$;
create function public.add_member(org uuid, uid uuid, role text) returns void language sql security definer set search_path = '' as $$
  insert into public.org_members (org_id, user_id, role) values (org, uid, role) $$;
create function public.rename_all(n text) returns void language sql security definer set search_path = '' as $$
  update public.organizations set name = coalesce(n, name) $$;
revoke execute on function public.rename_all(text) from public, anon, authenticated;
`;

test.each(testEngines())('%s: calls as each persona, what each changed, refusals with their SQLSTATE', async (engine) => {
  const session = await loadOn(engine, SCHEMA);
  try {
    const snapshot = await introspect(session, { exposedSchemas: ['public'] });
    const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
    const out = await callFunctions(session, snapshot, world, { calls: 100, ms: 600_000 });
    // rename_all is executable by no API role: not called.
    expect([...new Set(out.rows.map((r) => r.name))]).toEqual(['add_member', 'is_member']);
    expect([...new Set(out.rows.map((r) => r.persona))]).toEqual(['anon', 'outsider', 'alice', 't1_admin', 't1_member']);
    const outsider = out.rows.find((r) => r.name === 'add_member' && r.persona === 'outsider')!.calls;
    expect(outsider).toEqual([
      { args: 'victim_rows', result: 'ok', changed: { 'public.org_members': { inserted: 1, updated: 0, deleted: 0 } } },
      // bob is a member already: the unique key refuses, nothing changed.
      { args: 'victim', result: 'error', sqlstate: '23505', changed: {} },
      { args: 'nulls', result: 'error', sqlstate: '23502', changed: {} },
    ]);
    // Everything was rolled back: the world's memberships only.
    const [row] = await session.query<{ n: number }>('select count(*)::int as n from public.org_members');
    expect(row!.n).toBe(world.accounts.filter((a) => a.name !== 'outsider').length);
  } finally {
    await session.close();
  }
});
