/**
 * Nothing a rollback cannot undo: before a probe or an exploit proof writes (or reads) on a live
 * database, supaudit walks what the statement can set off — triggers of the table, its partitions
 * and parents, column defaults, rules, constraints, policies, foreign-key actions and every function
 * they call — and does not run it when the walk reaches anything outside the transaction.
 *
 * The outside world here is a second database on the same loopback-only cluster, written through
 * dblink: a row there is a call that a rollback of the audited database cannot take back.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { Report } from '../../src/model/report.ts';
import { cluster, freshDatabase, realEnginesOrFail, runSql, withClient } from '../harness/db.ts';
import { createDatabaseOn, type ClusterEngine } from '../harness/postgres.ts';
import { runCli } from '../support/cli.ts';
import { ESCALATION_SQL } from '../checks/escalation.fixture.ts';

const BASE = readFileSync(new URL('../../src/introspect/targets/supabase-base.sql', import.meta.url), 'utf8');

function scalar<T>(url: string, sql: string): Promise<T> {
  return withClient(url, async (client) => Object.values((await client.query(sql)).rows[0] as Record<string, unknown>)[0] as T);
}

/** The outside world: a database of its own on the same cluster, with a table that counts the calls; and how dblink reaches it. */
async function outsideWorld(engine: ClusterEngine): Promise<{ sinkUrl: string; conninfo: string }> {
  const info = cluster(engine);
  const sinkName = `sink_${randomBytes(6).toString('hex')}`;
  const sinkUrl = await createDatabaseOn(info, sinkName);
  await runSql(sinkUrl, 'create table calls (n bigserial primary key, via text not null)');
  return { sinkUrl, conninfo: `host=127.0.0.1 port=${info.port} dbname=${sinkName} user=${info.superUser} password=${info.password}` };
}

/** The outside world: a database on the same cluster (127.0.0.1), reached through dblink. */
function outsideSql(conninfo: string): string {
  const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;
  return `
create extension dblink with schema extensions;
create function public.call_out() returns trigger language plpgsql as $$
begin
  perform extensions.dblink_exec(${lit(conninfo)}, 'insert into calls (via) values (''trigger'')');
  return coalesce(new, old);
end $$;
create function public.remote_default() returns text language plpgsql as $$
begin
  perform extensions.dblink_exec(${lit(conninfo)}, 'insert into calls (via) values (''default'')');
  return 'x';
end $$;
-- Helper depth: the trigger calls a helper that calls out.
create function public.log_elsewhere(what text) returns void language plpgsql as $$
begin
  perform extensions.dblink_exec(${lit(conninfo)}, format('insert into calls (via) values (%L)', what));
end $$;
create function public.audit_change() returns trigger language plpgsql as $$
begin
  perform public.log_elsewhere(tg_op);
  return coalesce(new, old);
end $$;

-- A table whose own trigger calls out.
create table public.orders (id bigserial primary key, owner uuid, note text);
create trigger orders_call_out after insert or update or delete on public.orders for each row execute function public.call_out();
insert into public.orders (owner, note) values (gen_random_uuid(), 'first');

-- A column default that calls out (runs on every INSERT that leaves the column to it).
create table public.notes (id bigint generated always as identity primary key, body text default public.remote_default(), owner uuid);
insert into public.notes (body, owner) values ('kept', gen_random_uuid());

-- A partitioned table with no trigger of its own: its partitions have one (through a helper).
create table public.events (id bigserial, kind text not null, at timestamptz not null default now()) partition by list (kind);
create table public.events_a partition of public.events for values in ('a');
create table public.events_rest partition of public.events default;
create trigger events_a_audit after insert or update or delete on public.events_a for each row execute function public.audit_change();
create trigger events_rest_audit after insert or update or delete on public.events_rest for each row execute function public.audit_change();
insert into public.events (kind) values ('a'), ('b');

-- A trigger whose function runs dynamic SQL: what it does cannot be read, so it is not run either.
create function public.dynamic_touch() returns trigger language plpgsql as $$
begin
  execute format('select %L', tg_table_name);
  return new;
end $$;
create table public.dynamic_rows (id bigserial primary key, label text);
create trigger dynamic_rows_touch before insert or update on public.dynamic_rows for each row execute function public.dynamic_touch();

-- A default that advances a sequence through a helper (not a serial column the probe gives a value):
-- the INSERT runs (nextval stays inside the server), and the note must name the sequence it moved.
create sequence public.ticket_numbers;
create function public.next_ticket() returns bigint language sql as $$ select nextval('public.ticket_numbers') $$;
create table public.tickets (id bigserial primary key, number bigint not null default public.next_ticket(), title text);

-- A plain table: probed as before (nothing it runs leaves the transaction).
create table public.plain (id bigserial primary key, label text);
insert into public.plain (label) values ('one');

grant select, insert, update, delete on all tables in schema public to anon, authenticated;
grant usage on all sequences in schema public to anon, authenticated;

-- Exploit proofs: the member join (INSERT) leaves a column to a default that calls out; the member
-- update (UPDATE) fires a trigger that calls out through a helper; accounts stays provable.
alter table app."Workspace Members" add column joined_note text default public.remote_default();
create trigger members_audit after update on public.members for each row execute function public.audit_change();
`;
}

