/**
 * Bad connections against real servers and protocol-speaking fakes: each gives one clear line with
 * the likely fix, exit code 2, no stack trace and no password.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { cluster, realEnginesOrFail, urlOf } from '../harness/db.ts';
import { runCli } from '../support/cli.ts';

function expectOneLineError(stderr: string, pattern: RegExp): void {
  const lines = stderr.trimEnd().split('\n').filter((l) => !l.startsWith('supaudit: warning:'));
  expect(lines[0]).toMatch(/^supaudit: error: /);
  expect(lines[0]).toMatch(pattern);
  expect(lines.length).toBeLessThanOrEqual(2);
  if (lines[1] !== undefined) expect(lines[1]).toMatch(/^  hint: /);
  expect(stderr).not.toMatch(/\n\s+at /);
}

const env = {};
const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A fake Postgres server: `onMessage` sees each client message (first one: SSLRequest or StartupMessage). */
async function fakeServer(onMessage: (socket: Socket, data: Buffer, index: number) => void): Promise<number> {
  const server = createServer((socket) => {
    let index = 0;
    socket.on('data', (data) => onMessage(socket, data, index++));
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'ascii');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

function errorResponse(code: string, text: string): Buffer {
  const field = (t: string, v: string) => Buffer.concat([Buffer.from(t, 'ascii'), Buffer.from(v + '\0', 'utf8')]);
  return message('E', Buffer.concat([field('S', 'FATAL'), field('V', 'FATAL'), field('C', code), field('M', text), Buffer.from([0])]));
}

/** AuthenticationOk, BackendKeyData, ReadyForQuery(idle). */
function readyForQuery(): Buffer {
  const auth = Buffer.alloc(4);
  const key = Buffer.alloc(8);
  key.writeInt32BE(4242, 0);
  key.writeInt32BE(1, 4);
  return Buffer.concat([message('R', auth), message('K', key), message('Z', Buffer.from('I', 'ascii'))]);
}

const isSslRequest = (data: Buffer) => data.length === 8 && data.readInt32BE(4) === 80877103;

describe('bad connections', () => {
  test.each(realEnginesOrFail())('a wrong password on %s', async (engine) => {
    const info = cluster(engine);
    const r = await runCli(['--db-url', urlOf(info, 'postgres', info.superUser, 'not-the-pw-9431')], { env });
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, new RegExp(`password authentication failed for user "${info.superUser}"`));
    expect(r.stderr + r.stdout).not.toContain('not-the-pw-9431');
  });

  test.each(realEnginesOrFail())('a database that does not exist on %s', async (engine) => {
    const info = cluster(engine);
    const r = await runCli(['--db-url', urlOf(info, 'no_such_db_x')], { env });
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /database "no_such_db_x" does not exist on 127\.0\.0\.1:\d+/);
    expect(r.stderr).toContain('hint: check the database name');
  });

  test.each(realEnginesOrFail())('TLS required by the URL, not offered by the server (%s)', async (engine) => {
    const info = cluster(engine);
    const r = await runCli(['--db-url', `${urlOf(info, 'postgres')}?sslmode=require`], { env });
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, /the server at 127\.0\.0\.1:\d+ does not support TLS/);
    expect(r.stderr).toContain('sslmode=disable');
  });

  test('TLS required by the server, not used by the URL', async () => {
    const port = await fakeServer((socket, data) => {
      if (isSslRequest(data)) socket.write('N');
      else socket.end(errorResponse('28000', 'no pg_hba.conf entry for host "127.0.0.1", user "postgres", database "postgres", no encryption'));
    });
    const r = await runCli(['--db-url', `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=disable`], { env });
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, new RegExp(`the server at 127\\.0\\.0\\.1:${port} requires TLS`));
    expect(r.stderr).toContain('sslmode=require');
  });

  test('the server closes the connection in the middle of the audit', async () => {
    // Start-up and the session's SET succeed; the first catalog query finds the connection gone.
    let queries = 0;
    const port = await fakeServer((socket, data) => {
      if (isSslRequest(data)) socket.write('N');
      else if (data[0] !== 0x51 /* Q */ && data[0] !== 0x50 /* P */) socket.write(readyForQuery());
      else if (queries++ === 0) socket.write(Buffer.concat([message('C', Buffer.from('SET\0')), message('Z', Buffer.from('I', 'ascii'))]));
      else socket.destroy();
    });
    const r = await runCli(['--db-url', `postgres://postgres:pw-mid-audit@127.0.0.1:${port}/postgres`], { env });
    expect(r.code).toBe(2);
    expect(queries).toBeGreaterThan(1);
    expectOneLineError(r.stderr, new RegExp(`the server at 127\\.0\\.0\\.1:${port} closed the connection during the audit`));
    expect(r.stderr + r.stdout).not.toContain('pw-mid-audit');
  });
});
