/**
 * Realtime load model: what the `supabase_realtime` publication costs Realtime's Postgres Changes,
 * per published table, from the snapshot alone (write counters, replica identity, column widths,
 * RLS policies, subscriber counts). Every change to a published table is checked against RLS once
 * per subscriber, on one thread for the whole project; the estimate is compared with Supabase's
 * published throughput figures. The formulas are documented in checks/realtime_over_capacity.md.
 */
import type { CheckContext } from '../model/check.ts';
import type { RealtimeReport } from '../model/report.ts';
import type { Column, Policy, Publication, Relation, ReplicaIdentity, Snapshot } from '../model/snapshot.ts';
import { analyzePolicy } from '../policy/index.ts';
import type { ExpressionAnalysis } from '../policy/index.ts';

export const REALTIME_PUBLICATION = 'supabase_realtime';

/** Window assumed for the write counters when the statistics were never reset (no start time known). */
export const ASSUMED_STATS_WINDOW_SECONDS = 24 * 60 * 60;

/**
 * Supabase's published Realtime throughput (docs: Realtime benchmarks and Postgres Changes limits).
 * With RLS, each delivered change is one authorization check per subscriber, on a single thread.
 */
export const REALTIME_CAPACITY = {
  /** Messages/s with RLS: Micro/Small instances, and Large and up. */
  withRlsSmall: 3_000,
  withRlsLarge: 4_000,
  /** Messages/s without RLS (range measured). */
  withoutRlsLow: 32_000,
  withoutRlsHigh: 50_000,
  /** From about this many subscribers on the same changes, only about `changesAtManySubscribers` DB changes/s keep up. */
  manySubscribers: 3_000,
  changesAtManySubscribers: 5,
} as const;

/** Columns whose average width makes a FULL old record heavy (bytes): see realtime_replica_identity_full_wide. */
export const WIDE_COLUMN_BYTES = 1_024;
export const WIDE_ROW_BYTES = 2_048;
const WIDE_COLUMN_TYPES: ReadonlySet<string> = new Set(['pg_catalog.text', 'pg_catalog.json', 'pg_catalog.jsonb', 'pg_catalog.bytea']);

/**
 * Cost of one authorization check, by the most expensive policy that applies to SELECT:
 * `cheap` (column comparisons, wrapped auth calls), `per_row_function` (a function called for the row:
 * `auth.uid()` not wrapped in `(SELECT …)`, a user function), `subquery_join` (reads another table:
 * EXISTS / IN (SELECT …), or a function whose body does).
 */
export type PolicyCostClass = 'cheap' | 'per_row_function' | 'subquery_join';

const COST_RANK: Record<PolicyCostClass, number> = { cheap: 0, per_row_function: 1, subquery_join: 2 };

export interface RealtimePolicyCost {
  readonly name: string;
  readonly command: Policy['command'];
  readonly cost: PolicyCostClass;
  /** Why, in a few words (`reads public.members in a subquery`); empty for cheap policies. */
  readonly reason: string;
  /** `parsed`: from the policy parser; `text`: a text heuristic (the parser was not loaded or failed). */
  readonly analysis: 'parsed' | 'text';
}

export interface RealtimeCapacity {
  /** The limit the binding figure is compared with: messages/s with RLS (small instance) or without. */
  readonly limitPerSecond: number;
  /** The same on large instances (with RLS) or the top of the measured range (without). */
  readonly limitLargePerSecond: number;
  /** Binding figure / limit; null when the write rate is unknown. */
  readonly utilisation: number | null;
  readonly over: boolean;
  /** One line per exceeded limit, with the numbers. */
  readonly reasons: readonly string[];
}

