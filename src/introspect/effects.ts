/**
 * What a statement can set off beyond the rows it touches, before supaudit runs it on a live
 * database. A rolled-back transaction undoes rows, not the world: a trigger that calls out through
 * dblink, `http` or `pg_net`, a column default that runs `COPY … PROGRAM`, a session advisory lock, a
 * `setval` — each acts outside the transaction and stays done after the ROLLBACK. So every write
 * (and every read, through the functions its policies call) is first walked here, from the catalog:
 *
 * - the table, its partitions and its parents: their enabled triggers for the command, their rules,
 *   CHECK constraints, domain checks of their columns, column defaults (for the columns the
 *   statement leaves to them), generated columns, and their policies;
 * - foreign-key actions (ON DELETE / ON UPDATE CASCADE, SET NULL, SET DEFAULT) into the tables they
 *   reach, walked as writes of those tables;
 * - every function those call, transitively by name (every overload of a name, in any schema),
 *   with the tables their bodies write (walked as writes) and read (their policies);
 *
 * A path that reaches something outside the transaction, or a function whose body cannot be read
 * (C outside the known extensions, an untrusted language, dynamic SQL), makes the statement one
 * supaudit does not run: the caller reports it as not attempted, with the path as the reason.
 * Sequences the walk sees advanced (`nextval`, serial and identity defaults) are named, so the
 * report can say which ones a run may move.
 */
import { qualified } from '../model/ident.ts';
import type { Constraint, FunctionInfo, Policy, Relation, Snapshot } from '../model/snapshot.ts';
import { calledNames, codeOnly, uncommented } from '../model/sql-text.ts';
import type { Session } from './session.ts';

export type WriteCommand = 'insert' | 'update' | 'delete';

export interface TriggerInfo {
  readonly schema: string;
  readonly table: string;
  readonly name: string;
  /** `schema.name` of the trigger function. */
  readonly function: string;
  readonly events: readonly (WriteCommand | 'truncate')[];
}

export interface RuleInfo {
  readonly schema: string;
  readonly table: string;
  readonly name: string;
  readonly event: 'select' | WriteCommand;
  readonly definition: string;
}

/** The catalog facts the walk needs beyond the snapshot: triggers, rules, partition tree, domain checks. */
export interface EffectCatalog {
  readonly triggers: readonly TriggerInfo[];
  readonly rules: readonly RuleInfo[];
  readonly parents: readonly { readonly schema: string; readonly table: string; readonly parentSchema: string; readonly parentTable: string }[];
  readonly domainChecks: readonly { readonly schema: string; readonly table: string; readonly column: string; readonly definition: string }[];
}

const SQL = `
with recursive doms(top, dom) as (
  select t.oid, t.oid from pg_catalog.pg_type t where t.typtype = 'd'
  union all
  select d.top, t.typbasetype from doms d join pg_catalog.pg_type t on t.oid = d.dom
    join pg_catalog.pg_type b on b.oid = t.typbasetype where b.typtype = 'd'
)
select 'trigger' as kind, n.nspname::text as schema, c.relname::text as rel, t.tgname::text as name,
  fn.nspname::text || '.' || p.proname::text as detail, t.tgtype::int as num
  from pg_catalog.pg_trigger t
  join pg_catalog.pg_class c on c.oid = t.tgrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  join pg_catalog.pg_proc p on p.oid = t.tgfoid join pg_catalog.pg_namespace fn on fn.oid = p.pronamespace
 where not t.tgisinternal and t.tgenabled <> 'D'
union all
select 'rule', n.nspname::text, c.relname::text, r.rulename::text, pg_catalog.pg_get_ruledef(r.oid), ascii(r.ev_type::text) - 48
  from pg_catalog.pg_rewrite r
  join pg_catalog.pg_class c on c.oid = r.ev_class join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where r.rulename <> '_RETURN' and r.ev_enabled <> 'D'
union all
select 'parent', n.nspname::text, c.relname::text, pc.relname::text, pn.nspname::text, 0
  from pg_catalog.pg_inherits i
  join pg_catalog.pg_class c on c.oid = i.inhrelid join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  join pg_catalog.pg_class pc on pc.oid = i.inhparent join pg_catalog.pg_namespace pn on pn.oid = pc.relnamespace
union all
select 'domain_check', n.nspname::text, c.relname::text, a.attname::text, pg_catalog.pg_get_constraintdef(con.oid), 0
  from doms d
  join pg_catalog.pg_constraint con on con.contypid = d.dom
  join pg_catalog.pg_type top on top.oid = d.top
  join pg_catalog.pg_attribute a on a.atttypid in (top.oid, top.typarray) and a.attnum > 0 and not a.attisdropped
  join pg_catalog.pg_class c on c.oid = a.attrelid and c.relkind in ('r', 'p', 'f')
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where n.nspname <> 'information_schema' and n.nspname !~ '^pg_'`;

