/**
 * supaudit is pointed at production: prove that an audit (with probes) changes nothing — data,
 * write counters, catalog, settings — and that the session cannot write even by mistake.
 */
import pg from 'pg';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { connectPg } from '../../src/introspect/targets/pg.ts';
import { freshDatabase, realEnginesOrFail, runSql } from '../harness/db.ts';
import { runCli } from '../support/cli.ts';

const BASE = readFileSync(new URL('../../src/introspect/targets/supabase-base.sql', import.meta.url), 'utf8');
const FIXTURE = `
create table public.accounts (id bigint generated always as identity primary key, user_id uuid not null default gen_random_uuid(), email text, balance numeric);
insert into public.accounts (email, balance) select 'a' || g || '@example.com', g from generate_series(1, 500) g;
create table public.notes (id int primary key, user_id uuid not null, body text);
alter table public.notes enable row level security;
create policy "own notes" on public.notes for all to authenticated using (user_id = auth.uid()) with check (user_id = auth.uid());
insert into public.notes select g, gen_random_uuid(), 'n' from generate_series(1, 200) g;
create view public.account_emails as select id, email from public.accounts;
analyze;
`;

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Everything an audit must not change in its database (roles are cluster-wide and other tests create some). */
async function state(url: string): Promise<Record<string, unknown>> {
  const data = await query<{ t: string; n: string; h: string }>(
    url,
    `
    select 'accounts' as t, count(*)::text as n, md5(string_agg(a::text, '|' order by a.id)) as h from public.accounts a
    union all select 'notes', count(*)::text, md5(string_agg(n::text, '|' order by n.id)) from public.notes n`);
  const counters = await query(url, `select relname, n_tup_ins, n_tup_upd, n_tup_del from pg_stat_user_tables where schemaname = 'public' order by relname`);
  const catalog = await query(
    url,
    `
    select (select count(*) from pg_class) as classes, (select count(*) from pg_proc) as procs,
           (select count(*) from pg_namespace) as namespaces,
           (select count(*) from pg_policy) as policies, (select coalesce(max(oid::text::bigint), 0) from pg_class) as max_class_oid,
           (select count(*) from pg_db_role_setting where setdatabase = (select oid from pg_database where datname = current_database())) as role_settings,
           (select count(*) from pg_publication_rel) as published`);
  return { data, counters, catalog };
}

describe.each(realEnginesOrFail())('read-only by construction (%s)', (engine) => {
  test('a full audit with read probes and --explain changes no data, no write counter, no catalog object, no setting', async () => {
    const url = await freshDatabase(engine);
    await runSql(url, BASE);
    await runSql(url, FIXTURE);
    await new Promise((r) => setTimeout(r, 1200)); // let the loader's statistics reach the shared stats
    const before = await state(url);
    const run = await runCli(['--db-url', url, '--schemas', 'public', '--probe', '--explain', '--format', 'json', '--out', '-', '--quiet'], { env: {} });
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { notes: { area: string; message: string }[]; findings: { evidence?: Record<string, unknown> }[] };
    expect(report.notes.some((n) => n.area === 'probes')).toBe(true);
    expect(report.notes.filter((n) => n.area === 'explain')).toEqual([]);
    expect(report.findings.some((f) => f.evidence?.['plan'] !== undefined)).toBe(true);
    await new Promise((r) => setTimeout(r, 1200));
    expect(await state(url)).toEqual(before);
  });

  test('write probes roll back: every row is unchanged afterwards', async () => {
    const url = await freshDatabase(engine);
    await runSql(url, BASE);
    await runSql(url, FIXTURE);
    const before = (await state(url))['data'];
    const run = await runCli(['--db-url', url, '--schemas', 'public', '--probe-writes', '--probe-triggers', '--format', 'json', '--out', '-', '--quiet'], { env: {} });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/will run INSERT, UPDATE and DELETE .* rolled back; no write that would cascade to other tables/);
    expect((await state(url))['data']).toEqual(before);
  });

  test('the audit session refuses writes even outside supaudit\'s own transactions', async () => {
    const url = await freshDatabase(engine);
    await runSql(url, 'create table public.t (id int)');
    const session = await connectPg(url);
    try {
      await expect(session.query('insert into public.t values (1)')).rejects.toMatchObject({ code: '25006' });
      await expect(session.query('create table public.u (id int)')).rejects.toMatchObject({ code: '25006' });
    } finally {
      await session.close();
    }
  });
});
