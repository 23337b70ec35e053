/**
 * Helpers for the schema-health checks (indexes, keys, owner columns): per-table lookups built
 * once per audit, index matching, generated names and the policy-column analysis they share.
 * Pure functions over the snapshot; every lookup is a Map so the checks stay linear in catalog size.
 */
import type { CheckContext } from '../src/model/check.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import type { Column, Constraint, Index, Relation, Snapshot } from '../src/model/snapshot.ts';
import { analyzePolicies } from '../src/policy/index.ts';
import { userTables } from './_shared.ts';

/** Postgres truncates identifiers to NAMEDATALEN - 1 bytes. */
export const MAX_IDENTIFIER_BYTES = 63;

/** A map key for a schema-qualified name. */
export function nameKey(schema: string, name: string): string {
  return `${schema}\u0000${name}`;
}

/** Items of the snapshot by the relation they belong to, keyed by the Relation object (no string keys per lookup). */
function byRelation<T extends { readonly schema: string; readonly table: string }>(
  ctx: CheckContext,
  items: readonly T[],
): ReadonlyMap<Relation, readonly T[]> {
  const map = new Map<Relation, T[]>();
  for (const item of items) {
    const relation = ctx.relation(item.schema, item.table);
    if (!relation) continue;
    const list = map.get(relation);
    if (list) list.push(item);
    else map.set(relation, [item]);
  }
  return map;
}

/**
 * The relation's indexes whose expressions and predicate are known. One that could not be read (its
 * table was locked) is left out: it has expressions or a predicate, so it never backs a key or a
 * foreign key check, and nothing is reported about it on a guess.
 */
export function indexesOf(ctx: CheckContext, relation: Relation): readonly Index[] {
  return ctx.memo('schema-health:indexes-by-relation', () => byRelation(ctx, ctx.snapshot.indexes.filter((i) => i.unreadable === undefined))).get(relation) ?? [];
}

/** Constraints declared on the relation (partitions' inherited copies are not in the snapshot). */
export function constraintsOf(ctx: CheckContext, relation: Relation): readonly Constraint[] {
  return ctx.memo('schema-health:constraints-by-relation', () => byRelation(ctx, ctx.snapshot.constraints)).get(relation) ?? [];
}

/**
 * User tables (ordinary and partitioned, outside system schemas and extensions) that hold their
 * own definitions: partitions are left out, since their keys, foreign keys and attached indexes
 * come from the partitioned parent and are reported there.
 */
export function definingTables(ctx: CheckContext): Relation[] {
  return userTables(ctx).filter((t) => !t.isPartition);
}

/** An index the planner can use: built and valid. */
export function isUsable(index: Index): boolean {
  return index.valid && index.ready;
}

/**
 * True when the index's first `columns.length` key columns are exactly `columns`, in any order:
 * an equality lookup on all of them (what a foreign key check does) can then use it.
 * Expression key columns never match; partial indexes never serve every lookup.
 */
export function leadsWith(index: Index, columns: readonly string[]): boolean {
  if (index.predicate !== null || index.columns.length < columns.length) return false;
  if (columns.length === 1) return index.columns[0] === columns[0];
  const wanted = new Set(columns);
  const leading = index.columns.slice(0, columns.length);
  return leading.every((c) => c !== null && wanted.has(c)) && new Set(leading).size === wanted.size;
}

/**
 * An index can serve the lookup `WHERE fk_cols = $1…` a foreign key check runs: a valid btree
 * whose leading key columns are the key's (in any order), or a hash index on its single column.
 */
export function servesForeignKey(index: Index, columns: readonly string[]): boolean {
  if (!isUsable(index) || index.predicate !== null) return false;
  if (index.method === 'btree') return leadsWith(index, columns);
  if (index.method === 'hash') return columns.length === 1 && index.columns[0] === columns[0];
  return false;
}