interface Row {
  kind: 'trigger' | 'rule' | 'parent' | 'domain_check';
  schema: string;
  rel: string;
  name: string;
  detail: string;
  num: number;
}

const RULE_EVENTS = { 1: 'select', 2: 'update', 3: 'insert', 4: 'delete' } as const;

/** Trigger event bits of `tgtype`. */
function triggerEvents(tgtype: number): TriggerInfo['events'] {
  const out: (WriteCommand | 'truncate')[] = [];
  if (tgtype & 4) out.push('insert');
  if (tgtype & 8) out.push('delete');
  if (tgtype & 16) out.push('update');
  if (tgtype & 32) out.push('truncate');
  return out;
}

/** One catalog query (it runs in a read-only transaction of its own, like every statement supaudit sends). */
export async function readEffectCatalog(session: Session): Promise<EffectCatalog> {
  const rows = await session.query<Row>(SQL);
  const triggers: TriggerInfo[] = [];
  const rules: RuleInfo[] = [];
  const parents: EffectCatalog['parents'][number][] = [];
  const domainChecks: EffectCatalog['domainChecks'][number][] = [];
  for (const r of rows) {
    if (r.kind === 'trigger') triggers.push({ schema: r.schema, table: r.rel, name: r.name, function: r.detail, events: triggerEvents(Number(r.num)) });
    else if (r.kind === 'rule') rules.push({ schema: r.schema, table: r.rel, name: r.name, event: RULE_EVENTS[Number(r.num) as 1 | 2 | 3 | 4] ?? 'select', definition: r.detail });
    else if (r.kind === 'parent') parents.push({ schema: r.schema, table: r.rel, parentSchema: r.detail, parentTable: r.name });
    else domainChecks.push({ schema: r.schema, table: r.rel, column: r.name, definition: r.detail });
  }
  return { triggers, rules, parents, domainChecks };
}

/** Extensions whose functions act outside the transaction that calls them. */
const OUTSIDE_EXTENSIONS: Readonly<Record<string, string>> = {
  dblink: 'a dblink connection to another database (its statements commit there)',
  http: 'an HTTP request (the http extension)',
  pg_net: 'an HTTP request (pg_net)',
  pg_background: 'a background worker (pg_background commits on its own)',
  postgres_fdw: 'a foreign server (postgres_fdw)',
  wrappers: 'a foreign data wrapper (wrappers)',
  adminpack: 'a server file (adminpack)',
  pg_cron: 'pg_cron',
  aws_lambda: 'an AWS Lambda call',
  aws_s3: 'an S3 transfer',
};

/**
 * Extensions whose C functions compute values only (hashing, uuids, text search, geometry, vectors,
 * trigger helpers that set a column): nothing leaves the transaction.
 */
