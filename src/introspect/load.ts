/**
 * `supaudit load`: the request shapes a supabase-js client sends through PostgREST, run as real
 * users (claims built from auth.users, as PostgREST sets them) and as anon, at a concurrency sweep,
 * next to the same statements with RLS bypassed. Every request is its own READ ONLY transaction with
 * statement_timeout, rolled back. Bounded per cell by time and by sample count; Ctrl-C stops it.
 *
 * Only on a throwaway embedded database (`applyFixes`) are the fixes of the findings that explain a
 * slow table applied (DDL), and the table measured again.
 */
import { randomUUID } from 'node:crypto';
import { qualified, quoteIdent } from '../model/ident.ts';
import type { LoadRealtimeRow, LoadRow, LoadShape } from '../model/report.ts';
import type { Relation, Snapshot } from '../model/snapshot.ts';
import { percentile } from '../score/load.ts';
import { UserError } from '../model/errors.ts';
import { ConnectionLimitError, describePgErrorSafely } from './errors.ts';
import { throwIfCancelled, type Session } from './session.ts';

export interface LoadTable {
  readonly relation: Relation;
  /** Roles that hold SELECT on it (of anon, authenticated). */
  readonly roles: readonly ('anon' | 'authenticated')[];
  /** Single-column primary key and its type, for `by_pk`. */
  readonly pk: { readonly column: string; readonly type: string } | null;
  /** The column tying a row to its user, for `by_owner`. */
  readonly owner: string | null;
  /** Findings (fingerprints) on this table that explain RLS cost, and their fix SQL. */
  readonly findings: readonly string[];
  readonly fixes: readonly string[];
}

export interface LoadOptions {
  readonly concurrency: readonly number[];
  /** Upper bound of one cell (table × shape × role × concurrency). */
  readonly durationMs: number;
  /** Upper bound of samples in one cell. */
  readonly maxSamples: number;
  readonly sloMs: number;
  readonly statementTimeoutMs: number;
  readonly lockTimeoutMs: number;
  /**
   * statement_timeout of each measured request: a request 10× over the SLO is slow enough to report,
   * and stopping it there bounds what the run costs the server.
   */
  readonly timeoutMs: number;
  /** Rows a `list` request asks for (PostgREST's `limit`). */
  readonly pageSize?: number;
  /** Embedded targets only: apply each slow table's fixes and measure it again. */
  readonly applyFixes: boolean;
  /** Further connections to the same database (live targets): without it, one client. */
  readonly connect?: () => Promise<Session>;
  readonly signal?: AbortSignal;
  readonly onProgress?: (text: string) => void;
  /** Told once, before the first request, what will run and for how long at most. */
  readonly onPlan?: (text: string) => void;
  /** Realtime: the published tables and the subscribers assumed (or counted) for each. */
  readonly realtime?: readonly { readonly relation: Relation; readonly pk: LoadTable['pk']; readonly subscribers: number }[];
}

export interface LoadRun {
  readonly rows: LoadRow[];
  readonly realtime: LoadRealtimeRow[];
  readonly users: number;
  readonly concurrency: number[];
  readonly notes: string[];
  readonly durationMs: number;
}

interface Claims {
  readonly id: string;
  readonly json: string;
}

interface Request {
  readonly sql: string;
  readonly params: (user: Claims, i: number) => unknown[];
}

/** The statement PostgREST sends for a GET: the rows aggregated to JSON in one query. */
function wrap(inner: string): string {
  return `SELECT coalesce(json_agg(_postgrest_t), '[]') AS body FROM (${inner}) _postgrest_t`;
}

