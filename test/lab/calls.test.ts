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
alter table public.organizations add column visits integer not null default 0;
-- Definer functions that act on the organisation their argument names, whoever calls.
create function public.drop_org(org uuid) returns void language sql security definer set search_path = '' as $$
  delete from public.org_members where org_id = org $$;
create function public.bump(organization_id uuid) returns void language sql security definer set search_path = '' as $$
  update public.organizations set visits = visits + 1 where id = organization_id $$;
create function public.member_emails(p_org uuid) returns setof text language sql stable security definer set search_path = '' as $$
  select u.email::text from auth.users u join public.org_members m on m.user_id = u.id where m.org_id = p_org $$;
`;

test.each(testEngines())('%s: calls as each persona, what each changed, refusals with their SQLSTATE', async (engine) => {
  const session = await loadOn(engine, SCHEMA);
  try {
    const snapshot = await introspect(session, { exposedSchemas: ['public'] });
    const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
    const out = await callFunctions(session, snapshot, world, { calls: 100, ms: 600_000 });
    // rename_all is executable by no API role: not called.
    expect([...new Set(out.rows.map((r) => r.name))]).toEqual(['add_member', 'bump', 'drop_org', 'is_member', 'member_emails']);
    expect([...new Set(out.rows.map((r) => r.persona))]).toEqual(['anon', 'outsider', 'alice', 't1_admin', 't1_member']);
    const outsider = out.rows.find((r) => r.name === 'add_member' && r.persona === 'outsider')!.calls;
    expect(outsider).toEqual([
      // Its own values: it has no organisation, and none it can name exists.
      { args: 'own', result: 'error', sqlstate: '23503', changed: {} },
      // The row it inserted points at bob's organisation (tenant 2): the outsider joined it.
      { args: 'victim_rows', result: 'ok', changed: { 'public.org_members': { inserted: 1, updated: 0, deleted: 0 } }, joined: ['public.org_members'] },
      // bob is a member already: the unique key refuses, nothing changed.
      { args: 'victim', result: 'error', sqlstate: '23505', changed: {} },
      { args: 'nulls', result: 'error', sqlstate: '23502', changed: {} },
    ]);
    const by = (name: string, persona: string) => out.rows.find((r) => r.name === name && r.persona === persona)!.calls.find((c) => c.args === 'victim_rows');
    // Whose rows: bob's organisation's three memberships (bob, t2_admin, t2_member), told apart by address.
    expect(by('drop_org', 'outsider')).toEqual({ args: 'victim_rows', result: 'ok', changed: { 'public.org_members': { inserted: 0, updated: 0, deleted: 3 } }, others: { 'public.org_members': { updated: 0, deleted: 3 } } });
    // A counter moved on bob's organisation: the column that changed, numbers only.
    expect(by('bump', 'anon')).toEqual({
      args: 'victim_rows',
      result: 'ok',
      changed: { 'public.organizations': { inserted: 0, updated: 1, deleted: 0 } },
      others: { 'public.organizations': { updated: 1, deleted: 0, columns: ['visits'], countersOnly: true } },
    });
    // bob's address came back, which anon cannot read from auth.users.
    expect(by('member_emails', 'anon')).toEqual({ args: 'victim_rows', result: 'ok', changed: {}, leaked: ['auth.users.email'] });
    // alice's own organisation's memberships are her tenant's: not someone else's rows for her.
    const own = out.rows.find((r) => r.name === 'drop_org' && r.persona === 'alice')!.calls.find((c) => c.args === 'own');
    expect(own).toEqual({ args: 'own', result: 'ok', changed: { 'public.org_members': { inserted: 0, updated: 0, deleted: 3 } } });
    // Everything was rolled back: the world's memberships only.
    const [row] = await session.query<{ n: number }>('select count(*)::int as n from public.org_members');
    expect(row!.n).toBe(world.accounts.filter((a) => a.name !== 'outsider').length);
  } finally {
    await session.close();
  }
});
