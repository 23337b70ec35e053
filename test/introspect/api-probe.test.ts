import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { introspect } from '../../src/introspect/index.ts';
import { runApiProbe, type ApiProbeResult } from '../../src/introspect/api-probe.ts';
import { effectGate, readEffectCatalog, type EffectGate } from '../../src/introspect/effects.ts';
import { connectPg } from '../../src/introspect/targets/pg.ts';
import { createContext } from '../../src/engine/context.ts';
import { redact } from '../../src/model/redact.ts';
import type { Snapshot } from '../../src/model/snapshot.ts';
import { initPolicyParser } from '../../src/policy/index.ts';
import { blastRadius } from '../../src/score/blast-radius.ts';
import { compareApi } from '../../src/score/probe-compare.ts';
import { freshDatabase, realEnginesOrFail, runSql } from '../harness/db.ts';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { signJwt, startPostgrest, type RunningApi } from '../support/postgrest.ts';
import { runCli } from '../support/cli.ts';
import type { Report } from '../../src/model/report.ts';

const USER = '11111111-1111-4111-8111-111111111111';
const FIXTURE = `
insert into auth.users (id, email) values ('${USER}', 'probe-user@example.com');
create table public.open_prices (id int primary key, price numeric);
insert into public.open_prices select g, g * 1.5 from generate_series(1, 42) g;
create table public.notes (id int primary key, user_id uuid not null, body text);
alter table public.notes enable row level security;
create policy "own notes" on public.notes for select to authenticated using ((select auth.uid()) = user_id);
insert into public.notes select g, case when g <= 3 then '${USER}'::uuid else gen_random_uuid() end, 'n' from generate_series(1, 20) g;
create table public.locked (id int primary key);
revoke all on public.locked from anon, authenticated;
insert into public.locked values (1);
create function public.price_count() returns bigint language sql stable as $$ select count(*) from public.open_prices $$;
create function public.wipe() returns void language sql as $$ delete from public.open_prices $$;
-- Declared STABLE, yet takes a session advisory lock that would stay with PostgREST's connection.
create function public.held_count() returns bigint language sql stable as $$ select count(*) from (select pg_advisory_lock(4242)) s $$;
`;

