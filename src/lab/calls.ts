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
import { keyedByAccount } from '../model/accounts.ts';
import { qualified, quoteIdent } from '../model/ident.ts';
import { isSystemSchema } from '../model/schemas.ts';
import type { LabCall, LabFunctionRow, LabMatrixRow } from '../model/report.ts';
import type { Constraint, Relation, Snapshot } from '../model/snapshot.ts';
import type { Session } from '../introspect/session.ts';
import { argumentsOf, calledNames, codeOnly, literalPattern, uncommented } from '../model/sql-text.ts';
import { argumentValue, parameterLiterals, payloadLeaf, redeemed, relationsNamedIn, typeFamily } from './attack.ts';
import { calledFunctions } from '../model/function-calls.ts';
import { jsonLeaves, jsonShape, jsonValue } from './payload.ts';
import { stageOf, type Stage } from './stage.ts';
import { gainedBetween, othersSeen, policed, type Seen } from './seen.ts';
import { initPolicyParser } from '../policy/parse.ts';
import { actAs, asState, keyFilter, keySql, parentTenant, rowKey, rowOwner, type Persona, type World } from './world.ts';

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

/**
 * Values of the victim's rows the world made, that no other persona's rows hold, with every place
 * (`table.column`) that holds each: a call that returns one leaks it, unless the caller reads one of
 * those places anyway (its address in auth.users and in a profile it may read).
 */
export function victimValues(snapshot: Snapshot, world: World, victim: Persona): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (value: string, where: string) => out.set(value, [...new Set([...(out.get(value) ?? []), where])]);
  // The account's own address (auth.users, what a definer function over auth reads), then the world's texts and e-mails.
  if (world.accounts.some((a) => a.id === victim.id)) add(victim.email, 'auth.users.email');
  for (const [table, rows] of world.made) {
    for (const m of rows) {
      if (m.owner.id !== victim.id) continue;
      // The account's own address elsewhere is the account's too: readable in its profile (a table
      // keyed by the account), it is no secret; in an invitation or a member record, it still is.
      const profile = keyedByAccount(snapshot, table.slice(0, table.indexOf('.')), table.slice(table.indexOf('.') + 1));
      for (const [column, value] of Object.entries(m.row)) {
        // A document's texts too (`{"lab": "alice-notes-data-0"}`): a function may return one key of it.
        for (const v of typeof value === 'string' ? [value] : value !== null && typeof value === 'object' ? textsIn(value) : []) {
          if (v === victim.email ? profile : v.startsWith(`${victim.name}-`) || v.startsWith(`${victim.name}+`)) add(v, `${table}.${column}`);
        }
      }
    }
  }
  return out;
}

/** The strings of a JSON document, at any depth. */
function textsIn(doc: unknown): string[] {
  if (typeof doc === 'string') return [doc];
  if (doc === null || typeof doc !== 'object') return [];
  return Object.values(doc as Record<string, unknown>).flatMap(textsIn);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The victim's row keys (a uuid primary key of each row of the victim's in a table that is not
 * the account's own, a profile): a view that returns them hands over which rows another user or
 * tenant has, and what the view computed from them (a stock level, a total), even with no text of
 * the victim's in it.
 */
export function victimKeys(snapshot: Snapshot, world: World, victim: Persona): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [table, rows] of world.made) {
    const [schema, name] = [table.slice(0, table.indexOf('.')), table.slice(table.indexOf('.') + 1)];
    if (keyedByAccount(snapshot, schema, name)) continue;
    const pk = snapshot.constraints.find((c) => c.schema === schema && c.table === name && c.type === 'primary_key');
    if (!pk || pk.columns.length !== 1) continue;
    const column = pk.columns[0]!;
    for (const m of rows) {
      const v = m.row[column];
      if (m.owner.id === victim.id && typeof v === 'string' && UUID.test(v)) out.set(v, [`${table}.${column}`]);
    }
  }
  return out;
}

/** What a call is measured against: the world's rows before any call (every call is rolled back, so they stay so). */
interface Baseline {
  /** Per table with world rows: its rows (key, owner, tenant) and their physical addresses now. */
  readonly rows: Map<string, { rel: Relation; rows: { key: string; owner: string | null; tenant: 1 | 2 | null }[]; at: Map<string, { ctid: string; row: Record<string, unknown> }> }>;
  /** Per tenant membership table: the addresses of every row now, and the other side's root keys it may point at. */
  readonly memberships: Map<string, { rel: Relation; at: Set<string>; columns: readonly string[]; roots: Map<string, 1 | 2> }>;
  /** Per persona name: the tables whose other owners' rows it reads itself (the matrix), so a call returning them leaks nothing. */
  readonly reads: Map<string, Set<string>>;
  /** The victim's values (bob's, tenant 2) a call may return. */
  readonly secrets: Map<string, string[]>;
  /** Per table, the physical address of every row now (up to BASELINE_ROWS): a row elsewhere afterwards is one a call inserted. */
  readonly ctids: Map<string, Set<string>>;
  /** The world, and the tables with its rows and policies: where a membership a call made may open rows. */
  readonly world: World;
  readonly policed: readonly Relation[];
  /** Per account and membership tables, the other owners' rows it reads before any call where policies consult those: measured once, when a call first writes such a membership. */
  readonly seen: Map<string, Seen>;
}

/** At most this many rows of a table are compared before and after a call (the world's come first). */
const BASELINE_ROWS = 500;

/**
 * The tenant a row belongs to: the world's record, else (rows a trigger or the seed made) the tenant
 * of the first row of the world its foreign keys point at.
 */
function rowTenant(snapshot: Snapshot, world: World, rel: Relation, row: Readonly<Record<string, unknown>>): 1 | 2 | null {
  return world.rowTenants.get(`${rel.schema}.${rel.name}`)?.get(rowKey(snapshot, rel, row)) ?? parentTenant(snapshot, rel, row, world.made, world.rowTenants, world.tenants);
}

/** The victim of the calls and view reads: bob, tenant 2's owner. */
export function victimOf(world: World): Persona | undefined {
  return world.owners.find((o) => o.tenant === 2) ?? world.owners[1];
}

/** Per persona, the tables (`schema.name`) whose rows of other owners it reads itself in the matrix: returning them leaks nothing. */
export function othersReadBy(matrix: readonly LabMatrixRow[]): Map<string, Set<string>> {
  const reads = new Map<string, Set<string>>();
  for (const m of matrix) {
    if (typeof m.select === 'object' && m.select.other_tenants + m.select.ownerless > 0) reads.set(m.persona, (reads.get(m.persona) ?? new Set()).add(`${m.schema}.${m.name}`));
  }
  // Anyone with the anon key may sign up: what an account that owns nothing reads, anon reads one step away.
  for (const table of reads.get('outsider') ?? []) reads.set('anon', (reads.get('anon') ?? new Set()).add(table));
  return reads;
}

/**
 * Where (`table.column`) the victim's values in `output` came from, but for values the caller gave
 * itself and tables it reads anyway.
 */
export function leakedIn(output: string, secrets: ReadonlyMap<string, readonly string[]>, readable: ReadonlySet<string>, given: readonly (string | null)[] = []): string[] {
  return [
    ...new Set(
      [...secrets]
        .filter(([value, places]) => output.includes(value) && !given.some((v) => v !== null && v.includes(value)) && !places.some((where) => readable.has(where.slice(0, where.lastIndexOf('.')))))
        .flatMap(([, places]) => places),
    ),
  ].sort();
}

