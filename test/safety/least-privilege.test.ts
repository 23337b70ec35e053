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
    // Without the lab: what is tested is the live catalog read with missing privileges.
    const run = await runCli(['--db-url', urlOf(info, database, 'supaudit_min', 'min-pw'), '--schemas', 'public', '--format', 'json', '--out', '-', '--quiet', '--no-lab'], { env: {} });
    // Put the views back: the cluster is shared with other tests.
    await runSql(url, 'grant select on pg_catalog.pg_stat_all_tables, pg_catalog.pg_stat_all_indexes to public');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    const notes = report.notes.map((n) => n.message);
    expect(notes).toEqual(expect.arrayContaining([
      expect.stringMatching(/^partial: could not read statistics for relations \(permission denied for (view|table) pg_stat_all_tables/),
      expect.stringMatching(/^partial: could not read statistics for indexes/),
      'partial: could not read storage.buckets (no SELECT privilege); the storage checks are inconclusive',
    ]));
    expect(report.findings.map((f) => f.fingerprint)).toContain('rls_disabled_in_public:public.profiles');
  });

  /** A role that can connect and read the catalogs, minus what `revoke` takes away in this database only. */
  async function auditWithout(revoke: string, extra: readonly string[] = []): Promise<{ code: number; stderr: string; report: Report; owner: Report }> {
    const url = await freshDatabase(engine);
    const database = new URL(url).pathname.slice(1);
    await runSql(url, BASE);
    await runSql(url, FIXTURE);
    await runSql(url, `do $$ begin if not exists (select 1 from pg_roles where rolname = 'supaudit_min') then create role supaudit_min login password 'min-pw'; end if; end $$;
      grant connect on database "${database}" to supaudit_min;`);
    // Catalog privileges are per database: this revoke touches no other test's database.
    await runSql(url, revoke);
    const info = cluster(engine);
    // Without the lab: what is tested is the live catalog read with missing privileges (the lab's copy is test/lab/live.test.ts's).
    const args = ['--schemas', 'public', '--format', 'json', '--out', '-', '--quiet', '--no-lab', ...extra];
    const run = await runCli(['--db-url', urlOf(info, database, 'supaudit_min', 'min-pw'), ...args], { env: {} });
    const owner = await runCli(['--db-url', url, ...args], { env: {} });
    return { code: run.code, stderr: run.stderr, report: JSON.parse(run.stdout) as Report, owner: JSON.parse(owner.stdout) as Report };
  }

  test('pg_policy unreadable: no "no policy" findings for tables that have policies; the checks are inconclusive and --fail-on fails', async () => {
    const { code, stderr, report, owner } = await auditWithout('revoke select on pg_catalog.pg_policy from public', ['--fail-on', 'critical']);
    expect(owner.findings.map((f) => f.check)).not.toContain('rls_enabled_no_policy');
    // Before: public.notes (which has a policy) was reported as RLS enabled with no policy.
    expect(report.findings.map((f) => f.check)).not.toContain('rls_enabled_no_policy');
    expect(report.notes.map((n) => n.message)).toEqual(expect.arrayContaining([expect.stringMatching(/^partial: could not read policies \(permission denied for (table|view) pg_policy.*the checks that need it are inconclusive$/)]));
    expect(report.inconclusive?.map((i) => i.check)).toEqual(expect.arrayContaining(['rls_enabled_no_policy', 'auth_rls_initplan', 'blast radius']));
    // Findings that need no policy still come: RLS off on profiles is critical.
    expect(report.findings.map((f) => f.fingerprint)).toContain('rls_disabled_in_public:public.profiles');
    expect(code).toBe(1);
    expect(stderr).toMatch(/checks inconclusive: part of the catalog could not be read \(see the notes\) \(--fail-on critical\)/);
  });

  test('pg_roles unreadable: no silent "0 critical, exit 0"; blast radius inconclusive; the exposed schemas say where they came from', async () => {
    const { code, stderr, report } = await auditWithout('revoke select on pg_catalog.pg_roles from public', ['--fail-on', 'high']);
    expect(report.inconclusive?.map((i) => i.check)).toEqual(expect.arrayContaining(['blast_radius_anon', 'blast_radius_authenticated', 'rls_disabled_in_public']));
    expect(report.inconclusive?.find((i) => i.check === 'blast_radius_anon')?.reason).toMatch(/^roles: could not read roles \(permission denied/);
    expect(report.notes.map((n) => n.message)).toEqual(expect.arrayContaining([expect.stringMatching(/^partial: could not read roles/)]));
    expect(code).toBe(1);
    expect(stderr).toContain('inconclusive');
  });

  test('storage.buckets under RLS and pg_stats hidden: said in the notes, the checks that need them inconclusive', async () => {
    const { report, owner } = await auditWithout(
      `grant usage on schema storage to supaudit_min; grant select on storage.buckets to supaudit_min; alter table storage.buckets enable row level security; create policy "list avatars" on storage.objects for select to anon using (bucket_id = 'avatars'); create table public.docs (id int primary key, body text); insert into public.docs select g, repeat(md5(g::text), 40) from generate_series(1, 200) g; analyze public.docs`,
    );
    expect(owner.inconclusive).toBeUndefined();
    expect(owner.findings.map((f) => f.check)).toContain('public_bucket_allows_listing');
    expect(report.findings.map((f) => f.check)).not.toContain('public_bucket_allows_listing');
    const notes = report.notes.map((n) => n.message);
    expect(notes).toEqual(
      expect.arrayContaining([
        'partial: could not read storage.buckets: row-level security applies to the auditing role, so it may see only some buckets; the storage checks are inconclusive',
        expect.stringMatching(/^partial: column statistics \(pg_stats\) are hidden for \d+ relations: the auditing role lacks SELECT on their columns, or row-level security applies to it; row-width estimates are inconclusive$/),
      ]),
    );
    expect(report.inconclusive?.map((i) => i.check)).toEqual(expect.arrayContaining(['public_bucket_allows_listing', 'table_bloat', 'realtime_replica_identity_full_wide']));
  });
});
