/**
 * Persona × function: every function of the exposed schemas that anon or authenticated may
 * EXECUTE (what /rest/v1/rpc reaches; not trigger or extension functions) is called as anon, the
 * outsider and one member of tenant 1 per role value, with arguments from the world: the caller's
 * own ids and rows, the victim's rows (bob's, tenant 2) with the caller's own id, the victim's ids
 * throughout, and NULLs. Each call runs in a savepoint that is rolled back; what it changed is read
 * from the transaction's own table statistics (`pg_stat_xact_user_tables`: rows inserted, updated
 * and deleted, kept by PGlite and PostgreSQL alike), before and after.
 * Bounded by a budget of calls and seconds; deterministic (functions by name, personas, argument sets in order).
 */
import { qualified } from '../model/ident.ts';
import { isSystemSchema } from '../model/schemas.ts';
import type { LabCall, LabFunctionRow } from '../model/report.ts';
import type { Snapshot } from '../model/snapshot.ts';
import type { Session } from '../introspect/session.ts';
import { argumentsOf, argumentValue } from './attack.ts';
import { actAs, type Persona, type World } from './world.ts';

export interface CallBudget {
  readonly calls: number;
  readonly ms: number;
}

export interface FunctionCalls {
  readonly rows: readonly LabFunctionRow[];
  readonly calls: number;
  readonly stopped?: string;
}

type Counters = Map<string, { ins: number; upd: number; del: number }>;

/** Rows inserted, updated and deleted so far in this transaction, per table (aborted subtransactions included: read before and after). */
async function counters(session: Session): Promise<Counters> {
  const rows = await session.query<{ t: string; i: string; u: string; d: string }>(
    `select schemaname::text || '.' || relname::text as t, n_tup_ins::text as i, n_tup_upd::text as u, n_tup_del::text as d from pg_catalog.pg_stat_xact_user_tables`,
  );
  return new Map(rows.map((r) => [r.t, { ins: Number(r.i), upd: Number(r.u), del: Number(r.d) }]));
}

