/**
 * Name resolution against a snapshot, shared by the analyzer and the rewriter.
 *
 * Rules (kept deliberately simple and documented, because `pg_get_expr` already schema-qualifies every
 * name that was not visible on the introspection session's search_path):
 *
 * - Relations: a qualified name is taken as is. An unqualified name is looked up in the policy's own schema
 *   first, then in `public`; when neither has it, it is assumed to be `public.<name>` (unknown to the snapshot).
 *   Names of CTEs in scope shadow relations.
 * - Functions: a qualified name is taken as is. An unqualified name resolves to `pg_catalog` when it is a known
 *   built-in (or the snapshot lists it in `pg_catalog`), else to the policy's own schema, else to `public`;
 *   when none has it the schema stays `null` (unresolved). The `auth` schema is never searched implicitly: an
 *   unqualified `uid()` is not `auth.uid()`.
 * - Overloads: the overload with the same argument count wins, else the first one listed.
 * - `auth.uid()`, `auth.jwt()`, `auth.role()`, `auth.email()` missing from the snapshot get Supabase's
 *   definitions (SQL, STABLE, not SECURITY DEFINER), flagged `known: false`.
 */
import type { FunctionInfo, Relation, Snapshot, Volatility } from '../model/snapshot.ts';

export interface ResolvedFunction {
  /** Resolved schema, or null when the name could not be resolved. */
  readonly schema: string | null;
  readonly name: string;
  /** The snapshot's entry, when there is one. */
  readonly info: FunctionInfo | null;
  /** True when found in the snapshot; false for built-in/default knowledge or unresolved names. */
  readonly known: boolean;
  readonly builtin: boolean;
  readonly volatility: Volatility | null;
  readonly securityDefiner: boolean | null;
  readonly returnsSet: boolean | null;
  readonly language: string | null;
}

/** Volatility of common built-ins (pg_catalog), used when the snapshot does not list pg_catalog. */
const BUILTINS: Readonly<Record<string, Volatility>> = {
  current_setting: 'stable',
  set_config: 'volatile',
  now: 'stable',
  statement_timestamp: 'stable',
  transaction_timestamp: 'stable',
  clock_timestamp: 'volatile',
  timeofday: 'volatile',
  random: 'volatile',
  gen_random_uuid: 'volatile',
  uuid_generate_v4: 'volatile',
  nextval: 'volatile',
  currval: 'volatile',
  lower: 'immutable',
  upper: 'immutable',
  btrim: 'immutable',
  ltrim: 'immutable',
  rtrim: 'immutable',
  length: 'immutable',
  char_length: 'immutable',
  concat: 'stable',
  concat_ws: 'stable',
  split_part: 'immutable',
  string_to_array: 'immutable',
  array_to_string: 'stable',
  regexp_replace: 'immutable',
  regexp_match: 'immutable',
  regexp_split_to_array: 'immutable',
  substring: 'immutable',
  starts_with: 'immutable',
  position: 'immutable',
  replace: 'immutable',
  md5: 'immutable',
  array_length: 'immutable',
  array_position: 'immutable',
  array_append: 'immutable',
  cardinality: 'immutable',
  unnest: 'immutable',
  jsonb_extract_path: 'immutable',
  jsonb_extract_path_text: 'immutable',
  json_extract_path: 'immutable',
  json_extract_path_text: 'immutable',
  jsonb_array_elements: 'immutable',
  jsonb_array_elements_text: 'immutable',
  json_array_elements: 'immutable',
  json_array_elements_text: 'immutable',
  jsonb_typeof: 'immutable',
  to_jsonb: 'stable',
  to_json: 'stable',
  jsonb_build_object: 'stable',
  date_trunc: 'stable',
  date_part: 'stable',
  extract: 'stable',
  age: 'stable',
  to_char: 'stable',
  count: 'immutable',
  sum: 'immutable',
  max: 'immutable',
  min: 'immutable',
  array_agg: 'immutable',
  bool_or: 'immutable',
  bool_and: 'immutable',
  has_table_privilege: 'stable',
  has_schema_privilege: 'stable',
  has_function_privilege: 'stable',
  pg_has_role: 'stable',
  current_schema: 'stable',
  inet_client_addr: 'stable',
  txid_current: 'stable',
};

