import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { binaryVersion, embeddedBinDir, newPglite, selectedEngines, systemBinDir, type ClusterEngine, type ClusterInfo } from './postgres.ts';
import { cluster, clusters, engines, freshDatabase, openFreshDatabase, runSql, urlOf, withClient } from './db.ts';

/** The major each engine must report, read from its binaries (never hard-coded for `system`). */
function expectedMajor(engine: ClusterEngine): number {
  const bin = engine === 'system' ? systemBinDir() : embeddedBinDir();
  return Number(binaryVersion(bin!).split('.')[0]);
}

async function scalar(url: string, sql: string, params: unknown[] = []): Promise<unknown> {
  return withClient(url, async (c) => Object.values((await c.query(sql, params)).rows[0] ?? {})[0]);
}

async function connectError(url: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: url, ssl: false });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe('global setup', () => {
  test('started one cluster per selected engine', () => {
    expect(engines().sort()).toEqual(selectedEngines().sort());
    expect(new Set(clusters().map((c) => c.port)).size).toBe(clusters().length);
    expect(inject('pgSetupMs')).toBeGreaterThanOrEqual(0);
  });

  test('the system engine is the newest /usr/lib/postgresql binaries, the embedded one the npm package', () => {
    if (engines().includes('system')) {
      expect(cluster('system').major).toBe(expectedMajor('system'));
      expect(cluster('system').version).toBe(binaryVersion(systemBinDir()!));
    }
    if (engines().includes('embedded')) {
      const pkg = JSON.parse(readFileSync(join(embeddedBinDir()!, '..', '..', 'package.json'), 'utf8')) as { version: string };
      expect(cluster('embedded').major).toBe(Number(pkg.version.split('.')[0]));
      expect(cluster('embedded').major).toBe(expectedMajor('embedded'));
    }
  });
});

