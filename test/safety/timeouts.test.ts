/** A locked catalog gives a clear error naming the stage; Ctrl-C cancels the running query and closes the connection. */
import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { freshDatabase, realEnginesOrFail } from '../harness/db.ts';
import { runCli } from '../support/cli.ts';
import { main } from '../../src/cli/main.ts';

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
