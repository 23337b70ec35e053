import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { systemBinDir } from './postgres.ts';
import { clusters, cluster, freshDatabase, runSql, urlOf } from './db.ts';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { loadPglite } from '../support/audit.ts';

async function scalar(url: string, sql: string): Promise<unknown> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Object.values((await client.query(sql)).rows[0] ?? {})[0];
  } finally {
    await client.end();
  }
}

describe('throwaway clusters', () => {
  test('the system engine is the machine binaries, the embedded one PostgreSQL 17', () => {
    const engines = clusters().map((c) => c.engine);
    expect(engines).toContain('embedded');
    if (systemBinDir()) {
      expect(engines).toContain('system');
      const version = execFileSync(join(systemBinDir()!, 'postgres'), ['--version']).toString();
      expect(version).toContain(cluster('system').version);
    }
    expect(cluster('embedded').version).toMatch(/^17\./);
  });

  for (const info of clusters()) {
    test(`${info.engine}: answers with its version, isolates databases, refuses a wrong password`, async () => {
      const a = await freshDatabase(info.engine);
      const b = await freshDatabase(info.engine);
      expect(String(await scalar(a, 'select version()'))).toContain(`PostgreSQL ${info.version}`);
      await runSql(a, 'create table only_in_a (id int)');
      expect(await scalar(a, "select to_regclass('only_in_a') is not null")).toBe(true);
      expect(await scalar(b, "select to_regclass('only_in_a') is not null")).toBe(false);
      const wrong = new pg.Client({ connectionString: urlOf(info, 'postgres', 'postgres', 'not-the-password') });
      wrong.on('error', () => undefined);
      await expect(wrong.connect()).rejects.toMatchObject({ code: '28P01' });
      await wrong.end().catch(() => undefined);
    });
  }

  test('PGlite is PostgreSQL 18 and gets the Supabase base', async () => {
    const session = await loadPglite('select 1');
    try {
      const [row] = await session.query<{ v: string; anon: boolean }>("select version() as v, exists (select 1 from pg_roles where rolname = 'anon') as anon");
      expect(row!.v).toMatch(/^PostgreSQL 18\./);
      expect(row!.anon).toBe(true);
    } finally {
      await session.close();
    }
  });
});