function changes(before: Counters, after: Counters): LabCall['changed'] {
  const out: Record<string, { inserted: number; updated: number; deleted: number }> = {};
  for (const [t, a] of [...after.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    const b = before.get(t) ?? { ins: 0, upd: 0, del: 0 };
    const d = { inserted: a.ins - b.ins, updated: a.upd - b.upd, deleted: a.del - b.del };
    if (d.inserted + d.updated + d.deleted > 0) out[t] = d;
  }
  return out;
}

/** The callers: anon, the outsider, and tenant 1's members, one per role value (alice holds the first). */
function callers(world: World): { name: string; persona: Persona | null }[] {
  const outsider = world.accounts.find((a) => a.name === 'outsider');
  const alice = world.owners.find((o) => o.tenant === 1);
  const members = world.accounts.filter((a) => a.member && a.tenant === 1);
  return [{ name: 'anon', persona: null }, ...[outsider, alice, ...members].filter((p): p is Persona => p !== undefined).map((p) => ({ name: p.name, persona: p }))];
}

/** Calls every function the API roles may execute as each caller; everything is rolled back. */
export async function callFunctions(session: Session, snapshot: Snapshot, world: World, budget: CallBudget): Promise<FunctionCalls> {
  const exposed = snapshot.exposedSchemas;
  const granted = await session.query<{ s: string; n: string; a: string }>(
    `select n.nspname::text as s, p.proname::text as n, pg_catalog.pg_get_function_identity_arguments(p.oid) as a
       from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
      where n.nspname = any ($1::text[]) and (has_function_privilege('anon', p.oid, 'EXECUTE') or has_function_privilege('authenticated', p.oid, 'EXECUTE'))`,
    [exposed],
  );
  const callable = new Set(granted.map((g) => `${g.s}.${g.n}(${g.a})`));
  const functions = snapshot.functions
    .filter((f) => f.extension === null && !isSystemSchema(f.schema) && f.kind === 'function' && !/^(trigger|event_trigger)$/.test(f.returnType) && callable.has(`${f.schema}.${f.name}(${f.identityArgs})`))
    .sort((a, b) => (`${a.schema}.${a.name}(${a.identityArgs})` < `${b.schema}.${b.name}(${b.identityArgs})` ? -1 : 1));
  const victim = world.owners.find((o) => o.tenant === 2) ?? world.owners[0];
  const rows: LabFunctionRow[] = [];
  const started = performance.now();
  let calls = 0;
  let stopped: string | undefined;
  if (functions.length === 0) return { rows, calls };
  await session.begin({ access: 'read write', statementTimeoutMs: 5_000, lockTimeoutMs: 1_000 });
  try {
    outer: for (const fn of functions) {
      const args = argumentsOf(fn.identityArgs);
      const call = `${qualified(fn.schema, fn.name)}(${args.map((a, i) => `$${i + 1}::${a.type}`).join(', ')})`;
      const sql = fn.returnsSet ? `select count(*)::text as v from ${call} r` : `select (${call})::text as v`;
      for (const { name, persona } of callers(world)) {
        const home = persona ? world.owners.find((o) => o.tenant === persona.tenant) : undefined;
        const sets: [LabCall['args'], (string | null)[]][] = [
          ...(home ? [['own', args.map((a) => argumentValue(snapshot, world, a, home, persona))] as [LabCall['args'], (string | null)[]]] : []),
          ...(victim ? ([['victim_rows', args.map((a) => argumentValue(snapshot, world, a, victim, persona))], ['victim', args.map((a) => argumentValue(snapshot, world, a, victim, victim))]] as [LabCall['args'], (string | null)[]][]) : []),
          ['nulls', args.map(() => null)],
        ];
        const seen = new Set<string>();
        const made: LabCall[] = [];
        // No arguments: one call, counted as the caller's own.
        for (const [label, values] of args.length === 0 ? ([['own', []]] as const) : sets) {
          // A set with no value from the world is the NULLs call: made once, under that name.
          if (args.length > 0 && label !== 'nulls' && values.every((v) => v === null)) continue;
          if (seen.has(JSON.stringify(values))) continue;
          seen.add(JSON.stringify(values));
          if (calls >= budget.calls || performance.now() - started > budget.ms) {
            stopped = calls >= budget.calls ? `budget of ${budget.calls} calls reached` : `time budget of ${Math.round(budget.ms / 1000)} s reached`;
            if (made.length > 0) rows.push({ schema: fn.schema, name: fn.name, args: fn.identityArgs, persona: name, calls: made });
            break outer;
          }
          calls++;
          made.push(await callOnce(session, persona, label, sql, values));
        }
        rows.push({ schema: fn.schema, name: fn.name, args: fn.identityArgs, persona: name, calls: made });
      }
    }
  } finally {
    await session.exec('ROLLBACK').catch(() => undefined);
  }
  return { rows, calls, ...(stopped ? { stopped } : {}) };
}

/** One call as the persona, in a savepoint rolled back: refused (with its SQLSTATE), or what it changed. */
async function callOnce(session: Session, persona: Persona | null, args: LabCall['args'], sql: string, values: readonly (string | null)[]): Promise<LabCall> {
  const before = await counters(session);
  await session.exec('SAVEPOINT supaudit_fn');
  try {
    await actAs(session, persona);
    await session.query(sql, values);
    await session.exec('RESET ROLE');
    return { args, result: 'ok', changed: changes(before, await counters(session)) };
  } catch (error) {
    const code = (error as { code?: string }).code;
    return { args, result: code === '42501' ? 'denied' : 'error', ...(code ? { sqlstate: code } : {}), changed: {} };
  } finally {
    await session.exec('ROLLBACK TO SAVEPOINT supaudit_fn');
  }
}