describe('API probe against a real PostgREST', () => {
  let api: RunningApi;
  let snapshot: Snapshot;
  let results: ApiProbeResult[];
  let dbUrl: string;
  const anonKey = signJwt({ role: 'anon' });
  const userJwt = signJwt({ role: 'authenticated', sub: USER, aud: 'authenticated' });

  beforeAll(async () => {
    const engine = realEnginesOrFail()[0]!;
    const url = (dbUrl = await freshDatabase(engine));
    await runSql(url, readFileSync(new URL('../../src/introspect/targets/supabase-base.sql', import.meta.url), 'utf8'));
    await runSql(url, FIXTURE);
    api = await startPostgrest(url);
    const session = await connectPg(url);
    let gate: EffectGate;
    try {
      snapshot = await introspect(session, { exposedSchemas: ['public'] });
      gate = effectGate(snapshot, await readEffectCatalog(session));
    } finally {
      await session.close();
    }
    await initPolicyParser();
    results = await runApiProbe(snapshot, { url: api.url, anonKey, userJwt, gate: gate! });
  }, 120_000);
  afterAll(async () => {
    await api?.stop();
  });

  test('anon sees every row of a table without RLS and none behind an owner policy', () => {
    const anon = results.find((r) => r.as === 'anon')!;
    expect(anon.tables.find((t) => t.name === 'open_prices')).toMatchObject({ count: 42, status: 200 });
    expect(anon.tables.find((t) => t.name === 'notes')).toMatchObject({ count: 0 });
    const locked = anon.tables.find((t) => t.name === 'locked')!;
    expect(locked.count).toBeNull();
    expect(locked.status).toBe(401);
  });

  test('a signed-in user sees exactly their own rows', () => {
    const user = results.find((r) => r.as === 'user')!;
    expect(user.tables.find((t) => t.name === 'notes')).toMatchObject({ count: 3 });
  });

  test('only read-only functions are called, and they answer; one whose body outlives the request is not called', async () => {
    const anon = results.find((r) => r.as === 'anon')!;
    expect(anon.functions.map((f) => f.name)).toEqual(['held_count', 'price_count']);
    expect(anon.functions.find((f) => f.name === 'price_count')).toMatchObject({ ok: true, status: 200 });
    expect(anon.functions.find((f) => f.name === 'held_count')).toEqual({
      schema: 'public',
      name: 'held_count',
      status: 0,
      ok: false,
      error: 'not attempted: SELECT public.held_count() calls pg_advisory_lock(), which takes a session advisory lock (it outlives the transaction)',
    });
    // The API commits what it runs: had it been called, PostgREST's connection would hold the lock now.
    const client = new pg.Client({ connectionString: dbUrl, ssl: false });
    await client.connect();
    try {
      const { rows } = await client.query("select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = 4242");
      expect(rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  });

  test('storage is reported as not reachable instead of failing the probe', () => {
    const anon = results.find((r) => r.as === 'anon')!;
    expect(anon.buckets).toBeNull();
    expect(anon.bucketsError).toBeTruthy();
  });

  test('the API agrees with the static model, and keys never appear in the output', () => {
    expect(compareApi(blastRadius(createContext(snapshot)), results)).toEqual([]);
    const text = redact(JSON.stringify(results));
    expect(text).not.toContain(anonKey);
    expect(text).not.toContain(userJwt);
  });
});

describe('API probe of a table slower than the role\'s statement_timeout', () => {
  test('the request is counted as inconclusive, never as agreement', async () => {
    const url = await freshDatabase(realEnginesOrFail()[0]!);
    const database = new URL(url).pathname.slice(1);
    await runSql(url, readFileSync(new URL('../../src/introspect/targets/supabase-base.sql', import.meta.url), 'utf8'));
    // As on Supabase, where anon's statement_timeout is 3 s (here set on the database PostgREST connects to).
    await runSql(
      url,
      `create function public.slow_check() returns boolean language plpgsql volatile as $$ begin perform pg_sleep(5); return true; end $$;
       create table public.slow (id int primary key);
       insert into public.slow values (1);
       alter table public.slow enable row level security;
       create policy slow_read on public.slow for select to anon using (public.slow_check());
       create table public.open_prices (id int primary key);
       insert into public.open_prices values (1), (2), (3);
       grant select on public.slow, public.open_prices to anon;
       alter database "${database}" set statement_timeout = '2s';`,
    );
    const api = await startPostgrest(url);
    try {
      // No lab: its copy would read the 5 s policy as every persona, and says nothing of the API probe.
      const run = await runCli(['--db-url', url, '--no-lab', '--schemas', 'public', '--api-url', api.url, '--anon-key', signJwt({ role: 'anon' }), '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
      expect(run.code, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout) as Report;
      const tables = (report.blastRadius.find((b) => b.role === 'anon')!.probe as { api: ApiProbeResult }).api.tables;
      // A HEAD request's error has no body, so no SQLSTATE: known only as a server error, no answer.
      expect(tables.find((t) => t.name === 'slow')).toEqual({ schema: 'public', name: 'slow', count: null, status: 500, error: 'HTTP 500' });
      expect(tables.find((t) => t.name === 'open_prices')).toMatchObject({ count: 3, status: 200 });
      const notes = report.notes.filter((n) => n.area === 'API probe').map((n) => n.message);
      expect(notes[0]).toBe('REST API asked as anon: 1 of 1 answered requests agree with the static model; 1 inconclusive (no answer: a timeout or a server error), not compared');
      expect(notes.join('\n')).not.toMatch(/\b0 disagreements?\b/);
    } finally {
      await api.stop();
    }
  }, 120_000);
});