/** One published table, as Realtime's Postgres Changes sees it. */
export interface RealtimeTableLoad {
  readonly schema: string;
  readonly name: string;
  readonly publication: string;
  /** Operations the publication sends. */
  readonly publishes: { readonly insert: boolean; readonly update: boolean; readonly delete: boolean };
  /** Published inserts + updates + deletes per second; null when the counters are unknown. */
  readonly changesPerSecond: number | null;
  /** Counters used (published operations only); null when unreadable. */
  readonly writes: { readonly inserts: number; readonly updates: number; readonly deletes: number } | null;
  /** What the counters are divided by. */
  readonly window: { readonly seconds: number; readonly source: 'stats_reset' | 'assumed' };
  readonly replicaIdentity: ReplicaIdentity;
  /** Sum of `avg_width` of the published columns; null when any is unknown. */
  readonly rowWidthBytes: number | null;
  /** text/json/jsonb/bytea columns with an average width over WIDE_COLUMN_BYTES. */
  readonly wideColumns: readonly { readonly name: string; readonly type: string; readonly avgWidth: number }[];
  readonly rlsEnabled: boolean;
  /** Policies that apply to SELECT (what Realtime evaluates). */
  readonly policies: readonly RealtimePolicyCost[];
  /** Most expensive policy class; null when RLS is off. */
  readonly cost: PolicyCostClass | null;
  readonly subscribers: number;
  readonly subscribersSource: 'measured' | 'assumed';
  /** changes/s × subscribers with RLS on, 0 with RLS off; null when the rate is unknown. */
  readonly authorizationChecksPerSecond: number | null;
  /** Upper bound on messages sent: changes/s × subscribers (filters and RLS only lower it). */
  readonly messagesPerSecond: number | null;
  readonly capacity: RealtimeCapacity;
  /** Every assumption behind the numbers, for the report. */
  readonly assumptions: readonly string[];
}

export interface RealtimeLoadInputs {
  /** Subscribers assumed per table when `realtime.subscription` is unreadable or empty (option realtimeSubscribers). */
  readonly subscribers: number;
  /** Window assumed for never-reset statistics; default 24 h. */
  readonly assumedWindowSeconds?: number;
}

export interface RealtimeTotals {
  readonly tables: number;
  readonly changesPerSecond: number | null;
  readonly authorizationChecksPerSecond: number | null;
  readonly messagesPerSecond: number | null;
  /** Sum of the tables' utilisations: Realtime processes all of them on one thread. */
  readonly utilisation: number | null;
}

export function realtimePublication(snapshot: Snapshot): Publication | undefined {
  return snapshot.publications.find((p) => p.name === REALTIME_PUBLICATION);
}

/** The load of every table in `supabase_realtime`, memoised on the context (five checks and the report read it). */
export function realtimeLoads(ctx: CheckContext): readonly RealtimeTableLoad[] {
  return ctx.memo('realtime-load', () => realtimeLoad(ctx.snapshot, { subscribers: ctx.options.realtimeSubscribers }));
}

/** Published tables in user schemas: tables of system schemas and extensions are Supabase's to tune. */
export function userRealtimeLoads(ctx: CheckContext): readonly RealtimeTableLoad[] {
  return realtimeLoads(ctx).filter((load) => {
    const relation = ctx.relation(load.schema, load.name);
    return relation !== undefined && ctx.isUserObject(relation.schema, relation.extension);
  });
}

/**
 * The per-table load for the report; undefined without a `supabase_realtime` publication. Rates
 * rounded to 3 significant digits so that reports stay readable.
 */
export function realtimeReport(ctx: CheckContext): RealtimeReport | undefined {
  if (!realtimePublication(ctx.snapshot)) return undefined;
  const loads = userRealtimeLoads(ctx);
  const measured = ctx.snapshot.realtimeSubscriptions !== null && ctx.snapshot.realtimeSubscriptions.length > 0;
  const round = (n: number | null) => (n === null ? null : Number(n.toPrecision(3)));
  return {
    subscribersSource: measured ? 'realtime.subscription' : 'assumed',
    ...(measured ? {} : { assumedSubscribers: ctx.options.realtimeSubscribers }),
    limits: { withRlsPerSecond: REALTIME_CAPACITY.withRlsSmall, withRlsLargePerSecond: REALTIME_CAPACITY.withRlsLarge, withoutRlsPerSecond: REALTIME_CAPACITY.withoutRlsLow },
    tables: loads.map((l) => ({
      schema: l.schema,
      name: l.name,
      changesPerSecond: round(l.changesPerSecond),
      replicaIdentity: l.replicaIdentity,
      rowWidthBytes: l.rowWidthBytes === null ? null : Math.round(l.rowWidthBytes),
      rls: l.rlsEnabled,
      policyCost: l.cost,
      subscribers: l.subscribers,
      checksPerSecond: round(l.authorizationChecksPerSecond),
      messagesPerSecond: round(l.messagesPerSecond),
      utilisation: l.capacity.utilisation === null ? null : Number(l.capacity.utilisation.toFixed(3)),
    })),
    assumptions: [...new Set(loads.flatMap((l) => l.assumptions))],
  };
}

