/**
 * A definer function that takes its ids inside a JSON payload is called with payloads the lab
 * builds from the body: the keys it reads (directly, through variables, inside arrays it loops
 * over), each filled as an argument of its name would be. A member's own payload with one id of
 * the victim's (another team's item inside its own delivery) is what confirms the hole.
 */
import { expect, test } from 'vitest';
import { introspect } from '../../src/introspect/index.ts';
import { callFunctions } from '../../src/lab/calls.ts';
import { jsonLeaves, jsonShape, jsonValue } from '../../src/lab/payload.ts';
import { buildWorld } from '../../src/lab/world.ts';
import { isSystemSchema } from '../../src/model/schemas.ts';
import { loadOn } from '../support/audit.ts';

test('the keys a body reads from a payload: casts, variables, loops, record sets, optional keys', () => {
  const body = `
declare
  v_team uuid;
  v_lines jsonb;
  v_line jsonb;
  v_qty numeric(12,2);
begin
  v_team := (p_data->>'team_id')::uuid;
  v_lines := p_data->'lines';
  if jsonb_typeof(v_lines) <> 'array' then raise exception 'lines'; end if;
  for v_line in select * from jsonb_array_elements(v_lines) loop
    v_qty := coalesce(nullif(v_line->>'qty', '')::numeric, 0);
    update t set n = n + v_qty where id = nullif(v_line->>'item_id', '')::uuid;
  end loop;
  insert into notes (body, kind) select nullif(p_data->>'note', ''), p_data->'meta'->>'kind';
  insert into x select r.sku, r.count from jsonb_to_recordset(p_data->'extras') as r(sku text, count integer);
  perform 1 from jsonb_array_elements(p_data->'tags') as tag where tag.value->>'label' = 'x';
end`;
  const shape = jsonShape(body, 'p_data')!;
  expect(jsonLeaves(shape)).toEqual([
    { path: 'team_id', key: 'team_id', type: 'uuid' },
    { path: 'lines[].qty', key: 'qty', type: 'numeric', optional: true },
    { path: 'lines[].item_id', key: 'item_id', type: 'uuid', optional: true },
    { path: 'note', key: 'note', type: null, optional: true },
    { path: 'meta.kind', key: 'kind', type: null },
    { path: 'extras[].sku', key: 'sku', type: 'text' },
    { path: 'extras[].count', key: 'count', type: 'integer' },
    { path: 'tags[].label', key: 'label', type: null },
  ]);
  // Numbers as JSON numbers where the body casts to one, arrays one element long, null leaves left out.
  expect(JSON.parse(jsonValue(shape, (l) => (l.key === 'note' ? null : l.type === 'numeric' || l.type === 'integer' ? '3' : l.key)))).toEqual({
    team_id: 'team_id',
    lines: [{ qty: 3, item_id: 'item_id' }],
    meta: { kind: 'kind' },
    extras: [{ sku: 'sku', count: 3 }],
    tags: [{ label: 'label' }],
  });
  // A body that reads no key of the argument, or no body: no payload to build.
  expect(jsonShape('begin insert into logs (data) values (p_data); end', 'p_data')).toBeUndefined();
  expect(jsonShape(null, 'p_data')).toBeUndefined();
  // Another argument's keys are not this one's.
  expect(jsonShape(`select (p_other->>'id')::uuid`, 'p_data')).toBeUndefined();
  // The payload itself looped over: an array of objects, one element long.
  const items = jsonShape(`for v_item in select * from jsonb_array_elements(p_items) loop
    perform 1 from files where r2_key = v_item->>'r2_key' and size = (v_item->>'size_bytes')::bigint; end loop;
    v_kind := case when jsonb_array_length(p_items) > 1 then 'carousel' else 'single' end;`, 'p_items')!;
  expect(jsonLeaves(items).map((l) => l.path)).toEqual(['[].r2_key', '[].size_bytes']);
  expect(JSON.parse(jsonValue(items, (l) => (l.type === 'bigint' ? '7' : l.key)))).toEqual([{ r2_key: 'r2_key', size_bytes: 7 }]);
});