const CONTAINED_EXTENSIONS = new Set([
  'uuid-ossp', 'pgcrypto', 'citext', 'pg_trgm', 'btree_gin', 'btree_gist', 'hstore', 'ltree', 'unaccent', 'fuzzystrmatch',
  'postgis', 'postgis_topology', 'postgis_raster', 'address_standardizer', 'vector', 'moddatetime', 'pg_jsonschema', 'pg_hashids',
  'intarray', 'cube', 'earthdistance', 'isn', 'seg', 'tablefunc', 'pg_stat_statements', 'pgjwt', 'pgsodium', 'supabase_vault',
  'pg_graphql', 'pgroonga', 'rum', 'plpgsql', 'insert_username', 'autoinc', 'tcn', 'lo', 'dict_int', 'dict_xsyn', 'bloom',
  'amcheck', 'pg_walinspect', 'pgstattuple', 'pageinspect', 'index_advisor', 'hypopg', 'pgtap', 'plpgsql_check', 'pg_tle',
  'pg_uuidv7', 'pgmq', 'timescaledb',
]);

/** Built-in functions (pg_catalog) that act outside the transaction, with what they do. */
const OUTSIDE_BUILTINS: Readonly<Record<string, string>> = {
  pg_advisory_lock: 'takes a session advisory lock (it outlives the transaction)',
  pg_advisory_lock_shared: 'takes a session advisory lock (it outlives the transaction)',
  pg_try_advisory_lock: 'takes a session advisory lock (it outlives the transaction)',
  pg_try_advisory_lock_shared: 'takes a session advisory lock (it outlives the transaction)',
  setval: 'sets a sequence (not undone by a rollback)',
  lo_export: 'writes a server file',
  lo_import: 'reads a server file into a large object',
  pg_file_write: 'writes a server file',
  pg_file_rename: 'renames a server file',
  pg_file_unlink: 'removes a server file',
  pg_logical_emit_message: 'writes a WAL message that may be non-transactional',
  pg_terminate_backend: 'ends another session',
  pg_cancel_backend: 'cancels another session’s query',
  pg_reload_conf: 'reloads the server configuration',
  pg_rotate_logfile: 'rotates the server log',
  pg_switch_wal: 'switches the WAL file',
  pg_create_restore_point: 'writes a restore point',
  pg_promote: 'promotes a standby',
  pg_create_physical_replication_slot: 'creates a replication slot',
  pg_create_logical_replication_slot: 'creates a replication slot',
  pg_drop_replication_slot: 'drops a replication slot',
  pg_replication_origin_create: 'creates a replication origin',
  pg_stat_reset: 'resets statistics',
  pg_stat_reset_shared: 'resets statistics',
  pg_stat_reset_single_table_counters: 'resets statistics',
  dblink: 'a dblink connection to another database (its statements commit there)',
  dblink_exec: 'a dblink connection to another database (its statements commit there)',
  dblink_connect: 'a dblink connection to another database',
  dblink_send_query: 'a dblink connection to another database (its statements commit there)',
};

/** Languages whose bodies supaudit reads; C and internal are judged by their extension; any other can do anything. */
const READ_LANGUAGES = new Set(['sql', 'plpgsql']);

export interface Effects {
  /** Why the statement must not run on a live database (each a path to the first thing outside). Empty: contained. */
  readonly outside: readonly string[];
  /** Sequences the statement can advance (`schema.name`, or `a sequence named at run time`). */
  readonly sequences: readonly string[];
  /** Triggers that can fire (`schema.table.trigger`), on the table and on those its actions reach. */
  readonly triggers: readonly string[];
}

type Node =
  | { readonly kind: 'write'; readonly rel: Relation; readonly command: WriteCommand; readonly explicit: ReadonlySet<string> | null; readonly via: string }
  | { readonly kind: 'read'; readonly rel: Relation; readonly via: string }
  | { readonly kind: 'text'; readonly text: string; readonly via: string }
  | { readonly kind: 'function'; readonly fn: FunctionInfo; readonly via: string };