/** Load of every table in `supabase_realtime`, in publication order (schema, name). Empty without the publication. */
export function realtimeLoad(snapshot: Snapshot, inputs: RealtimeLoadInputs): RealtimeTableLoad[] {
  const publication = realtimePublication(snapshot);
  if (!publication) return [];
  const relations = new Map(snapshot.relations.map((r) => [key(r.schema, r.name), r]));
  const policies = new Map<string, Policy[]>();
  for (const p of snapshot.policies) {
    const list = policies.get(key(p.schema, p.table)) ?? [];
    list.push(p);
    policies.set(key(p.schema, p.table), list);
  }
  const window = statsWindow(snapshot, inputs.assumedWindowSeconds ?? ASSUMED_STATS_WINDOW_SECONDS);
  const subscriberCounts = measuredSubscribers(snapshot);

  return publishedTables(publication, snapshot).flatMap(({ schema, name, columns }) => {
    const relation = relations.get(key(schema, name));
    if (!relation) return [];
    const assumptions: string[] = [];
    if (window.note) assumptions.push(window.note);

    const publishes = { insert: publication.insert, update: publication.update, delete: publication.delete };
    const writes = publishedWrites(relation, publishes);
    if (writes === null) {
      assumptions.push(
        relation.kind === 'partitioned_table'
          ? 'write counters are kept per partition and the snapshot does not map partitions to their parent: rate unknown'
          : 'write counters unreadable (no access to pg_stat_all_tables): rate unknown',
      );
    }
    const changesPerSecond = writes === null ? null : (writes.inserts + writes.updates + writes.deletes) / window.seconds;

    let subscribers: number;
    let subscribersSource: RealtimeTableLoad['subscribersSource'];
    if (subscriberCounts !== null) {
      subscribers = subscriberCounts.get(key(schema, name)) ?? 0;
      subscribersSource = 'measured';
    } else {
      subscribers = inputs.subscribers;
      subscribersSource = 'assumed';
      assumptions.push(
        snapshot.realtimeSubscriptions === null
          ? `${inputs.subscribers} subscribers assumed (realtime.subscription not readable; option realtimeSubscribers)`
          : `${inputs.subscribers} subscribers assumed (realtime.subscription is empty: no client connected when the snapshot was taken; option realtimeSubscribers)`,
      );
    }

    const tableColumns = columns === null ? relation.columns : relation.columns.filter((c) => columns.includes(c.name));
    const policyCosts = relation.rlsEnabled ? selectPolicies(policies.get(key(schema, name)) ?? []).map((p) => policyCost(p, snapshot)) : [];
    const cost = relation.rlsEnabled ? maxCost(policyCosts.map((p) => p.cost)) : null;
    const messagesPerSecond = changesPerSecond === null ? null : changesPerSecond * subscribers;
    const authorizationChecksPerSecond = messagesPerSecond === null ? null : relation.rlsEnabled ? messagesPerSecond : 0;

    return [
      {
        schema,
        name,
        publication: publication.name,
        publishes,
        changesPerSecond,
        writes,
        window: { seconds: window.seconds, source: window.source },
        replicaIdentity: relation.replicaIdentity,
        rowWidthBytes: rowWidth(tableColumns),
        wideColumns: tableColumns
          .filter((c) => WIDE_COLUMN_TYPES.has(c.typeName) && c.avgWidth !== null && c.avgWidth > WIDE_COLUMN_BYTES)
          .map((c) => ({ name: c.name, type: c.type, avgWidth: c.avgWidth! })),
        rlsEnabled: relation.rlsEnabled,
        policies: policyCosts,
        cost,
        subscribers,
        subscribersSource,
        authorizationChecksPerSecond,
        messagesPerSecond,
        capacity: capacity(relation.rlsEnabled, changesPerSecond, subscribers),
        assumptions,
      },
    ];
  });
}

