/**
 * Through a pooler in transaction mode (PgBouncer, as Supavisor on port 6543): every statement may
 * land on another server connection, so the audit must rely on no session state and no named
 * prepared statements. The same database audited directly and through PgBouncer gives the same
 * findings.
 */
import { afterAll, describe, expect, test } from 'vitest';
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

describe('through PgBouncer in transaction mode', () => {
  test('an audit gives the same findings as a direct connection', async () => {
    if (!havePgBouncer()) return;
    const engine = realEnginesOrFail()[0]!;
    const info = cluster(engine);
    const url = await freshDatabase(engine);
    const database = new URL(url).pathname.slice(1);
    await runSql(url, (await import('node:fs')).readFileSync(BASE, 'utf8'));
    await runSql(url, FIXTURE);
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