function requests(table: LoadTable, pkValues: readonly string[], pageSize: number): Map<LoadShape, Request> {
  const t = qualified(table.relation.schema, table.relation.name);
  const out = new Map<LoadShape, Request>();
  out.set('list', { sql: wrap(`SELECT * FROM ${t} LIMIT ${pageSize}`), params: () => [] });
  if (table.pk && pkValues.length > 0) {
    const { column, type } = table.pk;
    out.set('by_pk', { sql: wrap(`SELECT * FROM ${t} WHERE ${quoteIdent(column)} = $1::${type}`), params: (_u, i) => [pkValues[i % pkValues.length]] });
  }
  if (table.owner) {
    out.set('by_owner', { sql: wrap(`SELECT * FROM ${t} WHERE ${quoteIdent(table.owner)} = $1::uuid LIMIT ${pageSize}`), params: (u) => [u.id] });
  }
  // Prefer: count=exact
  out.set('count', { sql: `SELECT count(*) AS total FROM ${t}`, params: () => [] });
  return out;
}

/** A request as PostgREST runs it: a transaction, the role and claims set locally, the statement, rolled back. */
async function timed(session: Session, options: LoadOptions, role: string | null, user: Claims | null, request: Request, i: number): Promise<number> {
  await session.begin({ access: 'read only', statementTimeoutMs: options.timeoutMs, lockTimeoutMs: options.lockTimeoutMs });
  try {
    if (role !== null) {
      await session.query(`SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true), set_config('request.method', 'GET', true)`, [
        role,
        user?.json ?? JSON.stringify({ role }),
      ]);
    }
    const params = request.params(user ?? { id: '00000000-0000-0000-0000-000000000000', json: '{}' }, i);
    const started = performance.now();
    await session.query(request.sql, params);
    return performance.now() - started;
  } finally {
    await session.exec('ROLLBACK');
  }
}

interface Cell {
  readonly samples: number[];
  readonly errors: number;
  readonly wallMs: number;
  readonly lastError: string | null;
}

/**
 * The connection itself is gone (a silent link the watchdog dropped, a server that closed it): no
 * later request on it can succeed, so counting each as a failed request would report zeros.
 */
function linkLost(error: unknown): boolean {
  return error instanceof UserError && error.kind === 'connection';
}