/** Totals over the publication: Realtime handles every table's changes on the same thread. */
export function realtimeTotals(loads: readonly RealtimeTableLoad[]): RealtimeTotals {
  const known = loads.filter((l) => l.changesPerSecond !== null);
  const sum = (f: (l: RealtimeTableLoad) => number | null) => (known.length === 0 ? null : known.reduce((s, l) => s + (f(l) ?? 0), 0));
  return {
    tables: loads.length,
    changesPerSecond: sum((l) => l.changesPerSecond),
    authorizationChecksPerSecond: sum((l) => l.authorizationChecksPerSecond),
    messagesPerSecond: sum((l) => l.messagesPerSecond),
    utilisation: sum((l) => l.capacity.utilisation),
  };
}

/**
 * Compares one table's load with the published figures: with RLS the binding figure is authorization
 * checks/s against ≈3,000/s (small instances); without RLS messages/s against 32,000/s; and from
 * 3,000 subscribers on, more than ≈5 changes/s.
 */
export function capacity(rlsEnabled: boolean, changesPerSecond: number | null, subscribers: number): RealtimeCapacity {
  const c = REALTIME_CAPACITY;
  const limitPerSecond = rlsEnabled ? c.withRlsSmall : c.withoutRlsLow;
  const limitLargePerSecond = rlsEnabled ? c.withRlsLarge : c.withoutRlsHigh;
  if (changesPerSecond === null) return { limitPerSecond, limitLargePerSecond, utilisation: null, over: false, reasons: [] };
  const load = changesPerSecond * subscribers;
  const reasons: string[] = [];
  if (load > limitPerSecond) {
    reasons.push(
      rlsEnabled
        ? `${formatRate(load)} authorization checks/s exceed the ≈${formatRate(c.withRlsSmall)} messages/s Supabase measured with RLS on small instances (≈${formatRate(c.withRlsLarge)} on large)`
        : `${formatRate(load)} messages/s exceed the ${formatRate(c.withoutRlsLow)}–${formatRate(c.withoutRlsHigh)} messages/s Supabase measured without RLS`,
    );
  }
  if (subscribers >= c.manySubscribers && changesPerSecond > c.changesAtManySubscribers) {
    reasons.push(
      `${formatRate(changesPerSecond)} changes/s at ${subscribers.toLocaleString('en-US')} subscribers: Supabase measured ≈${c.changesAtManySubscribers} changes/s from ${c.manySubscribers.toLocaleString('en-US')} subscribers on`,
    );
  }
  return { limitPerSecond, limitLargePerSecond, utilisation: load / limitPerSecond, over: reasons.length > 0, reasons };
}

/** `12`, `3.4`, `0.05`, `1,234`: rates rounded for messages (two significant digits below 10). */
export function formatRate(value: number): string {
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  if (value >= 10) return value.toFixed(0);
  if (value === 0) return '0';
  return Number(value.toPrecision(2)).toString();
}

/**
 * Cost class of one policy's USING expression, from the parsed analysis when the parser is loaded and
 * the text parses, else from a text heuristic.
 */
export function policyCost(policy: Policy, snapshot: Snapshot): RealtimePolicyCost {
  const base = { name: policy.name, command: policy.command };
  if (policy.using === null) return { ...base, cost: 'cheap', reason: '', analysis: 'text' };
  const parsed = analyzePolicy(policy, snapshot).using;
  if (parsed && parsed.parseError === null) return { ...base, ...parsedCost(parsed), analysis: 'parsed' };
  return { ...base, ...textCost(policy.using), analysis: 'text' };
}

function parsedCost(a: ExpressionAnalysis): { cost: PolicyCostClass; reason: string } {
  const tables = a.subqueries.map((s) => `${s.schema}.${s.name}`);
  if (tables.length > 0) return { cost: 'subquery_join', reason: `reads ${unique(tables).join(', ')} in a subquery` };
  const readers = a.functionCalls.filter((f) => f.readsTables.length > 0);
  if (readers.length > 0) {
    const f = readers[0]!;
    return { cost: 'subquery_join', reason: `calls ${f.schema ?? ''}${f.schema ? '.' : ''}${f.name}(), which reads ${f.readsTables.join(', ')}` };
  }
  const perRow = [...a.authCalls.filter((c) => c.perRow).map((c) => c.text), ...a.functionCalls.filter((f) => f.perRow && !f.builtin).map((f) => f.text)];
  if (perRow.length > 0) return { cost: 'per_row_function', reason: `calls ${unique(perRow).join(', ')} for the row instead of once (not wrapped in (SELECT …))` };
  return { cost: 'cheap', reason: '' };
}