/** Same column set, order ignored. */
export function sameColumnSet(a: readonly (string | null)[], b: readonly string[]): boolean {
  if (a.length !== b.length || a.some((c) => c === null)) return false;
  const set = new Set(b);
  return set.size === a.length && a.every((c) => c !== null && set.has(c));
}

/** A table has a primary key when a constraint says so or one of its indexes is primary (partitions inherit one). */
export function hasPrimaryKey(ctx: CheckContext, relation: Relation): boolean {
  return (
    constraintsOf(ctx, relation).some((c) => c.type === 'primary_key') || indexesOf(ctx, relation).some((i) => i.primary)
  );
}

export function columnOf(relation: Relation, name: string): Column | undefined {
  return relation.columns.find((c) => c.name === name);
}

/** `DROP INDEX CONCURRENTLY` (partitioned indexes cannot be dropped concurrently: plain `DROP INDEX`). */
export function dropIndexSql(index: Index): string {
  return index.partitionedParent
    ? `DROP INDEX ${qualified(index.schema, index.name)};`
    : `DROP INDEX CONCURRENTLY ${qualified(index.schema, index.name)};`;
}

/** `name (a, b)` as SQL. */
export function columnListSql(columns: readonly string[]): string {
  return columns.map(quoteIdent).join(', ');
}

/** Human-readable size: `8 kB`, `1.5 MB`. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = unit === 0 || value >= 10 ? Math.round(value).toString() : value.toFixed(1).replace(/\.0$/, '');
  return `${shown} ${units[unit]}`;
}

const DAY_MS = 86_400_000;

/** How long the scan counters have been counting, e.g. `statistics reset 42 days ago, on 2025-01-31`. */
export function statisticsAge(snapshot: Snapshot): string {
  if (snapshot.statsReset === null) return 'statistics never reset';
  const reset = Date.parse(snapshot.statsReset);
  const taken = Date.parse(snapshot.takenAt);
  if (Number.isNaN(reset) || Number.isNaN(taken)) return `statistics reset at ${snapshot.statsReset}`;
  const days = Math.max(0, Math.floor((taken - reset) / DAY_MS));
  const when = new Date(reset).toISOString().slice(0, 10);
  return days === 0
    ? `statistics reset less than a day ago, on ${when}: too recent to judge`
    : `statistics reset ${days} day${days === 1 ? '' : 's'} ago, on ${when}`;
}

/** Cuts a string to at most `max` UTF-8 bytes without splitting a character. */
export function truncateBytes(text: string, max: number): string {
  if (Buffer.byteLength(text, 'utf8') <= max) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (bytes + size > max) break;
    out += ch;
    bytes += size;
  }
  return out;
}

/** Names already taken in each schema by relations, indexes and sequences (they share one namespace). */
function takenRelationNames(ctx: CheckContext): ReadonlyMap<string, ReadonlySet<string>> {
  return ctx.memo('schema-health:taken-relation-names', () => {
    const taken = new Map<string, Set<string>>();
    const add = (schema: string, name: string) => {
      let set = taken.get(schema);
      if (!set) taken.set(schema, (set = new Set()));
      set.add(name);
    };
    for (const r of ctx.snapshot.relations) add(r.schema, r.name);
    for (const i of ctx.snapshot.indexes) add(i.schema, i.name);
    for (const s of ctx.snapshot.sequences) add(s.schema, s.name);
    return taken;
  });
}

/** Hands out fresh object names for one check run. */
export type NameAllocator = (schema: string, parts: readonly string[], suffix: string, alsoTaken?: ReadonlySet<string>) => string;

/**
 * Names like Postgres's own (`table_col1_col2_idx`): at most 63 bytes, free in the schema's
 * relation namespace, among `alsoTaken` (the table's constraint names) and among the names this
 * allocator already handed out, so two findings of one run never propose the same name. One
 * allocator per run keeps a check's SQL the same whatever other checks ran before it.
 */
