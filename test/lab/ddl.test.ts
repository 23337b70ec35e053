/**
 * DDL generated from a live catalog (src/introspect/ddl-catalog.ts + src/lab/ddl.ts) rebuilds the
 * schema in the lab's embedded copy: every statement loads, and the copy's catalog reads back as
 * the live one, hostile identifiers included.
 */
import { describe, expect, test } from 'vitest';
import { readDdlCatalog } from '../../src/introspect/ddl-catalog.ts';
import { introspect } from '../../src/introspect/index.ts';
import { startEmbedded } from '../../src/introspect/targets/embedded.ts';
import { renderDdl } from '../../src/lab/ddl.ts';
import { isSystemSchema } from '../../src/model/schemas.ts';
import type { Snapshot } from '../../src/model/snapshot.ts';
import { realEnginesOrFail } from '../harness/db.ts';
import { loadOn, pgliteBase } from '../support/audit.ts';

const HOSTILE = `
create schema "my.schema";
create type "my.schema"."Mood ""x""" as enum ('ok', 'it''s bad', 'Mixed Case');
create domain "my.schema"."short name" as text default 'n/a' not null constraint "len ok" check (length(value) < 40);
create type public.pair as (a int, "b b" text);
create sequence "my.schema"."Counter Seq" start with 7 increment by 3;
create table "my.schema"."Team ""Alpha""" (
  "Id" bigint generated always as identity primary key,
  "Display Name" "my.schema"."short name",
  mood "my.schema"."Mood ""x""" not null default 'ok',
  n int not null default nextval('"my.schema"."Counter Seq"'),
  doubled int generated always as (n * 2) stored,
  "owner id" uuid references auth.users,
  unique ("Display Name"),
  constraint "n positive" check (n > 0)
);
create table public."Members" (team bigint not null references "my.schema"."Team ""Alpha""" on delete cascade, "user" uuid not null, primary key (team, "user"));
create index "by user" on public."Members" ("user") where team > 0;
create table public.events (id bigint not null, at date not null, primary key (id, at)) partition by range (at);
create table public.events_2026 partition of public.events for values from ('2026-01-01') to ('2027-01-01');
create function "my.schema"."is member?"(t bigint) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public."Members" m where m.team = t and m."user" = auth.uid())
$$;
create function public.members_of(t bigint) returns setof public."Members" language sql stable as $$ select * from public."Members" where team = t $$;
create function public.touch() returns trigger language plpgsql as $$ begin new.n := new.n; return new; end $$;
create trigger "Touch It" before update on "my.schema"."Team ""Alpha""" for each row when (old.n is distinct from new.n) execute function public.touch();
create view public."Team View" with (security_invoker = true) as select "Id", "Display Name" from "my.schema"."Team ""Alpha""";
create view public.team_view_2 as select * from public."Team View";
alter table "my.schema"."Team ""Alpha""" enable row level security;
alter table "my.schema"."Team ""Alpha""" force row level security;
alter table public."Members" enable row level security;
create policy "Members see ""their"" team" on "my.schema"."Team ""Alpha""" for select to authenticated using ("my.schema"."is member?"("Id"));
create policy "join as yourself" on public."Members" as permissive for insert to authenticated with check ("user" = (select auth.uid()));
grant usage on schema "my.schema" to authenticated;
revoke all on "my.schema"."Team ""Alpha""" from anon;
grant select ("Id", mood) on "my.schema"."Team ""Alpha""" to anon;
revoke execute on function "my.schema"."is member?"(bigint) from public, anon;
insert into storage.buckets (id, name, public) values ('it''s', 'it''s', false);
`;

/** What must read back the same from the copy: user objects, by name. */
function shape(s: Snapshot) {
  const user = (schema: string) => !isSystemSchema(schema);
  return {
    relations: s.relations
      .filter((r) => user(r.schema) && r.extension === null)
      .map((r) => ({
        schema: r.schema, name: r.name, kind: r.kind, rls: [r.rlsEnabled, r.rlsForced], options: r.options, isPartition: r.isPartition,
        acl: r.acl.filter((a) => ['anon', 'authenticated', 'service_role', 'PUBLIC'].includes(a.grantee)).map((a) => `${a.grantee}:${a.privilege}`).sort(),
        columns: r.columns.map((c) => ({ name: c.name, type: c.type, default: c.default, notNull: c.notNull, identity: c.identity, generated: c.generated,
          acl: c.acl.map((a) => `${a.grantee}:${a.privilege}`).sort() })),
        // From FROM on: PostgreSQL 15 prints the select list's columns table-qualified, 16+ does not.
        view: r.viewDefinition?.slice(r.viewDefinition.indexOf('FROM')),
        triggers: [r.beforeUpdateFunctions, r.beforeInsertFunctions],
      }))
      .sort((a, b) => `${a.schema}.${a.name}`.localeCompare(`${b.schema}.${b.name}`)),
    constraints: s.constraints.filter((c) => user(c.schema) && c.type !== 'not_null').map((c) => `${c.schema}.${c.table}.${c.name}: ${c.definition}`).sort(),
    indexes: s.indexes.filter((i) => user(i.schema)).map((i) => i.definition).sort(),
    policies: s.policies.filter((p) => user(p.schema)),
    functions: s.functions
      .filter((f) => user(f.schema) && f.extension === null)
      .map((f) => ({ name: `${f.schema}.${f.name}(${f.identityArgs})`, definer: f.securityDefiner, config: f.config, source: f.source,
        acl: f.acl.filter((a) => ['anon', 'authenticated', 'PUBLIC'].includes(a.grantee)).map((a) => `${a.grantee}:${a.privilege}`).sort() })),
    buckets: s.buckets,
  };
}

describe.each(realEnginesOrFail())('DDL generated from the live catalog (%s)', (engine) => {
  test('hostile identifiers (quotes, spaces, mixed case, a dot in a schema name) round-trip: every statement loads, the copy reads back the same', async () => {
    const live = await loadOn(engine, HOSTILE);
    let statements: string[];
    let liveSnapshot: Snapshot;
    try {
      liveSnapshot = await introspect(live, { exposedSchemas: ['public'] });
      statements = renderDdl(liveSnapshot, await readDdlCatalog(live));
    } finally {
      await live.close();
    }
    const copy = await startEmbedded(statements.map((text, i) => ({ display: `statement ${i + 1}`, text: `${text};` })), '.', { base: await pgliteBase() });
    try {
      expect(copy.failed).toEqual([]);
      expect(copy.skipped).toEqual([]);
      const copied = await introspect(copy.session, { exposedSchemas: ['public'] });
      expect(shape(copied)).toEqual(shape(liveSnapshot));
      const [enumLabels] = await copy.session.query<{ labels: string[] }>(`select enum_range(null::"my.schema"."Mood ""x""")::text[] as labels`);
      expect(enumLabels!.labels).toEqual(['ok', "it's bad", 'Mixed Case']);
      const [seq] = await copy.session.query<{ v: string }>(`select start_value || ' by ' || increment_by as v from pg_sequences where sequencename = 'Counter Seq'`);
      expect(seq!.v).toBe('7 by 3');
    } finally {
      await copy.session.close();
    }
  });
});