const WRAPPED_AUTH_CALL = /\(\s*select\s+auth\.(?:uid|jwt|role|email)\s*\(\s*\)(?:\s+as\s+\w+)?\s*\)/gi;
const AUTH_CALL = /\bauth\.(?:uid|jwt|role|email)\s*\(|\bcurrent_setting\s*\(/i;
const SUBQUERY = /\bexists\s*\(|\bin\s*\(\s*select\b|\bselect\b[\s\S]*?\bfrom\b/i;

/** Text heuristic: a subquery with FROM (EXISTS, IN (SELECT …)) is a join; an unwrapped auth.*() call is per row. */
export function textCost(expression: string): { cost: PolicyCostClass; reason: string } {
  if (SUBQUERY.test(expression)) return { cost: 'subquery_join', reason: 'reads another table in a subquery (text match)' };
  if (AUTH_CALL.test(expression.replace(WRAPPED_AUTH_CALL, ''))) {
    return { cost: 'per_row_function', reason: 'calls auth.*() or current_setting() for the row instead of once (text match)' };
  }
  return { cost: 'cheap', reason: '' };
}

function selectPolicies(policies: readonly Policy[]): Policy[] {
  return policies.filter((p) => p.command === 'SELECT' || p.command === 'ALL').sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function maxCost(costs: readonly PolicyCostClass[]): PolicyCostClass {
  return costs.reduce<PolicyCostClass>((max, c) => (COST_RANK[c] > COST_RANK[max] ? c : max), 'cheap');
}

/** The publication's tables; a FOR ALL TABLES publication without an expanded list gets every ordinary table. */
function publishedTables(publication: Publication, snapshot: Snapshot): { schema: string; name: string; columns: readonly string[] | null }[] {
  if (publication.tables.length > 0 || !publication.allTables) return [...publication.tables];
  return snapshot.relations.filter((r) => r.kind === 'table').map((r) => ({ schema: r.schema, name: r.name, columns: null }));
}

function publishedWrites(
  relation: Relation,
  publishes: RealtimeTableLoad['publishes'],
): RealtimeTableLoad['writes'] {
  if (relation.stats === null || relation.kind === 'partitioned_table') return null;
  return {
    inserts: publishes.insert ? relation.stats.inserts : 0,
    updates: publishes.update ? relation.stats.updates : 0,
    deletes: publishes.delete ? relation.stats.deletes : 0,
  };
}

function statsWindow(snapshot: Snapshot, assumed: number): { seconds: number; source: 'stats_reset' | 'assumed'; note: string | null } {
  const hours = (s: number) => `${Number((s / 3600).toPrecision(3))} h`;
  if (snapshot.statsReset !== null) {
    const seconds = (Date.parse(snapshot.takenAt) - Date.parse(snapshot.statsReset)) / 1000;
    if (Number.isFinite(seconds) && seconds > 0) {
      return {
        seconds,
        source: 'stats_reset',
        note: seconds < 3600 ? `write counters cover only ${Math.round(seconds)} s since the statistics reset: rates are noisy` : null,
      };
    }
  }
  return {
    seconds: assumed,
    source: 'assumed',
    note: `write counters assumed to cover ${hours(assumed)} (statistics never reset, so their start is unknown): rates are averages over that time`,
  };
}

/** Subscribers per table when `realtime.subscription` was read and has rows; null to fall back on the assumption. */
function measuredSubscribers(snapshot: Snapshot): Map<string, number> | null {
  const rows = snapshot.realtimeSubscriptions;
  if (rows === null || rows.length === 0) return null;
  return new Map(rows.map((r) => [key(r.schema, r.table), r.subscribers]));
}

function rowWidth(columns: readonly Column[]): number | null {
  let total = 0;
  for (const c of columns) {
    if (c.avgWidth === null) return null;
    total += c.avgWidth;
  }
  return total;
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function key(schema: string, name: string): string {
  return `${schema}\u0000${name}`;
}