/** Supabase's own definitions of the auth helpers, used when the snapshot lacks them. */
export const AUTH_HELPERS: ReadonlySet<string> = new Set(['uid', 'jwt', 'role', 'email']);

export interface BodyInfo {
  /** Relations the body mentions (rough scan, see `scanFunctionBody`), as `schema.name`. */
  readonly readsTables: readonly string[];
  /** The subset of `readsTables` that has RLS enabled. */
  readonly readsRlsTables: readonly string[];
  /** The body calls `auth.uid()`/`auth.jwt()`/`auth.email()` or reads `request.jwt.claim…`. */
  readonly referencesCaller: boolean;
}

const EMPTY_BODY: BodyInfo = { readsTables: [], readsRlsTables: [], referencesCaller: false };

export interface SnapshotIndex {
  readonly snapshot: Snapshot;
  relation(schema: string, name: string): Relation | null;
  /** Column names of a relation (cached). */
  columnsOf(rel: Relation): ReadonlySet<string>;
  /** Resolves a relation name (see module doc). */
  resolveRelation(schema: string | null, name: string, policySchema: string): { schema: string; relation: Relation | null };
  resolveFunction(schema: string | null, name: string, argCount: number, policySchema: string): ResolvedFunction;
  bodyInfo(fn: FunctionInfo): BodyInfo;
  /** Schemas outside pg_catalog & co. holding a relation / a function of this name (built on first use). */
  schemasNaming(kind: 'relation' | 'function', name: string): ReadonlySet<string>;
}

const key = (schema: string, name: string): string => `${schema}\u0000${name}`;

const SYSTEM_SCHEMAS_FOR_PATH: ReadonlySet<string> = new Set(['pg_catalog', 'information_schema', 'pg_toast']);
const NO_SCHEMAS: ReadonlySet<string> = new Set();

const indexes = new WeakMap<Snapshot, SnapshotIndex>();

export function snapshotIndex(snapshot: Snapshot): SnapshotIndex {
  let idx = indexes.get(snapshot);
  if (!idx) {
    idx = buildIndex(snapshot);
    indexes.set(snapshot, idx);
  }
  return idx;
}

