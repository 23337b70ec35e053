/**
 * The walk of what a statement can set off (src/introspect/effects.ts), on real catalogs: every path
 * a rollback cannot undo is found whatever leads to it (trigger, default, rule, domain, policy,
 * foreign-key action, view, helper depth), and what stays inside the transaction is not refused.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { effectGate, readEffectCatalog, type EffectGate } from '../../src/introspect/effects.ts';
import { introspect } from '../../src/introspect/index.ts';
import type { Session } from '../../src/introspect/session.ts';
import type { Relation, Snapshot } from '../../src/model/snapshot.ts';
import { loadOn, testEngines } from '../support/audit.ts';

const SQL = `
create schema net;
-- A stand-in with pg_net's name: its requests leave once the transaction commits, elsewhere at once.
create function net.http_post(url text, body jsonb default '{}') returns bigint language plpgsql as $$ begin return 1; end $$;
create function public.notify_hook() returns trigger language plpgsql as $$
begin
  perform net.http_post('http://127.0.0.1:9/hook', to_jsonb(new));
  return new;
end $$;
create function public.reset_counter() returns trigger language plpgsql as $$
begin
  perform setval('public.counter', 1);
  return null;
end $$;
create sequence public.counter;
create function public.take_lock() returns text language sql as $$ select pg_advisory_lock(42)::text $$;
create function public.lock_ok(v text) returns boolean language sql as $$ select pg_advisory_lock(7) is not null $$;
create function public.export_rows() returns trigger language plpgsql as $$
begin
  copy (select 1) to program 'true';
  return new;
end $$;

create table public.locked_default (id uuid primary key default extensions.uuid_generate_v4(), note text default public.take_lock());
create table public.copy_out (id bigint primary key);
create trigger copy_out_export before insert on public.copy_out for each row execute function public.export_rows();

create table public.hooked (id bigint primary key, body text);
create trigger hooked_notify after insert on public.hooked for each row execute function public.notify_hook();
create table public.ruled (id bigint primary key, body text);
create rule ruled_log as on insert to public.ruled do also insert into public.hooked (id, body) values (new.id, new.body);

create table public.parents (id bigint primary key, name text);
create table public.children (id bigint primary key, parent_id bigint references public.parents on delete cascade on update cascade);
create trigger children_reset after delete or update on public.children for each row execute function public.reset_counter();

create table public.base_rows (id bigint primary key, body text);
create trigger base_rows_notify after update on public.base_rows for each row execute function public.notify_hook();
create view public.base_view as select id, body from public.base_rows;

create domain public.checked_text as text check (public.lock_ok(value));
create table public.domained (id bigint primary key, v public.checked_text);

create table public.guarded (id bigint primary key, owner uuid);
alter table public.guarded enable row level security;
create policy "locks on read" on public.guarded for select using (public.lock_ok(owner::text));

-- Contained: uuid defaults from an extension, a trigger that only sets a column, a policy on auth.uid().
create function public.touch() returns trigger language plpgsql as $$ begin new.updated_at := now(); return new; end $$;
create table public.safe (id uuid primary key default gen_random_uuid(), code uuid default extensions.uuid_generate_v4(), owner uuid, updated_at timestamptz);
create trigger safe_touch before insert or update on public.safe for each row execute function public.touch();
alter table public.safe enable row level security;
create policy "own rows" on public.safe for all using (owner = (select auth.uid()));
`;

describe.each(testEngines())('what a statement can set off (%s)', (engine) => {
  let session: Session;
  let snapshot: Snapshot;
  let gate: EffectGate;
  beforeAll(async () => {
    session = await loadOn(engine, SQL);
    snapshot = await introspect(session, { exposedSchemas: ['public'] });
    gate = effectGate(snapshot, await readEffectCatalog(session));
  });
  afterAll(async () => {
    await session?.close();
  });
  const rel = (name: string): Relation => snapshot.relations.find((r) => r.schema === 'public' && r.name === name)!;

  test('a trigger that sends an HTTP request, through pg_net’s schema', () => {
    expect(gate.effects(rel('hooked'), 'insert').outside).toEqual([
      'INSERT public.hooked → trigger hooked_notify on public.hooked → public.notify_hook() → net.http_post() reaches an HTTP request (pg_net)',
    ]);
    // The trigger fires on INSERT only.
    expect(gate.effects(rel('hooked'), 'update').outside).toEqual([]);
  });

  test('a rule that writes a table whose trigger calls out', () => {
    expect(gate.effects(rel('ruled'), 'insert').outside[0]).toBe(
      'INSERT public.ruled → rule ruled_log on public.ruled → INSERT public.hooked → trigger hooked_notify on public.hooked → public.notify_hook() → net.http_post() reaches an HTTP request (pg_net)',
    );
  });

  test('a default that takes a session advisory lock, only when the INSERT leaves the column to it', () => {
    expect(gate.effects(rel('locked_default'), 'insert').outside).toEqual([
      'INSERT public.locked_default → default of note → public.take_lock() calls pg_advisory_lock(), which takes a session advisory lock (it outlives the transaction)',
    ]);
    expect(gate.effects(rel('locked_default'), 'insert', new Set(['note'])).outside).toEqual([]);
    expect(gate.effects(rel('locked_default'), 'update').outside).toEqual([]);
  });

  test('COPY to a program in a trigger', () => {
    expect(gate.effects(rel('copy_out'), 'insert').outside).toEqual(['INSERT public.copy_out → trigger copy_out_export on public.copy_out → public.export_rows() runs COPY to a program or a server file']);
  });

  test('a foreign-key action reaches the child’s trigger: DELETE always, UPDATE only when the key changes', () => {
    expect(gate.effects(rel('parents'), 'delete').outside).toEqual([
      'DELETE public.parents → ON DELETE CASCADE public.children → trigger children_reset on public.children → public.reset_counter() calls setval(), which sets a sequence (not undone by a rollback)',
    ]);
    expect(gate.effects(rel('parents'), 'update', new Set(['id'])).outside).toHaveLength(1);
    expect(gate.effects(rel('parents'), 'update', new Set(['name'])).outside).toEqual([]);
    expect(gate.effects(rel('parents'), 'delete').triggers).toEqual(['public.children.children_reset']);
  });

  test('a write through an auto-updatable view reaches its base table’s trigger', () => {
    expect(gate.effects(rel('base_view'), 'update').outside[0]).toMatch(/^UPDATE public\.base_view → public\.base_rows → trigger base_rows_notify on public\.base_rows → public\.notify_hook\(\) → net\.http_post\(\)/);
  });

  test('a domain check and a SELECT policy are walked too', () => {
    expect(gate.effects(rel('domained'), 'insert').outside[0]).toMatch(/^INSERT public\.domained → the domain of v → public\.lock_ok\(\) calls pg_advisory_lock\(\)/);
    expect(gate.effects(rel('guarded'), 'select').outside[0]).toMatch(/^SELECT public\.guarded → policy "locks on read" → public\.lock_ok\(\) calls pg_advisory_lock\(\)/);
  });

  test('what stays inside the transaction is not refused: extension uuids, a trigger that sets a column, auth.uid()', () => {
    for (const command of ['select', 'insert', 'update', 'delete'] as const) expect(gate.effects(rel('safe'), command).outside).toEqual([]);
    expect(gate.effects(rel('safe'), 'insert').triggers).toEqual(['public.safe.safe_touch']);
  });
});