async function baselineOf(session: Session, snapshot: Snapshot, world: World, matrix: readonly LabMatrixRow[], victim: Persona | undefined): Promise<Baseline> {
  const rows: Baseline['rows'] = new Map();
  const ctids: Baseline['ctids'] = new Map();
  const accounts = new Map([...world.accounts, ...world.owners].map((p) => [p.id, p]));
  // Every user table, and the accounts themselves (a function that deletes auth.users deletes an account).
  const tables = snapshot.relations.filter((r) => r.kind === 'table' && ((r.extension === null && !isSystemSchema(r.schema)) || (r.schema === 'auth' && r.name === 'users' && world.accounts.length > 0)));
  for (const rel of tables) {
    const found = await session.query<{ c: string; j: Record<string, unknown> }>(`select ctid::text as c, to_jsonb(t) as j from ${qualified(rel.schema, rel.name)} t limit ${BASELINE_ROWS}`);
    ctids.set(`${rel.schema}.${rel.name}`, new Set(found.map((r) => r.c)));
    const list: { key: string; owner: string | null; tenant: 1 | 2 | null }[] = [];
    const at = new Map<string, { ctid: string; row: Record<string, unknown> }>();
    for (const r of found) {
      const key = rowKey(snapshot, rel, r.j);
      const owner = rel.schema === 'auth' ? (typeof r.j['id'] === 'string' && accounts.has(r.j['id']) ? r.j['id'] : null) : rowOwner(snapshot, world, rel, r.j);
      const tenant = rowTenant(snapshot, world, rel, r.j) ?? (owner !== null ? (accounts.get(owner)?.tenant ?? null) : null);
      // A row nobody owns and no tenant holds (a shared catalog, the seed's) is no one's to take.
      if (owner === null && tenant === null) continue;
      list.push({ key, owner, tenant });
      at.set(key, { ctid: r.c, row: r.j });
    }
    if (list.length > 0) rows.set(`${rel.schema}.${rel.name}`, { rel, rows: list, at });
  }
  const memberships: Baseline['memberships'] = new Map();
  for (const t of world.tenants.roots) {
    const key = `${t.membership.schema}.${t.membership.name}`;
    const rel = snapshot.relations.find((r) => r.schema === t.membership.schema && r.name === t.membership.name);
    if (!rel) continue;
    const roots = new Map<string, 1 | 2>();
    for (const m of world.made.get(`${t.root.schema}.${t.root.name}`) ?? []) {
      const tenant = m.owner.tenant;
      if (tenant !== null) roots.set(JSON.stringify(t.refColumns.map((c) => String(m.row[c] ?? ''))), tenant);
    }
    const at = await session.query<{ c: string }>(`select ctid::text as c from ${qualified(rel.schema, rel.name)}`);
    memberships.set(key, { rel, at: new Set(at.map((r) => r.c)), columns: t.rootColumns, roots });
  }
  return {
    rows,
    memberships,
    reads: othersReadBy(matrix),
    secrets: victim ? victimValues(snapshot, world, victim) : new Map(),
    ctids,
    world,
    policed: policed(snapshot, world, tables),
    seen: new Map(),
  };
}

/**
 * Calls every function the API roles may execute as each caller; everything is rolled back.
 * SECURITY DEFINER functions first (they bypass RLS) as every caller; then the others (RLS still
 * applies inside them) as anon and the outsider only.
 */