function buildIndex(snapshot: Snapshot): SnapshotIndex {
  const relations = new Map<string, Relation>();
  for (const r of snapshot.relations) relations.set(key(r.schema, r.name), r);
  const functions = new Map<string, FunctionInfo[]>();
  for (const f of snapshot.functions) {
    const k = key(f.schema, f.name);
    const list = functions.get(k);
    if (list) list.push(f);
    else functions.set(k, [f]);
  }
  const columns = new WeakMap<Relation, ReadonlySet<string>>();
  const bodies = new WeakMap<FunctionInfo, BodyInfo>();
  const resolvedFns = new Map<string, ResolvedFunction>();
  let byName: { relation: Map<string, Set<string>>; function: Map<string, Set<string>> } | undefined;

  const relation = (schema: string, name: string): Relation | null => relations.get(key(schema, name)) ?? null;

  const fromInfo = (info: FunctionInfo): ResolvedFunction => ({
    schema: info.schema,
    name: info.name,
    info,
    known: true,
    builtin: info.schema === 'pg_catalog',
    volatility: info.volatility,
    securityDefiner: info.securityDefiner,
    returnsSet: info.returnsSet,
    language: info.language,
  });

  const pick = (schema: string, name: string, argCount: number): FunctionInfo | null => {
    const list = functions.get(key(schema, name));
    if (!list || list.length === 0) return null;
    return list.find((f) => f.argCount === argCount) ?? list[0] ?? null;
  };

  const fallback = (schema: string | null, name: string): ResolvedFunction | null => {
    if (schema === 'auth' && AUTH_HELPERS.has(name)) {
      return {
        schema: 'auth',
        name,
        info: null,
        known: false,
        builtin: false,
        volatility: 'stable',
        securityDefiner: false,
        returnsSet: false,
        language: 'sql',
      };
    }
    if (schema === 'pg_catalog' && Object.hasOwn(BUILTINS, name)) {
      return {
        schema: 'pg_catalog',
        name,
        info: null,
        known: false,
        builtin: true,
        volatility: BUILTINS[name] ?? null,
        securityDefiner: false,
        returnsSet: null,
        language: 'internal',
      };
    }
    return null;
  };

  const resolveFunctionUncached = (
    schema: string | null,
    name: string,
    argCount: number,
    policySchema: string,
  ): ResolvedFunction => {
    if (schema !== null) {
      const info = pick(schema, name, argCount);
      if (info) return fromInfo(info);
      return (
        fallback(schema, name) ?? {
          schema,
          name,
          info: null,
          known: false,
          builtin: schema === 'pg_catalog',
          volatility: null,
          securityDefiner: null,
          returnsSet: null,
          language: null,
        }
      );
    }
    const catalog = pick('pg_catalog', name, argCount);
    if (catalog) return fromInfo(catalog);
    const builtin = fallback('pg_catalog', name);
    if (builtin) return builtin;
    for (const s of [policySchema, 'public']) {
      const info = pick(s, name, argCount);
      if (info) return fromInfo(info);
    }
    return {
      schema: null,
      name,
      info: null,
      known: false,
      builtin: false,
      volatility: null,
      securityDefiner: null,
      returnsSet: null,
      language: null,
    };
  };

  const index: SnapshotIndex = {
    snapshot,
    relation,
    columnsOf(rel) {
      let set = columns.get(rel);
      if (!set) {
        set = new Set(rel.columns.map((c) => c.name));
        columns.set(rel, set);
      }
      return set;
    },
    resolveRelation(schema, name, policySchema) {
      if (schema !== null) return { schema, relation: relation(schema, name) };
      for (const s of [policySchema, 'public']) {
        const r = relation(s, name);
        if (r) return { schema: s, relation: r };
      }
      return { schema: 'public', relation: null };
    },
    resolveFunction(schema, name, argCount, policySchema) {
      const k = `${schema ?? ''}\u0000${name}\u0000${argCount}\u0000${policySchema}`;
      let r = resolvedFns.get(k);
      if (!r) {
        r = resolveFunctionUncached(schema, name, argCount, policySchema);
        resolvedFns.set(k, r);
      }
      return r;
    },
    bodyInfo(fn) {
      let b = bodies.get(fn);
      if (!b) {
        b = scanFunctionBody(fn, index);
        bodies.set(fn, b);
      }
      return b;
    },
    schemasNaming(kind, name) {
      if (!byName) {
        const group = (objects: readonly { name: string; schema: string }[]) => {
          const map = new Map<string, Set<string>>();
          for (const { name: n, schema } of objects) {
            if (SYSTEM_SCHEMAS_FOR_PATH.has(schema)) continue;
            const set = map.get(n) ?? new Set<string>();
            set.add(schema);
            map.set(n, set);
          }
          return map;
        };
        byName = { relation: group(snapshot.relations), function: group(snapshot.functions) };
      }
      return byName[kind].get(name) ?? NO_SCHEMAS;
    },
  };
  return index;
}

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*)`;
const QUALIFIED = new RegExp(String.raw`(${IDENT})\s*\.\s*(${IDENT})`, 'g');
const AFTER_KEYWORD = new RegExp(
  String.raw`\b(?:from|join|update|insert\s+into|merge\s+into|delete\s+from|truncate(?:\s+table)?|only)\s+(${IDENT})(?:\s*\.\s*(${IDENT}))?`,
  'gi',
);
/** A bare name called as a function (not after a dot, not itself qualified). */
const BARE_CALL = new RegExp(String.raw`(^|[^.\w$"])(${IDENT})\s*\(`, 'g');
/** A bare relation name before %ROWTYPE / %TYPE (`posts%rowtype`, `posts.id%type`). */
const BARE_ROWTYPE = new RegExp(String.raw`(^|[^.\w$"])(${IDENT})(?:\s*\.\s*${IDENT})?\s*%\s*(?:row)?type\b`, 'gi');
const CALLER_RE = /\bauth\s*\.\s*(?:uid|jwt|email)\s*\(|request\.jwt\.claim/i;

function unquote(ident: string): string {
  return ident.startsWith('"') ? ident.slice(1, -1).replaceAll('""', '"') : ident.toLowerCase();
}

/** Strips comments and string literals (keeping positions irrelevant), so identifiers in them are ignored. */
function stripCommentsAndStrings(src: string): string {
  return src
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/--[^\n]*/g, ' ')
    .replace(/'(?:[^']|'')*'/g, "''");
}

/**
 * Rough scan of a SQL or PL/pgSQL body (`FunctionInfo.source`) for the relations it reads or writes:
 * every schema-qualified `a.b` that names a snapshot relation, plus unqualified names right after
 * FROM / JOIN / UPDATE / INSERT INTO / MERGE INTO / DELETE FROM / TRUNCATE, resolved through the function's
 * own `search_path` setting (proconfig) or, without one, the function's schema then `public`.
 * Comments and string literals are ignored (so dynamic SQL in EXECUTE strings is missed); comma-separated
 * FROM lists only count their first, unqualified item. Other languages give an empty result.
 */
export function scanFunctionBody(fn: FunctionInfo, index: SnapshotIndex): BodyInfo {
  const src = fn.source;
  const lang = fn.language.toLowerCase();
  if (!src || (lang !== 'sql' && lang !== 'plpgsql')) return EMPTY_BODY;
  const referencesCaller = CALLER_RE.test(src);
  const text = stripCommentsAndStrings(src);
  const found = new Map<string, Relation>();
  for (const m of text.matchAll(QUALIFIED)) {
    const rel = index.relation(unquote(m[1] ?? ''), unquote(m[2] ?? ''));
    if (rel) found.set(`${rel.schema}.${rel.name}`, rel);
  }
  let path: string[] = [fn.schema, 'public'];
  const sp = fn.config.find((c) => c.toLowerCase().startsWith('search_path='));
  if (sp) {
    path = sp
      .slice('search_path='.length)
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '' && s !== '""' && s !== "''")
      .map((s) => (s.startsWith('"') ? s.slice(1, -1).replaceAll('""', '"') : s.toLowerCase()))
      .filter((s) => s !== '$user');
  }
  for (const m of text.matchAll(AFTER_KEYWORD)) {
    if (m[2] !== undefined) continue; // qualified: handled above
    const name = unquote(m[1] ?? '');
    for (const s of path) {
      const rel = index.relation(s, name);
      if (rel) {
        found.set(`${rel.schema}.${rel.name}`, rel);
        break;
      }
    }
  }
  const readsTables = [...found.keys()].sort();
  const readsRlsTables = readsTables.filter((k) => {
    const r = found.get(k);
    return r !== undefined && r.rlsEnabled && (r.kind === 'table' || r.kind === 'partitioned_table');
  });
  return { readsTables, readsRlsTables, referencesCaller };
}