/** `clients` sessions each send requests back to back until the cell's time or sample budget is spent. */
async function cell(clients: readonly Session[], options: LoadOptions, role: string | null, users: readonly Claims[], request: Request): Promise<Cell> {
  const samples: number[] = [];
  let errors = 0;
  let lastError: string | null = null;
  let issued = 0;
  /** The first lost connection: every client stops, and the measurement ends with its error. */
  let lost: UserError | null = null;
  // One unmeasured request per client: plans cached, pages in memory, as for a running app.
  await Promise.all(
    clients.map((c, k) =>
      timed(c, options, role, users[k % users.length] ?? null, request, k).catch((error: unknown) => {
        if (linkLost(error)) lost ??= error as UserError;
      }),
    ),
  );
  throwIfCancelled(options.signal);
  if (lost) throw lost;
  const started = performance.now();
  const deadline = started + options.durationMs;
  await Promise.all(
    clients.map(async (client) => {
      while (lost === null && issued < options.maxSamples && performance.now() < deadline) {
        throwIfCancelled(options.signal);
        const i = issued++;
        try {
          samples.push(await timed(client, options, role, users[i % users.length] ?? null, request, i));
        } catch (error) {
          throwIfCancelled(options.signal);
          if (linkLost(error)) {
            lost ??= error as UserError;
            return;
          }
          errors++;
          lastError = describePgErrorSafely(error);
          // A statement over its timeout counts as one sample at the timeout: the caller waited that long.
          if (/statement timeout|canceling statement/i.test(lastError)) samples.push(options.timeoutMs);
        }
      }
    }),
  );
  if (lost) throw lost;
  return { samples, errors, wallMs: performance.now() - started, lastError };
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** Claims as PostgREST sets them from a Supabase access token, for real users of auth.users. */
async function sampleUsers(session: Session, options: LoadOptions, tables: readonly LoadTable[], snapshot: Snapshot): Promise<{ users: Claims[]; notes: string[] }> {
  const notes: string[] = [];
  const ids = new Set<string>();
  await session.begin({ access: 'read only', statementTimeoutMs: options.statementTimeoutMs, lockTimeoutMs: options.lockTimeoutMs });
  const rows: Record<string, unknown>[] = [];
  try {
    // Users who own rows first (their requests return data), then other accounts; bounded reads.
    for (const t of tables) {
      if (!t.owner || ids.size >= 10) continue;
      const found = await session.query<{ id: string }>(
        `SELECT DISTINCT s.o::text AS id FROM (SELECT ${quoteIdent(t.owner)} AS o FROM ${qualified(t.relation.schema, t.relation.name)} WHERE ${quoteIdent(t.owner)} IS NOT NULL LIMIT 2000) s LIMIT 5`,
      );
      for (const r of found) ids.add(r.id);
    }
    if (snapshot.relations.some((r) => r.schema === 'auth' && r.name === 'users')) {
      // By primary key (owner ids are uuids), then up to 10 other accounts: no scan of a large auth.users.
      const owners = await session.query<{ u: Record<string, unknown> }>(`SELECT to_jsonb(u) - 'encrypted_password' AS u FROM auth.users u WHERE u.id = ANY($1::uuid[])`, [[...ids]]);
      const others = await session.query<{ u: Record<string, unknown> }>(`SELECT to_jsonb(u) - 'encrypted_password' AS u FROM auth.users u LIMIT 10`);
      const seen = new Set<string>();
      for (const { u } of [...owners, ...others]) {
        if (seen.has(String(u['id']))) continue;
        seen.add(String(u['id']));
        rows.push(u);
      }
    }
  } finally {
    await session.exec('ROLLBACK');
  }
  const users = rows.map((u): Claims => {
    const id = String(u['id']);
    const claims = {
      sub: id,
      role: 'authenticated',
      aud: 'authenticated',
      email: u['email'] ?? undefined,
      phone: u['phone'] ?? '',
      app_metadata: u['raw_app_meta_data'] ?? {},
      user_metadata: u['raw_user_meta_data'] ?? {},
      aal: 'aal1',
      session_id: randomUUID(),
      is_anonymous: u['is_anonymous'] === true,
    };
    return { id, json: JSON.stringify(claims) };
  });
  // Owner ids without an auth.users row (seeded data) still act as users: their rows are theirs.
  for (const id of ids) {
    if (!users.some((u) => u.id === id)) users.push({ id, json: JSON.stringify({ sub: id, role: 'authenticated', aud: 'authenticated', aal: 'aal1', is_anonymous: false }) });
  }
  if (users.length === 0) {
    const id = randomUUID();
    users.push({ id, json: JSON.stringify({ sub: id, role: 'authenticated', aud: 'authenticated', aal: 'aal1', is_anonymous: false }) });
    notes.push('no user found in auth.users or in owner columns; requests ran as one made-up signed-in user (who owns nothing)');
  }
  return { users, notes };
}

async function pkSamples(session: Session, options: LoadOptions, relation: Relation, pk: LoadTable['pk']): Promise<string[]> {
  if (!pk) return [];
  await session.begin({ access: 'read only', statementTimeoutMs: options.statementTimeoutMs, lockTimeoutMs: options.lockTimeoutMs });
  try {
    const rows = await session.query<{ v: string }>(`SELECT ${quoteIdent(pk.column)}::text AS v FROM ${qualified(relation.schema, relation.name)} LIMIT 20`);
    return rows.map((r) => r.v);
  } finally {
    await session.exec('ROLLBACK');
  }
}

/** Whether the auditing role reads past RLS (superuser or BYPASSRLS): the baseline needs it. */
async function bypasses(session: Session, options: LoadOptions): Promise<boolean> {
  await session.begin({ access: 'read only', statementTimeoutMs: options.statementTimeoutMs, lockTimeoutMs: options.lockTimeoutMs });
  try {
    const [row] = await session.query<{ b: boolean }>(`SELECT (rolsuper OR rolbypassrls) AS b FROM pg_roles WHERE rolname = current_user`);
    return row?.b === true;
  } finally {
    await session.exec('ROLLBACK');
  }
}

/** How many clients the server has room for: half its free connection slots, so the app keeps the rest. */
async function connectionRoom(session: Session, options: LoadOptions): Promise<number> {
  await session.begin({ access: 'read only', statementTimeoutMs: options.statementTimeoutMs, lockTimeoutMs: options.lockTimeoutMs });
  try {
    const [row] = await session.query<{ max: number; used: number; reserved: number }>(
      `SELECT current_setting('max_connections')::int AS max, (SELECT count(*) FROM pg_stat_activity)::int AS used, current_setting('superuser_reserved_connections')::int AS reserved`,
    );
    return Math.max(1, Math.floor(((row?.max ?? 0) - (row?.used ?? 0) - (row?.reserved ?? 0)) / 2));
  } finally {
    await session.exec('ROLLBACK');
  }
}

function flagsOf(row: Omit<LoadRow, 'flags'>, sloMs: number, first: LoadRow | undefined): LoadRow['flags'] {
  const flags: ('slo' | 'degrades')[] = [];
  if (row.p99Ms > sloMs) flags.push('slo');
  if (first && first.overhead !== null && row.overhead !== null && row.concurrency > first.concurrency && row.overhead > 2 && row.overhead > first.overhead * 1.5) flags.push('degrades');
  return flags;
}

/** Measures every table (see the module comment). The caller owns `session` (opened and closed by the audit). */
export async function runLoad(session: Session, snapshot: Snapshot, tables: readonly LoadTable[], options: LoadOptions): Promise<LoadRun> {
  const started = performance.now();
  const notes: string[] = [];
  const pageSize = options.pageSize ?? 100;
  const asked = [...new Set(options.concurrency)].filter((n) => n >= 1).sort((a, b) => a - b);
  let concurrency = asked;
  const capAt = (limit: number) => [...new Set(concurrency.map((n) => Math.min(n, limit)))];
  if (!options.connect) {
    if (concurrency.some((n) => n > 1)) notes.push('the embedded database has one connection, so only 1 client was measured; run `supaudit load --db-url …` against a staging database for the concurrency sweep');
    concurrency = [1];
  } else {
    const room = await connectionRoom(session, options);
    if (concurrency.some((n) => n > room)) {
      concurrency = capAt(room);
      notes.push(`concurrency capped at ${room} clients (half the free connection slots of max_connections, so the application keeps the rest): asked for ${asked.join(', ')}, measuring ${concurrency.join(', ')}`);
    }
  }
  const canBypass = await bypasses(session, options);
  if (!canBypass) notes.push('the auditing role has neither superuser nor BYPASSRLS, so there is no RLS-free baseline and no overhead ratio');
  const sampled = await sampleUsers(session, options, tables, snapshot);
  notes.push(...sampled.notes);
  const users = sampled.users;
  const anonClaims: Claims[] = [{ id: '00000000-0000-0000-0000-000000000000', json: JSON.stringify({ role: 'anon' }) }];
  const max = Math.max(...concurrency);
  const pool: Session[] = [session];
  const onAbort = () => {
    for (const s of pool.slice(1)) void s.cancel?.().catch(() => undefined);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const rows: LoadRow[] = [];
  const realtime: LoadRealtimeRow[] = [];
  try {
    while (pool.length < max && options.connect) {
      try {
        pool.push(await options.connect());
      } catch (error) {
        if (!(error instanceof ConnectionLimitError)) throw error;
        // Full (a pooler's max_client_conn, a CONNECTION LIMIT, max_connections counted by another
        // pooler): the room found is shared with the application, so half of it is given back.
        const opened = pool.length;
        const keep = Math.max(1, Math.floor(opened / 2));
        await Promise.all(pool.splice(keep).map((s) => s.close().catch(() => undefined)));
        concurrency = capAt(keep);
        notes.push(
          `connection ${opened + 1} was refused (${error.reason}): measured at most ${keep} client${keep === 1 ? '' : 's'}, half the ${opened} connection${opened === 1 ? '' : 's'} the server or pooler allowed, so the application keeps the rest; ` +
            `asked for ${asked.join(', ')}, measured ${concurrency.join(', ')}`,
        );
        break;
      }
    }
    // One statement at a time on a session: the primary keys are read table after table.
    const plan: { table: LoadTable; shapes: Map<LoadShape, Request> }[] = [];
    for (const t of tables) plan.push({ table: t, shapes: requests(t, await pkSamples(session, options, t.relation, t.pk), pageSize) });
    const cells = plan.flatMap(({ table, shapes }) =>
      [...shapes].flatMap(([shape, request]) =>
        table.roles.filter((role) => role === 'authenticated' || shape === 'list').map((role) => ({ table, shape, request, role })),
      ),
    );
    const perCell = options.durationMs + options.timeoutMs;
    options.onPlan?.(
      `${cells.length * concurrency.length} measurements of read-only requests (rolled back, statement_timeout ${options.timeoutMs} ms), ` +
        `up to ${Math.max(...concurrency)} connection${Math.max(...concurrency) === 1 ? '' : 's'} at once, each measurement ${options.durationMs} ms at most plus the requests in flight` +
        `${canBypass ? ', twice (with and without RLS)' : ''}: about ${Math.ceil((cells.length * concurrency.length * perCell * (canBypass ? 2 : 1)) / 1000)} s at most`,
    );
    let done = 0;
    const measure = async (table: LoadTable, shape: LoadShape, role: 'anon' | 'authenticated', request: Request, n: number): Promise<Omit<LoadRow, 'flags'>> => {
      const claims = role === 'anon' ? anonClaims : users;
      const clients = pool.slice(0, n);
      const withRls = await cell(clients, options, role, claims, request);
      const bypass = canBypass ? await cell(clients, options, null, claims, request) : null;
      if (withRls.errors > 0) notes.push(`${table.relation.schema}.${table.relation.name} ${shape} as ${role}: ${withRls.errors} request${withRls.errors === 1 ? '' : 's'} failed (${withRls.lastError})`);
      const p50 = percentile(withRls.samples, 50);
      const b50 = bypass && bypass.samples.length > 0 ? percentile(bypass.samples, 50) : null;
      return {
        schema: table.relation.schema,
        name: table.relation.name,
        role,
        shape,
        sql: request.sql,
        concurrency: n,
        samples: withRls.samples.length,
        errors: withRls.errors,
        p50Ms: round(p50),
        p95Ms: round(percentile(withRls.samples, 95)),
        p99Ms: round(percentile(withRls.samples, 99)),
        throughputPerSec: withRls.wallMs > 0 ? Math.round((withRls.samples.length / withRls.wallMs) * 1000 * 10) / 10 : 0,
        bypassP50Ms: b50 === null ? null : round(b50),
        bypassP95Ms: bypass && bypass.samples.length > 0 ? round(percentile(bypass.samples, 95)) : null,
        overhead: b50 !== null && b50 > 0 && withRls.samples.length > 0 ? Math.round((p50 / b50) * 10) / 10 : null,
        findings: table.findings,
      };
    };
    for (const { table, shape, request, role } of cells) {
      let first: LoadRow | undefined;
      for (const n of concurrency) {
        throwIfCancelled(options.signal);
        options.onProgress?.(`load ${++done}/${cells.length * concurrency.length}: ${table.relation.schema}.${table.relation.name} ${shape} as ${role}, ${n} client${n === 1 ? '' : 's'}`);
        const measured = await measure(table, shape, role, request, n);
        const row: LoadRow = { ...measured, flags: flagsOf(measured, options.sloMs, first) };
        first ??= row;
        rows.push(row);
      }
    }
    for (const rt of options.realtime ?? []) {
      if (!rt.pk) continue;
      throwIfCancelled(options.signal);
      options.onProgress?.(`realtime authorisation of ${rt.relation.schema}.${rt.relation.name}`);
      const ids = await pkSamples(session, options, rt.relation, rt.pk);
      if (ids.length === 0) continue;
      // What Realtime runs per subscriber for each change: is this row visible to these claims?
      const request: Request = { sql: `SELECT 1 FROM ${qualified(rt.relation.schema, rt.relation.name)} WHERE ${quoteIdent(rt.pk.column)} = $1::${rt.pk.type}`, params: (_u, i) => [ids[i % ids.length]] };
      const measured = await cell([session], options, 'authenticated', users, request);
      if (measured.samples.length === 0) continue;
      const mean = measured.samples.reduce((a, b) => a + b, 0) / measured.samples.length;
      realtime.push({
        schema: rt.relation.schema,
        name: rt.relation.name,
        perCheckMs: round(mean),
        subscribers: rt.subscribers,
        changesPerSec: rt.subscribers > 0 ? Math.round((1000 / (mean * rt.subscribers)) * 10) / 10 : 0,
      });
    }
    if (options.applyFixes) {
      const applied = new Set<string>();
      for (const { table, shapes } of plan) {
        if (table.fixes.length === 0) continue;
        const mine = rows.filter((r) => r.schema === table.relation.schema && r.name === table.relation.name && r.role === 'authenticated' && r.concurrency === concurrency[0]);
        if (!mine.some((r) => r.overhead === null || r.overhead > 1.5 || r.flags.length > 0)) continue;
        throwIfCancelled(options.signal);
        options.onProgress?.(`applying the fixes of ${table.relation.schema}.${table.relation.name} (embedded database) and measuring again`);
        try {
          // The embedded database is a throwaway copy: DDL is committed there, never on a live target.
          await session.begin({ access: 'read write', statementTimeoutMs: options.statementTimeoutMs, lockTimeoutMs: options.lockTimeoutMs });
          try {
            // One transaction: no CONCURRENTLY; an index another table's fix already made is kept.
            for (const fix of table.fixes) {
              if (applied.has(fix)) continue;
              await session.exec(fix.replace(/\bCREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?!IF\s+NOT\s+EXISTS)/gi, 'CREATE $1INDEX IF NOT EXISTS ').replace(/\bCREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY\b/gi, 'CREATE $1INDEX'));
              applied.add(fix);
            }
            await session.exec(`ANALYZE ${qualified(table.relation.schema, table.relation.name)}`);
            await session.exec('COMMIT');
          } catch (error) {
            await session.exec('ROLLBACK');
            throw error;
          }
        } catch (error) {
          notes.push(`the fixes of ${table.relation.schema}.${table.relation.name} could not be applied (${describePgErrorSafely(error)})`);
          continue;
        }
        for (const row of mine) {
          const request = shapes.get(row.shape);
          if (!request) continue;
          const again = await cell([session], options, 'authenticated', users, request);
          if (again.samples.length === 0) continue;
          const p50 = percentile(again.samples, 50);
          const index = rows.indexOf(row);
          rows[index] = {
            ...row,
            fixed: {
              p50Ms: round(p50),
              p95Ms: round(percentile(again.samples, 95)),
              p99Ms: round(percentile(again.samples, 99)),
              overhead: row.bypassP50Ms !== null && row.bypassP50Ms > 0 ? Math.round((p50 / row.bypassP50Ms) * 10) / 10 : null,
            },
          };
        }
      }
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await Promise.all(pool.slice(1).map((s) => s.close().catch(() => undefined)));
  }
  return { rows, realtime, users: users.length, concurrency, notes, durationMs: Math.round(performance.now() - started) };
}
