/**
 * The minimum role supaudit needs (README: "Least privilege"), and an honest partial report when
 * even the statistics views are closed to it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { Report } from '../../src/model/report.ts';
import { cluster, freshDatabase, realEnginesOrFail, runSql, urlOf } from '../harness/db.ts';
import { runCli } from '../support/cli.ts';

const BASE = readFileSync(new URL('../../src/introspect/targets/supabase-base.sql', import.meta.url), 'utf8');
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
/** The role script exactly as the README documents it. */
const READER_SQL = /```sql least-privilege\n([\s\S]*?)```/.exec(README)?.[1] ?? '';

const FIXTURE = `
create table public.profiles (id uuid primary key, email text, phone text);
insert into public.profiles select gen_random_uuid(), 'p' || g || '@example.com', '555' || g from generate_series(1, 50) g;
create table public.notes (id int primary key, user_id uuid not null);
alter table public.notes enable row level security;
create policy "own" on public.notes for select using (auth.uid() = user_id);
insert into storage.buckets (id, name, public) values ('avatars', 'avatars', true);
analyze;
`;

describe.each(realEnginesOrFail())('least privilege (%s)', (engine) => {
  test('the README role script exists and an audit as supaudit_reader finds what postgres finds', async () => {
    expect(READER_SQL).toContain('create role supaudit_reader');
    const url = await freshDatabase(engine);
    const database = new URL(url).pathname.slice(1);
    await runSql(url, BASE);
    await runSql(url, FIXTURE);
    // Roles are cluster-wide: the script is idempotent so every test database can run it.
    await runSql(url, READER_SQL.replaceAll(':database', `"${database}"`).replaceAll("'change-me'", "'reader-pw'"));
    const info = cluster(engine);
    const readerUrl = urlOf(info, database, 'supaudit_reader', 'reader-pw');
    const asReader = await runCli(['--db-url', readerUrl, '--schemas', 'public', '--format', 'json', '--out', '-', '--quiet'], { env: {} });
    const asOwner = await runCli(['--db-url', url, '--schemas', 'public', '--format', 'json', '--out', '-', '--quiet'], { env: {} });
    expect(asReader.stderr).toBe('supaudit: warning: a password on the command line lands in shell history; prefer SUPABASE_DB_URL=… in the environment\n');
    expect(asReader.code).toBe(0);
    const reader = JSON.parse(asReader.stdout) as Report;
    const owner = JSON.parse(asOwner.stdout) as Report;
    expect(reader.findings.map((f) => f.fingerprint)).toEqual(owner.findings.map((f) => f.fingerprint));
    expect(reader.findings.map((f) => f.fingerprint)).toContain('rls_disabled_in_public:public.profiles');
  });

  test('with the statistics views revoked, the report says partial instead of failing or going silent', async () => {
    const url = await freshDatabase(engine);
    const database = new URL(url).pathname.slice(1);
    await runSql(url, BASE);
    await runSql(url, FIXTURE);
    await runSql(url, `do $$ begin if not exists (select 1 from pg_roles where rolname = 'supaudit_min') then create role supaudit_min login password 'min-pw'; end if; end $$;
      grant connect on database "${database}" to supaudit_min;
      revoke select on pg_catalog.pg_stat_all_tables, pg_catalog.pg_stat_all_indexes from public;
      revoke select on storage.buckets from public, supaudit_min;`);
    const info = cluster(engine);
    const run = await runCli(['--db-url', urlOf(info, database, 'supaudit_min', 'min-pw'), '--schemas', 'public', '--format', 'json', '--out', '-', '--quiet'], { env: {} });
    // Put the views back: the cluster is shared with other tests.
    await runSql(url, 'grant select on pg_catalog.pg_stat_all_tables, pg_catalog.pg_stat_all_indexes to public');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    const notes = report.notes.map((n) => n.message);
    expect(notes).toEqual(expect.arrayContaining([
      expect.stringMatching(/^partial: could not read statistics for relations \(permission denied for (view|table) pg_stat_all_tables/),
      expect.stringMatching(/^partial: could not read statistics for indexes/),
      'partial: could not read storage.buckets (no SELECT privilege)',
    ]));
    expect(report.findings.map((f) => f.fingerprint)).toContain('rls_disabled_in_public:public.profiles');
  });
});