describe.each(clusters().map((c): [ClusterEngine, ClusterInfo] => [c.engine, c]))('real server: %s', (engine, info) => {
  const opened: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    await Promise.all(opened.map((d) => d.close()));
  });

  test('answers select version() with the major of its binaries', async () => {
    const version = String(await scalar(info.adminUrl, 'select version()'));
    expect(version).toMatch(new RegExp(`^PostgreSQL ${info.version.replaceAll('.', '\\.')}\\b`));
    expect(Number(await scalar(info.adminUrl, "select current_setting('server_version_num')::int / 10000"))).toBe(expectedMajor(engine));
  });

  test('listens on 127.0.0.1 only, with scram-sha-256 everywhere and a Unix socket in its temp dir', async () => {
    await withClient(info.adminUrl, async (c) => {
      const settings = (
        await c.query<{ name: string; setting: string }>(
          "select name, setting from pg_settings where name in ('listen_addresses', 'password_encryption', 'unix_socket_directories', 'fsync', 'max_connections')",
        )
      ).rows;
      const byName = Object.fromEntries(settings.map((r) => [r.name, r.setting]));
      expect(byName['listen_addresses']).toBe('127.0.0.1');
      expect(byName['password_encryption']).toBe('scram-sha-256');
      expect(byName['fsync']).toBe('off');
      expect(byName['unix_socket_directories']).toMatch(new RegExp(`supaudit-pg-${engine}-`));
      const methods = (await c.query<{ auth_method: string }>('select distinct auth_method from pg_hba_file_rules')).rows.map((r) => r.auth_method);
      expect(methods).toEqual(['scram-sha-256']);
    });
  });

  test('the server does not run as root', async () => {
    // Read the backend's status while its connection is open: a closed one's process may be gone.
    const uid = await withClient(info.adminUrl, async (c) => {
      const pid = Number((await c.query('select pg_backend_pid() as pid')).rows[0].pid);
      const status = `/proc/${pid}/status`;
      if (!existsSync(status)) return 'not linux';
      return /^Uid:\s+(\d+)/m.exec(readFileSync(status, 'utf8'))?.[1];
    });
    if (uid === 'not linux') return; // not Linux: nothing to look at
    expect(uid).toBeDefined();
    expect(Number(uid)).not.toBe(0);
  });

  test('databases created for different tests are isolated', async () => {
    const a = await openFreshDatabase(engine);
    opened.push(a);
    const b = await freshDatabase(engine);
    expect(a.url).not.toBe(b);
    await a.client.query('create table only_in_a (id int primary key); insert into only_in_a values (1)');
    expect((await a.client.query("select to_regclass('public.only_in_a') is not null as present")).rows[0].present).toBe(true);
    expect(await scalar(b, "select to_regclass('public.only_in_a') is not null")).toBe(false);
    expect(await scalar(b, "select count(*)::int from pg_class where relnamespace = 'public'::regnamespace")).toBe(0);
  });

  test('closing a fresh database drops it', async () => {
    const db = await openFreshDatabase(engine);
    expect(await scalar(info.adminUrl, 'select count(*)::int from pg_database where datname = $1', [db.name])).toBe(1);
    await db.close();
    expect(await scalar(info.adminUrl, 'select count(*)::int from pg_database where datname = $1', [db.name])).toBe(0);
  });

  test('a wrong password is refused with SQLSTATE 28P01', async () => {
    const wrong = await connectError(urlOf(info, 'postgres', info.superUser, `${info.password}x`));
    expect(wrong).toMatchObject({ code: '28P01' });
    const unknownUser = await connectError(urlOf(info, 'postgres', 'no_such_user', info.password));
    expect(unknownUser).toMatchObject({ code: '28P01' });
  });

  test('the superuser can create roles, which then log in with their password', async () => {
    const role = `r_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    const db = await freshDatabase(engine);
    await runSql(info.adminUrl, `create role ${role} login password 'pw-${role}' nosuperuser`);
    try {
      const who = await withClient(urlOf(info, new URL(db).pathname.slice(1), role, `pw-${role}`), async (c) =>
        (await c.query<{ u: string; su: string }>("select current_user as u, current_setting('is_superuser') as su")).rows[0],
      );
      expect(who).toEqual({ u: role, su: 'off' });
      expect(await connectError(urlOf(info, 'postgres', role, 'nope'))).toMatchObject({ code: '28P01' });
    } finally {
      await runSql(info.adminUrl, `drop role if exists ${role}`);
    }
  });

  test('cluster-wide DDL sent from parallel databases does not race (roles are shared)', async () => {
    const role = `shared_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    const sql = `do $$ begin
        if not exists (select 1 from pg_roles where rolname = '${role}') then create role ${role}; end if;
      end $$;
      alter role ${role} nologin noinherit;
      comment on role ${role} is 'made by every database';`;
    const dbs = await Promise.all([1, 2, 3, 4].map(() => freshDatabase(engine)));
    try {
      await Promise.all(dbs.flatMap((db) => [runSql(db, sql), runSql(db, sql)]));
      expect(await scalar(info.adminUrl, 'select count(*)::int from pg_roles where rolname = $1', [role])).toBe(1);
    } finally {
      await runSql(info.adminUrl, `drop role if exists ${role}`);
    }
  });
});

describe('PGlite', () => {
  test('is PostgreSQL 18, in-process, with isolated instances and roles', async () => {
    const a = await newPglite();
    const b = await newPglite();
    try {
      const [row] = (await a.query<{ v: string; n: number }>("select version() as v, current_setting('server_version_num')::int / 10000 as n")).rows;
      expect(row!.v).toMatch(/^PostgreSQL 18\./);
      expect(row!.n).toBe(18);
      await a.exec('create table only_in_a (id int); create role pglite_role nologin');
      expect((await b.query<{ p: boolean }>("select to_regclass('public.only_in_a') is not null as p")).rows[0]!.p).toBe(false);
      expect((await a.query<{ n: number }>("select count(*)::int as n from pg_roles where rolname = 'pglite_role'")).rows[0]!.n).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