export async function callFunctions(
  session: Session,
  snapshot: Snapshot,
  world: World,
  budget: CallBudget,
  matrix: readonly LabMatrixRow[] = [],
  /** Tables a confirmed attack opened (`schema.name`): the ids in them are anyone's to learn, by that attack first. */
  opened: readonly string[] = [],
): Promise<FunctionCalls> {
  const exposed = snapshot.exposedSchemas;
  // The function bodies are read with the parser (the state their statements pick rows in).
  await initPolicyParser();
  // Argument types print as the snapshot's do (qualified against pg_catalog only): the same search_path as introspection.
  await session.begin({ access: 'read only', searchPath: 'pg_catalog', statementTimeoutMs: 30_000, lockTimeoutMs: 1_000 });
  let granted: { s: string; n: string; a: string }[];
  try {
    granted = await session.query<{ s: string; n: string; a: string }>(
      `select n.nspname::text as s, p.proname::text as n, pg_catalog.pg_get_function_identity_arguments(p.oid) as a
         from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
        where n.nspname = any ($1::text[]) and (has_function_privilege('anon', p.oid, 'EXECUTE') or has_function_privilege('authenticated', p.oid, 'EXECUTE'))`,
      [exposed],
    );
  } finally {
    await session.exec('ROLLBACK').catch(() => undefined);
  }
  const callable = new Set(granted.map((g) => `${g.s}.${g.n}(${g.a})`));
  const id = (f: { schema: string; name: string; identityArgs: string }) => `${f.schema}.${f.name}(${f.identityArgs})`;
  const functions = snapshot.functions
    .filter((f) => f.extension === null && !isSystemSchema(f.schema) && f.kind === 'function' && !/^(trigger|event_trigger)$/.test(f.returnType) && callable.has(id(f)))
    .sort((a, b) => (a.securityDefiner !== b.securityDefiner ? (a.securityDefiner ? -1 : 1) : id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
  const victim = victimOf(world);
  const rows: LabFunctionRow[] = [];
  const started = performance.now();
  let calls = 0;
  let stopped: string | undefined;
  if (functions.length === 0) return { rows, calls };
  await session.begin({ access: 'read write', statementTimeoutMs: 5_000, lockTimeoutMs: 1_000 });
  try {
    const baseline = await baselineOf(session, snapshot, world, matrix, victim);
    // Every call to make, in the order that matters when the budget runs out: the victim's ids as
    // anon and the outsider (definer functions, then the others), then the members' victim calls,
    // then the callers' own ids and NULLs; in each, one argument set of every function at a time.
    interface Task { fn: (typeof functions)[number]; sql: string; caller: string; persona: Persona | null; label: LabCall['args']; values: (string | null)[]; victimArgs?: string[]; rank: number; turn: number; order: number }
    const tasks: Task[] = [];
    const everyone = callers(world);
    for (const fn of functions) {
      const args = argumentsOf(fn.identityArgs);
      const call = `${qualified(fn.schema, fn.name)}(${args.map((a, i) => `$${i + 1}::${a.type}`).join(', ')})`;
      const sql = fn.returnsSet ? `select coalesce(json_agg(r)::text, '') as v from ${call} r` : `select (${call})::text as v`;
      const who = fn.securityDefiner ? everyone : everyone.filter((c) => c.persona === null || c.persona.tenant === null);
      for (const { name, persona } of who) {
        // An account that belongs to no tenant passes its own: its id, its address, its rows.
        const home = persona ? (persona.tenant === null ? persona : world.owners.find((o) => o.tenant === persona.tenant)) : undefined;
        const own = home ? args.map((a) => argumentValue(snapshot, world, a, home, persona, fn.source)) : undefined;
        const victimRows = victim ? args.map((a) => argumentValue(snapshot, world, a, victim, persona, fn.source)) : undefined;
        const sets: [LabCall['args'], (string | null)[], string[]?][] =
          args.length === 0
            ? [['own', []]]
            : [
                ...(own ? [['own', own] as [LabCall['args'], (string | null)[]]] : []),
                ...(victimRows ? [['victim_rows', victimRows] as [LabCall['args'], (string | null)[]]] : []),
                // The other words the body compares a text argument with: each branch it takes.
                ...(victimRows ? literalVariants(args, victimRows, fn.source).map((values) => ['victim_rows', values] as [LabCall['args'], (string | null)[]]) : []),
                // The victim's values of the columns the body compares the arguments with, where the names chose others; and its branches.
                ...((compared) => (compared ? [compared, ...literalVariants(args, compared, fn.source)].map((values) => ['victim_rows', values] as [LabCall['args'], (string | null)[]]) : []))(
                  victimRows && victim ? comparedSet(snapshot, world, args, victimRows, victim, fn.source) : undefined,
                ),
                // A member's own rows but for one argument of the victim's (its own invitation, the victim's project).
                ...(own && victimRows && fn.securityDefiner ? mixedSets(args, own, victimRows) : []),
                // The same inside a JSON payload: the caller's own invoice with the victim's item in it.
                ...(own && home && victim && fn.securityDefiner ? payloadMixes(snapshot, world, args, own, home, victim, persona, fn.source) : []),
                ...(victim ? [['victim', args.map((a) => argumentValue(snapshot, world, a, victim, victim, fn.source))] as [LabCall['args'], (string | null)[]]] : []),
                ['nulls', args.map(() => null)],
              ];
        const seen = new Set<string>();
        let turn = 0;
        for (const [label, values, victimArgs] of sets) {
          // A set with no value from the world is the NULLs call: made once, under that name.
          if (args.length > 0 && label !== 'nulls' && values.every((v) => v === null)) continue;
          if (seen.has(JSON.stringify(values))) continue;
          seen.add(JSON.stringify(values));
          const stranger = persona === null || persona.tenant === null;
          const attack = label === 'victim' || label === 'victim_rows' || args.length === 0;
          const rank = attack && stranger ? (fn.securityDefiner ? 0 : 1) : attack ? 2 : 3;
          tasks.push({ fn, sql, caller: name, persona, label, values, ...(victimArgs ? { victimArgs } : {}), rank, turn: turn++, order: tasks.length });
        }
      }
    }
    // Within a rank, every function's first argument set before any function's second: a budget that
    // runs out leaves each function called, not the last functions of the alphabet uncalled.
    tasks.sort((x, y) => x.rank - y.rank || x.turn - y.turn || x.order - y.order);
    const made = new Map<Task, LabCall>();
    const outputs = new Map<string, { output: string; given: readonly (string | null)[]; fn: string; leak: boolean }[]>();
    for (const task of tasks) {
      if (calls >= budget.calls || performance.now() - started > budget.ms) {
        stopped = `${calls >= budget.calls ? `budget of ${budget.calls} calls reached` : `time budget of ${Math.round(budget.ms / 1000)} s reached`}: ${tasks.length - calls} of ${tasks.length} calls not made (the callers' own ids and NULLs go last)`;
        break;
      }
      calls++;
      // A definer call with another tenant's rows may plant something the caller then redeems.
      const redeem = task.fn.securityDefiner && (task.label === 'victim' || task.label === 'victim_rows') ? world : undefined;
      const stage = stageOf(snapshot, task.fn);
      let { call: result, blocked, refusedBy, output } = await callOnce(session, snapshot, baseline, task.persona, task.caller, task.label, task.sql, task.values, [], !task.fn.securityDefiner, redeem, stage);
      // What the call returned to its caller: ids there are the caller's to learn (an API of functions only).
      // Only what it was given of its own (its own ids, none, words a user would type): not a
      // victim's id it would have had to know.
      const guessable = task.values.every((v) => v === null || v === task.persona?.id || !UUID.test(v));
      if (output && (task.label === 'own' || task.label === 'nulls' || guessable)) {
        // In lower case once, as the ids are compared: not again for every id looked for.
        outputs.set(task.caller, [...(outputs.get(task.caller) ?? []), { output: output.slice(0, OUTPUT_KEPT).toLowerCase(), given: task.values.map((v) => v?.toLowerCase() ?? null), fn: `${task.fn.schema}.${task.fn.name}`, leak: (result.leaked ?? []).length > 0 }]);
      }
      // Refused only by the victim's own rows that a foreign key holds to what the call removes
      // (a tenant's members): once more with that key set aside, as for a victim who has none.
      // A victim with no rows in the blocking table: every key of that table, and every other key to
      // the same table that would refuse too (none that cascades), for as many tables as refuse in turn.
      // Refused by a trigger's rule on the victim's data alone (a plan's feature the victim's tenant
      // lacks in the world, a limit), not on who calls: once more past that rule, as for a victim who meets it.
      const aside: Constraint[] = [];
      const triggersAside: AsideTrigger[] = [];
      let retried: LabCall | undefined;
      for (let round = 0; (blocked || refusedBy) && (task.label === 'victim' || task.label === 'victim_rows') && round < SET_ASIDE_ROUNDS && calls < budget.calls; round++) {
        const to = blocked;
        if (to) {
          if (aside.includes(to)) break;
          aside.push(
            ...snapshot.constraints.filter(
              (c) =>
                c.type === 'foreign_key' &&
                !aside.includes(c) &&
                ((c.schema === to.schema && c.table === to.table) || (c.refSchema === to.refSchema && c.refTable === to.refTable && !/on delete (cascade|set null|set default)/i.test(c.definition))),
            ),
          );
        } else if (refusedBy) {
          const more = (await triggersCalling(session, refusedBy)).filter((t) => !triggersAside.some((a) => a.schema === t.schema && a.table === t.table && a.name === t.name));
          if (more.length === 0) break;
          triggersAside.push(...more);
        }
        calls++;
        ({ call: retried, blocked, refusedBy } = await callOnce(session, snapshot, baseline, task.persona, task.caller, task.label, task.sql, task.values, aside, !task.fn.securityDefiner, undefined, stage, triggersAside));
        if (didSomething(retried)) {
          result = {
            ...retried,
            ...(aside.length > 0 ? { setAside: aside.map((c) => `${c.schema}.${c.table}.${c.name}`).sort() } : {}),
            ...(triggersAside.length > 0 ? { triggersAside: triggersAside.map((t) => `${t.name} on ${t.schema}.${t.table}`).sort() } : {}),
          };
          break;
        }
      }
      made.set(task, task.victimArgs ? { ...result, victimArgs: task.victimArgs } : result);
    }
    // Which victim ids each caller could have learned, for the calls that did something to someone else.
    const learnable = await learnableIds(
      session,
      snapshot,
      [...made].filter(([task, call]) => task.label !== 'own' && task.label !== 'nulls' && didSomething(call)).map(([task]) => task),
      world.accounts.find((a) => a.name === 'outsider') ?? null,
      opened,
      outputs,
    );
    for (const [task, call] of made) {
      const unknown = learnable.unknown(task);
      // Ids it learns only from what another function returns: that function's leak, reported on it.
      const leaked = learnable.leakedArgs(task);
      const needed = [...unknown, ...leaked];
      if (needed.length === 0) continue;
      // An id the caller cannot learn (or learns only through a leak) is a capability only if the call
      // needs that one: once more with values the caller makes up in its place (an event key, a token
      // the body only stores, a request id it picks itself).
      if (calls < budget.calls + MADE_UP_CALLS) {
        calls++;
        const args = argumentsOf(task.fn.identityArgs);
        const values = task.values.map((v, i) => (needed.includes(args[i]?.name || `$${i + 1}`) ? madeUpValue(args[i]?.type ?? 'text', i) : v));
        const again = await callOnce(session, snapshot, baseline, task.persona, task.caller, task.label, task.sql, values, [], !task.fn.securityDefiner, undefined, stageOf(snapshot, task.fn));
        if (didSomething(again.call)) {
          made.set(task, { ...again.call, madeUp: needed, ...(task.victimArgs ? { victimArgs: task.victimArgs } : {}) });
          continue;
        }
      }
      made.set(task, unknown.length > 0 ? { ...call, unlearned: unknown } : { ...call, learnedThrough: learnable.leakedBy(task) });
    }
    // The report keeps the functions' and callers' order, with the calls that were made.
    const byRow = new Map<string, LabFunctionRow & { calls: LabCall[] }>();
    for (const task of [...tasks].sort((x, y) => x.order - y.order)) {
      const key = `${task.fn.schema}.${task.fn.name}(${task.fn.identityArgs})\u0000${task.caller}`;
      const row = byRow.get(key) ?? { schema: task.fn.schema, name: task.fn.name, args: task.fn.identityArgs, persona: task.caller, calls: [] as LabCall[] };
      byRow.set(key, row);
      const result = made.get(task);
      if (result) row.calls.push(result);
    }
    rows.push(...[...byRow.values()].filter((r) => r.calls.length > 0));
  } finally {
    await session.exec('ROLLBACK').catch(() => undefined);
  }
  return { rows, calls, ...(stopped ? { stopped } : {}) };
}

/** Calls beyond the budget for the retries with made-up values: only calls that did something to someone else get one. */
const MADE_UP_CALLS = 100;

/** A value a caller makes up for an argument (`n`: its position): a fresh uuid, or a word. */
function madeUpValue(type: string, n: number): string {
  return /^uuid\b/i.test(type.trim()) ? `5ca1ab1e-0000-4000-8000-${String(n).padStart(12, '0')}` : `made-up-by-the-caller-${n}`;
}

/** How much of what one call returned is kept to look for ids the caller learns there. */
const OUTPUT_KEPT = 20_000;

/** Numbers that are worth something: money (a balance, a revenue, a payout), credits, quotas, stock. */
const VALUE_COLUMN = /balance|credit|amount|quantity|price|cost|quota|limit|usage|points|coins|wallet|budget|salary|payment|stock|revenue|income|sales|profit|earning|payout|invoice/i;

/** How many tables in turn may refuse a call with the victim's rows before the lab gives up setting their keys aside. */
const SET_ASIDE_ROUNDS = 8;

/** At most this many more argument sets per caller and function: the branches of compared words, one victim's argument at a time. */
const MORE_SETS = 3;

/** A number that bounds by age or time (`p_max_age_minutes`, `older_than_days`, `ttl_seconds`): the rows it reaches depend on it. */
const AGE_ARGUMENT = /(^|_)(age|ages|minutes?|mins?|hours?|days?|seconds?|secs?|older|stale|threshold|ttl|interval|grace|window|cutoff|expir\w*)($|_)/i;

/**
 * The victim's rows with each other word the body compares a text argument with (`p_status = 'paid'`,
 * then `'failed'`), a flag's other value, and with -1 for a number that bounds by age (`release_stale(p_tenant, p_max_age_minutes)`:
 * rows the world just made are younger than any positive age, and a caller picks the bound).
 */
function literalVariants(args: readonly { name: string; type: string }[], values: readonly (string | null)[], body: string | null): (string | null)[][] {
  const out: (string | null)[][] = [];
  args.forEach((a, i) => {
    for (const literal of parameterLiterals(body, a.name)) if (literal !== values[i] && out.length < MORE_SETS) out.push(values.map((v, j) => (j === i ? literal : v)));
    if (typeFamily(a.type.trim().toLowerCase()) === 'number' && AGE_ARGUMENT.test(a.name.replace(/^(p|in|arg|v)?_+/i, '')) && values[i] !== '-1' && out.length < MORE_SETS) {
      out.push(values.map((v, j) => (j === i ? '-1' : v)));
    }
    // A flag takes the other branch too (`p_only_if_unassigned`: false takes what is someone else's).
    if (/^bool(ean)?$/i.test(a.type.trim()) && (values[i] === 'true' || values[i] === 'false') && out.length < MORE_SETS) {
      out.push(values.map((v, j) => (j === i ? (v === 'true' ? 'false' : 'true') : v)));
    }
  });
  return out;
}

/**
 * The victim's values of the columns the body compares each argument with (`where tenant_id =
 * p_workspace_id`), where they differ from what the argument's name chose (a table named after
 * `workspace` that is not the one the body reads): one more set, or undefined.
 */
function comparedSet(snapshot: Snapshot, world: World, args: readonly { name: string; type: string }[], values: readonly (string | null)[], victim: Persona, body: string | null): (string | null)[] | undefined {
  if (!body) return undefined;
  const rels = relationsNamedIn(snapshot, body);
  const out = [...values];
  let changed = false;
  args.forEach((a, i) => {
    const name = literalPattern(a.name);
    // In a condition (`where`/`and`/`or`/`on`), not a SET: what it is compared with, not what it writes.
    const re = new RegExp(`\\b(?:where|and|or|on)\\s+(?:[\\w$"]+\\.)?"?([A-Za-z_][\\w$]*)"?\\s*=\\s*${name}(?![\\w$])|\\b(?:where|and|or|on)\\s+${name}\\s*=\\s*(?:[\\w$"]+\\.)?"?([A-Za-z_][\\w$]*)`, 'gi');
    const family = typeFamily(a.type.trim().toLowerCase());
    for (const m of body.matchAll(re)) {
      const column = (m[1] ?? m[2])!.toLowerCase();
      if (column === a.name.toLowerCase()) continue;
      for (const rel of rels) {
        const col = rel.columns.find((c) => c.name.toLowerCase() === column);
        if (!col || typeFamily(col.type.toLowerCase()) !== family) continue;
        const rows = world.made.get(`${rel.schema}.${rel.name}`) ?? [];
        const row = rows.find((r) => r.owner.id === victim.id) ?? (victim.tenant !== null ? rows.find((r) => r.owner.tenant === victim.tenant) : undefined);
        const v = row?.row[col.name];
        if ((typeof v === 'string' || typeof v === 'number') && String(v) !== values[i]) {
          out[i] = String(v);
          changed = true;
          return;
        }
      }
    }
  });
  return changed ? out : undefined;
}

/** The caller's own arguments but one, which is the victim's: where the two differ in two or more, one set per differing argument. */
function mixedSets(args: readonly { name: string; type: string }[], own: readonly (string | null)[], victims: readonly (string | null)[]): [LabCall['args'], (string | null)[], string[]][] {
  const differ = args.flatMap((_, i) => (victims[i] !== null && own[i] !== null && victims[i] !== own[i] ? [i] : []));
  if (differ.length < 2) return [];
  return differ.slice(0, MORE_SETS).map((i) => ['victim_rows', own.map((v, j) => (j === i ? victims[i]! : v)), [args[i]!.name || `$${i + 1}`]]);
}

/** For each JSON argument whose payload the body reads: the caller's own payload with one key of the victim's (deepest keys first, an array's items before the top), one set per key that differs. */
function payloadMixes(
  snapshot: Snapshot,
  world: World,
  args: readonly { name: string; type: string }[],
  own: readonly (string | null)[],
  home: Persona,
  victim: Persona,
  persona: Persona | null,
  body: string | null,
): [LabCall['args'], (string | null)[], string[]][] {
  const out: [LabCall['args'], (string | null)[], string[]][] = [];
  args.forEach((a, i) => {
    if (!/^jsonb?$/i.test(a.type.trim())) return;
    const shape = jsonShape(body, a.name);
    if (!shape) return;
    // Each leaf's value for the caller's rows and for the victim's, worked out once (by path).
    const all = jsonLeaves(shape);
    const mine = new Map(all.map((l) => [l.path, payloadLeaf(snapshot, world, l, home, persona, body)]));
    const theirs = new Map(all.map((l) => [l.path, payloadLeaf(snapshot, world, l, victim, persona, body)]));
    const leaves = all
      .map((leaf, order) => ({ leaf, order, depth: leaf.path.split('.').length }))
      .filter(({ leaf }) => {
        const [m, t] = [mine.get(leaf.path)!, theirs.get(leaf.path)!];
        return m !== null && t !== null && m !== t && (UUID.test(t) || /(^|_)id$/i.test(leaf.key));
      })
      .sort((x, y) => y.depth - x.depth || x.order - y.order);
    for (const { leaf } of leaves.slice(0, MORE_SETS)) {
      const value = jsonValue(shape, (l) => ((l.path === leaf.path ? theirs : mine).get(l.path) ?? null));
      out.push(['victim_rows', own.map((v, j) => (j === i ? value : v)), [`${a.name || `$${i + 1}`}.${leaf.path}`]]);
    }
  });
  return out;
}

/**
 * A call that wrote a membership into another tenant joined it only if that opened the tenant's rows
 * to the caller: a pending request, a row the helpers do not count, opens nothing and is no join.
 * What the caller read before is measured once per account, in the world as it is between calls.
 */
async function judgeJoin<T extends { call: LabCall; joinSeen?: Seen }>(session: Session, snapshot: Snapshot, baseline: Baseline, persona: Persona | null, result: T): Promise<T> {
  // Nothing to measure it on (no policy of a table with the world's rows consults the membership): a membership is what it says.
  const tables = result.call.joined ?? result.call.granted;
  if (!persona || !result.joinSeen || !tables) return result;
  const foreign = result.call.joined === undefined;
  const key = `${persona.id}\u0000${tables.join()}\u0000${foreign}`;
  let before = baseline.seen.get(key);
  if (!before) {
    before = await othersSeen(session, snapshot, baseline.world, gatedBy(snapshot, baseline, tables), persona, foreign);
    baseline.seen.set(key, before);
  }
  if (Object.keys(gainedBetween(before, result.joinSeen)).length > 0) return result;
  const { joined: _joined, granted: _granted, ...call } = result.call;
  return { ...result, call };
}

/**
 * The tables with the world's rows whose policies consult one of the membership tables: name it,
 * or call a function whose body does (or calls one that does).
 */
function gatedBy(snapshot: Snapshot, baseline: Baseline, memberships: readonly string[]): Relation[] {
  const names = memberships.map((m) => m.slice(m.indexOf('.') + 1));
  const naming = new RegExp(`\\b(?:${names.map(literalPattern).join('|')})\\b`, 'i');
  const readers = new Set<string>();
  for (let depth = 0, grew = true; depth < 3 && grew; depth++) {
    grew = false;
    for (const f of snapshot.functions) {
      if (readers.has(f.name) || !f.source) continue;
      if (naming.test(f.source) || calledNames(codeOnly(f.source)).some((n) => readers.has(n))) {
        readers.add(f.name);
        grew = true;
      }
    }
  }
  return baseline.policed.filter((rel) =>
    snapshot.policies.some((p) => p.schema === rel.schema && p.table === rel.name && [p.using, p.withCheck].some((t) => t && (naming.test(t) || calledNames(t).some((n) => readers.has(n))))),
  );
}

/** The foreign key a message says refused a delete or update of the rows it holds to: as raised, or inside the JSON a function returned its error in (quotes escaped). */
function blockingKey(snapshot: Snapshot, text: string | null | undefined): Constraint | undefined {
  const m = /violates foreign key constraint \\?"([^"\\]+)\\?" on table \\?"([^"\\]+)\\?"/.exec(text ?? '');
  return m ? snapshot.constraints.find((c) => c.type === 'foreign_key' && c.name === m[1] && c.table === m[2]) : undefined;
}

/** A trigger of the lab's copy: disabled for one call inside its savepoint. */
interface AsideTrigger {
  readonly schema: string;
  readonly table: string;
  readonly name: string;
}

/** What reads who the caller is: the JWT's claims, the role, the session's user. */
const CALLER_READ = /\bauth\s*\.\s*(uid|jwt|role|email)\s*\(|\bcurrent_user\b|\bsession_user\b|\bcurrent_role\b|request\.jwt|current_setting\s*\(\s*'(request|role)/i;

/**
 * The trigger function (`schema.name`) that raised a call's refusal, read from the error's context
 * (`PL/pgSQL function enforce_plan_feature() line 17 at RAISE`, innermost first): the first trigger
 * function on the way out from the RAISE, when it and every function it calls (calledFunctions: by
 * name, transitively) decide on the data alone, never on who calls. A rule on the victim's tenant (its plan, a limit), which
 * a victim may well meet; a trigger that checks the caller is the guard it looks like, and is kept.
 */
function dataRuleTrigger(snapshot: Snapshot, where: string | undefined): string | undefined {
  if (!where || !/ at RAISE\b/.test(where.split('\n')[0] ?? '')) return undefined;
  for (const m of where.matchAll(/PL\/pgSQL function (?:("?)([\w$]+)\1\.)?("?)([\w$]+)\3\(([^)]*)\) line \d+/g)) {
    const [schema, name, args] = [m[2], m[4]!, m[5]!];
    const fn = snapshot.functions.find((f) => f.name === name && (schema === undefined || f.schema === schema) && f.returnType === 'trigger');
    if (!fn || args !== '') continue;
    return calledFunctions(fn, snapshot.functions).some((f) => CALLER_READ.test(uncommented(f.source ?? ''))) ? undefined : `${fn.schema}.${fn.name}`;
  }
  return undefined;
}

/** The enabled triggers of the lab's copy that run a trigger function (`schema.name`). */
async function triggersCalling(session: Session, fn: string): Promise<AsideTrigger[]> {
  const dot = fn.indexOf('.');
  return session.query<AsideTrigger>(
    `select n.nspname::text as schema, c.relname::text as table, t.tgname::text as name
       from pg_catalog.pg_trigger t join pg_catalog.pg_class c on c.oid = t.tgrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       join pg_catalog.pg_proc p on p.oid = t.tgfoid join pg_catalog.pg_namespace pn on pn.oid = p.pronamespace
      where not t.tgisinternal and t.tgenabled <> 'D' and pn.nspname = $1 and p.proname = $2
      order by 1, 2, 3`,
    [fn.slice(0, dot), fn.slice(dot + 1)],
  );
}

/** The world's rows of a table as the superuser sees them now (by key): their physical address and values. */
async function rowsNow(session: Session, snapshot: Snapshot, rel: Relation, rows: readonly { key: string; ctid?: string }[]): Promise<Map<string, { ctid: string; row: Record<string, unknown> }>> {
  const filter = keyFilter(snapshot, rel, 't', rows, 1);
  const found = await session.query<{ i: number; c: string; j: Record<string, unknown> }>(
    `select w.i::int as i, t.ctid::text as c, to_jsonb(t) as j from ${qualified(rel.schema, rel.name)} t join unnest($2::jsonb[]) with ordinality w(k, i) on ${keySql(snapshot, rel, 't')} = w.k where ${filter.sql}`,
    [...filter.params, rows.map((r) => r.key)],
  );
  return new Map(found.map((r) => [rows[Number(r.i) - 1]!.key, { ctid: r.c, row: r.j }]));
}

/** Whether a row of the world is someone else's for this caller: another user's, and for a tenant's member another tenant's. */
function foreign(row: { owner: string | null; tenant: 1 | 2 | null }, persona: Persona | null): boolean {
  if (persona === null) return true;
  if (row.owner === persona.id) return false;
  if (persona.tenant !== null && row.tenant === persona.tenant) return false;
  return true;
}

/**
 * Puts the others' rows of each staged table in the state the function picks rows in (as the
 * superuser, triggers and foreign keys aside: a state, not an event), column by column where the
 * whole state is refused (a CHECK that ties two of them). Returns the staged rows as they now are.
 */
async function stageRows(session: Session, snapshot: Snapshot, baseline: Baseline, stage: Stage, persona: Persona | null): Promise<Map<string, Map<string, { ctid: string; row: Record<string, unknown> }>>> {
  const out = new Map<string, Map<string, { ctid: string; row: Record<string, unknown> }>>();
  for (const [table, set] of stage) {
    const base = baseline.rows.get(table);
    if (!base || set.size === 0) continue;
    // The others' rows only: the caller's own stay as they are (staged, its profile would hold
    // the role the function asks its caller for).
    const ctids = base.rows.filter((r) => foreign(r, persona)).map((r) => base.at.get(r.key)?.ctid).filter((c): c is string => c !== undefined);
    if (ctids.length === 0) continue;
    const types = new Map(base.rel.columns.map((c) => [c.name, c.type]));
    const update = async (cols: readonly [string, string | null][]): Promise<boolean> => {
      await session.exec('SAVEPOINT supaudit_stage');
      try {
        const sets = cols.map(([c], i) => `${quoteIdent(c)} = $${i + 1}::text::${types.get(c)}`);
        await session.query(`update ${qualified(base.rel.schema, base.rel.name)} set ${sets.join(', ')} where ctid = any ($${cols.length + 1}::text[]::tid[])`, [...cols.map(([, v]) => v), ctids]);
        await session.exec('RELEASE SAVEPOINT supaudit_stage');
        return true;
      } catch {
        await session.exec('ROLLBACK TO SAVEPOINT supaudit_stage');
        return false;
      }
    };
    let any = false;
    await asState(session, async () => {
      const all = [...set];
      if (await update(all)) any = true;
      else for (const one of all) if (await update([one])) any = true;
    });
    if (any) out.set(table, await rowsNow(session, snapshot, base.rel, base.rows.map((r) => ({ key: r.key }))));
  }
  return out;
}

/** One call as the persona, in a savepoint rolled back, a membership it wrote judged by what it opened (judgeJoin). */
async function callOnce(...args: Parameters<typeof callInSavepoint>): ReturnType<typeof callInSavepoint> {
  const [session, snapshot, baseline, persona] = args;
  return judgeJoin(session, snapshot, baseline, persona, await callInSavepoint(...args));
}

/** One call as the persona, in a savepoint rolled back: refused (with its SQLSTATE), or what it changed and returned. */
async function callInSavepoint(
  session: Session,
  snapshot: Snapshot,
  baseline: Baseline,
  persona: Persona | null,
  name: string,
  args: LabCall['args'],
  sql: string,
  values: readonly (string | null)[],
  /** Foreign keys dropped inside the savepoint first (the lab's own copy; rolled back with it). */
  setAside: readonly Constraint[] = [],
  /** A SECURITY INVOKER function: RLS applied to what it read, as to the caller's own queries. */
  invoker = false,
  /** With the world: rows the call inserted (an invitation into another tenant) are offered to the functions that turn them into a membership. */
  world?: World,
  /** The state the function's statements pick rows in: the world's rows are put in it first. */
  stage?: Stage,
  /** Triggers disabled inside the savepoint first: rules on the victim's data alone (a plan's feature) that refused the call. */
  triggersAside: readonly AsideTrigger[] = [],
): Promise<{ call: LabCall; blocked?: Constraint; refusedBy?: string; output?: string; joinSeen?: Seen }> {
  await session.exec('SAVEPOINT supaudit_fn');
  try {
    for (const c of setAside) await session.exec(`alter table ${qualified(c.schema, c.table)} drop constraint ${quoteIdent(c.name)}`);
    for (const t of triggersAside) await session.exec(`alter table ${qualified(t.schema, t.table)} disable trigger ${quoteIdent(t.name)}`);
    // The rows as they are before the call: staged ones as staged.
    const staged = stage ? await stageRows(session, snapshot, baseline, stage, persona) : new Map<string, Map<string, { ctid: string; row: Record<string, unknown> }>>();
    const before = await counters(session);
    await actAs(session, persona);
    const [row] = await session.query<{ v: string | null }>(sql, values);
    await session.exec('RESET ROLE');
    const changed = changes(before, await counters(session));
    const others: Record<string, { updated: number; deleted: number; columns?: string[]; countersOnly?: true }> = {};
    const joined: string[] = [];
    /** Memberships the call wrote into another tenant: a join only if it opens that tenant's rows to the caller (not a pending request). */
    const joining: string[] = [];
    for (const [table, c] of Object.entries(changed)) {
      const base = baseline.rows.get(table);
      if (base && c.updated + c.deleted > 0) {
        // By key, not by address: an updated row has a new one.
        const now = await rowsNow(session, snapshot, base.rel, base.rows.map((r) => ({ key: r.key })));
        let updated = 0;
        let deleted = 0;
        const columns = new Set<string>();
        for (const r of base.rows) {
          const was = staged.get(table)?.get(r.key) ?? base.at.get(r.key);
          const is = now.get(r.key);
          if (was === undefined || is?.ctid === was.ctid || !foreign(r, persona)) continue;
          if (!is) {
            deleted++;
            continue;
          }
          const set = Object.keys(is.row).filter((k) => JSON.stringify(is.row[k]) !== JSON.stringify(was.row[k]));
          // Rewritten with the same values (an UPDATE that set nothing new): not a change of the row.
          if (set.length === 0) continue;
          updated++;
          for (const k of set) columns.add(k);
        }
        if (updated + deleted > 0) {
          // Numbers and times only: what a counter, a total or an "updated at" stamp changes.
          const types = new Map(base.rel.columns.map((col) => [col.name, col.type.toLowerCase()]));
          // A balance, a credit, a quota or an amount is what the number is for: not a counter.
          // So is every number of a table that meters them (`org_usage.api_calls`, `quotas.seats`), what a
          // plan's limit is checked against, where the caller gives the amount (an argument of a number
          // type): a recount from the tenant's own rows (`sync_usage(p_tenant_id)`) only corrects it.
          const meter = VALUE_COLUMN.test(base.rel.name) && /\$\d+::(?:smallint|integer|bigint|int[248]?|numeric|real|double precision)\b/i.test(sql);
          const numbersOnly = deleted === 0 && !meter && [...columns].every((k) => /^(smallint|integer|bigint|numeric|real|double precision|timestamp|date|time)/.test(types.get(k) ?? '') && !VALUE_COLUMN.test(k));
          others[table] = { updated, deleted, ...(columns.size > 0 ? { columns: [...columns].sort() } : {}), ...(numbersOnly ? { countersOnly: true } : {}) };
        }
      }
      const membership = baseline.memberships.get(table);
      if (membership && c.inserted > 0) {
        const added = await session.query<{ j: Record<string, unknown> }>(
          `select to_jsonb(t) as j from ${qualified(membership.rel.schema, membership.rel.name)} t where t.ctid::text <> all ($1::text[])`,
          [[...membership.at]],
        );
        const into = added.some((a) => {
          const tenant = membership.roots.get(JSON.stringify(membership.columns.map((col) => String(a.j[col] ?? ''))));
          return tenant !== undefined && (persona === null || tenant !== persona.tenant);
        });
        if (into) joining.push(table);
      }
    }
    // Rows the call wrote that name the caller (a role, an admin flag of its own), in tables other
    // tables' policies consult: a grant to itself, if it then reads what it could not.
    const granting: string[] = [];
    /** The tables whose policies consult those (the union of each one's: what gatedBy gives for them all). */
    const grantGated = new Set<Relation>();
    if (persona !== null && joining.length === 0) {
      for (const [table, c] of Object.entries(changed)) {
        const before = baseline.ctids.get(table);
        const rel = baseline.rows.get(table)?.rel ?? snapshot.relations.find((r) => `${r.schema}.${r.name}` === table);
        if (c.inserted + c.updated === 0 || !before || !rel || baseline.memberships.has(table)) continue;
        const [hit] = await session.query(`select 1 from ${qualified(rel.schema, rel.name)} t where t.ctid::text <> all ($1::text[]) and strpos(to_jsonb(t)::text, $2) > 0 limit 1`, [[...before], persona.id]);
        if (!hit) continue;
        // Only a table some other table's policy consults: a template the call stamped with the caller's id grants nothing.
        const gates = gatedBy(snapshot, baseline, [table]);
        if (gates.length === 0) continue;
        granting.push(table);
        for (const g of gates) grantGated.add(g);
      }
    }
    // What the caller reads of others' rows now: judged against what it read before, once the call is undone.
    const gated = persona === null ? [] : joining.length > 0 ? gatedBy(snapshot, baseline, joining) : baseline.policed.filter((r) => grantGated.has(r));
    // A grant counts only beyond the caller's own tenant: switching to a workspace it belongs to opens nothing of anyone else's.
    const joinSeen = gated.length > 0 ? await othersSeen(session, snapshot, baseline.world, gated, persona!, joining.length === 0) : undefined;
    joined.push(...joining);
    // Rows it inserted elsewhere (an invitation into another tenant), redeemed next by the same caller: a two-step join.
    let redeemedBy: string | undefined;
    if (world && persona !== null && persona.tenant !== 2 && joined.length === 0) {
      const chain = await redeemInserted(session, snapshot, world, baseline, changed, persona);
      if (chain) {
        joined.push(chain.membership);
        redeemedBy = chain.fn;
      }
    }
    // Another user's values in what came back, but for values the call was given and tables the caller reads anyway.
    // An invoker function read under the caller's own policies: rows of a schema the API does not
    // expose (the matrix has no cells there) came back because those policies let them.
    const leaked = leakedIn(row?.v ?? '', baseline.secrets, baseline.reads.get(name) ?? new Set(), values).filter((w) => !invoker || snapshot.exposedSchemas.includes(w.slice(0, w.indexOf('.'))));
    const blocked = blockingKey(snapshot, row?.v);
    return {
      call: {
        args,
        result: 'ok',
        changed,
        ...(Object.keys(others).length > 0 ? { others } : {}),
        ...(joined.length > 0 ? { joined } : {}),
        ...(joined.length === 0 && granting.length > 0 && joinSeen ? { granted: granting } : {}),
        ...(redeemedBy ? { redeemedBy } : {}),
        ...(leaked.length > 0 ? { leaked } : {}),
      },
      ...(blocked ? { blocked } : {}),
      ...(row?.v ? { output: row.v } : {}),
      ...(joinSeen ? { joinSeen } : {}),
    };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const blocked = code === '23503' ? blockingKey(snapshot, (error as Error).message) : undefined;
    const refusedBy = code === 'P0001' ? dataRuleTrigger(snapshot, (error as { where?: string }).where) : undefined;
    return { call: { args, result: code === '42501' ? 'denied' : 'error', ...(code ? { sqlstate: code } : {}), changed: {} }, ...(blocked ? { blocked } : {}), ...(refusedBy ? { refusedBy } : {}) };
  } finally {
    await session.exec('ROLLBACK TO SAVEPOINT supaudit_fn');
  }
}

/**
 * Rows a call inserted into a table of the world's (not a membership), offered to the definer
 * functions that read that table and write a tenant's membership, as the same caller: the first
 * membership of the other tenant (bob's) this makes, or undefined. Inside the call's savepoint.
 */
async function redeemInserted(
  session: Session,
  snapshot: Snapshot,
  world: World,
  baseline: Baseline,
  changed: LabCall['changed'],
  persona: Persona,
): Promise<{ membership: string; fn: string } | undefined> {
  const victim = victimOf(world);
  if (!victim) return undefined;
  for (const [table, c] of Object.entries(changed)) {
    const before = baseline.ctids.get(table);
    const rel = snapshot.relations.find((r) => `${r.schema}.${r.name}` === table);
    if (c.inserted === 0 || !before || !rel || baseline.memberships.has(table)) continue;
    const fresh = await session.query<{ j: Record<string, unknown> }>(`select to_jsonb(t) as j from ${qualified(rel.schema, rel.name)} t where t.ctid::text <> all ($1::text[]) limit 5`, [[...before]]);
    if (fresh.length === 0) continue;
    for (const t of world.tenants.roots) {
      const victimRoot = (world.made.get(`${t.root.schema}.${t.root.name}`) ?? []).find((m) => m.owner.id === victim.id);
      if (!victimRoot) continue;
      const done = await redeemed(session, snapshot, world, t, rel, fresh.map((r) => r.j), persona, victimRoot.row);
      if (done) return { membership: `${t.membership.schema}.${t.membership.name}`, fn: done.fn };
    }
  }
  return undefined;
}

/** Names of text arguments and columns that hold a secret to present: an invitation's token, a code sent by e-mail. */
const TOKEN_NAME = /(^|_)(token|secret|code|otp|nonce|hash|key)$/i;

/** A call that did something to someone else: changed or deleted their rows, joined their tenant, returned their values. */
function didSomething(call: LabCall): boolean {
  return call.result === 'ok' && ((call.joined?.length ?? 0) > 0 || (call.granted?.length ?? 0) > 0 || Object.keys(call.others ?? {}).length > 0 || (call.leaked?.length ?? 0) > 0);
}

interface IdTask {
  readonly fn: { readonly schema: string; readonly name: string; readonly identityArgs: string };
  readonly persona: Persona | null;
  readonly caller: string;
  readonly values: readonly (string | null)[];
}

/**
 * Which of the victim's uuids and tokens each caller could learn through the API: held by a row of
 * a table or view of the exposed schemas it may select, or named in the path of a storage object
 * it may list. An integer or a word can be guessed; a random uuid or a token nobody shows the caller cannot.
 */
async function learnableIds(
  session: Session,
  snapshot: Snapshot,
  tasks: readonly IdTask[],
  /** Anyone may sign up: what this account reads, anon can learn too. */
  outsider: Persona | null,
  opened: readonly string[],
  /** Per caller, what its calls returned and what each was given (in lower case): an id in a result it was not given is learned. */
  outputs: ReadonlyMap<string, readonly { output: string; given: readonly (string | null)[]; fn: string; leak: boolean }[]> = new Map(),
): Promise<{ unknown(task: IdTask): string[]; leakedArgs(task: IdTask): string[]; leakedBy(task: IdTask): string[] }> {
  const asked = new Set(tasks);
  const wanted = new Map<string, { persona: Persona | null; ids: Set<string>; tokens: Set<string> }>();
  // A random uuid of the victim's, or a text argument named like a secret (an invitation's token,
  // a reset code) given the victim's value: what the caller would have to find somewhere.
  const victimIds = (t: IdTask) => {
    const args = argumentsOf(t.fn.identityArgs);
    return t.values.map((v, i): { kind: 'uuid' | 'token'; value: string } | null => {
      if (v === null || v === t.persona?.id) return null;
      if (UUID.test(v)) return { kind: 'uuid', value: v.toLowerCase() };
      const a = args[i];
      return a && TOKEN_NAME.test(a.name) && /^(text|character varying|varchar|citext)\b/i.test(a.type.trim()) ? { kind: 'token', value: v } : null;
    });
  };
  for (const t of tasks) {
    const entry = wanted.get(t.caller) ?? { persona: t.persona, ids: new Set<string>(), tokens: new Set<string>() };
    for (const v of victimIds(t)) if (v !== null) (v.kind === 'uuid' ? entry.ids : entry.tokens).add(v.value);
    wanted.set(t.caller, entry);
  }
  const exposed = new Set(snapshot.exposedSchemas);
  const relations = snapshot.relations
    .filter((r) => exposed.has(r.schema) && r.kind !== 'foreign_table' && !r.isPartition)
    .map((r) => ({
      rel: r,
      columns: r.columns.filter((c) => c.type === 'uuid' || c.type === 'uuid[]'),
      texts: r.columns.filter((c) => TOKEN_NAME.test(c.name) && /^(text|character varying|varchar|citext)\b/i.test(c.type)),
    }))
    .filter((r) => r.columns.length + r.texts.length > 0);
  const objects = snapshot.relations.some((r) => r.schema === 'storage' && r.name === 'objects');
  const learned = new Map<string, Set<string>>();
  /** Per caller, the ids it learns only from what functions returned, with those functions. */
  const throughCalls = new Map<string, Map<string, Set<string>>>();
  for (const [caller, { persona, ids, tokens }] of wanted) {
    const seen = new Set<string>();
    learned.set(caller, seen);
    // Returned by a call of the caller's (for anon, of a signed-up account's too) that was not given it.
    const results = [...(outputs.get(caller) ?? []), ...(persona === null && outsider ? (outputs.get(outsider.name) ?? []) : [])];
    const returned = new Map<string, Set<string>>();
    for (const id of [...ids, ...tokens]) {
      const lower = id.toLowerCase();
      for (const r of results) {
        if (!r.output.includes(lower) || r.given.some((g) => g !== null && g.includes(lower))) continue;
        // A function the app lists with (what it returns the caller may see): learned; one that leaked
        // another user's values: learned only through that leak.
        if (r.leak) returned.set(id, (returned.get(id) ?? new Set<string>()).add(r.fn));
        else seen.add(id);
      }
    }
    const queries: { kind: 'uuid' | 'token'; sql: string; rel?: string }[] = [
      ...relations.flatMap(({ rel, columns, texts }) => [
        ...(columns.length > 0
          ? [{ kind: 'uuid' as const, rel: `${rel.schema}.${rel.name}`, sql: `select v::text as v from unnest($1::uuid[]) v where exists (select 1 from ${qualified(rel.schema, rel.name)} t where ${columns.map((c) => (c.type === 'uuid' ? `t.${quoteIdent(c.name)} = v` : `v = any (t.${quoteIdent(c.name)})`)).join(' or ')})` }]
          : []),
        ...(texts.length > 0
          ? [{ kind: 'token' as const, rel: `${rel.schema}.${rel.name}`, sql: `select v from unnest($1::text[]) v where exists (select 1 from ${qualified(rel.schema, rel.name)} t where ${texts.map((c) => `t.${quoteIdent(c.name)}::text = v`).join(' or ')})` }]
          : []),
      ]),
      ...(objects ? [{ kind: 'uuid' as const, sql: `select v::text as v from unnest($1::uuid[]) v where exists (select 1 from storage.objects o where strpos(o.name, v::text) > 0)` }] : []),
    ];
    // As the caller; as a signed-up account where the caller is anon; and, as the database sees
    // them, in the tables an attack of the lab opened.
    const as: { who: Persona | null; kind: 'uuid' | 'token'; sql: string; raw?: true }[] = [
      ...queries.map((q) => ({ who: persona, kind: q.kind, sql: q.sql })),
      ...(persona === null && outsider ? queries.map((q) => ({ who: outsider, kind: q.kind, sql: q.sql })) : []),
      ...queries.flatMap((q) => (q.rel !== undefined && opened.includes(q.rel) ? [{ who: null, kind: q.kind, sql: q.sql, raw: true as const }] : [])),
    ];
    for (const { who, kind, sql, raw } of as) {
      const left = [...(kind === 'uuid' ? ids : tokens)].filter((id) => !seen.has(id));
      if (left.length === 0) continue;
      await session.exec('SAVEPOINT supaudit_learn');
      try {
        if (!raw) await actAs(session, who);
        for (const r of await session.query<{ v: string }>(sql, [left])) seen.add(kind === 'uuid' ? r.v.toLowerCase() : r.v);
      } catch {
        // Refused or failed: nothing learned there.
      } finally {
        await session.exec('ROLLBACK TO SAVEPOINT supaudit_learn');
      }
    }
    // Learned from what a function returned, and from nothing the caller reads itself: the leak is that function's.
    const only = new Map<string, Set<string>>();
    for (const [id, fns] of returned) {
      if (seen.has(id)) continue;
      seen.add(id);
      only.set(id, fns);
    }
    throughCalls.set(caller, only);
  }
  const argNames = (task: IdTask, keep: (value: string) => boolean) => {
    const args = argumentsOf(task.fn.identityArgs);
    return victimIds(task).flatMap((v, i) => (v !== null && keep(v.value) ? [args[i]?.name || `$${i + 1}`] : []));
  };
  return {
    unknown(task) {
      const seen = learned.get(task.caller);
      if (!seen || !asked.has(task)) return [];
      return argNames(task, (v) => !seen.has(v));
    },
    leakedArgs(task) {
      const only = throughCalls.get(task.caller);
      if (!only || !asked.has(task)) return [];
      const self = `${task.fn.schema}.${task.fn.name}`;
      return argNames(task, (v) => [...(only.get(v) ?? [])].some((f) => f !== self));
    },
    leakedBy(task) {
      const only = throughCalls.get(task.caller);
      if (!only || !asked.has(task)) return [];
      const self = `${task.fn.schema}.${task.fn.name}`;
      const fns = new Set<string>();
      for (const v of victimIds(task)) for (const f of (v !== null ? only.get(v.value) : undefined) ?? []) if (f !== self) fns.add(f);
      return [...fns].sort();
    },
  };
}