/**
 * The schemas whose objects a SQL or PL/pgSQL body names without a schema: bare calls of
 * functions and bare relation names (after FROM, JOIN, INTO, UPDATE…, or before %ROWTYPE) that
 * exist outside pg_catalog, in the order a search_path should list them (the function's own
 * schema, public, extensions, then the rest by name). Empty when the body qualifies everything it
 * uses (or is in another language). A rough scan like `scanFunctionBody`: user types named bare in
 * casts and names built in dynamic SQL are not seen.
 */
export function unqualifiedSchemas(fn: FunctionInfo, snapshot: Snapshot): string[] {
  const lang = fn.language.toLowerCase();
  if (!fn.source || (lang !== 'sql' && lang !== 'plpgsql')) return [];
  const index = snapshotIndex(snapshot);
  const text = stripCommentsAndStrings(fn.source);
  const found = new Set<string>();
  const add = (kind: 'relation' | 'function', ident: string | undefined) => {
    for (const schema of index.schemasNaming(kind, unquote(ident ?? ''))) found.add(schema);
  };
  for (const m of text.matchAll(BARE_CALL)) add('function', m[2]);
  for (const m of text.matchAll(AFTER_KEYWORD)) if (m[2] === undefined) add('relation', m[1]);
  for (const m of text.matchAll(BARE_ROWTYPE)) add('relation', m[2]);
  const rank = (s: string) => (s === fn.schema ? 0 : s === 'public' ? 1 : s === 'extensions' ? 2 : 3);
  return [...found].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}
