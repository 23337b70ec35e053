/**
 * What `--probe-writes` may and may not do to a real database: no write cascades to another table
 * (so no child trigger fires), no sequence advances, no row value reaches a report, and what it
 * cannot avoid (dead row versions, statistics counters) is counted in a note.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import type { Report } from '../../src/model/report.ts';
import { freshDatabase, realEnginesOrFail, runSql } from '../harness/db.ts';
import { runCli } from '../support/cli.ts';
import { ESCALATION_SQL } from '../checks/escalation.fixture.ts';

const BASE = readFileSync(new URL('../../src/introspect/targets/supabase-base.sql', import.meta.url), 'utf8');

const CASCADE = `
create sequence public.child_trigger_fired;
create table public.parents (id bigserial primary key, name text not null);
create table public.children (
  id bigint generated always as identity primary key,
  parent_id bigint not null references public.parents (id) on delete cascade on update cascade,
  note text
);
create function public.count_child_change() returns trigger language plpgsql as $$
begin
  perform nextval('public.child_trigger_fired');
  return null;
end $$;
create trigger children_changed after delete or update on public.children for each row execute function public.count_child_change();
insert into public.parents (name) select 'parent ' || g from generate_series(1, 5) g;
insert into public.children (parent_id, note) select 1 + (g % 5), 'child' from generate_series(1, 3000) g;
grant select, insert, update, delete on all tables in schema public to anon, authenticated;
grant usage on all sequences in schema public to anon, authenticated;
`;

const VALUES = `
create table public.people (id int primary key, ssn text not null, email text not null);
insert into public.people values (1, '123-45-6789', 'jane.doe@example.com');
create function public.refuse_change() returns trigger language plpgsql as $$
begin
  raise exception 'refused change of % (%)', new.ssn, new.email;
end $$;
create trigger people_guard before update or delete on public.people for each row execute function public.refuse_change();
create table public.accounts (id int primary key, iban text not null);
insert into public.accounts values (1, 'FR7630006000011234567890189');
alter table public.accounts add constraint accounts_iban_check check (iban like 'DE%') not valid;
grant select, insert, update, delete on public.people, public.accounts to anon, authenticated;
`;

async function scalar<T>(url: string, sql: string): Promise<T> {
  const client = new pg.Client({ connectionString: url, ssl: false });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query(sql);
    return Object.values(rows[0] as Record<string, unknown>)[0] as T;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const CHECKSUM = `select md5(string_agg(x, '|' order by x)) from (
  select 'p' || t::text as x from public.parents t union all select 'c' || t::text from public.children t) s`;

describe.each(realEnginesOrFail())('write probes (%s)', (engine) => {
  test('no cascade, no child trigger, no sequence advanced, data unchanged; the cost is counted', async () => {
    const url = await freshDatabase(engine);
    await runSql(url, BASE);
    await runSql(url, CASCADE);
    const before = {
      data: await scalar<string>(url, CHECKSUM),
      parentSeq: await scalar<string>(url, 'select last_value::text from public.parents_id_seq'),
      childSeq: await scalar<string>(url, "select last_value::text from pg_sequences where sequencename = 'children_id_seq'"),
    };
    const run = await runCli(['--db-url', url, '--schemas', 'public', '--probe-writes', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    // Before: the DELETE probe on parents cascaded to 600 children and ran their trigger 600 times.
    expect(await scalar<string>(url, "select coalesce(last_value, 0)::text from pg_sequences where sequencename = 'child_trigger_fired'")).toBe('0');
    expect(await scalar<string>(url, CHECKSUM)).toBe(before.data);
    // Before: every INSERT probe took a value from the serial/identity sequence.
    expect(await scalar<string>(url, 'select last_value::text from public.parents_id_seq')).toBe(before.parentSeq);
    expect(await scalar<string>(url, "select last_value::text from pg_sequences where sequencename = 'children_id_seq'")).toBe(before.childSeq);
    const anon = report.blastRadius.find((b) => b.role === 'anon')!.probe as { tables: { name: string; outcomes: { command: string; result: string; error?: string; rows?: number }[] }[] };
    const parents = anon.tables.find((t) => t.name === 'parents')!;
    expect(parents.outcomes.find((o) => o.command === 'delete')).toEqual({
      command: 'delete',
      result: 'skipped',
      error: 'a DELETE would cascade to public.children (children_parent_id_fkey: ON DELETE CASCADE)',
    });
    // The UPDATE probe leaves the referenced key alone and still runs.
    expect(parents.outcomes.find((o) => o.command === 'update')).toEqual({ command: 'update', result: 'allowed', rows: 1 });
    expect(parents.outcomes.find((o) => o.command === 'insert')).toEqual({ command: 'insert', result: 'allowed', rows: 1 });
    const cost = report.notes.find((n) => n.message.startsWith('probe cost:'))!.message;
    const m = /^probe cost: (\d+) inserted, (\d+) updated and (\d+) deleted rows, all rolled back, leaving (\d+) dead row versions for VACUUM in (\d+) tables?; (\d+) sequential and (\d+) index scans added to the table statistics; no sequence advanced/.exec(cost);
    expect(m, cost).not.toBeNull();
    const [inserted, updated, deleted, dead] = [m![1], m![2], m![3], m![4]].map(Number) as [number, number, number, number];
    expect(dead).toBe(inserted + updated);
    // Three roles insert into parents and into children (whose trigger fires on UPDATE and DELETE
    // only, so an INSERT runs nothing more); children's UPDATE and DELETE are skipped (they fire it);
    // nothing was deleted by cascade.
    expect(inserted).toBe(6);
    const children = anon.tables.find((t) => t.name === 'children')!;
    expect(children.outcomes.find((o) => o.command === 'update')).toEqual({ command: 'update', result: 'skipped', error: 'the write fires triggers (use --probe-triggers to include it)' });
    expect(deleted).toBe(0);
  });

  test('no row value in any output: a trigger that quotes the row and a constraint failure leave only SQLSTATEs and names', async () => {
    const url = await freshDatabase(engine);
    await runSql(url, BASE);
    await runSql(url, VALUES);
    const run = await runCli(['--db-url', url, '--schemas', 'public', '--probe-writes', '--probe-triggers', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
    expect(run.code).toBe(0);
    const everything = run.stdout + run.stderr;
    for (const value of ['123-45-6789', 'jane.doe@example.com', 'FR7630006000011234567890189']) expect(everything).not.toContain(value);
    const report = JSON.parse(run.stdout) as Report;
    const anon = report.blastRadius.find((b) => b.role === 'anon')!.probe as { tables: { name: string; outcomes: { command: string; result: string; error?: string }[] }[] };
    const people = anon.tables.find((t) => t.name === 'people')!;
    expect(people.outcomes.find((o) => o.command === 'update')).toEqual({ command: 'update', result: 'inconclusive', error: 'raised by a function or trigger (SQLSTATE P0001)' });
    const accounts = anon.tables.find((t) => t.name === 'accounts')!;
    expect(accounts.outcomes.find((o) => o.command === 'update')).toEqual({
      command: 'update',
      result: 'inconclusive',
      error: 'check violation on table public.accounts, constraint accounts_iban_check (SQLSTATE 23514)',
    });
  });

  test('exploit proofs of a live database run in the lab\'s copy: confirmed as a real user, fixes verified there, the live data unchanged', async () => {
    const url = await freshDatabase(engine);
    await runSql(url, BASE);
    await runSql(url, ESCALATION_SQL);
    const checksum = `select md5(string_agg(x, '|' order by x)) from (
      select 'm' || t::text as x from app."Workspace Members" t union all select 'a' || t::text from public.accounts t
      union all select 'e' || t::text from public.members t union all select 'g' || t::text from public.user_grants t) s`;
    const before = await scalar<string>(url, checksum);
    // With --no-lab nothing is proven: the report says what could be.
    const plain = await runCli(['--db-url', url, '--schemas', 'public,app', '--no-lab', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
    const planned = JSON.parse(plain.stdout) as Report;
    expect(planned.findings.filter((f) => f.proof).length).toBe(0);
    expect(planned.notes.find((n) => n.area === 'proofs')?.message).toBe("4 findings can be proven by a rolled-back exploit as a signed-in user in the lab's copy: run without --no-lab");
    const run = await runCli(['--db-url', url, '--schemas', 'public,app', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    const proven = report.findings.filter((f) => f.proof).map((f) => [f.check, f.object.name, f.proof!.status, f.proof!.fixVerified?.status]);
    expect(proven.sort()).toEqual(
      [
        ['privilege_escalation', 'accounts', 'confirmed', 'verified'],
        // The lab's world shares no file with anyone's e-mail (a text[] it leaves empty): the write goes through, nothing more is seen.
        ['privilege_escalation', 'members', 'inconclusive', undefined],
        ['privilege_escalation', 'user_grants', 'confirmed', 'verified'],
        ['tenant_self_join', 'Workspace Members', 'confirmed', 'verified'],
      ].sort(),
    );
    expect(await scalar<string>(url, checksum)).toBe(before);
    // No ACCESS EXCLUSIVE lock was ever taken: no fix (DDL) ran; the policies are as they were.
    expect(await scalar<string>(url, `select count(*)::text from pg_policies where policyname = 'join as yourself' and with_check like '%auth.uid()%'`)).toBe('1');
    expect(await scalar<string>(url, `select has_table_privilege('authenticated', 'public.members', 'UPDATE')::text`)).toBe('true');
  });
});