const SCHEMA = (itemCheck: string) => `
create table public.teams (id uuid primary key default gen_random_uuid(), name text not null);
create table public.team_members (team_id uuid not null references public.teams, user_id uuid not null references auth.users,
  role text not null check (role in ('owner', 'member')), primary key (team_id, user_id));
create table public.items (id uuid primary key default gen_random_uuid(), team_id uuid not null references public.teams, name text not null,
  stock numeric not null default 0, last_cost numeric);
create table public.deliveries (id uuid primary key default gen_random_uuid(), team_id uuid not null references public.teams, reference text);
alter table public.teams enable row level security;
alter table public.team_members enable row level security;
alter table public.items enable row level security;
alter table public.deliveries enable row level security;
create function public.is_member(t uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.team_members m where m.team_id = t and m.user_id = auth.uid()) $$;
create policy items_team on public.items for all to authenticated using (public.is_member(team_id));
create policy deliveries_team on public.deliveries for all to authenticated using (public.is_member(team_id));
create policy members_team on public.team_members for select to authenticated using (public.is_member(team_id));
-- Books a delivery into the caller's team: checks the team, and ${itemCheck ? 'each item' : 'not the items'}.
create function public.receive_delivery(p_payload jsonb) returns uuid language plpgsql security definer set search_path = '' as $$
declare
  v_team uuid;
  v_line jsonb;
  v_item uuid;
  v_id uuid;
begin
  v_team := (p_payload->>'team_id')::uuid;
  if not public.is_member(v_team) then raise exception 'not a member'; end if;
  insert into public.deliveries (team_id, reference) values (v_team, nullif(p_payload->>'reference', '')) returning id into v_id;
  for v_line in select * from jsonb_array_elements(p_payload->'lines') loop
    v_item := (v_line->>'item_id')::uuid;
    ${itemCheck}
    update public.items set stock = stock + coalesce((v_line->>'quantity')::numeric, 0), last_cost = (v_line->>'unit_cost')::numeric where id = v_item;
  end loop;
  return v_id;
end $$;
`;

test('pglite: another team’s item inside a member’s own payload is confirmed; refused where the body checks each item', async () => {
  for (const [itemCheck, gained] of [
    ['', true],
    [`if not exists (select 1 from public.items i where i.id = v_item and i.team_id = v_team) then raise exception 'not your item'; end if;`, false],
  ] as const) {
    const session = await loadOn('pglite', SCHEMA(itemCheck));
    try {
      const snapshot = await introspect(session, { exposedSchemas: ['public'] });
      const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
      const out = await callFunctions(session, snapshot, world, { calls: 400, ms: 600_000 });
      const calls = out.rows.find((r) => r.name === 'receive_delivery' && r.persona === 'alice')!.calls;
      // Her own payload: her team, her item; it books the delivery and moves her own stock.
      expect(calls.find((c) => c.args === 'own')).toMatchObject({ result: 'ok', changed: { 'public.deliveries': { inserted: 1 }, 'public.items': { updated: 1 } } });
      expect(calls.find((c) => c.args === 'own')!.others).toBeUndefined();
      // bob's team in her payload: refused by the member check.
      expect(calls.find((c) => c.victimArgs?.join() === 'p_payload.team_id')).toMatchObject({ result: 'error', sqlstate: 'P0001' });
      // bob's item inside her own delivery: his stock and cost change, unless the body checks the item.
      const mixed = calls.find((c) => c.victimArgs?.join() === 'p_payload.lines[].item_id')!;
      if (gained) expect(mixed).toMatchObject({ result: 'ok', others: { 'public.items': { updated: 1, deleted: 0, columns: ['last_cost', 'stock'] } } });
      else expect(mixed).toMatchObject({ result: 'error', sqlstate: 'P0001', changed: {} });
    } finally {
      await session.close();
    }
  }
});
