/**
 * `supaudit load` on real data: the chat fixture (a correlated EXISTS policy over an unindexed
 * membership table, 8,000 messages) in the embedded database, with the fixes applied and measured
 * again; and on a real server through --db-url with a concurrency sweep, which must leave the
 * database as it found it (no index, no connection left behind).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import type { LoadRow, Report } from '../../src/model/report.ts';
import { cluster, freshDatabase, realEnginesOrFail, runSql, urlOf, withClient } from '../harness/db.ts';
import { quoteIdent } from '../../src/model/ident.ts';
import { realEngines } from '../support/audit.ts';
import { runCli, type CliRun } from '../support/cli.ts';
import { runAudit } from '../../src/engine/audit.ts';
import { resolveTarget } from '../../src/introspect/targets/index.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/load/', import.meta.url));
const BASE_SQL = readFileSync(new URL('../../src/introspect/targets/supabase-base.sql', import.meta.url), 'utf8');
const out = mkdtempSync(join(tmpdir(), 'supaudit-load-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

const FAST = ['--samples', '25', '--duration', '0.3'];

function ordered(rows: readonly LoadRow[]): void {
  for (const r of rows.filter((x) => x.samples > 0)) {
    expect(r.p50Ms, `${r.name} ${r.shape}`).toBeGreaterThan(0);
    expect(r.p50Ms).toBeLessThanOrEqual(r.p95Ms);
    expect(r.p95Ms).toBeLessThanOrEqual(r.p99Ms);
    expect(r.throughputPerSec).toBeGreaterThan(0);
  }
}

describe('supaudit load on the embedded database', () => {
  let run: CliRun;
  let report: Report;
  let md: string;
  let html: string;
  beforeAll(async () => {
    run = await runCli(['load', '--migrations', join(FIXTURE, 'migrations'), ...FAST, '--concurrency', '1,10', '-f', 'json', '-f', 'md', '-f', 'html', '-o', join(out, 'embedded')]);
    report = JSON.parse(readFileSync(join(out, 'embedded', 'supaudit.json'), 'utf8')) as Report;
    md = readFileSync(join(out, 'embedded', 'supaudit.md'), 'utf8');
    html = readFileSync(join(out, 'embedded', 'supaudit.html'), 'utf8');
  }, 180_000);

  test('every exposed table measured as real users and anon, percentiles ordered, RLS overhead against the bypass baseline', () => {
    expect(run.code).toBe(0);
    const load = report.load!;
    expect(new Set(load.tables.map((t) => t.name))).toEqual(new Set(['messages', 'members', 'channels', 'reactions']));
    // Owners of messages/members rows and auth.users accounts, with claims as PostgREST sets them.
    expect(load.users).toBeGreaterThanOrEqual(10);
    expect(load.concurrency).toEqual([1]);
    expect(report.notes.some((n) => n.area === 'load' && /one connection, so only 1 client/.test(n.message))).toBe(true);
    ordered(load.tables);
    const messages = load.tables.filter((t) => t.name === 'messages' && t.role === 'authenticated');
    expect(messages.map((t) => t.shape).sort()).toEqual(['by_owner', 'by_pk', 'count', 'list']);
    expect(load.tables.filter((t) => t.role === 'anon').map((t) => t.shape)).toEqual(['list', 'list', 'list', 'list']);
    for (const t of messages) {
      expect(t.samples).toBeGreaterThan(0);
      expect(t.errors).toBe(0);
      expect(t.bypassP50Ms).toBeGreaterThan(0);
      // The ratio is rounded to one decimal, from the unrounded times (the p50s are rounded to the µs).
      const ratio = t.p50Ms / t.bypassP50Ms!;
      expect(Math.abs(t.overhead! - ratio)).toBeLessThanOrEqual(0.05 + ratio * 0.01);
    }
    // count=exact as a signed-in user runs the correlated subquery for each of the 4,000 rows, a
    // scan of members each time; the same question as an EXISTS (reactions) is hashed once.
    const count = messages.find((t) => t.shape === 'count')!;
    const reactions = load.tables.find((t) => t.name === 'reactions' && t.role === 'authenticated' && t.shape === 'count')!;
    expect(count.overhead!).toBeGreaterThan(20);
    expect(count.overhead!).toBeGreaterThan(5 * reactions.overhead!);
  });

  test('the slow table is tied to the findings that explain it, and measured again with their fixes', () => {
    const count = report.load!.tables.find((t) => t.name === 'messages' && t.role === 'authenticated' && t.shape === 'count')!;
    expect(count.findings).toEqual(expect.arrayContaining(['unindexed_policy_column:public.members.channel_id', 'auth_rls_initplan:public.messages.members read messages']));
    for (const f of count.findings) expect(report.findings.map((x) => x.fingerprint)).toContain(f);
    expect(count.fixed).toBeDefined();
    expect(count.fixed!.p50Ms).toBeGreaterThan(0);
    expect(count.fixed!.p50Ms).toBeLessThanOrEqual(count.fixed!.p95Ms);
    expect(count.fixed!.p95Ms).toBeLessThanOrEqual(count.fixed!.p99Ms);
    // The index on members.channel_id (and the wrapped auth.uid()) turn each row's scan into a lookup.
    expect(count.fixed!.p50Ms).toBeLessThan(count.p50Ms / 2);
  });

  test('Markdown and HTML carry the load table; HTML a chart', () => {
    expect(md).toContain('## Load');
    expect(md).toMatch(/\| `public\.messages` \| authenticated \| count \| 1 \|/);
    expect(html).toContain('<h2 id="load">Load</h2>');
    expect(html).toMatch(/<div class="load-chart"><svg [^>]*role="img"/);
    expect(html).toContain('public.messages count');
  });
});

describe('supaudit load on a live server', () => {
  let url: string;
  let run: CliRun;
  let report: Report;
  let text: string;
  const state = (u: string) =>
    withClient(u, async (c) => ({
      indexes: (await c.query(`select count(*)::int as n from pg_indexes where schemaname = 'public'`)).rows[0].n as number,
      policies: (await c.query(`select string_agg(policyname || ':' || coalesce(qual, ''), '|' order by policyname) as p from pg_policies where schemaname = 'public'`)).rows[0].p as string,
    }));
  let before: Awaited<ReturnType<typeof state>>;
  beforeAll(async () => {
    const engine = realEngines()[0];
    if (!engine) throw new Error('no real Postgres cluster in this test run');
    url = await freshDatabase(engine);
    await runSql(url, BASE_SQL);
    await runSql(url, readFileSync(join(FIXTURE, 'migrations/20260101000000_chat.sql'), 'utf8'));
    await runSql(url, readFileSync(join(FIXTURE, 'seed.sql'), 'utf8'));
    before = await state(url);
    run = await runCli(['load', '--db-url', url, ...FAST, '--concurrency', '1,4', '--tables', 'messages,public.channels', '-f', 'json', '-f', 'text', '-o', join(out, 'live')]);
    report = JSON.parse(readFileSync(join(out, 'live', 'supaudit.json'), 'utf8')) as Report;
    text = readFileSync(join(out, 'live', 'supaudit.txt'), 'utf8');
  }, 180_000);

  test('a concurrency sweep over real connections, only the tables asked for', () => {
    expect(run.code).toBe(0);
    const load = report.load!;
    expect(load.concurrency).toEqual([1, 4]);
    expect(new Set(load.tables.map((t) => t.name))).toEqual(new Set(['messages', 'channels']));
    for (const shape of ['list', 'count']) {
      expect(load.tables.filter((t) => t.name === 'messages' && t.role === 'authenticated' && t.shape === shape).map((t) => t.concurrency)).toEqual([1, 4]);
    }
    ordered(load.tables);
    expect(load.tables.every((t) => t.errors === 0 && t.bypassP50Ms !== null)).toBe(true);
    // DDL never runs on a live database: no "fixed" figures there.
    expect(load.tables.some((t) => t.fixed)).toBe(false);
    expect(text).toMatch(/Load \(policies measured as real users\) — 2 tables measured as \d+ real users and anon at 1, 4 clients/);
    expect(run.stdout).not.toContain(url.split('@')[0]!.split(':').pop()!);
  });

  test('the database is left as it was: no index, no policy change, no connection left open', async () => {
    expect(await state(url)).toEqual(before);
    const open = await withClient(url, async (c) => (await c.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`)).rows[0].n as number);
    expect(open).toBe(0);
  });

  test('Ctrl-C stops the load at once: the run ends cancelled, every connection closed', async () => {
    const controller = new AbortController();
    let progress = 0;
    const started = performance.now();
    const running = runAudit(resolveTarget({ dbUrl: url, env: {} }), {
      exposedSchemas: ['public'],
      // The bound is on stopping the load; the lab's copy, built before it, takes its own seconds.
      lab: false,
      signal: controller.signal,
      // A minute per measurement: only the abort can end this run early.
      load: {
        maxTables: 20,
        concurrency: [1, 4],
        durationMs: 60_000,
        maxSamples: 1_000_000,
        sloMs: 200,
        onProgress: () => {
          if (++progress === 1) setTimeout(() => controller.abort(), 300);
        },
      },
    });
    await expect(running).rejects.toMatchObject({ kind: 'cancelled' });
    expect(performance.now() - started).toBeLessThan(15_000);
    let open = -1;
    for (let i = 0; i < 30 && open !== 0; i++) {
      open = await withClient(url, async (c) => (await c.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`)).rows[0].n as number);
      if (open !== 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(open).toBe(0);
  }, 60_000);

  test('bad arguments are one-line usage errors before connecting', async () => {
    const bad = await runCli(['load', '--db-url', url, '--concurrency', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^supaudit: error: --concurrency must be a number from 1 to 500, got "0"\n/);
    const unknown = await runCli(['load', '--db-url', url, ...FAST, '--tables', 'nope', '-q']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--tables: nope is not an exposed table that anon or authenticated may read');
  }, 60_000);
});

describe('supaudit load with a hostile table name', () => {
  // A newline, then a workflow command a GitHub runner acts on when a log line starts with it; a
  // window-title escape (OSC … BEL), SOH and a right-to-left override.
  const HOSTILE = 'evil\n::warning file=x.ts::pwned\u001b]0;pwned\u0007\u0001\u202eok';
  const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/;

  test('progress, plan and report lines escape it: no raw control character, no line starting with "::"', async () => {
    const url = await freshDatabase(realEnginesOrFail()[0]!);
    await runSql(url, BASE_SQL);
    const table = `public.${quoteIdent(HOSTILE)}`;
    await runSql(url, `create table ${table} (id int primary key, note text); insert into ${table} select g, 'n' from generate_series(1, 5) g; grant select on ${table} to anon, authenticated;`);
    const run = await runCli(['load', '--db-url', url, '--samples', '3', '--duration', '0.05', '--concurrency', '1', '--no-tui']);
    expect(run.code, run.stderr).toBe(0);
    const escaped = 'public.evil\\n::warning file=x.ts::pwned\\u001b]0;pwned\\u0007\\u0001\\u202eok';
    // The table was measured and named, spelled out, in the plan's progress lines and in the report.
    expect(run.stderr).toMatch(/^supaudit: load: \d+ measurements of read-only requests/m);
    expect(run.stderr).toContain(`supaudit: load 1/`);
    expect(run.stderr).toContain(escaped);
    expect(run.stdout).toContain(escaped);
    for (const [name, out] of [['stdout', run.stdout], ['stderr', run.stderr]] as const) {
      expect(out, name).not.toMatch(RAW);
      expect(out.split('\n').filter((line) => line.startsWith('::')), name).toEqual([]);
    }
  }, 120_000);
});

describe.each(realEnginesOrFail())('supaudit load at a connection limit (%s)', (engine) => {
  test('a role with CONNECTION LIMIT 4: the refused connection (SQLSTATE 53300) ends the ramp, half is given back, the rest is measured', async () => {
    const info = cluster(engine);
    const url = await freshDatabase(engine);
    const database = new URL(url).pathname.slice(1);
    // Roles are cluster-wide: a name of this database's own.
    const role = `supaudit_limited_${database.replace(/\W/g, '_')}`.slice(0, 60);
    await runSql(url, BASE_SQL);
    await runSql(url, `create table public.notes (id bigint primary key, user_id uuid not null, body text);
      insert into public.notes select g, gen_random_uuid(), 'note ' || g from generate_series(1, 200) g;
      grant select on public.notes to anon, authenticated;`);
    // NOINHERIT, as Supabase's authenticator: it may SET ROLE to anon and authenticated, and does not
    // hold their privileges, so the policies of other tests' databases (roles are cluster-wide) never apply to it.
    await runSql(url, `create role ${role} login noinherit password 'limited-pw' connection limit 4;
      grant connect on database "${database}" to ${role};
      grant usage on schema auth to ${role};
      grant select on public.notes, auth.users to ${role};
      grant anon, authenticated to ${role};`);
    // Roles are cluster-wide: a login role left behind would be a member of authenticated in every other test's database.
    onTestFinished(() => runSql(url, `drop owned by ${role}; drop role ${role};`));
    const run = await runCli(['load', '--db-url', urlOf(info, database, role, 'limited-pw'), '--schemas', 'public', '--tables', 'notes', ...FAST, '--concurrency', '1,4,8', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
    // Before: exit 2, "too many connections on 127.0.0.1:…", no measurement.
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.load!.concurrency).toEqual([1, 2]);
    expect(report.notes.filter((n) => n.area === 'load').map((n) => n.message)).toContain(
      `connection 5 was refused (too many connections for role "${role}"): measured at most 2 clients, half the 4 connections the server or pooler allowed, so the application keeps the rest; asked for 1, 4, 8, measured 1, 2`,
    );
    const rows = report.load!.tables;
    expect(new Set(rows.map((r) => r.concurrency))).toEqual(new Set([1, 2]));
    for (const r of rows) expect(r.errors, `${r.shape} ${r.role} ${r.concurrency}`).toBe(0);
    const left = () => withClient(url, async (c) => (await c.query(`select count(*)::int as n from pg_stat_activity where usename = $1`, [role])).rows[0].n as number);
    // A closed connection's backend exits on its own a moment later.
    let open = await left();
    for (let i = 0; i < 50 && open > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      open = await left();
    }
    expect(open).toBe(0);
  }, 120_000);
});