export function nameAllocator(ctx: CheckContext): NameAllocator {
  const taken = takenRelationNames(ctx);
  const issued = new Map<string, Set<string>>();
  return (schema, parts, suffix, alsoTaken = new Set()) => {
    const inSchema = taken.get(schema);
    let mine = issued.get(schema);
    if (!mine) issued.set(schema, (mine = new Set()));
    const stem = parts.join('_');
    for (let n = 0; ; n++) {
      const tail = n === 0 ? `_${suffix}` : `_${suffix}${n}`;
      const name = truncateBytes(stem, MAX_IDENTIFIER_BYTES - Buffer.byteLength(tail, 'utf8')) + tail;
      if (!inSchema?.has(name) && !alsoTaken.has(name) && !mine.has(name)) {
        mine.add(name);
        return name;
      }
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Owner and tenant columns
// ---------------------------------------------------------------------------------------------

/** Columns that name the user (an `auth.users` id) who owns or made a row. */
const AUTH_USER_COLUMNS = new Set(['user_id', 'owner_id', 'author_id', 'creator_id', 'created_by', 'updated_by', 'deleted_by']);

/** Columns that name a person through an app table (profiles, members). */
const PERSON_COLUMNS = new Set(['profile_id', 'member_id']);

/** Columns that name the tenant or group a row belongs to. */
const TENANT_COLUMNS = new Set([
  'team_id',
  'org_id',
  'organization_id',
  'organisation_id',
  'tenant_id',
  'account_id',
  'workspace_id',
  'group_id',
  'company_id',
]);

/** `*_by` words that are settings, not people. */
const NOT_PEOPLE_BY = new Set(['order_by', 'sort_by', 'group_by', 'partition_by', 'sorted_by', 'ordered_by', 'grouped_by']);

/** Types an owner or tenant key is stored as. */
const KEY_TYPES = new Set(['pg_catalog.uuid', 'pg_catalog.int8', 'pg_catalog.int4', 'pg_catalog.text']);

export type OwnerColumnKind = 'user' | 'tenant';

function isPeopleBy(column: Column): boolean {
  const name = column.name.toLowerCase();
  return name.endsWith('_by') && /^[a-z0-9_]+_by$/.test(name) && !NOT_PEOPLE_BY.has(name) && column.typeName !== 'pg_catalog.text';
}

/**
 * Whether a column looks like an owner (`user_id`, `created_by`, `*_by`, `profile_id`) or tenant
 * key (`team_id`, `organization_id`…) stored as uuid, bigint, integer or text. A `*_by` column
 * must be uuid or an integer: as text it is usually a setting (`sort_by`).
 */
export function ownerColumnKind(column: Column): OwnerColumnKind | null {
  if (!KEY_TYPES.has(column.typeName)) return null;
  const name = column.name.toLowerCase();
  if (AUTH_USER_COLUMNS.has(name) || PERSON_COLUMNS.has(name) || isPeopleBy(column)) return 'user';
  if (TENANT_COLUMNS.has(name)) return 'tenant';
  return null;
}

/** A user key that, in Supabase, points at `auth.users (id)`: `user_id`, `owner_id`, `created_by`, `*_by`… */
export function namesAuthUser(column: Column): boolean {
  return AUTH_USER_COLUMNS.has(column.name.toLowerCase()) || isPeopleBy(column);
}

// ---------------------------------------------------------------------------------------------
// How policies use columns
// ---------------------------------------------------------------------------------------------

/**
 * A column of a policy's own table that the policy ties to the caller: compared with
 * `auth.uid()` or a JWT claim, or looked up in a membership subquery or helper function.
 */
export interface PolicyColumnTie {
  readonly column: string;
  readonly policy: string;
  /** The tie must hold for the policy to pass (reached through AND only). */
  readonly conjunctive: boolean;
  /** Compared with `auth.uid()` (or the JWT `sub` claim) directly; always true for an unparsed expression that calls it. */
  readonly comparedWithUid: boolean;
}

/** A table that policy subqueries look the caller up in (a membership subquery). */
export interface PolicyLookup {
  /** Columns the subqueries filter, join or select on. */
  readonly columns: ReadonlySet<string>;
  readonly policies: readonly string[];
}

interface PolicyColumnUse {
  readonly ties: ReadonlyMap<Relation, readonly PolicyColumnTie[]>;
  readonly lookups: ReadonlyMap<Relation, PolicyLookup>;
}

/** Identifiers in an expression text, unquoted (`"Team Id"` → `Team Id`, `user_id` → `user_id`). */
function identifiersIn(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*)/g)) {
    out.add(m[1] !== undefined ? m[1].replaceAll('""', '"') : m[2]!.toLowerCase());
  }
  return out;
}

