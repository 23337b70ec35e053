/**
 * The API probe: ask the project's REST API what the internet sees, with the anon key (and a
 * user's JWT when given), through `@supabase/supabase-js`. Reads only: row counts with
 * `HEAD` + `count=exact`, RPC calls only for functions the catalog says cannot write (STABLE or
 * IMMUTABLE, callable with no arguments), and storage bucket listings.
 */
import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import ws from 'ws';
import { redact } from '../model/redact.ts';
import { notAttemptedReason, type EffectGate } from './effects.ts';
import type { Snapshot } from '../model/snapshot.ts';
import { isSystemSchema } from '../model/schemas.ts';

export interface ApiProbeOptions {
  readonly url: string;
  readonly anonKey: string;
  readonly userJwt?: string;
  readonly timeoutMs?: number;
  /**
   * What a request can set off: the API commits what it runs, so a read whose policies, or an RPC
   * whose body, reach anything outside the database (dblink, http, …) is not sent.
   */
  readonly gate?: EffectGate;
}

export interface ApiTableResult {
  readonly schema: string;
  readonly name: string;
  /** Rows the API returned a count for; null when the request failed. */
  readonly count: number | null;
  readonly status: number;
  readonly error?: string;
  /** The request hit the probe's own timeout: no answer. */
  readonly timedOut?: true;
}

export interface ApiFunctionResult {
  readonly schema: string;
  readonly name: string;
  readonly status: number;
  readonly ok: boolean;
  readonly error?: string;
  readonly timedOut?: true;
}

export interface ApiBucketResult {
  readonly bucket: string;
  readonly listed: number | null;
  readonly error?: string;
}

export interface ApiProbeResult {
  readonly as: 'anon' | 'user';
  readonly tables: readonly ApiTableResult[];
  readonly functions: readonly ApiFunctionResult[];
  readonly buckets: readonly ApiBucketResult[] | null;
  readonly bucketsError?: string;
}

/** Functions safe to call with no arguments: not volatile, every argument defaulted, not a trigger. */
export function readOnlyCallable(snapshot: Snapshot) {
  return snapshot.functions.filter(
    (f) =>
      snapshot.exposedSchemas.includes(f.schema) &&
      !isSystemSchema(f.schema) &&
      f.extension === null &&
      f.kind === 'function' &&
      f.volatility !== 'volatile' &&
      f.argCount === (f.identityArgs.match(/DEFAULT/gi)?.length ?? 0) &&
      !/^(trigger|event_trigger)$/.test(f.returnType),
  );
}

/**
 * An API error without its message: PostgREST passes Postgres messages through, and those can
 * quote row values. The HTTP status and the error code (SQLSTATE or PGRST…) say what happened.
 */
function apiError(status: number, error: { code?: string }): string {
  return `HTTP ${status}${error.code ? ` ${error.code}` : ''}`;
}

/**
 * The probe's own timeout (no response, status 0). The role's statement_timeout cannot be told apart
 * from other server errors: the probe's HEAD requests get a 500 without a body, so without the SQLSTATE.
 */
function timedOut(status: number, error: { message?: string }): { timedOut: true } | Record<string, never> {
  return status === 0 && /TimeoutError|AbortError/.test(error.message ?? '') ? { timedOut: true } : {};
}

function withTimeout(ms: number): typeof fetch {
  return (input, init) => fetch(input, { ...init, signal: AbortSignal.timeout(ms) });
}

async function probeAs(client: SupabaseClient, as: 'anon' | 'user', snapshot: Snapshot, gate: EffectGate | undefined): Promise<ApiProbeResult> {
  const tables: ApiTableResult[] = [];
  for (const rel of snapshot.relations) {
    if (!snapshot.exposedSchemas.includes(rel.schema) || rel.extension !== null || isSystemSchema(rel.schema)) continue;
    const refused = gate ? notAttemptedReason(gate.effects(rel, 'select')) : null;
    if (refused) {
      tables.push({ schema: rel.schema, name: rel.name, count: null, status: 0, error: refused });
      continue;
    }
    const res = await client.schema(rel.schema).from(rel.name).select('*', { count: 'exact', head: true });
    tables.push({
      schema: rel.schema,
      name: rel.name,
      count: res.error ? null : (res.count ?? 0),
      status: res.status,
      ...(res.error ? { error: apiError(res.status, res.error), ...timedOut(res.status, res.error) } : {}),
    });
  }
  const functions: ApiFunctionResult[] = [];
  for (const fn of readOnlyCallable(snapshot)) {
    const refused = gate ? notAttemptedReason(gate.call(fn)) : null;
    if (refused) {
      functions.push({ schema: fn.schema, name: fn.name, status: 0, ok: false, error: refused });
      continue;
    }
    const res = await client.schema(fn.schema).rpc(fn.name, {}, { head: true });
    functions.push({
      schema: fn.schema,
      name: fn.name,
      status: res.status,
      ok: !res.error,
      ...(res.error ? { error: apiError(res.status, res.error), ...timedOut(res.status, res.error) } : {}),
    });
  }
  let buckets: ApiBucketResult[] | null = [];
  let bucketsError: string | undefined;
  const list = await client.storage.listBuckets();
  if (list.error) {
    buckets = null;
    bucketsError = redact(list.error.message);
  } else {
    for (const bucket of list.data ?? []) {
      const files = await client.storage.from(bucket.id).list('', { limit: 100 });
      buckets.push({ bucket: bucket.id, listed: files.error ? null : files.data.length, ...(files.error ? { error: redact(files.error.message) } : {}) });
    }
  }
  return { as, tables, functions, buckets, ...(bucketsError ? { bucketsError } : {}) };
}

export async function runApiProbe(snapshot: Snapshot, options: ApiProbeOptions): Promise<ApiProbeResult[]> {
  const common = {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: { fetch: withTimeout(options.timeoutMs ?? 10_000) },
    // Node 20 has no global WebSocket; supabase-js needs one even though the probe never subscribes.
    realtime: { transport: ws as never },
  };
  const results = [await probeAs(createClient(options.url, options.anonKey, common), 'anon', snapshot, options.gate)];
  if (options.userJwt) {
    const client = createClient(options.url, options.anonKey, {
      ...common,
      global: { ...common.global, headers: { Authorization: `Bearer ${options.userJwt}` } },
    });
    results.push(await probeAs(client, 'user', snapshot, options.gate));
  }
  return results;
}
