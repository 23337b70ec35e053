/** A locked catalog gives a clear error naming the stage; Ctrl-C cancels the running query and closes the connection. */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { freshDatabase, realEnginesOrFail, runSql } from '../harness/db.ts';
import { runCli } from '../support/cli.ts';
import { main } from '../../src/cli/main.ts';
import type { Report } from '../../src/model/report.ts';

const BASE = readFileSync(new URL('../../src/introspect/targets/supabase-base.sql', import.meta.url), 'utf8');

/** A table whose policy takes 10 s per row: every probe of it as anon or authenticated hits statement_timeout. */
const SLOW_POLICY = `
create function public.slow_check() returns boolean language plpgsql volatile as $$ begin perform pg_sleep(10); return true; end $$;
create table public.slow (id int primary key);
insert into public.slow values (1);
alter table public.slow enable row level security;
create policy slow_read on public.slow for select to anon, authenticated using (public.slow_check());
create table public.open_notes (id int primary key);
insert into public.open_notes values (1), (2);
grant select on public.slow, public.open_notes to anon, authenticated;
`;

type ProbeJson = { answered: number; inconclusive: number; timedOut: number; tables: { name: string; outcomes: { command: string; result: string; error?: string; timedOut?: true }[] }[] };

async function holdCatalogLock(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('begin');
  await client.query('lock table pg_catalog.pg_policy in access exclusive mode');
  return client;
}

async function supauditConnections(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(`select count(*)::int as n from pg_stat_activity where application_name = 'supaudit' and pid <> pg_backend_pid()`);
    return rows[0].n as number;
  } finally {
    await client.end();
  }
}

/**
 * The client has closed its connections when the CLI returns; the server drops the backend from
 * pg_stat_activity a moment later (asynchronously, slower under load): wait up to 5 s for it.
 */
async function supauditConnectionsSettled(url: string): Promise<number> {
  let n = await supauditConnections(url);
  for (let i = 0; i < 100 && n > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    n = await supauditConnections(url);
  }
  return n;
}

describe.each(realEnginesOrFail())('timeouts and cancellation (%s)', (engine) => {
  test('a catalog locked by another session: lock_timeout, one line naming the stage, exit 2', async () => {
    const url = await freshDatabase(engine);
    const locker = await holdCatalogLock(url);
    try {
      const r = await runCli(['--db-url', url, '--lock-timeout', '300'], { env: {} });
      expect(r.code).toBe(2);
      const lines = r.stderr.trimEnd().split('\n').filter((l) => !l.includes('warning'));
      expect(lines[0]).toBe('supaudit: error: reading policies failed: canceling statement due to lock timeout (SQLSTATE 55P03)');
      expect(lines[1]).toBe('  hint: a lock on the catalog was held by another session; retry, or raise --lock-timeout');
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
    expect(await supauditConnectionsSettled(url)).toBe(0);
  });

  test('a slow catalog: statement_timeout, one line naming the stage', async () => {
    const url = await freshDatabase(engine);
    const locker = await holdCatalogLock(url);
    try {
      // The lock wait counts against statement_timeout too when it is the smaller of the two.
      const r = await runCli(['--db-url', url, '--lock-timeout', '60000', '--statement-timeout', '300'], { env: {} });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('supaudit: error: reading policies failed: canceling statement due to statement timeout (SQLSTATE 57014)');
      expect(r.stderr).toContain('hint: the catalog query hit statement_timeout; raise it with --statement-timeout');
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
  });

  test('probes stopped by statement_timeout are counted as inconclusive, never as agreement ("0 disagreements")', async () => {
    const url = await freshDatabase(engine);
    await runSql(url, BASE);
    await runSql(url, SLOW_POLICY);
    // --no-lab: the lab's copy would run the sleeping policy as each persona, for its own minutes.
    const r = await runCli(['--db-url', url, '--schemas', 'public', '--probe', '--no-lab', '--statement-timeout', '2000', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    const probe = (role: string) => report.blastRadius.find((b) => b.role === role)!.probe as ProbeJson;
    for (const role of ['anon', 'authenticated']) {
      const slow = probe(role).tables.find((t) => t.name === 'slow')!;
      expect(slow.outcomes, role).toEqual([{ command: 'select', result: 'inconclusive', error: 'statement timeout or cancel (SQLSTATE 57014)', timedOut: true }]);
      const open = probe(role).tables.find((t) => t.name === 'open_notes')!;
      expect(open.outcomes, role).toEqual([{ command: 'select', result: 'allowed', rows: 2 }]);
      expect([probe(role).answered, probe(role).inconclusive, probe(role).timedOut], role).toEqual([1, 1, 1]);
    }
    // service_role reads past RLS: both of its probes were answered.
    expect([probe('service_role').answered, probe('service_role').inconclusive]).toEqual([2, 0]);
    const notes = report.notes.filter((n) => n.area === 'probes').map((n) => n.message);
    expect(notes).toContain(
      'probes ran as anon, authenticated, service_role in a rolled-back transaction: 4 of 4 answered probes agree with the static model; 2 inconclusive, not compared (2 timed out: statement_timeout or lock_timeout)',
    );
    expect(notes.join('\n')).not.toMatch(/\b0 disagreements?\b/);
  });

  test('Ctrl-C (abort) cancels the blocked query, closes the connection and exits 130', async () => {
    const url = await freshDatabase(engine);
    const locker = await holdCatalogLock(url);
    const controller = new AbortController();
    let stderr = '';
    try {
      const running = main(['--db-url', url, '--lock-timeout', '60000', '--statement-timeout', '60000'], {
        stdout: () => undefined,
        stderr: (t) => (stderr += t),
        env: { NO_COLOR: '1' },
        cwd: process.cwd(),
        isTTY: false,
        signal: controller.signal,
      });
      // Wait until the audit is blocked on the lock, then "press Ctrl-C".
      for (let i = 0; i < 100 && (await supauditConnections(url)) === 0; i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      const started = Date.now();
      controller.abort();
      expect(await running).toBe(130);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(stderr.split('\n').filter((l) => l && !l.includes('warning'))).toEqual(['supaudit: cancelled: the running query was stopped and the connection closed']);
    } finally {
      await locker.query('rollback');
      await locker.end();
    }
    expect(await supauditConnectionsSettled(url)).toBe(0);
  });
});
