/**
 * Through a pooler in transaction mode (PgBouncer, as Supavisor on port 6543): every statement may
 * land on another server connection, so the audit must rely on no session state and no named
 * prepared statements. The same database audited directly and through PgBouncer gives the same
 * findings.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, test } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { cluster, freshDatabase, realEnginesOrFail, runSql } from '../harness/db.ts';
import { runCli } from '../support/cli.ts';
import { havePgBouncer, startPgBouncer, type PgBouncer } from '../support/pgbouncer.ts';
import type { Report } from '../../src/model/report.ts';

const BASE = new URL('../../src/introspect/targets/supabase-base.sql', import.meta.url);
const FIXTURE = `
create table public.profiles (id uuid primary key, email text, phone text);
create table public.notes (id bigint primary key, user_id uuid not null, body text);
alter table public.notes enable row level security;
create policy notes_own on public.notes for select using (auth.uid() = user_id);
`;

const bouncers: PgBouncer[] = [];
afterAll(() => {
  for (const b of bouncers) b.stop();
});

/** A fresh database on the first real engine with the Supabase base, FIXTURE and `extra` loaded. */
async function fixtureDatabase(extra = '') {
  const engine = realEnginesOrFail()[0]!;
  const url = await freshDatabase(engine);
  await runSql(url, readFileSync(BASE, 'utf8'));
  await runSql(url, FIXTURE + extra);
  return { info: cluster(engine), url, database: new URL(url).pathname.slice(1) };
}

describe('through PgBouncer in transaction mode', () => {
  test('an audit gives the same findings as a direct connection', async () => {
    if (!havePgBouncer()) return;
    const { info, url, database } = await fixtureDatabase();
    const bouncer = await startPgBouncer(info.host, info.port, database, info.superUser, info.password);
    bouncers.push(bouncer);
    const listen = bouncer.port;
    const pooled = `postgres://${info.superUser}:${encodeURIComponent(info.password)}@127.0.0.1:${listen}/${database}?pgbouncer=true`;
    const args = ['--schemas', 'public', '-f', 'json', '-o', '-', '-q'];
    const direct = await runCli(['--db-url', url, ...args], { env: {} });
    const through = await runCli(['--db-url', pooled, ...args], { env: {} });
    expect(direct.code).toBe(0);
    expect(through.stderr).toBe('supaudit: warning: a password on the command line lands in shell history; prefer SUPABASE_DB_URL=… in the environment\n');
    expect(through.code).toBe(0);
    const fingerprints = (stdout: string) => (JSON.parse(stdout) as Report).findings.map((f) => f.fingerprint);
    expect(fingerprints(through.stdout)).toEqual(fingerprints(direct.stdout));
    expect(fingerprints(through.stdout)).toContain('rls_disabled_in_public:public.profiles');
    expect(fingerprints(through.stdout)).toContain('auth_rls_initplan:public.notes.notes_own');
  });
});

describe('supaudit load behind a pooler that is full', () => {
  test('PgBouncer with 12 client slots: load backs off at the refusal, gives half back, measures and says what concurrency it measured', async () => {
    if (!havePgBouncer()) return;
    const { info, database } = await fixtureDatabase(`
      insert into public.notes select g, gen_random_uuid(), 'note ' || g from generate_series(1, 200) g;
      grant select on public.notes, public.profiles to anon, authenticated;
      analyze;`);
    // 12 client connections at most (what a small pooler tier allows); 4 server connections behind them.
    const bouncer = await startPgBouncer(info.host, info.port, database, info.superUser, info.password, 4, { max_client_conn: 12, admin_users: info.superUser });
    bouncers.push(bouncer);
    const pooled = (db: string) => `postgres://${info.superUser}:${encodeURIComponent(info.password)}@127.0.0.1:${bouncer.port}/${db}?sslmode=disable`;
    // Once the measurement runs, an application still gets in: it asks PgBouncer who is connected.
    let clientsDuringLoad: Promise<number> | undefined;
    const countClients = async () => {
      const admin = new pg.Client({ connectionString: pooled('pgbouncer'), ssl: false });
      admin.on('error', () => undefined);
      await admin.connect();
      try {
        const { rows } = await admin.query('SHOW CLIENTS');
        return rows.filter((r: { database: string }) => r.database === database).length;
      } finally {
        await admin.end().catch(() => undefined);
      }
    };
    let stdout = '';
    let stderr = '';
    const code = await main(
      ['load', '--db-url', pooled(database), '--schemas', 'public', '--tables', 'notes', '--concurrency', '1,10,50', '--samples', '20', '--duration', '0.3', '-f', 'json', '-o', '-'],
      {
        stdout: (t) => (stdout += t),
        stderr: (t) => {
          stderr += t;
          if (t.startsWith('supaudit: load ') && !t.startsWith('supaudit: load: ')) clientsDuringLoad ??= countClients();
        },
        env: { NO_COLOR: '1', CI: 'true' },
        cwd: process.cwd(),
        isTTY: false,
      },
    );
    // Before: exit 2, "could not connect to 127.0.0.1:…: no more connections allowed (max_client_conn)", no measurement.
    expect(stderr).not.toMatch(/error/);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as Report;
    // 12 slots: the audit's connection and 11 more were accepted, the 13th refused; 6 kept.
    expect(report.load!.concurrency).toEqual([1, 6]);
    const notes = report.notes.filter((n) => n.area === 'load').map((n) => n.message);
    expect(notes).toContain(
      'connection 13 was refused (no more connections allowed (max_client_conn)): measured at most 6 clients, half the 12 connections the server or pooler allowed, so the application keeps the rest; asked for 1, 10, 50, measured 1, 6',
    );
    const rows = report.load!.tables.filter((t) => t.name === 'notes');
    expect(new Set(rows.map((r) => r.concurrency))).toEqual(new Set([1, 6]));
    for (const r of rows) {
      expect(r.samples, `${r.shape} ${r.role} ${r.concurrency}`).toBeGreaterThan(0);
      expect(r.errors).toBe(0);
    }
    // During the measurement: the load's 6 clients, and this one got in beside them.
    expect(await clientsDuringLoad).toBe(6);
    // Afterwards nothing of supaudit's is left connected to the pooler.
    expect(await countClients()).toBe(0);
  }, 180_000);
});