interface Index {
  readonly relations: ReadonlyMap<string, Relation>;
  readonly relationsByName: ReadonlyMap<string, Relation[]>;
  readonly functionsByName: ReadonlyMap<string, FunctionInfo[]>;
  readonly functionsByQualified: ReadonlyMap<string, FunctionInfo[]>;
  readonly triggers: ReadonlyMap<string, TriggerInfo[]>;
  readonly rules: ReadonlyMap<string, RuleInfo[]>;
  readonly parents: ReadonlyMap<string, string[]>;
  readonly children: ReadonlyMap<string, string[]>;
  readonly domainChecks: ReadonlyMap<string, { column: string; definition: string }[]>;
  readonly checks: ReadonlyMap<string, Constraint[]>;
  readonly referencedBy: ReadonlyMap<string, Constraint[]>;
  readonly policies: ReadonlyMap<string, Policy[]>;
}

const key = (schema: string, name: string) => `${schema}\u0000${name}`;

function push<V>(map: Map<string, V[]>, k: string, v: V): void {
  const list = map.get(k);
  if (list) list.push(v);
  else map.set(k, [v]);
}

function buildIndex(snapshot: Snapshot, catalog: EffectCatalog): Index {
  const relations = new Map<string, Relation>();
  const relationsByName = new Map<string, Relation[]>();
  for (const r of snapshot.relations) {
    relations.set(key(r.schema, r.name), r);
    push(relationsByName, r.name.toLowerCase(), r);
  }
  const functionsByName = new Map<string, FunctionInfo[]>();
  const functionsByQualified = new Map<string, FunctionInfo[]>();
  for (const f of snapshot.functions) {
    push(functionsByName, f.name.toLowerCase(), f);
    push(functionsByQualified, `${f.schema}.${f.name}`, f);
  }
  const triggers = new Map<string, TriggerInfo[]>();
  for (const t of catalog.triggers) push(triggers, key(t.schema, t.table), t);
  const rules = new Map<string, RuleInfo[]>();
  for (const r of catalog.rules) push(rules, key(r.schema, r.table), r);
  const parents = new Map<string, string[]>();
  const children = new Map<string, string[]>();
  for (const p of catalog.parents) {
    push(parents, key(p.schema, p.table), key(p.parentSchema, p.parentTable));
    push(children, key(p.parentSchema, p.parentTable), key(p.schema, p.table));
  }
  const domainChecks = new Map<string, { column: string; definition: string }[]>();
  for (const d of catalog.domainChecks) push(domainChecks, key(d.schema, d.table), d);
  const checks = new Map<string, Constraint[]>();
  const referencedBy = new Map<string, Constraint[]>();
  for (const c of snapshot.constraints) {
    if (c.type === 'check') push(checks, key(c.schema, c.table), c);
    if (c.type === 'foreign_key' && c.refSchema && c.refTable) push(referencedBy, key(c.refSchema, c.refTable), c);
  }
  const policies = new Map<string, Policy[]>();
  for (const p of snapshot.policies) push(policies, key(p.schema, p.table), p);
  return { relations, relationsByName, functionsByName, functionsByQualified, triggers, rules, parents, children, domainChecks, checks, referencedBy, policies };
}

/** `a.b`, `"A"."b"` or `b` in code, as the relations it can name (unqualified: every schema's). */
function relationsNamed(index: Index, raw: string): Relation[] {
  const parts = [...raw.matchAll(/"((?:[^"]|"")+)"|([A-Za-z_][\w$]*)/g)].map((m) => (m[1] !== undefined ? m[1].replaceAll('""', '"') : m[2]!.toLowerCase()));
  if (parts.length === 2) {
    const r = index.relations.get(key(parts[0]!, parts[1]!));
    return r ? [r] : [];
  }
  if (parts.length === 1) return index.relationsByName.get(parts[0]!.toLowerCase())?.filter((r) => r.name === parts[0] || r.name.toLowerCase() === parts[0]) ?? [];
  return [];
}