type Outcome = { command: string; result: string; error?: string; rows?: number };
type Probe = { tables: { name: string; outcomes: Outcome[] }[] };

describe.each(realEnginesOrFail())('nothing a rollback cannot undo (%s)', (engine) => {
  test('probes do not run what reaches dblink, proofs run only in the lab\'s copy: nothing committed outside', async () => {
    const info = cluster(engine);
    const { sinkUrl, conninfo } = await outsideWorld(engine);
    const url = await freshDatabase(engine);
    await runSql(url, BASE);
    await runSql(url, ESCALATION_SQL);
    await runSql(url, outsideSql(conninfo));
    // The set-up itself called out: 1 order, 2 events, and the new default on the 2 existing member rows.
    const setupCalls = Number(await scalar<string>(sinkUrl, 'select count(*)::text from calls'));
    expect(setupCalls).toBe(5);
    const seqBefore = await scalar<string>(url, 'select string_agg(sequencename || coalesce(last_value::text, \'-\'), \',\' order by sequencename) from pg_sequences');

    const run = await runCli(['--db-url', url, '--schemas', 'public,app', '--probe-writes', '--probe-triggers', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('is not run');
    expect(run.stdout + run.stderr).not.toContain(info.password);
    const report = JSON.parse(run.stdout) as Report;

    // Nothing reached the outside database, and no sequence but the one the default named moved.
    expect(Number(await scalar<string>(sinkUrl, 'select count(*)::text from calls'))).toBe(setupCalls);

    const anon = report.blastRadius.find((b) => b.role === 'anon')!.probe as Probe;
    const outcome = (table: string, command: string) => anon.tables.find((t) => t.name === table)!.outcomes.find((o) => o.command === command)!;
    for (const command of ['insert', 'update', 'delete']) {
      expect(outcome('orders', command).result).toBe('skipped');
      expect(outcome('orders', command).error).toMatch(new RegExp(`^not attempted: ${command.toUpperCase()} public\\.orders → trigger orders_call_out on public\\.orders → public\\.call_out\\(\\) → extensions\\.dblink_exec\\(\\) reaches a dblink connection`));
    }
    // The default runs only on INSERT: UPDATE and DELETE of notes are probed.
    expect(outcome('notes', 'insert').error).toMatch(/^not attempted: INSERT public\.notes → default of body → public\.remote_default\(\) → extensions\.dblink_exec\(\)/);
    expect(outcome('notes', 'update')).toEqual({ command: 'update', result: 'allowed', rows: 1 });
    // The partitioned table has no trigger of its own; its partitions' triggers call out two functions deep.
    expect(outcome('events', 'insert').error).toMatch(/^not attempted: INSERT public\.events → trigger events_\w+_audit on public\.events_\w+ → public\.audit_change\(\) → public\.log_elsewhere\(\) → extensions\.dblink_exec\(\)/);
    expect(outcome('dynamic_rows', 'insert').error).toMatch(/^not attempted: .*public\.dynamic_touch\(\) runs dynamic SQL \(EXECUTE\), whose statements cannot be read/);
    expect(outcome('plain', 'insert')).toEqual({ command: 'insert', result: 'allowed', rows: 1 });
    expect(outcome('tickets', 'insert')).toEqual({ command: 'insert', result: 'allowed', rows: 1 });

    // The proofs never ran on the live database: they ran in the lab's copy, where nothing reaches dblink.
    const proofs = report.findings.filter((f) => f.proof);
    expect(proofs.length).toBeGreaterThan(0);
    expect(proofs.filter((f) => f.proof!.status === 'not_attempted')).toEqual([]);
    expect(report.notes.find((n) => n.area === 'proofs')!.message).toMatch(/^exploit proofs as signed-in users in the lab's copy \(never on the live database\), rolled back: /);

    // The sequences: the tickets default advanced ticket_numbers once per role's INSERT probe; the note names it, and nothing else moved.
    const seqAfter = await scalar<string>(url, 'select string_agg(sequencename || coalesce(last_value::text, \'-\'), \',\' order by sequencename) from pg_sequences');
    expect(seqAfter).not.toBe(seqBefore);
    const cost = report.notes.find((n) => n.message.startsWith('probe cost:'))!.message;
    expect(cost).toMatch(/sequences advanced during the run \(a rollback does not undo nextval; another session may also have used them\): public\.ticket_numbers first use; no cascading write$/);
    expect(Number(await scalar<string>(url, 'select last_value::text from public.ticket_numbers'))).toBe(3);
  });

  test('supaudit load does not read, as a user, a table whose policy calls out: nothing committed outside, a note says why', async () => {
    const { sinkUrl, conninfo } = await outsideWorld(engine);
    const url = await freshDatabase(engine);
    await runSql(url, BASE);
    await runSql(url, `
      create extension dblink with schema extensions;
      create function public.remote_check() returns boolean language plpgsql as $$
      begin
        perform extensions.dblink_exec('${conninfo.replaceAll("'", "''")}', 'insert into calls (via) values (''policy'')');
        return true;
      end $$;
      create table public.watched (id bigint primary key, body text);
      alter table public.watched enable row level security;
      create policy "calls out on every read" on public.watched for select using (public.remote_check());
      create table public.quiet (id bigint primary key, body text);
      insert into public.watched select g, 'w' from generate_series(1, 20) g;
      insert into public.quiet select g, 'q' from generate_series(1, 20) g;
      grant select on public.watched, public.quiet to anon, authenticated;`);
    const run = await runCli(['load', '--db-url', url, '--schemas', 'public', '--samples', '3', '--duration', '0.05', '--concurrency', '1', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
    expect(run.code, run.stderr).toBe(0);
    expect(Number(await scalar<string>(sinkUrl, 'select count(*)::text from calls'))).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    expect(new Set(report.load!.tables.map((t) => `${t.schema}.${t.name}`))).toEqual(new Set(['public.quiet']));
    expect(report.notes.find((n) => n.area === 'load' && n.message.startsWith('public.watched not measured'))!.message).toMatch(
      /^public\.watched not measured: not attempted: SELECT public\.watched → policy "calls out on every read" → public\.remote_check\(\) → extensions\.dblink_exec\(\) reaches a dblink connection/,
    );
  });

  test('the note says "no sequence advanced" only when it measured that', async () => {
    const url = await freshDatabase(engine);
    await runSql(url, BASE);
    await runSql(url, `
      create table public.plain (id bigserial primary key, label text);
      insert into public.plain (label) values ('one');
      grant select, insert, update, delete on public.plain to anon, authenticated;`);
    const run = await runCli(['--db-url', url, '--schemas', 'public', '--probe-writes', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    const cost = report.notes.find((n) => n.message.startsWith('probe cost:'))!.message;
    const read = Number(await scalar<string>(url, 'select count(*)::text from pg_sequences'));
    expect(cost).toContain(`no sequence advanced (${read} sequence${read === 1 ? '' : 's'} read before and after)`);
  });
});

