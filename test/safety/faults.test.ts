/**
 * Production safety under faults, on real servers: a network path that goes silent, a
 * transaction-mode pooler on its default port, Ctrl-C and SIGTERM through a pooler and from a real
 * process, and locks: the catalog transaction locks no user relation, and another session's
 * exclusive lock neither fails the audit nor makes supaudit queue behind it.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { runAudit } from '../../src/engine/audit.ts';
import { introspect } from '../../src/introspect/index.ts';
import { resolveTarget } from '../../src/introspect/targets/index.ts';
import { connectPg } from '../../src/introspect/targets/pg.ts';
import type { Report } from '../../src/model/report.ts';
import { cluster, freshDatabase, realEnginesOrFail, runSql, withClient } from '../harness/db.ts';
import { runCli } from '../support/cli.ts';
import { havePgBouncer, startPgBouncer, type PgBouncer } from '../support/pgbouncer.ts';
import { startSilentProxy, type SilentProxy } from '../support/proxy.ts';

const BASE = readFileSync(new URL('../../src/introspect/targets/supabase-base.sql', import.meta.url), 'utf8');
const BIN = new URL('../../bin/supaudit.js', import.meta.url).pathname;

const ITEMS = `
create table public.items (id bigint primary key, label text not null);
insert into public.items select g, 'item ' || g from generate_series(1, 20) g;
grant select, insert, update, delete on public.items to anon, authenticated;
create table public.notes (id bigint primary key, user_id uuid not null, body text);
alter table public.notes enable row level security;
create policy notes_own on public.notes for select using ((select auth.uid()) = user_id);
create policy notes_team on public.notes for select using (exists (select 1 from public.items i where i.id = notes.id));
create materialized view public.item_counts as select count(*) as n from public.items;
create view public.item_labels as select id, label from public.items;
create index items_lower_label on public.items (lower(label));
create table public.stamps (id bigint primary key, at timestamptz not null default now() check (at > '2000-01-01'));
`;

const proxies: SilentProxy[] = [];
const bouncers: PgBouncer[] = [];
afterAll(async () => {
  for (const p of proxies) await p.close();
  for (const b of bouncers) b.stop();
});

/** Backends of this database other than the asking one, by application_name (or all). */
async function backends(url: string, where = "application_name = 'supaudit'"): Promise<number> {
  return withClient(url, async (c) => {
    const { rows } = await c.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and ${where}`);
    return rows[0].n as number;
  });
}

async function settle(check: () => Promise<number>, ms = 10_000): Promise<number> {
  const until = Date.now() + ms;
  let n = await check();
  while (n > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    n = await check();
  }
  return n;
}

async function fixture(engine: ReturnType<typeof realEnginesOrFail>[number], sql = ITEMS): Promise<{ url: string; database: string }> {
  const url = await freshDatabase(engine);
  await runSql(url, BASE);
  await runSql(url, sql);
  await runSql(url, 'analyze');
  return { url, database: new URL(url).pathname.slice(1) };
}

describe.each(realEnginesOrFail())('faults (%s)', (engine) => {
  test('a network path that goes silent mid-probe: exit 2 within the deadline, and the server frees the probe\'s locks on its own', async () => {
    const info = cluster(engine);
    const { url, database } = await fixture(engine);
    // Goes silent right after forwarding the UPDATE probe: the server runs it (row lock taken) and its answer is lost.
    const proxy = await startSilentProxy({ host: info.host, port: info.port }, { silenceAfterClientSends: 'WITH probe AS (UPDATE' });
    proxies.push(proxy);
    const through = `postgres://${info.superUser}:${encodeURIComponent(info.password)}@127.0.0.1:${proxy.port}/${database}?sslmode=disable`;
    const started = Date.now();
    const run = await runCli(['--db-url', through, '--schemas', 'public', '--probe-writes', '--statement-timeout', '1000', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
    const elapsed = Date.now() - started;
    await proxy.silenced;
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n').slice(1).join('\n')).toMatch(/^supaudit: error: no answer from 127\.0\.0\.1:\d+ for 3 s: the connection was dropped\n  hint: the network path went silent/);
    expect(elapsed).toBeLessThan(20_000);
    // The server ends the session that was left idle in its transaction (idle_in_transaction_session_timeout)...
    expect(await settle(() => backends(url))).toBe(0);
    // ...so an application's UPDATE and a migration's ALTER TABLE go through.
    await withClient(url, async (c) => {
      await c.query("set lock_timeout = '3s'");
      expect((await c.query('update public.items set label = label')).rowCount).toBe(20);
      await c.query('alter table public.items add column touched boolean');
    });
  });

  test('supaudit load over a link that goes silent during the measurement: exit 2 with the audit\'s connection error, not a report of zeros; every connection closed', async () => {
    const info = cluster(engine);
    const { database } = await fixture(engine);
    // Silent from the first measured request on (the shape PostgREST sends): introspection and the load's set-up got through.
    const proxy = await startSilentProxy({ host: info.host, port: info.port }, { silenceAfterClientSends: '_postgrest_t' });
    proxies.push(proxy);
    const through = `postgres://${info.superUser}:${encodeURIComponent(info.password)}@127.0.0.1:${proxy.port}/${database}?sslmode=disable`;
    const started = Date.now();
    const run = await runCli(
      // --no-lab: the deadline is about the live connections; the lab's embedded copy is not on the link.
      ['load', '--db-url', through, '--schemas', 'public', '--no-lab', '--statement-timeout', '1000', '--slo-ms', '100', '--concurrency', '1,3', '--samples', '20', '--duration', '0.3', '-f', 'json', '-o', '-', '-q'],
      { env: { CI: 'true' } },
    );
    const elapsed = Date.now() - started;
    await proxy.silenced;
    // Before: exit 0 and a load table of "0 (20 failed)" rows.
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^supaudit: error: no answer from 127\.0\.0\.1:\d+ for 3 s: the connection was dropped\n  hint: the network path went silent[^\n]*\n$/);
    expect(run.code).toBe(2);
    expect(elapsed).toBeLessThan(30_000);
    // The audit's connection and the load's extra clients (1 + 2): none left open on the client side.
    expect(proxy.accepted).toBe(3);
    const until = Date.now() + 5_000;
    while (proxy.openClients() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(proxy.openClients()).toBe(0);
  });

  test('the catalog transaction locks no user relation; definitions are printed in a one-statement transaction of their own', async () => {
    const { url } = await fixture(engine);
    const session = await connectPg(url);
    const held: string[][] = [];
    const exec = session.exec.bind(session);
    // Look at this backend's locks just before each transaction ends.
    session.exec = async (sql: string) => {
      if (/^\s*ROLLBACK\s*$/i.test(sql)) {
        const rows = await session.query<{ r: string }>(
          `select c.relnamespace::regnamespace::text || '.' || c.relname as r from pg_locks l join pg_class c on c.oid = l.relation
            where l.pid = pg_backend_pid() and c.relnamespace::regnamespace::text not in ('pg_catalog', 'information_schema') order by 1`,
        );
        held.push(rows.map((x) => x.r));
      }
      return exec(sql);
    };
    try {
      const snapshot = await introspect(session, { exposedSchemas: ['public'] });
      expect(snapshot.relations.find((r) => r.name === 'item_labels')?.viewDefinition).toContain('FROM public.items');
      expect(snapshot.relations.find((r) => r.name === 'stamps')?.columns.find((c) => c.name === 'at')?.default).toBe('now()');
      expect(snapshot.constraints.find((c) => c.table === 'stamps' && c.type === 'check')?.definition).toBe(`CHECK ((at > '2000-01-01 00:00:00+00'::timestamp with time zone))`);
      expect(snapshot.indexes.find((i) => i.name === 'items_lower_label')).toMatchObject({ expressions: 'lower(label)', predicate: null, definition: 'CREATE INDEX items_lower_label ON public.items USING btree (lower(label))' });
      expect(snapshot.policies.find((p) => p.name === 'notes_team')?.using).toContain('public.items');
    } finally {
      await session.close();
    }
    // Before: 18 relations (every view, and every table a view or policy reads) stayed locked for the whole read.
    expect(held[0]).toEqual([]);
    expect(held).toHaveLength(2);
    expect(held[1]).toContain('public.items');
  });

  test('another session\'s ACCESS EXCLUSIVE lock (REFRESH MATERIALIZED VIEW, ALTER TABLE): the audit completes and names what it skipped', async () => {
    const { url } = await fixture(engine);
    await withClient(url, async (locker) => {
      await locker.query('begin');
      // What a REFRESH MATERIALIZED VIEW and a migration's ALTER TABLE hold until they commit.
      await locker.query('refresh materialized view public.item_counts');
      await locker.query('alter table public.items add column added_by_migration int');
      const started = Date.now();
      // --no-lab: the bound is on waiting behind the lock; building the lab's copy takes its own seconds.
      const run = await runCli(['--db-url', url, '--schemas', 'public', '--no-lab', '--lock-timeout', '2000', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
      const elapsed = Date.now() - started;
      await locker.query('rollback');
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      // It never waited for the lock (2 s lock_timeout): it did not queue behind it.
      expect(elapsed).toBeLessThan(2_000 + 8_000);
      const report = JSON.parse(run.stdout) as Report;
      const notes = report.notes.filter((n) => n.area === 'locks').map((n) => n.message);
      expect(notes).toEqual(
        expect.arrayContaining([
          'view public.item_counts not read: another session holds or awaits an ACCESS EXCLUSIVE lock on public.item_counts, public.items (supaudit does not queue behind it); audit again later for it',
          'policy "notes_team" on public.notes not read: another session holds or awaits an ACCESS EXCLUSIVE lock on public.items (supaudit does not queue behind it); audit again later for it',
        ]),
      );
      // The policy whose text is unknown is reported, not treated as absent or as always true.
      expect(report.findings.filter((f) => f.check === 'policy_unparseable').map((f) => f.object.policy)).toContain('notes_team');
      expect(report.findings.map((f) => f.fingerprint)).not.toContain('rls_enabled_no_policy:public.notes');
    });
    expect(await settle(() => backends(url))).toBe(0);
  });

  test('a table whose column DEFAULT, CHECK and expression index sit under another session\'s ACCESS EXCLUSIVE lock: skipped with a locks note, the rest audited (was the end of the audit, blaming "the catalog")', async () => {
    const { url } = await fixture(
      engine,
      `${ITEMS}
      create table public.accounts (id bigint primary key, email text check (email <> ''), api_key text default 'sk_live_${'4eC39HqLyjWDarjtT1zdp7dc'}');
      create index accounts_lower_email on public.accounts (lower(email));`,
    );
    const audit = () => runCli(['--db-url', url, '--schemas', 'public', '--lock-timeout', '1000', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
    let locked: Awaited<ReturnType<typeof audit>>;
    await withClient(url, async (locker) => {
      await locker.query('begin');
      await locker.query('lock table public.accounts in access exclusive mode');
      try {
        locked = await audit();
      } finally {
        await locker.query('rollback');
      }
    });
    // Before: exit 2, "reading columns failed: canceling statement due to lock timeout", hint: "a lock on the catalog".
    expect(locked!.stderr).toBe('');
    expect(locked!.code).toBe(0);
    const report = JSON.parse(locked!.stdout) as Report;
    const why = 'not read: another session holds or awaits an ACCESS EXCLUSIVE lock on public.accounts (supaudit does not queue behind it); audit again later for it';
    expect(report.notes.filter((n) => n.area === 'locks').map((n) => n.message).sort()).toEqual([
      `column defaults of public.accounts ${why}`,
      `constraint "accounts_email_check" on public.accounts ${why}`,
      `index public.accounts_lower_email on public.accounts ${why}`,
    ]);
    const fingerprints = report.findings.map((f) => f.fingerprint);
    // The locked table is still audited from the catalog, and the others in full.
    expect(fingerprints).toEqual(expect.arrayContaining(['rls_disabled_in_public:public.accounts', 'rls_disabled_in_public:public.items', 'rls_disabled_in_public:public.stamps']));
    // The secret in the default was not read (and is not guessed at)...
    expect(fingerprints.filter((f) => f.startsWith('hardcoded_secret:'))).toEqual([]);
    // ...and once the lock is gone, it is.
    const after = await audit();
    expect(after.code).toBe(0);
    expect((JSON.parse(after.stdout) as Report).findings.map((f) => f.fingerprint)).toContain('hardcoded_secret:public.accounts.api_key:api_key');
    expect((JSON.parse(after.stdout) as Report).notes.filter((n) => n.area === 'locks')).toEqual([]);
  });

  test('Ctrl-C during the probes stops them at once: no further statement, the connection closed', async () => {
    const tables = Array.from({ length: 300 }, (_, i) => `create table public.t${i} (id int primary key, v text); insert into public.t${i} values (1, 'x'); grant all on public.t${i} to anon, authenticated;`).join('\n');
    const { url } = await fixture(engine, tables);
    const controller = new AbortController();
    // Count the round trips supaudit starts after the abort: the statement in flight may finish, nothing new may start.
    const target = resolveTarget({ dbUrl: url, env: {} });
    let afterAbort = 0;
    let before = 0;
    const counted = {
      ...target,
      async open() {
        const opened = await target.open();
        const { session } = opened;
        const wrap = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => (...args: A) => {
          if (controller.signal.aborted) afterAbort++;
          else before++;
          return fn(...args);
        };
        session.query = wrap(session.query.bind(session)) as typeof session.query;
        session.exec = wrap(session.exec.bind(session));
        return opened;
      },
    };
    const running = runAudit(counted, {
      exposedSchemas: ['public'],
      probe: { writes: true, triggers: false },
      signal: controller.signal,
      onStage: (stage) => {
        if (stage === 'probes') setTimeout(() => controller.abort(), 200);
      },
    });
    await expect(running).rejects.toMatchObject({ kind: 'cancelled' });
    expect(before).toBeGreaterThan(20);
    // Before: each cancelled statement was just one failed probe, and the 3,600 others still ran.
    // Now: a handful at most (a statement that started as the signal came, its savepoint rollback, the
    // final ROLLBACK), refused locally once the connection is dropped; never the thousands left.
    expect(afterAbort).toBeLessThanOrEqual(5);
    expect(await settle(() => backends(url), 3_000)).toBe(0);
  });

  test('SIGTERM to a real process blocked on a lock: the query is cancelled on the server, exit 143', async () => {
    const { url } = await fixture(engine);
    await withClient(url, async (locker) => {
      await locker.query('begin');
      await locker.query('lock table pg_catalog.pg_policy in access exclusive mode');
      const child = spawn(process.execPath, [BIN, '--db-url', url, '--lock-timeout', '60000', '--statement-timeout', '60000', '--no-tui', '-q'], {
        env: { ...process.env, NO_COLOR: '1', CI: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      try {
        const waiting = () => backends(url, "application_name = 'supaudit' and wait_event_type = 'Lock'");
        for (let i = 0; i < 300 && (await waiting()) === 0; i++) await new Promise((r) => setTimeout(r, 50));
        expect(await waiting()).toBe(1);
        const sent = Date.now();
        child.kill('SIGTERM');
        expect(await exited).toBe(143);
        expect(Date.now() - sent).toBeLessThan(5_000);
        expect(stderr).toContain('supaudit: cancelling… (SIGTERM again to quit at once)');
        // Before: the process died at once and the backend went on waiting on the lock.
        expect(await settle(waiting, 3_000)).toBe(0);
      } finally {
        child.kill('SIGKILL');
        await locker.query('rollback');
      }
    });
  });
});

describe('through PgBouncer on its own port, without any flag', () => {
  test('a full audit with --probe --probe-writes --explain leaves a concurrent application client able to write', async () => {
    if (!havePgBouncer()) return;
    const engine = realEnginesOrFail()[0]!;
    const info = cluster(engine);
    const { database } = await fixture(engine);
    // One server connection: the application and supaudit share it, transaction by transaction.
    const bouncer = await startPgBouncer(info.host, info.port, database, info.superUser, info.password, 1);
    bouncers.push(bouncer);
    const pooled = `postgres://${info.superUser}:${encodeURIComponent(info.password)}@127.0.0.1:${bouncer.port}/${database}?sslmode=disable`;
    const app = new pg.Client({ connectionString: pooled, ssl: false });
    app.on('error', () => undefined);
    await app.connect();
    const errors: string[] = [];
    let writes = 0;
    let running = true;
    const writer = (async () => {
      for (let i = 1000; running; i++) {
        try {
          await app.query('insert into public.items (id, label) values ($1, $2)', [i, 'from the app']);
          writes++;
        } catch (error) {
          errors.push((error as Error).message);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      const run = await runCli(['--db-url', pooled, '--schemas', 'public', '--probe', '--probe-writes', '--explain', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
      running = false;
      await writer;
      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout) as Report;
      expect(report.notes.map((n) => n.message)).toEqual(expect.arrayContaining([expect.stringMatching(/^probes ran as anon, authenticated, service_role/)]));
      // After the audit, on the very server connection it used: still writable, nothing left set.
      await app.query('insert into public.items (id, label) values (999999, $1)', ['after the audit']);
      const { rows } = await app.query('show default_transaction_read_only');
      expect(rows[0].default_transaction_read_only).toBe('off');
      expect(errors).toEqual([]);
      expect(writes).toBeGreaterThan(0);
    } finally {
      running = false;
      await app.end().catch(() => undefined);
    }
  });

  test('Ctrl-C through the pooler reaches the server: the blocked query is cancelled (PgBouncer forwards the cancel request)', async () => {
    if (!havePgBouncer()) return;
    const engine = realEnginesOrFail()[0]!;
    const info = cluster(engine);
    const { url, database } = await fixture(engine);
    const bouncer = await startPgBouncer(info.host, info.port, database, info.superUser, info.password, 2);
    bouncers.push(bouncer);
    const pooled = `postgres://${info.superUser}:${encodeURIComponent(info.password)}@127.0.0.1:${bouncer.port}/${database}?sslmode=disable`;
    await withClient(url, async (locker) => {
      await locker.query('begin');
      await locker.query('lock table pg_catalog.pg_policy in access exclusive mode');
      const controller = new AbortController();
      let stderr = '';
      const running = main(['--db-url', pooled, '--lock-timeout', '60000', '--statement-timeout', '60000', '-q'], {
        stdout: () => undefined,
        stderr: (t) => (stderr += t),
        env: { NO_COLOR: '1', CI: 'true' },
        cwd: process.cwd(),
        isTTY: false,
        signal: controller.signal,
      });
      // Through PgBouncer the backend's application_name is PgBouncer's: find it by its wait.
      const waiting = () => backends(url, "wait_event_type = 'Lock'");
      try {
        for (let i = 0; i < 300 && (await waiting()) === 0; i++) await new Promise((r) => setTimeout(r, 50));
        expect(await waiting()).toBe(1);
        const sent = Date.now();
        controller.abort();
        expect(await running).toBe(130);
        expect(Date.now() - sent).toBeLessThan(5_000);
        expect(stderr).toBe('supaudit: cancelled: the running query was stopped and the connection closed\n');
        // Before: pg_cancel_backend got PgBouncer's made-up process id, and the query went on waiting.
        expect(await settle(waiting, 3_000)).toBe(0);
      } finally {
        await locker.query('rollback');
      }
    });
  });
});

describe('signals while the embedded database loads a large seed', () => {
  let project: string;
  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), 'supaudit-big-seed-'));
    mkdirSync(join(project, 'supabase', 'migrations'), { recursive: true });
    writeFileSync(join(project, 'supabase', 'migrations', '20260101000000_big.sql'), 'create table public.big (id bigint primary key, body text);\n');
    // 200,000 INSERTs, about 50 MB: loading them all into PGlite takes minutes.
    const fd = openSync(join(project, 'supabase', 'seed.sql'), 'w');
    const pad = 'x'.repeat(200);
    for (let i = 1; i <= 200_000; i += 1_000) {
      writeSync(fd, Array.from({ length: 1_000 }, (_, k) => `insert into public.big (id, body) values (${i + k}, '${pad}');\n`).join(''));
    }
    closeSync(fd);
  });
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  test.each([
    ['SIGINT', 130, 'Ctrl-C'],
    ['SIGTERM', 143, 'SIGTERM'],
  ] as const)('%s during the load stops it: exit %i with one "cancelled" line, not the minutes the seed takes', async (signal, code, name) => {
    const child = spawn(process.execPath, [BIN, '--migrations', 'supabase/migrations', '--no-tui'], {
      cwd: project,
      env: { ...process.env, NO_COLOR: '1', CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    try {
      for (let i = 0; i < 1_200 && !stderr.includes('supaudit: loading'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(stderr).toBe('supaudit: loading 49 MB of migrations and seed into the embedded database (Ctrl-C stops it)\n');
      // Well into the seed's statements.
      await new Promise((r) => setTimeout(r, 1_000));
      const sent = Date.now();
      child.kill(signal);
      // Before: only SIGKILL stopped it (PGlite ran the whole seed without giving the event loop a turn).
      expect(await exited).toBe(code);
      expect(Date.now() - sent).toBeLessThan(10_000);
      expect(stderr.split('\n').slice(1)).toEqual([
        '',
        `supaudit: cancelling… (${name} again to quit at once)`,
        'supaudit: cancelled: loading the migrations and seed into the embedded database was stopped',
        '',
      ]);
    } finally {
      child.kill('SIGKILL');
    }
  }, 180_000);
});