const NAME = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*))?`;
const WRITE_TARGETS = new RegExp(String.raw`\b(insert\s+into|update|delete\s+from|merge\s+into)\s+(?:only\s+)?(${NAME})`, 'gi');
const READ_SOURCES = new RegExp(String.raw`\b(?:from|join)\s+(?:only\s+)?(${NAME})`, 'gi');
const NOT_A_TABLE = new Set(['set', 'of', 'nowait', 'skip', 'the', 'on', 'select', 'lateral', 'unnest', 'jsonb_array_elements', 'json_array_elements']);

/** What a statement text (a body, a policy, a default, a rule) does that the walk must follow or stop at. */
function scanText(text: string, via: string, index: Index, visit: (node: Node) => void, stop: (reason: string) => void, sequences: Set<string>): void {
  const code = codeOnly(text);
  if (/\bcopy\b[^;]*\b(program|to)\b/i.test(code)) stop(`${via} runs COPY to a program or a server file`);
  // PL/pgSQL EXECUTE of a string: its statements are only known at run time.
  if (/\bexecute\b(?!\s+(function|procedure)\b)/i.test(code)) stop(`${via} runs dynamic SQL (EXECUTE), whose statements cannot be read`);
  for (const m of uncommented(text).matchAll(/\bnextval\s*\(\s*'((?:[^']|'')+)'/gi)) sequences.add(m[1]!.replaceAll("''", "'").replace(/^"|"$/g, ''));
  if (/\bnextval\s*\(\s*(?!')/i.test(code)) sequences.add('a sequence named at run time');
  for (const name of calledNames(code)) {
    const fns = index.functionsByName.get(name.toLowerCase())?.filter((f) => f.name === name || f.name.toLowerCase() === name) ?? [];
    if (fns.length === 0) {
      const builtin = OUTSIDE_BUILTINS[name.toLowerCase()];
      if (builtin) stop(`${via} calls ${name}(), which ${builtin.startsWith('a ') ? `reaches ${builtin}` : builtin}`);
      continue;
    }
    for (const fn of fns) visit({ kind: 'function', fn, via: `${via} → ${fn.schema}.${fn.name}()` });
  }
  for (const m of code.matchAll(WRITE_TARGETS)) {
    const verb = m[1]!.toLowerCase();
    if (NOT_A_TABLE.has(m[2]!.toLowerCase())) continue;
    const command: WriteCommand = verb.startsWith('insert') || verb.startsWith('merge') ? 'insert' : verb.startsWith('update') ? 'update' : 'delete';
    for (const rel of relationsNamed(index, m[2]!)) {
      visit({ kind: 'write', rel, command, explicit: null, via: `${via} → ${command.toUpperCase()} ${qualified(rel.schema, rel.name)}` });
      if (verb.startsWith('merge')) {
        visit({ kind: 'write', rel, command: 'update', explicit: null, via: `${via} → MERGE ${qualified(rel.schema, rel.name)}` });
        visit({ kind: 'write', rel, command: 'delete', explicit: null, via: `${via} → MERGE ${qualified(rel.schema, rel.name)}` });
      }
    }
  }
  for (const m of code.matchAll(READ_SOURCES)) {
    if (NOT_A_TABLE.has(m[1]!.toLowerCase())) continue;
    for (const rel of relationsNamed(index, m[1]!)) visit({ kind: 'read', rel, via: `${via} → reads ${qualified(rel.schema, rel.name)}` });
  }
}

/** The table with its parents and partitions, transitively. */
function family(index: Index, rel: Relation): Relation[] {
  const out = new Map<string, Relation>();
  const walk = (k: string, up: boolean) => {
    for (const next of (up ? index.parents : index.children).get(k) ?? []) {
      const r = index.relations.get(next);
      if (r && !out.has(next)) {
        out.set(next, r);
        walk(next, up);
      }
    }
  };
  const k = key(rel.schema, rel.name);
  out.set(k, rel);
  walk(k, true);
  walk(k, false);
  return [...out.values()];
}

const FK_ACTION = (event: 'DELETE' | 'UPDATE') => new RegExp(String.raw`\bON ${event} (CASCADE|SET NULL|SET DEFAULT)\b`, 'i');

/**
 * Walks what one statement can run. `explicit`: the columns the statement writes — for an INSERT
 * those given a value (the defaults of the others run), for an UPDATE those it sets (foreign-key
 * actions fire only when a referenced one changes); null: any.
 */
export function statementEffects(
  snapshot: Snapshot,
  catalog: EffectCatalog,
  start: { readonly rel: Relation; readonly command: WriteCommand | 'select'; readonly explicit?: ReadonlySet<string> | null } | { readonly call: FunctionInfo },
): Effects {
  const index = indexOf(snapshot, catalog);
  const outside = new Set<string>();
  const sequences = new Set<string>();
  const triggers = new Set<string>();
  const seen = new Set<string>();
  const queue: Node[] = [];
  const visit = (node: Node) => {
    const id =
      node.kind === 'write'
        ? `w:${node.rel.schema}.${node.rel.name}:${node.command}:${node.explicit ? [...node.explicit].sort().join(',') : '*'}`
        : node.kind === 'read'
          ? `r:${node.rel.schema}.${node.rel.name}`
          : node.kind === 'function'
            ? `f:${node.fn.schema}.${node.fn.name}(${node.fn.identityArgs})`
            : `t:${node.text}`;
    if (seen.has(id)) return;
    seen.add(id);
    queue.push(node);
  };
  const stop = (reason: string) => {
    if (outside.size < 4) outside.add(reason);
  };
  const name = 'call' in start ? `${qualified(start.call.schema, start.call.name)}()` : qualified(start.rel.schema, start.rel.name);
  if ('call' in start) visit({ kind: 'function', fn: start.call, via: `SELECT ${name}` });
  else if (start.command === 'select') visit({ kind: 'read', rel: start.rel, via: `SELECT ${name}` });
  else visit({ kind: 'write', rel: start.rel, command: start.command, explicit: start.explicit ?? null, via: `${start.command.toUpperCase()} ${name}` });
  for (let i = 0; i < queue.length && seen.size < 5_000; i++) {
    const node = queue[i]!;
    if (node.kind === 'text') scanText(node.text, node.via, index, visit, stop, sequences);
    else if (node.kind === 'function') walkFunction(node.fn, node.via, visit, stop);
    else if (node.kind === 'read') walkRead(index, node.rel, node.via, visit, stop);
    else walkWrite(index, node, visit, stop, sequences, triggers);
  }
  if (seen.size >= 5_000) stop(`${name}: more than 5,000 objects reached, not walked to the end`);
  return { outside: [...outside], sequences: [...sequences].sort(), triggers: [...triggers].sort() };
}

function walkFunction(fn: FunctionInfo, via: string, visit: (node: Node) => void, stop: (reason: string) => void): void {
  const outsideExtension = fn.extension ? OUTSIDE_EXTENSIONS[fn.extension] : undefined;
  if (outsideExtension) return stop(`${via} reaches ${outsideExtension}`);
  if (fn.schema === 'net') return stop(`${via} reaches an HTTP request (pg_net)`);
  if (READ_LANGUAGES.has(fn.language) && fn.source !== null) {
    visit({ kind: 'text', text: fn.source, via });
    return;
  }
  if ((fn.language === 'c' || fn.language === 'internal') && fn.extension !== null && CONTAINED_EXTENSIONS.has(fn.extension)) return;
  stop(
    fn.language === 'c' || fn.language === 'internal'
      ? `${via} is written in C${fn.extension ? ` (extension ${fn.extension})` : ''}: what it does cannot be read`
      : `${via} is written in ${fn.language}: what it does cannot be read`,
  );
}

function walkRead(index: Index, rel: Relation, via: string, visit: (node: Node) => void, stop: (reason: string) => void): void {
  if (rel.kind === 'foreign_table') return stop(`${via}: ${qualified(rel.schema, rel.name)} is a foreign table (the read goes to another server)`);
  if (rel.viewDefinition) visit({ kind: 'text', text: rel.viewDefinition, via });
  for (const r of family(index, rel)) {
    for (const p of index.policies.get(key(r.schema, r.name)) ?? []) {
      if (p.command !== 'SELECT' && p.command !== 'ALL') continue;
      if (p.unreadable) stop(`${via}: policy "${p.name}" on ${qualified(r.schema, r.name)} could not be read`);
      if (p.using) visit({ kind: 'text', text: p.using, via: `${via} → policy "${p.name}"` });
    }
    for (const rule of index.rules.get(key(r.schema, r.name)) ?? []) if (rule.event === 'select') visit({ kind: 'text', text: rule.definition, via: `${via} → rule ${rule.name}` });
  }
}

function walkWrite(
  index: Index,
  node: Extract<Node, { kind: 'write' }>,
  visit: (node: Node) => void,
  stop: (reason: string) => void,
  sequences: Set<string>,
  triggers: Set<string>,
): void {
  const { rel, command, explicit, via } = node;
  if (rel.kind === 'foreign_table') return stop(`${via}: ${qualified(rel.schema, rel.name)} is a foreign table (the write goes to another server)`);
  if (rel.kind === 'view' || rel.kind === 'materialized_view') {
    // An auto-updatable view writes its base table; INSTEAD OF triggers and rules are walked below.
    if (rel.viewDefinition) {
      visit({ kind: 'text', text: rel.viewDefinition, via });
      for (const m of codeOnly(rel.viewDefinition).matchAll(READ_SOURCES)) {
        for (const base of relationsNamed(index, m[1]!)) if (base !== rel) visit({ kind: 'write', rel: base, command, explicit: null, via: `${via} → ${qualified(base.schema, base.name)}` });
      }
    }
  }
  const event = command.toUpperCase();
  for (const r of family(index, rel)) {
    const k = key(r.schema, r.name);
    const where = qualified(r.schema, r.name);
    for (const t of index.triggers.get(k) ?? []) {
      if (!t.events.includes(command)) continue;
      triggers.add(`${where}.${t.name}`);
      const fns = index.functionsByQualified.get(t.function) ?? [];
      for (const fn of fns) visit({ kind: 'function', fn, via: `${via} → trigger ${t.name} on ${where} → ${t.function}()` });
    }
    for (const rule of index.rules.get(k) ?? []) if (rule.event === command) visit({ kind: 'text', text: rule.definition, via: `${via} → rule ${rule.name} on ${where}` });
    for (const p of index.policies.get(k) ?? []) {
      if (p.unreadable) stop(`${via}: policy "${p.name}" on ${where} could not be read`);
      if (p.using) visit({ kind: 'text', text: p.using, via: `${via} → policy "${p.name}"` });
      if (p.withCheck) visit({ kind: 'text', text: p.withCheck, via: `${via} → policy "${p.name}"` });
    }
    if (command === 'delete') continue;
    for (const c of index.checks.get(k) ?? []) visit({ kind: 'text', text: c.definition, via: `${via} → constraint ${c.name}` });
    for (const d of index.domainChecks.get(k) ?? []) visit({ kind: 'text', text: d.definition, via: `${via} → the domain of ${d.column}` });
    for (const col of r.columns) {
      if (col.generated && col.default) visit({ kind: 'text', text: col.default, via: `${via} → generated column ${col.name}` });
      if (command !== 'insert' || col.generated || (explicit?.has(col.name) ?? false)) continue;
      if (col.identity) sequences.add(`the identity sequence of ${where}.${col.name}`);
      if (col.default) visit({ kind: 'text', text: col.default, via: `${via} → default of ${col.name}` });
    }
  }
  // Foreign-key actions write the referencing tables (and fire their triggers).
  if (command === 'insert') return;
  for (const fk of index.referencedBy.get(key(rel.schema, rel.name)) ?? []) {
    const action = FK_ACTION(command === 'delete' ? 'DELETE' : 'UPDATE').exec(fk.definition);
    if (!action) continue;
    // An UPDATE that leaves the referenced key alone fires no ON UPDATE action.
    if (command === 'update' && explicit !== null && !fk.refColumns.some((c) => explicit.has(c))) continue;
    const child = index.relations.get(key(fk.schema, fk.table));
    if (!child) continue;
    const childCommand: WriteCommand = command === 'delete' && action[1]!.toUpperCase() === 'CASCADE' ? 'delete' : 'update';
    visit({ kind: 'write', rel: child, command: childCommand, explicit: childCommand === 'update' ? new Set(fk.columns) : null, via: `${via} → ON ${event} ${action[1]!.toUpperCase()} ${qualified(child.schema, child.name)}` });
  }
}

const indexes = new WeakMap<EffectCatalog, { snapshot: Snapshot; index: Index }>();

/** The walk's lookup tables, built once per catalog read. */
function indexOf(snapshot: Snapshot, catalog: EffectCatalog): Index {
  const cached = indexes.get(catalog);
  if (cached && cached.snapshot === snapshot) return cached.index;
  const index = buildIndex(snapshot, catalog);
  indexes.set(catalog, { snapshot, index });
  return index;
}

/** The reason a statement is not run on a live database, in one line, or null when nothing it reaches leaves the transaction. */
export function notAttemptedReason(effects: Effects): string | null {
  if (effects.outside.length === 0) return null;
  return `not attempted: ${effects.outside[0]}${effects.outside.length > 1 ? ` (and ${effects.outside.length - 1} more path${effects.outside.length === 2 ? '' : 's'})` : ''}`;
}

/** Answers, per statement supaudit is about to run, what it can set off (one catalog read, then pure). */
export interface EffectGate {
  effects(rel: Relation, command: WriteCommand | 'select', explicit?: ReadonlySet<string> | null): Effects;
  /** A call of the function (an RPC). */
  call(fn: FunctionInfo): Effects;
}

export function effectGate(snapshot: Snapshot, catalog: EffectCatalog): EffectGate {
  return {
    effects: (rel, command, explicit) => statementEffects(snapshot, catalog, { rel, command, explicit: explicit ?? null }),
    call: (fn) => statementEffects(snapshot, catalog, { call: fn }),
  };
}

/** `last_value` of every sequence the auditing role can read (`pg_sequences`), to tell afterwards which ones moved. */
export async function readSequenceValues(session: Session): Promise<Map<string, string | null>> {
  const rows = await session.query<{ s: string; n: string; v: string | null }>(
    `select schemaname::text as s, sequencename::text as n, last_value::text as v from pg_catalog.pg_sequences`,
  );
  return new Map(rows.map((r) => [`${r.s}.${r.n}`, r.v]));
}

export interface SequenceMovement {
  /** Sequences read before and after. */
  readonly read: number;
  /** Those whose value moved, with by how much. */
  readonly moved: readonly { readonly name: string; readonly by: string }[];
}

export function sequenceMovement(before: ReadonlyMap<string, string | null>, after: ReadonlyMap<string, string | null>): SequenceMovement {
  const moved: { name: string; by: string }[] = [];
  for (const [name, v] of after) {
    const was = before.get(name);
    if (was === undefined || was === v) continue;
    const by = was !== null && v !== null ? (BigInt(v) - BigInt(was)).toString() : 'first use';
    moved.push({ name, by: by.startsWith('-') || by === 'first use' ? by : `+${by}` });
  }
  return { read: after.size, moved: moved.sort((a, b) => a.name.localeCompare(b.name)) };
}