/** Parsed policy analysis where available; a plain text search where an expression did not parse. */
export function policyColumnUse(ctx: CheckContext): PolicyColumnUse {
  return ctx.memo('schema-health:policy-column-use', () => {
    const ties = new Map<Relation, PolicyColumnTie[]>();
    const lookups = new Map<Relation, { columns: Set<string>; policies: Set<string> }>();
    const addTie = (key: Relation, tie: PolicyColumnTie) => {
      const list = ties.get(key);
      if (list) list.push(tie);
      else ties.set(key, [tie]);
    };
    const addLookup = (key: Relation, columns: readonly string[], policy: string) => {
      let entry = lookups.get(key);
      if (!entry) lookups.set(key, (entry = { columns: new Set(), policies: new Set() }));
      for (const c of columns) entry.columns.add(c);
      entry.policies.add(policy);
    };

    for (const analysis of analyzePolicies(ctx.snapshot)) {
      const { policy } = analysis;
      const relation = ctx.relation(policy.schema, policy.table);
      if (!relation) continue;
      for (const expr of [analysis.using, analysis.withCheck]) {
        if (!expr) continue;
        if (expr.parseError !== null) {
          // Unparsed: a column named in an expression that also calls auth.uid() counts as tied to it.
          if (!/auth\s*\.\s*uid\s*\(\s*\)/i.test(expr.text)) continue;
          const words = identifiersIn(expr.text);
          const conjunctive = !words.has('or');
          for (const column of relation.columns) {
            if (words.has(column.name)) {
              addTie(relation, { column: column.name, policy: policy.name, conjunctive, comparedWithUid: true });
            }
          }
          continue;
        }
        const uidClaims = new Set(
          expr.columnPredicates.filter((p) => p.kind === 'eq_jwt_claim' && p.claim === 'sub').map((p) => p.column),
        );
        for (const tie of expr.ownerTie) {
          addTie(relation, {
            column: tie.column,
            policy: policy.name,
            conjunctive: tie.conjunctive,
            comparedWithUid: tie.via === 'eq_auth_uid' || (tie.via === 'eq_jwt_claim' && uidClaims.has(tie.column)),
          });
        }
        for (const sub of expr.subqueries) {
          const looked = sub.keyedOnCaller && !sub.isPolicyTable ? ctx.relation(sub.schema, sub.name) : undefined;
          if (looked) addLookup(looked, [...sub.filterColumns, ...sub.targetColumns], policy.name);
        }
      }
    }
    const frozen = new Map<Relation, PolicyLookup>();
    for (const [k, v] of lookups) frozen.set(k, { columns: v.columns, policies: [...v.policies].sort() });
    return { ties, lookups: frozen };
  });
}

export function policyTiesOf(ctx: CheckContext, relation: Relation): readonly PolicyColumnTie[] {
  return policyColumnUse(ctx).ties.get(relation) ?? [];
}

export function policyLookupOf(ctx: CheckContext, relation: Relation): PolicyLookup | undefined {
  return policyColumnUse(ctx).lookups.get(relation);
}
