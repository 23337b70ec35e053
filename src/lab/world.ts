/**
 * The lab's world: accounts and rows that supaudit creates in its own embedded copy of a project,
 * so that what a persona can do is measured, not guessed, even when the project ships no seed.
 *
 * - Accounts are created the way Auth creates them (a row in `auth.users`, its e-mail identity in
 *   `auth.identities`), so sign-up triggers run and make what they make (profiles, memberships).
 *   Two owners (`alice`, `bob`) get rows; the `outsider` signs up and owns nothing.
 * - Every table of the user's schemas gets one row per owner, in foreign-key order. Each row
 *   points at the rows of the same owner where it can (so alice's membership names alice's
 *   organisation: two tenants appear wherever the schema has them), at the owner's account where a
 *   column references `auth.users` or is named like an owner, and satisfies NOT NULL, CHECK (the
 *   literals the check compares with), enum, UNIQUE and foreign keys by trying again with other
 *   values when the database refuses one.
 * - Rows are inserted with the owner's JWT claims set, as the superuser, so defaults and triggers
 *   that read `auth.uid()` see the owner, and RLS does not stand in the way of building the world.
 *
 * Only the lab's copy is written. The world is added beside the seed's data (the seed's rows stay,
 * unattributed): what a persona reaches is told apart by who owns it.
 */
import { keyedByAccount } from '../model/accounts.ts';
import { literalPattern, namedTables } from '../model/sql-text.ts';
import { forgetClaims, installClaims, setClaims } from './claims.ts';
import { qualified, quoteIdent } from '../model/ident.ts';
import type { Column, Constraint, Relation, Snapshot } from '../model/snapshot.ts';
import { describePgErrorSafely } from '../introspect/errors.ts';
import type { Session } from '../introspect/session.ts';
import { dependencyOrder } from './order.ts';
import { signUpFunctions } from './signup.ts';
import { initPolicyParser } from '../policy/parse.ts';
import { checkArms, fitLength, type CheckArm } from './check-arms.ts';
import { accessTexts, checkLiterals, findTenantRoots, memberState, TENANT_CAPS, type TenantModel, type TenantRoot } from './tenants.ts';

export interface Persona {
  readonly name: string;
  readonly id: string;
  readonly email: string;
  /** The tenant the persona belongs to: 1 (alice's side), 2 (bob's side), null (the outsider). */
  readonly tenant: 1 | 2 | null;
  /** An account made for a role value: a member of its tenant's root row with that role. */
  readonly member?: { readonly root: string; readonly role: string };
}

export const PERSONAS: readonly Persona[] = [
  { name: 'alice', id: 'a11ce000-0000-4000-8000-00000000000a', email: 'alice@lab.supaudit.invalid', tenant: 1 },
  { name: 'bob', id: 'b0b00000-0000-4000-8000-00000000000b', email: 'bob@lab.supaudit.invalid', tenant: 2 },
  { name: 'outsider', id: '0c0c0c0c-0000-4000-8000-00000000000c', email: 'outsider@lab.supaudit.invalid', tenant: null },
];

const OWNERS = PERSONAS.filter((p) => p.name !== 'outsider');

/**
 * One account per tenant and role value of each tenant root, but the first value: alice (tenant 1)
 * and bob (tenant 2) are members with that one. Named `t1_admin` for the first root, `t1_team_admin`
 * for the second; ids are fixed, so reports compare across runs.
 */
export function roleAccounts(tenants: TenantModel): Persona[] {
  const out: Persona[] = [];
  tenants.roots.forEach((root, r) => {
    const prefix = r === 0 ? '' : `${root.root.name.replace(/s$/, '')}_`;
    for (const tenant of [1, 2] as const) {
      // alice and bob hold the first role; where operators' roles sit above it, an account of that role too, to climb from.
      root.roles.slice(root.platformRoles.length > 0 ? 0 : 1).forEach((role, i) => {
        const name = `t${tenant}_${prefix}${role}`.toLowerCase().replace(/[^a-z0-9_]+/g, '_');
        out.push({
          name,
          id: `7e${tenant}${r}0000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
          email: `${name}@lab.supaudit.invalid`,
          tenant,
          member: { root: `${root.root.schema}.${root.root.name}`, role },
        });
      });
    }
  });
  return out;
}

/**
 * Runs `work` as the setting of a state rather than an event: as the session's superuser with
 * triggers (and the foreign keys' triggers) aside, switched back on after, whatever happened.
 */
export async function asState<T>(session: Session, work: () => Promise<T>): Promise<T> {
  await session.exec('SET LOCAL session_replication_role = replica');
  try {
    return await work();
  } finally {
    await session.exec('SET LOCAL session_replication_role = origin');
  }
}

/** Acts as the persona, signed in (role authenticated and its JWT claims), or as anon (null), until the transaction or savepoint ends. */
export async function actAs(session: Session, p: Persona | null): Promise<void> {
  await setClaims(session, p?.id ?? '', p ? 'authenticated' : 'anon', p?.email ?? '', true);
}

export interface TableFill {
  readonly schema: string;
  readonly name: string;
  /** Rows the world added (0 when the table already had rows, or none could be made). */
  readonly rows: number;
  /** Why no row was added, when none was. */
  readonly reason?: string;
}

export interface World {
  /** Accounts the world signed up (none when the schema has no auth.users): alice, bob, the outsider, then one per tenant and role value. */
  readonly accounts: readonly Persona[];
  /** The tenant roots found, each made twice (alice's and bob's rows), and what the caps left out. */
  readonly tenants: TenantModel;
  /** Per table, the tenant (1, 2) of each row the world made that points, directly or through a parent, at a tenant root's row. */
  readonly rowTenants: ReadonlyMap<string, ReadonlyMap<string, 1 | 2>>;
  /** Who owns the world's rows: alice and bob. */
  readonly owners: readonly Persona[];
  /** Per table (`schema.name`), the owner id of each row the world made, by `rowKey`. */
  readonly rowOwners: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Rows per table the world made or found, for foreign keys of later rows (and the matrix's inserts). */
  readonly made: Made;
  readonly enums: Enums;
  /** Accounts that could not be created, with the reason (a sign-up trigger refused). */
  readonly accountErrors: readonly string[];
  readonly tables: readonly TableFill[];
  /** Generated columns made plain, and expression indexes dropped, in the lab's copy because their expression failed there (with the SQLSTATE). */
  readonly adjusted: readonly string[];
  /** Triggers (`name on table`) that raised against the world's own rows and were set aside for them. */
  readonly triggersSetAside: readonly string[];
}

/** SQLSTATEs of an expression that cannot run here (an external routine, a data or function error, a feature missing), not a refusal. */
const EXPRESSION_FAILED = /^(39|22|0A|XX|38|2F)|^42883$/;

/** Tables keyed by an account that list who holds a privilege: only the world's owners get rows there. */
const PRIVILEGED = /admin|staff|moderator|super|operator|root|privileg|manager|owner/i;

/** A time that ends something: an expiry, a deadline, a validity's end. */
const EXPIRY_NAME = /expir|valid_until|_until$|deadline|(^|_)ends?_(at|on|date)$|(^|_)end_(at|date|time)$/i;

const EMAIL_NAME = /(^|_)e_?mail(_address)?$/i;

/** A column that addresses its row to the holders of a role (`target_role`, `recipient_role`, `visible_to_role`). */
const ROLE_AUDIENCE = /(^|_)(target|recipient|audience|visible_to|for)_roles?$/i;

const OWNER_NAME = /(^|_)(user|owner|author|creator|created_by|profile|member|account|uid|sender|requester|submitted_by|assignee)(_?id)?$/i;

export interface Enums {
  /** By the type's `schema.name` (`Column.typeName`). */
  readonly labels: ReadonlyMap<string, readonly string[]>;
}

async function readEnums(session: Session): Promise<Enums> {
  const rows = await session.query<{ t: string; labels: string[] }>(
    `select n.nspname::text || '.' || t.typname::text as t, array_agg(e.enumlabel::text order by e.enumsortorder) as labels
       from pg_catalog.pg_type t join pg_catalog.pg_namespace n on n.oid = t.typnamespace
       join pg_catalog.pg_enum e on e.enumtypid = t.oid group by 1`,
  );
  return { labels: new Map(rows.map((r) => [r.t, r.labels])) };
}

/**
 * A value that a CHECK's pattern on the column accepts (`email LIKE '%@example.edu'`,
 * `netid ~ '^[a-z]{2,3}[0-9]{1,4}$'`), varied by `n` so that two owners' differ; undefined when
 * there is no pattern or it is beyond the simple ones (classes, groups, alternatives, counts).
 */
export function patternValue(constraints: readonly Constraint[], column: string, word: string, n: number): string | undefined {
  for (const c of constraints) {
    if (c.type !== 'check' || !c.columns.includes(column)) continue;
    const name = literalPattern(column);
    const m = new RegExp(`\\(*"?${name}"?\\)*(?:::\\w+)?\\s*(~~\\*?|~\\*?)\\s*'((?:[^']|'')*)'`, 'i').exec(c.definition);
    if (!m) continue;
    const pattern = m[2]!.replaceAll("''", "'");
    const insensitive = m[1]!.endsWith('*');
    const value = m[1]!.startsWith('~~') ? likeValue(pattern, word) : regexValue(pattern, n);
    if (value === undefined) continue;
    try {
      const check = m[1]!.startsWith('~~')
        ? new RegExp(`^${literalPattern(pattern).replace(/%/g, '.*').replace(/_/g, '.')}$`, insensitive ? 'is' : 's')
        : new RegExp(pattern, insensitive ? 'i' : '');
      if (check.test(value)) return value;
    } catch {
      // A pattern JavaScript reads otherwise: not used.
    }
  }
  return undefined;
}

function likeValue(pattern: string, word: string): string {
  return pattern.replace(/%/g, word.replace(/[^a-z0-9]/gi, '') || 'x').replace(/_/g, 'x');
}

/** The shortest string (counts at their minimum, classes at their n-th member) a simple regular expression matches. */
function regexValue(pattern: string, n: number): string | undefined {
  let i = 0;
  let k = 0;
  const pick = (set: string) => set[(n + k++) % set.length]!;
  const classOf = (body: string): string | undefined => {
    const negated = body.startsWith('^');
    const chars: string[] = [];
    const text = negated ? body.slice(1) : body;
    for (let j = 0; j < text.length; j++) {
      const ch = text[j]!;
      if (ch === '\\') {
        const e = text[++j];
        if (e === 'd') chars.push(...'0123456789');
        else if (e === 'w') chars.push(...'abcdefghijklmnopqrstuvwxyz');
        else if (e !== undefined) chars.push(e);
        continue;
      }
      if (text[j + 1] === '-' && j + 2 < text.length) {
        const to = text[j + 2]!;
        for (let x = ch.charCodeAt(0); x <= to.charCodeAt(0); x++) chars.push(String.fromCharCode(x));
        j += 2;
        continue;
      }
      if (ch === '[' && text.slice(j).startsWith('[:alpha:]')) { chars.push(...'abcdefghijklmnopqrstuvwxyz'); j += 8; continue; }
      if (ch === '[' && text.slice(j).startsWith('[:digit:]')) { chars.push(...'0123456789'); j += 8; continue; }
      if (ch === '[' && text.slice(j).startsWith('[:alnum:]')) { chars.push(...'abcdefghijklmnopqrstuvwxyz0123456789'); j += 8; continue; }
      chars.push(ch);
    }
    if (!negated) return chars.length > 0 ? chars.join('') : undefined;
    const allowed = [...'abcdefghijklmnopqrstuvwxyz0123456789'].filter((x) => !chars.includes(x));
    return allowed.length > 0 ? allowed.join('') : undefined;
  };
  let out = '';
  while (i < pattern.length) {
    const ch = pattern[i]!;
    let set: string | undefined;
    if (ch === '^' || ch === '$') { i++; continue; }
    if (ch === '(') {
      // A group: left out where it may be (`(-[A-Z]{2})?`), else its first alternative, as often as it must be.
      let depth = 0;
      let end = i;
      for (; end < pattern.length; end++) {
        if (pattern[end] === '\\') { end++; continue; }
        if (pattern[end] === '(') depth++;
        if (pattern[end] === ')' && --depth === 0) break;
      }
      if (end >= pattern.length) return undefined;
      const inner = pattern.slice(i + 1, end).replace(/^\?:/, '');
      const q = /^(\{(\d+)(,(\d*))?\}|[*+?])/.exec(pattern.slice(end + 1));
      const min = q ? (q[2] !== undefined ? Number(q[2]) : q[1] === '+' ? 1 : 0) : 1;
      i = end + 1 + (q ? q[1]!.length : 0);
      if (min === 0) continue;
      let first = '';
      for (let d = 0, j = 0; j < inner.length; j++) {
        if (inner[j] === '\\') { first += inner.slice(j, j + 2); j++; continue; }
        if (inner[j] === '(') d++;
        if (inner[j] === ')') d--;
        if (inner[j] === '|' && d === 0) break;
        first += inner[j];
      }
      const value = regexValue(first, n + k++);
      if (value === undefined) return undefined;
      out += value.repeat(min);
      continue;
    }
    if (ch === ')' || ch === '|') return undefined;
    if (ch === '[') {
      const end = pattern.indexOf(']', pattern[i + 1] === ']' ? i + 2 : i + 1);
      if (end < 0) return undefined;
      set = classOf(pattern.slice(i + 1, end));
      i = end + 1;
    } else if (ch === '\\') {
      const e = pattern[i + 1];
      set = e === 'd' ? '0123456789' : e === 'w' ? 'abcdefghijklmnopqrstuvwxyz' : e === 's' ? ' ' : e;
      i += 2;
    } else if (ch === '.') {
      set = 'abcdefghijklmnopqrstuvwxyz';
      i++;
    } else {
      set = ch;
      i++;
    }
    if (set === undefined) return undefined;
    let min = 1;
    const q = /^(\{(\d+)(,(\d*))?\}|[*+?])/.exec(pattern.slice(i));
    if (q) {
      min = q[2] !== undefined ? Number(q[2]) : q[1] === '+' ? 1 : 0;
      i += q[1]!.length;
    }
    for (let r = 0; r < min; r++) out += pick(set);
  }
  return out;
}

const callerEmailCache = new WeakMap<Snapshot, ReadonlySet<string>>();

/**
 * E-mail columns (`schema.table.column`) that a policy of their table, or a function naming their
 * table, reads beside the caller's own address (`auth.email()`, the claims' `email`, auth.users):
 * where the world writes its owners' real addresses. Elsewhere (a waiting list) an address of its own.
 */
function callerEmails(snapshot: Snapshot): ReadonlySet<string> {
  const hit = callerEmailCache.get(snapshot);
  if (hit) return hit;
  const out = new Set<string>();
  const caller = /auth\.email\s*\(|'email'|\bauth\s*\.\s*users\b/i;
  const columns = (text: string) => [...text.matchAll(/\b([a-z_]*e_?mail(?:_address)?)\b/gi)].map((m) => m[1]!.toLowerCase()).filter((c) => EMAIL_NAME.test(c));
  for (const p of snapshot.policies) {
    const text = `${p.using ?? ''} ${p.withCheck ?? ''}`;
    if (caller.test(text)) for (const c of columns(text)) out.add(`${p.schema}.${p.table}.${c}`);
  }
  for (const f of snapshot.functions) {
    if (!f.source || !caller.test(f.source)) continue;
    const found = columns(f.source);
    if (found.length === 0) continue;
    for (const t of namedTables(f.source)) for (const c of found) out.add(`${t.schema ?? 'public'}.${t.name}.${c}`);
  }
  callerEmailCache.set(snapshot, out);
  return out;
}

/** A value (as text, cast by the statement) of the column's type for the row `n` of `owner`, or undefined to leave it out. */
function plainValue(c: Column, owner: Persona, rel: Relation, n: number, enums: Enums): string | undefined {
  const t = c.type.toLowerCase();
  const enumLabels = enums.labels.get(c.typeName);
  if (enumLabels && enumLabels.length > 0) return enumLabels[0]!;
  if (t === 'uuid') return OWNER_NAME.test(c.name) ? owner.id : deterministicUuid(rel, c, n);
  if (/email/i.test(c.name) && /^(text|character varying|varchar|citext)/.test(t)) return `${owner.name}+${n}@lab.supaudit.invalid`;
  if (/^(text|character varying|varchar|citext|character)/.test(t)) {
    const max = /\((\d+)\)/.exec(t);
    const text = `${owner.name}-${rel.name}-${c.name}-${n}`;
    return max ? text.slice(0, Math.max(1, Number(max[1]))) : text;
  }
  if (/^(smallint|integer|bigint)/.test(t)) return String(1000 + n);
  if (/^(numeric|real|double precision|money)/.test(t)) return String(1 + n);
  if (t === 'boolean') return 'false';
  // An expiry (an invitation's, a trial's) lies ahead, whenever the audit runs: a call that checks
  // `expires_at > now()` takes the branch that acts.
  if (EXPIRY_NAME.test(c.name) && (t.startsWith('timestamp') || t === 'date')) return t === 'date' ? '2100-01-01' : '2100-01-01 00:00:00+00';
  if (t.startsWith('timestamp')) return '2026-01-01 00:00:00+00';
  if (t === 'date') return '2026-01-01';
  if (t.startsWith('time')) return '12:00:00';
  if (t.startsWith('interval')) return '1 hour';
  // A document with a value of its own: what a function returns from it shows whose row it read.
  if (t === 'jsonb' || t === 'json') return JSON.stringify({ lab: `${owner.name}-${rel.name}-${c.name}-${n}` });
  if (t.endsWith('[]')) return '{}';
  if (t === 'inet' || t === 'cidr') return '127.0.0.1';
  if (t === 'bytea') return '\\x00';
  return undefined;
}

function deterministicUuid(rel: Relation, c: Column, n: number): string {
  let h = 2166136261;
  for (const ch of `${rel.schema}.${rel.name}.${c.name}.${n}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const hex = h.toString(16).padStart(8, '0');
  return `${hex}-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

/** Tables in foreign-key order (referenced first); a cycle is broken where it closes. */
function fillOrder(tables: readonly Relation[], snapshot: Snapshot): Relation[] {
  const byKey = new Map([...tables].map((t) => [`${t.schema}.${t.name}`, t] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const edges = snapshot.constraints
    .filter((c) => c.type === 'foreign_key' && c.refSchema && c.refTable)
    .map((c) => [`${c.schema}.${c.table}`, `${c.refSchema}.${c.refTable}`] as const);
  // A key with no foreign key that points at a table by its name's convention (see impliedReference).
  const implied = tables.flatMap((t) =>
    t.columns.filter((c) => c.type === 'uuid' && c.notNull && c.default === null).flatMap((c) => {
      const to = impliedReference(snapshot, c.name);
      return to ? [[`${t.schema}.${t.name}`, to.table] as const] : [];
    }),
  );
  return dependencyOrder(byKey, [...edges, ...implied]);
}

type Row = Record<string, unknown>;

/** The rows the world made so far, per table, with their owner: foreign keys point at the same owner's rows. */
export type Made = Map<string, { owner: Persona; row: Row; ctid?: string }[]>;

/**
 * Signs the persona up as Auth does (auth.users, then its identity; the triggers run). `metadata`:
 * keys added to the user metadata, which the person signing up chooses (`signUp({ options: { data } })`).
 */
export async function signUp(session: Session, p: Persona, metadata: Readonly<Record<string, string>> = {}): Promise<void> {
  // The claims made for an account of this id before (other metadata) are not this one's.
  forgetClaims(session, p.id);
  await session.query(
    `insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
     values ('00000000-0000-0000-0000-000000000000', $1::uuid, 'authenticated', 'authenticated', $2, '', now(),
             '{"provider": "email", "providers": ["email"]}'::jsonb, jsonb_build_object('full_name', $3::text, 'name', $3::text) || $4::jsonb, now(), now())`,
    [p.id, p.email, p.name, JSON.stringify(metadata)],
  );
  await session.query(
    `insert into auth.identities (provider_id, user_id, identity_data, provider, created_at, updated_at)
     values ($1::text, $2::uuid, jsonb_build_object('sub', $1::text, 'email', $3::text, 'email_verified', true), 'email', now(), now())`,
    [p.id, p.id, p.email],
  );
}

async function createAccounts(session: Session, world: { accounts: Persona[]; accountErrors: string[] }, personas: readonly Persona[]): Promise<void> {
  /** Sign-up triggers that refused (invite-only apps): the accounts are made without them. */
  const refused: string[] = [];
  for (const p of personas) {
    await session.exec('SAVEPOINT supaudit_world');
    try {
      await signUp(session, p);
      await session.exec('RELEASE SAVEPOINT supaudit_world');
      world.accounts.push(p);
    } catch (error) {
      await session.exec('ROLLBACK TO SAVEPOINT supaudit_world');
      // A trigger that refuses strangers (no invitation for the address): the account is made with
      // the triggers off (the lab's own database), and the world gives it the rows they would have.
      try {
        await session.exec('SAVEPOINT supaudit_world');
        await session.query(`select set_config('session_replication_role', 'replica', true)`);
        await signUp(session, p);
        await session.query(`select set_config('session_replication_role', 'origin', true)`);
        await session.exec('RELEASE SAVEPOINT supaudit_world');
        world.accounts.push(p);
        refused.push(`${p.name} (${describePgErrorSafely(error)})`);
      } catch (again) {
        await session.exec('ROLLBACK TO SAVEPOINT supaudit_world');
        world.accountErrors.push(`${p.name}: sign-up failed: ${describePgErrorSafely(again)}`);
      }
    }
  }
  if (refused.length > 0) {
    world.accountErrors.push(`the sign-up trigger refused ${refused.length} account${refused.length === 1 ? '' : 's'}, made without it (an invite-only sign-up?): ${refused.slice(0, 2).join('; ')}${refused.length > 2 ? '; …' : ''}`);
  }
}

/**
 * Builds the world in the lab's copy (committed there: it is the lab's own database). Never call it
 * on an audited database.
 */
export async function buildWorld(session: Session, snapshot: Snapshot, isUserTable: (r: Relation) => boolean): Promise<World> {
  // The tenant model splits policies into their OR arms with the policy parser.
  await initPolicyParser();
  const world = { accounts: [] as Persona[], accountErrors: [] as string[], tables: [] as TableFill[], adjusted: [] as string[], triggersSetAside: [] as string[] };
  const pastTrigger = (t: string) => {
    if (!world.triggersSetAside.includes(t)) world.triggersSetAside.push(t);
  };
  const rowOwners = new Map<string, Map<string, string>>();
  const rowTenants = new Map<string, Map<string, 1 | 2>>();
  let owners: Persona[] = [];
  let enums: Enums = { labels: new Map() };
  let tenants: TenantModel = { roots: [], cappedRoots: [] };
  const made: Made = new Map();
  await session.begin({ access: 'read write', statementTimeoutMs: 30_000, lockTimeoutMs: 3_000 });
  try {
    enums = await readEnums(session);
    await installClaims(session, snapshot);
    // Every user table, exposed or not: what a definer function reads from a private schema is data too.
    const tables = snapshot.relations.filter((r) => (r.kind === 'table' || r.kind === 'partitioned_table') && !r.isPartition && isUserTable(r));
    const hasUsers = snapshot.relations.some((r) => r.schema === 'auth' && r.name === 'users');
    if (hasUsers) tenants = findTenantRoots(snapshot, tables, enums.labels);
    if (hasUsers) await createAccounts(session, world, [...PERSONAS, ...roleAccounts(tenants)]);
    owners = hasUsers ? world.accounts.filter((p) => p.name === 'alice' || p.name === 'bob') : [...OWNERS];
    const record = (rel: Relation, owner: Persona, row: Row, ctid: string) => {
      const key = `${rel.schema}.${rel.name}`;
      made.set(key, [...(made.get(key) ?? []), { owner, row, ctid }]);
      const byKey = rowOwners.get(key) ?? new Map<string, string>();
      byKey.set(rowKey(snapshot, rel, row), owner.id);
      rowOwners.set(key, byKey);
      const tenant = tenantOf(snapshot, tenants, rel, row, owner, made, rowTenants);
      if (tenant !== null) rowTenants.set(key, (rowTenants.get(key) ?? new Map<string, 1 | 2>()).set(rowKey(snapshot, rel, row), tenant));
    };
    // Rows the sign-up made for the accounts (a workspace of one's own) exist before their table's
    // turn: a table that comes first in key order (a cycle, a key by name only) may point at them.
    const signedUpRows = new Map<string, { owner: Persona; row: Row }[]>();
    // Only the tables the sign-up's own functions write can hold such rows (one query each).
    const written = signUpFunctions(snapshot).flatMap((f) => namedTables(f.source ?? ''));
    for (const rel of tables.filter((t) => written.some((w) => w.name === t.name && (w.schema === null || w.schema === t.schema)))) {
      const rows = await signupRows(session, snapshot, rel, world.accounts.length > 0 ? world.accounts : owners);
      if (rows.length > 0) signedUpRows.set(`${rel.schema}.${rel.name}`, rows);
    }
    earlyRows.set(made, signedUpRows);
    for (const rel of fillOrder(tables, snapshot)) {
      // Rows a sign-up trigger made for the lab's accounts are theirs already.
      const signedUp = await signupRows(session, snapshot, rel, world.accounts.length > 0 ? world.accounts : owners);
      // A membership the sign-up made with no tenant (a profile whose tenant_id the app fills in
      // later): alice's and bob's get their tenants, as onboarding would give them.
      const joins = tenants.roots.find((t) => t.membership.schema === rel.schema && t.membership.name === rel.name);
      const own = joins ? await placeInTenants(session, snapshot, rel, joins, signedUp, owners, made) : signedUp;
      for (const r of own) record(rel, r.owner, r.row, r.ctid);
      // An account's own row (a profile keyed by the user id) exists for every account: each signed up.
      // Not a list of privileged accounts (`admins`, `staff`): the outsider holds nothing.
      const keyed = keyedByAccount(snapshot, rel.schema, rel.name);
      // An allowlist the operator fills, that a gate asks about (`exists (select 1 from developer_users
      // where user_id = auth.uid())`): no account of the world is on it, or each would pass the gate.
      const allowlist = keyed && !selfServed(snapshot, rel) && gateReads(snapshot, rel);
      // The platform's own staff (`platform_operator_accounts`, `super_admins`: privileged, tied to no
      // tenant): alice and bob are customers, not the operator's staff, or every tenant's rows would be theirs by design.
      const keys = snapshot.constraints.filter((c) => c.schema === rel.schema && c.table === rel.name);
      const oneRowPerAccount = keyed || keys.some((fk) => fk.type === 'foreign_key' && accountKey(snapshot, fk) && keys.some((k) => (k.type === 'primary_key' || k.type === 'unique') && k.columns.length === fk.columns.length && k.columns.every((col) => fk.columns.includes(col))));
      const platformStaff = oneRowPerAccount && PRIVILEGED.test(rel.name) && !keys.some((c) => c.type === 'foreign_key' && tenants.roots.some((t) => t.root.schema === c.refSchema && t.root.name === c.refTable));
      const writers = allowlist || platformStaff ? [] : keyed && !PRIVILEGED.test(rel.name) && world.accounts.length > 0 ? world.accounts : owners;
      // A sign-up trigger that made rows for some accounts only (the first user's organisation):
      // the others get theirs here, so both sides of the world have one.
      const missing = writers.filter((w) => !own.some((o) => o.owner.id === w.id));
      if (own.length > 0 && missing.length === 0) {
        // The owners' memberships came with their tenants (a trigger on the root); the role accounts' still have to be made.
        const membership = tenants.roots.find((t) => t.membership.schema === rel.schema && t.membership.name === rel.name);
        const added = membership ? await addMembers(session, snapshot, rel, membership, world.accounts, owners, enums, made, record, pastTrigger) : 0;
        if (membership) await settleMembers(session, snapshot, rel, membership, enums, made);
        world.tables.push({ schema: rel.schema, name: rel.name, rows: added, reason: 'made by sign-up' });
        continue;
      }
      let rows = 0;
      let reason: string | undefined =
        owners.length === 0 ? 'no account to own rows'
        : allowlist ? 'an allowlist only the operator fills, that a gate reads: no account of the world is on it'
        : platformStaff ? "the platform's own privileged accounts, tied to no tenant: no customer of the world is one"
        : undefined;
      let code: string | undefined;
      const membership = tenants.roots.find((t) => t.membership.schema === rel.schema && t.membership.name === rel.name);
      const fill = async () => {
        for (const [i, owner] of writers.entries()) {
          if (!missing.includes(owner)) continue;
          // An account that is nobody's member has no row in a membership that cannot hold one
          // without a tenant (`organization_id not null`): a row there would make it a member of
          // whichever tenant the key then pointed at.
          if (membership && owner.tenant === null && membership.rootColumns.some((col) => rel.columns.find((c) => c.name === col)?.notNull)) continue;
          // alice and bob are members of their tenants with the first role value; the role accounts
          // with theirs; an account that is nobody's member (the outsider's own profile) with the plain one.
          const role = !membership?.roleColumn ? undefined : owner.member?.root === `${membership.root.schema}.${membership.root.name}` ? owner.member.role : owner.tenant === null ? membership.plainRole : membership.roles[0];
          const fixed = membership?.roleColumn && role !== undefined ? { [membership.roleColumn]: role } : undefined;
          const result = await insertRow(session, snapshot, rel, owner, i, enums, made, { ...(fixed ? { fixed } : {}), pastRefusingTriggers: pastTrigger });
          if ('row' in result) {
            rows++;
            record(rel, owner, result.row, result.ctid);
          } else {
            reason ??= result.reason;
            code ??= result.code;
          }
        }
      };
      await fill();
      // A generated column whose expression cannot run here (pgcrypto's blowfish, missing from the
      // embedded database's OpenSSL) refuses every row: in the lab's own copy the column becomes a
      // plain one, and the world tries again.
      // An index on an expression (a computed field, `code(org_invite)`) fails the same way: dropped there.
      const generated = rel.columns.filter((c) => c.generated);
      const indexes =
        rows === 0 && code !== undefined && EXPRESSION_FAILED.test(code)
          ? await session.query<{ name: string }>(
              `select i.indexrelid::regclass::text as name from pg_catalog.pg_index i where i.indrelid = $1::regclass and i.indexprs is not null and not i.indisprimary`,
              [qualified(rel.schema, rel.name)],
            )
          : [];
      if (rows === 0 && generated.length + indexes.length > 0 && code !== undefined && EXPRESSION_FAILED.test(code)) {
        try {
          await session.exec('SAVEPOINT supaudit_world');
          for (const c of generated) await session.exec(`alter table ${qualified(rel.schema, rel.name)} alter column ${quoteIdent(c.name)} drop expression`);
          for (const i of indexes) await session.exec(`drop index ${i.name}`);
          await session.exec('RELEASE SAVEPOINT supaudit_world');
          world.adjusted.push(`${[...generated.map((c) => qualified(rel.schema, rel.name) + '.' + quoteIdent(c.name)), ...indexes.map((i) => `index ${i.name}`)].join(', ')} (SQLSTATE ${code})`);
          reason = undefined;
          await fill();
        } catch {
          await session.exec('ROLLBACK TO SAVEPOINT supaudit_world');
        }
      }
      if (membership) {
        rows += await addMembers(session, snapshot, rel, membership, world.accounts, owners, enums, made, record, pastTrigger);
        await settleMembers(session, snapshot, rel, membership, enums, made);
      }
      world.tables.push({ schema: rel.schema, name: rel.name, rows, ...(rows === 0 && reason ? { reason } : {}) });
    }
    await storageObjects(session, snapshot, owners, world.tables, made, rowOwners);
    await session.exec('COMMIT');
  } catch (error) {
    await session.exec('ROLLBACK').catch(() => undefined);
    throw error;
  }
  return { ...world, tenants, owners, rowOwners, rowTenants, made, enums };
}

/**
 * The world's memberships in the state the helpers count (`membership_status = 'active'`, not the
 * `pending` a request starts with): set on its rows as the superuser, a state rather than an event
 * (triggers aside), and kept in the world's record of them. A column the database refuses stays as made.
 */
async function settleMembers(session: Session, snapshot: Snapshot, rel: Relation, root: TenantRoot, enums: Enums, made: Made): Promise<void> {
  const state = memberState(snapshot, root, rel, enums.labels);
  const rows = made.get(`${rel.schema}.${rel.name}`) ?? [];
  if (state.size === 0 || rows.length === 0) return;
  const types = new Map(rel.columns.map((c) => [c.name, c.type]));
  await asState(session, async () => {
    for (const [column, value] of state) {
      await session.exec('SAVEPOINT supaudit_settle');
      try {
        const settled: [(typeof rows)[number], { j: Row; c: string }][] = [];
        for (const m of rows) {
          if (!m.ctid || String(m.row[column] ?? '') === value) continue;
          const [r] = await session.query<{ j: Row; c: string }>(
            `update ${qualified(rel.schema, rel.name)} t set ${quoteIdent(column)} = $1::text::${types.get(column)} where ctid = $2::tid returning to_jsonb(t) as j, t.ctid::text as c`,
            [value, m.ctid],
          );
          if (r) settled.push([m, r]);
        }
        await session.exec('RELEASE SAVEPOINT supaudit_settle');
        for (const [m, r] of settled) {
          m.row = r.j;
          m.ctid = r.c;
        }
      } catch {
        await session.exec('ROLLBACK TO SAVEPOINT supaudit_settle');
      }
    }
  });
}

/** The role accounts of a tenant root join their tenant's root row (alice's for tenant 1, bob's for tenant 2) with their role. */
async function addMembers(
  session: Session,
  snapshot: Snapshot,
  rel: Relation,
  root: TenantRoot,
  accounts: readonly Persona[],
  owners: readonly Persona[],
  enums: Enums,
  made: Made,
  record: (rel: Relation, owner: Persona, row: Row, ctid: string) => void,
  pastTrigger?: (trigger: string) => void,
): Promise<number> {
  let rows = 0;
  const key = `${root.root.schema}.${root.root.name}`;
  for (const [i, account] of accounts.filter((a) => a.member?.root === key).entries()) {
    const side = owners.find((o) => o.tenant === account.tenant);
    if (!side || !root.roleColumn) continue;
    const result = await insertRow(session, snapshot, rel, account, 50 + i, enums, made, { prefer: side, preferColumns: root.rootColumns, fixed: { [root.roleColumn]: account.member!.role }, ...(pastTrigger ? { pastRefusingTriggers: pastTrigger } : {}) });
    if ('row' in result) {
      rows++;
      record(rel, account, result.row, result.ctid);
    }
  }
  return rows;
}

/**
 * The tenant of a row: a tenant root's row is its owner's tenant; another row takes the tenant of
 * the first row it points at that has one (a membership, a project of an organisation). Null: none.
 */
function tenantOf(snapshot: Snapshot, tenants: TenantModel, rel: Relation, row: Row, owner: Persona, made: Made, rowTenants: ReadonlyMap<string, ReadonlyMap<string, 1 | 2>>): 1 | 2 | null {
  if (tenants.roots.some((t) => t.root.schema === rel.schema && t.root.name === rel.name)) return owner.tenant;
  return parentTenant(snapshot, rel, row, made, rowTenants, tenants);
}

/**
 * The tenant of the first row of the world that `row` points at (a foreign key, not to auth) and that
 * has one; null: none. Not through a key that is set to NULL when its row goes (ON DELETE SET NULL)
 * to anything but a tenant root: a row made to outlive what it points at (the upload an entry of a
 * global catalogue came from) is not that row's tenant's, while a key to the tenant itself (a
 * profile's `tenant_id`) names its tenant whatever happens when the tenant goes.
 */
export function parentTenant(
  snapshot: Snapshot,
  rel: Relation,
  row: Readonly<Record<string, unknown>>,
  made: Made,
  rowTenants: ReadonlyMap<string, ReadonlyMap<string, 1 | 2>>,
  tenants: TenantModel,
): 1 | 2 | null {
  for (const fk of snapshot.constraints) {
    if (fk.schema !== rel.schema || fk.table !== rel.name || fk.type !== 'foreign_key' || fk.refSchema === 'auth') continue;
    const toRoot = tenants.roots.some((t) => t.root.schema === fk.refSchema && t.root.name === fk.refTable);
    if (!toRoot && /\bON DELETE SET NULL\b/i.test(fk.definition)) continue;
    const refKey = `${fk.refSchema}.${fk.refTable}`;
    const parent = (made.get(refKey) ?? []).find((m) => fk.columns.every((c, i) => row[c] !== null && row[c] !== undefined && JSON.stringify(m.row[fk.refColumns[i]!]) === JSON.stringify(row[c])));
    const refRel = snapshot.relations.find((r) => `${r.schema}.${r.name}` === refKey);
    const tenant = parent && refRel ? rowTenants.get(refKey)?.get(rowKey(snapshot, refRel, parent.row)) : undefined;
    if (tenant !== undefined) return tenant;
  }
  return null;
}

/** Columns that name a row's owner: a key to auth.users or to a profile, or a uuid named like an owner. */
export function ownerColumns(snapshot: Snapshot, rel: Relation): string[] {
  const fks = snapshot.constraints.filter((c) => c.schema === rel.schema && c.table === rel.name && c.type === 'foreign_key' && c.columns.length === 1);
  const keyed = fks.filter((c) => (c.refSchema === 'auth' && c.refTable === 'users') || accountKey(snapshot, c)).map((c) => c.columns[0]!);
  return [...new Set([...keyed, ...rel.columns.filter((c) => c.type === 'uuid' && OWNER_NAME.test(c.name)).map((c) => c.name)])];
}

/**
 * Who owns a row: the world's record of the rows it made, else (rows a sign-up trigger or the seed
 * made) an owner's id in a column that references auth.users or is named like an owner. Null: nobody we know.
 */
export function rowOwner(snapshot: Snapshot, world: World, rel: Relation, row: Readonly<Record<string, unknown>>): string | null {
  const made = world.rowOwners.get(`${rel.schema}.${rel.name}`)?.get(rowKey(snapshot, rel, row));
  if (made !== undefined) return made;
  const ids = new Set([...world.owners, ...world.accounts, ...PERSONAS].map((p) => p.id));
  const userColumns = new Set(
    snapshot.constraints
      .filter((c) => c.schema === rel.schema && c.table === rel.name && c.type === 'foreign_key' && c.refSchema === 'auth' && c.refTable === 'users' && c.columns.length === 1)
      .map((c) => c.columns[0]!),
  );
  for (const c of rel.columns) {
    if (!userColumns.has(c.name) && !(c.type === 'uuid' && OWNER_NAME.test(c.name))) continue;
    const v = row[c.name];
    if (typeof v === 'string' && ids.has(v)) return v;
  }
  return null;
}

/** The SQL that computes `rowKey` of a row of `alias` (as jsonb, so that it compares with the keys of `worldRows`). */
export function keySql(snapshot: Snapshot, rel: Relation, alias: string): string {
  const pk = snapshot.constraints.find((c) => c.schema === rel.schema && c.table === rel.name && c.type === 'primary_key');
  return pk ? `jsonb_build_array(${pk.columns.map((c) => `to_jsonb(${alias}.${quoteIdent(c)})`).join(', ')})` : `to_jsonb(${alias})`;
}

/**
 * A predicate selecting the rows with these keys, for `$n` (its parameters returned): `t.id =
 * any($n::bigint[])` for a one-column primary key, which the planner answers from the key's index
 * even under RLS (equality of a key type is leakproof); the jsonb comparison otherwise.
 */
export function keyFilter(snapshot: Snapshot, rel: Relation, alias: string, rows: readonly { key: string; ctid?: string }[], n: number): { sql: string; params: unknown[] } {
  const keys = rows.map((r) => r.key);
  const pk = snapshot.constraints.find((c) => c.schema === rel.schema && c.table === rel.name && c.type === 'primary_key');
  const column = pk?.columns.length === 1 ? rel.columns.find((c) => c.name === pk.columns[0]) : undefined;
  if (!column) {
    // No one-column key: the rows' physical addresses (a TID scan; stable, the world's rows are never updated for good).
    if (rel.kind === 'table' && rows.every((r) => r.ctid !== undefined)) return { sql: `${alias}.ctid = any ($${n}::tid[])`, params: [rows.map((r) => r.ctid)] };
    return { sql: `${keySql(snapshot, rel, alias)} = any ($${n}::jsonb[])`, params: [keys] };
  }
  const values = keys.map((k) => {
    const v = (JSON.parse(k) as unknown[])[0];
    return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
  });
  // The parameter is typed as the key (no cast function in the clause), so the clause stays leakproof.
  return { sql: `${alias}.${quoteIdent(column.name)} = any ($${n}::${column.type}[])`, params: [values] };
}

/** The world's rows of a table with their owners (made by the world or by sign-up), keyed by `rowKey`. */
export function worldRows(snapshot: Snapshot, world: World, rel: Relation): { key: string; owner: string; ctid?: string }[] {
  return (world.made.get(`${rel.schema}.${rel.name}`) ?? []).map((m) => ({
    key: rowKey(snapshot, rel, m.row),
    owner: rowOwner(snapshot, world, rel, m.row) ?? m.owner.id,
    ...(m.ctid !== undefined ? { ctid: m.ctid } : {}),
  }));
}

/** A row's identity: its primary key's values, else the whole row. */
export function rowKey(snapshot: Snapshot, rel: Relation, row: Readonly<Record<string, unknown>>): string {
  const pk = snapshot.constraints.find((c) => c.schema === rel.schema && c.table === rel.name && c.type === 'primary_key');
  return JSON.stringify(pk ? pk.columns.map((c) => row[c] ?? null) : row);
}

export interface InsertAs {
  /** Insert as this role (RLS and grants in force) instead of the superuser. */
  readonly role?: 'anon' | 'authenticated';
  /** Whose JWT claims the statement runs with (default: the owner's; null: none, as anon). */
  readonly claimsFor?: Persona | null;
  /** Whose rows the foreign keys point at, where that persona has some (default: the owner's). */
  readonly prefer?: Persona;
  /** Only the foreign key over these columns follows `prefer`; the others point at the owner's rows. */
  readonly preferColumns?: readonly string[];
  /** Columns given these values whatever else the row gets. */
  readonly fixed?: Readonly<Record<string, string>>;
  /**
   * The world's own rows (never an API role's): a trigger that raises against them (a plan's limit
   * on clients, a seat count) is set aside for that one insert and named in the world's note. The world is
   * data a tenant may already have; the attacks still meet every trigger.
   */
  readonly pastRefusingTriggers?: (trigger: string) => void;
}

/** One row of `rel` owned by `owner`, made as the world makes rows, optionally as an API role. */
export function tryInsert(
  session: Session,
  snapshot: Snapshot,
  rel: Relation,
  owner: Persona,
  n: number,
  world: World,
  as: InsertAs,
): Promise<{ row: Row; ctid: string; borrowed: boolean; borrowedFrom?: Persona } | { reason: string; code: string | undefined }> {
  return insertRow(session, snapshot, rel, owner, n, world.enums, world.made, as);
}

/**
 * A tenant `persona` founds through the API, as any new customer may: a row of the tenant root, then
 * its membership with the first role value, unless a trigger made it already (then that insert is
 * refused as a duplicate). `member`: the membership's tenant key and role as written; `joined`:
 * whether this insert made the membership. Null when the root refuses the row. `n`, `n + 1`: the
 * rows' value numbers.
 */
export async function foundTenant(
  session: Session,
  snapshot: Snapshot,
  world: World,
  t: TenantRoot,
  persona: Persona,
  n: number,
): Promise<{ root: Relation; membership: Relation; row: Row; member: Record<string, string>; joined: boolean } | null> {
  const root = snapshot.relations.find((r) => r.schema === t.root.schema && r.name === t.root.name);
  const membership = snapshot.relations.find((r) => r.schema === t.membership.schema && r.name === t.membership.name);
  if (!root || !membership) return null;
  const made = await tryInsert(session, snapshot, root, persona, n, world, { role: 'authenticated' });
  if (!('row' in made)) return null;
  const member: Record<string, string> = Object.fromEntries(t.rootColumns.map((c, i) => [c, String(made.row[t.refColumns[i]!] ?? '')]));
  if (t.roleColumn && t.roles[0] !== undefined) member[t.roleColumn] = t.roles[0];
  const joined = await tryInsert(session, snapshot, membership, persona, n + 1, world, { role: 'authenticated', fixed: member });
  return { root, membership, row: made.row, member, joined: 'row' in joined };
}

/**
 * One object per owner in every bucket the project made, in the owner's folder (`<user id>/…`, the
 * Storage API's convention) with `owner` and `owner_id` set as the Storage API sets them on upload.
 */
async function storageObjects(session: Session, snapshot: Snapshot, owners: readonly Persona[], tables: TableFill[], made: Made, rowOwners: Map<string, Map<string, string>>): Promise<void> {
  const objects = snapshot.relations.find((r) => r.schema === 'storage' && r.name === 'objects');
  if (!objects || owners.length === 0 || snapshot.buckets.length === 0) return;
  let rows = 0;
  for (const bucket of snapshot.buckets) {
    for (const owner of owners) {
      await session.exec('SAVEPOINT supaudit_world');
      try {
        const [row] = await session.query<{ j: Row; c: string }>(
          `insert into storage.objects as t (bucket_id, name, owner, owner_id, metadata) values ($1, $2, $3::uuid, $3::text, '{}'::jsonb) returning to_jsonb(t) as j, t.ctid::text as c`,
          [bucket.id, `${owner.id}/lab-${owner.name}.txt`, owner.id],
        );
        await session.exec('RELEASE SAVEPOINT supaudit_world');
        made.set('storage.objects', [...(made.get('storage.objects') ?? []), { owner, row: row!.j, ctid: row!.c }]);
        const byKey = rowOwners.get('storage.objects') ?? new Map<string, string>();
        byKey.set(rowKey(snapshot, objects, row!.j), owner.id);
        rowOwners.set('storage.objects', byKey);
        rows++;
      } catch {
        await session.exec('ROLLBACK TO SAVEPOINT supaudit_world');
      }
    }
  }
  tables.push({ schema: 'storage', name: 'objects', rows, ...(rows === 0 ? { reason: 'the database refused every object tried' } : {}) });
}

/** Rows of the table whose column referencing auth.users holds a lab account's id (a sign-up trigger made them). */
async function signupRows(session: Session, snapshot: Snapshot, rel: Relation, owners: readonly Persona[]): Promise<{ owner: Persona; row: Row; ctid: string }[]> {
  const fk = snapshot.constraints.find(
    (c) => c.schema === rel.schema && c.table === rel.name && c.type === 'foreign_key' && c.refSchema === 'auth' && c.refTable === 'users' && c.columns.length === 1,
  );
  if (!fk || owners.length === 0) return [];
  const rows = await session.query<{ j: Row; o: string; c: string }>(
    `select to_jsonb(t) as j, t.ctid::text as c, t.${quoteIdent(fk.columns[0]!)}::text as o from ${qualified(rel.schema, rel.name)} t where t.${quoteIdent(fk.columns[0]!)}::text = any ($1::text[])`,
    [owners.map((o) => o.id)],
  );
  return rows.map((r) => ({ owner: owners.find((o) => o.id === r.o)!, row: r.j, ctid: r.c }));
}

/**
 * Sets the root columns of the membership rows `where` picks (its parameters first) to `tenantRow`'s
 * key, as the lab's superuser: the rows as they are afterwards.
 */
export async function setTenantOf(
  session: Session,
  rel: Relation,
  root: TenantRoot,
  where: { sql: string; params: readonly unknown[] },
  tenantRow: Readonly<Record<string, unknown>>,
): Promise<{ j: Row; c: string }[]> {
  const n = where.params.length;
  const types = root.rootColumns.map((c) => rel.columns.find((x) => x.name === c)?.type ?? 'text');
  return session.query<{ j: Row; c: string }>(
    `update ${qualified(rel.schema, rel.name)} t set ${root.rootColumns.map((c, i) => `${quoteIdent(c)} = $${n + i + 1}::text::${types[i]}`).join(', ')} where ${where.sql} returning to_jsonb(t) as j, t.ctid::text as c`,
    [...where.params, ...root.refColumns.map((c) => String(tenantRow[c]))],
  );
}

/**
 * Rows a sign-up trigger made in a membership with its tenant columns empty: each owner's is set to
 * the owner's own root row (in a savepoint: a trigger may refuse the change, and the row stays as it
 * was). Other rows and other accounts are left as the trigger made them.
 */
async function placeInTenants(
  session: Session,
  snapshot: Snapshot,
  rel: Relation,
  root: TenantRoot,
  rows: readonly { owner: Persona; row: Row; ctid: string }[],
  owners: readonly Persona[],
  made: Made,
): Promise<{ owner: Persona; row: Row; ctid: string }[]> {
  const out: { owner: Persona; row: Row; ctid: string }[] = [];
  for (const r of rows) {
    const tenantRow = owners.includes(r.owner) ? made.get(`${root.root.schema}.${root.root.name}`)?.find((m) => m.owner.id === r.owner.id)?.row : undefined;
    if (!tenantRow || !root.rootColumns.every((c) => r.row[c] === null || r.row[c] === undefined)) {
      out.push(r);
      continue;
    }
    await session.exec('SAVEPOINT supaudit_world');
    try {
      const [updated] = await setTenantOf(session, rel, root, { sql: 't.ctid = $1::tid', params: [r.ctid] }, tenantRow);
      await session.exec('RELEASE SAVEPOINT supaudit_world');
      out.push(updated ? { owner: r.owner, row: updated.j, ctid: updated.c } : r);
    } catch {
      await session.exec('ROLLBACK TO SAVEPOINT supaudit_world');
      out.push(r);
    }
  }
  return out;
}

/**
 * A foreign key that names an account: to a table whose primary key is itself a key to auth.users
 * (a profile, `public.users`), or from a column named like an owner.
 */
export function accountKey(snapshot: Snapshot, fk: Constraint): boolean {
  if (fk.columns.length === 1 && OWNER_NAME.test(fk.columns[0]!)) return true;
  const target = snapshot.relations.find((r) => r.schema === fk.refSchema && r.name === fk.refTable);
  return target !== undefined && keyedByAccount(snapshot, target.schema, target.name);
}

/** Whether an account may add its own row through the API: RLS off, or an INSERT policy for signed-in users (whatever it checks). */
function selfServed(snapshot: Snapshot, rel: Relation): boolean {
  if (!rel.rlsEnabled) return true;
  return snapshot.policies.some(
    (p) => p.schema === rel.schema && p.table === rel.name && p.permissive && (p.command === 'INSERT' || p.command === 'ALL') && p.roles.some((r) => r.toLowerCase() === 'public' || r === 'authenticated'),
  );
}

/** Whether a policy or function asks whether a row of `rel` exists (`exists (select … from rel where …)`): a gate. */
function gateReads(snapshot: Snapshot, rel: Relation): boolean {
  const gate = new RegExp(`\\bexists\\s*\\(\\s*select\\b[^;]{0,200}?\\bfrom\\s+(?:"?${literalPattern(rel.schema)}"?\\s*\\.\\s*)?"?${literalPattern(rel.name)}"?(?![\\w.])`, 'i');
  return accessTexts(snapshot).some((t) => gate.test(t));
}

/** Literals a policy of `rel` compares `column` with by `operator` (`type != 'personal'`, `'archived' <> status`, `source = 'invitation'`). */
function policyLiterals(snapshot: Snapshot, rel: Relation, column: string, operator: string): ReadonlySet<string> {
  const name = literalPattern(column);
  const re = new RegExp(`\\b${name}"?\\s*(?:::\\s*\\w+\\s*)?${operator}\\s*'((?:[^']|'')*)'|'((?:[^']|'')*)'(?:::\\s*\\w+)?\\s*${operator}\\s*(?:\\w+\\.)?"?${name}\\b`, 'gi');
  const out = new Set<string>();
  for (const p of snapshot.policies) {
    if (p.schema !== rel.schema || p.table !== rel.name) continue;
    for (const m of `${p.using ?? ''} ${p.withCheck ?? ''}`.matchAll(re)) out.add((m[1] ?? m[2]!).replaceAll("''", "'"));
  }
  return out;
}

/** Columns that, once set, say a row is gone: deleted, archived, left, revoked, expired, banned. */
const ENDED = /(^|_)(deleted|archived|removed|left|revoked|expired|ended|cancell?ed|banned|disabled|suspended|deactivated|closed)(_(at|on|date|by))?$/i;

const presentColumns = new WeakMap<Snapshot, Map<string, ReadonlySet<string>>>();

/**
 * Nullable columns of `rel` that the access decisions of other rows require to be set: a helper or
 * another table's policy that reads `rel` by name and tests `accepted_at IS NOT NULL` (a membership
 * counts once accepted). Left NULL, every member the world makes would be a pending invitee that
 * no helper counts. A policy of `rel` itself (`published_at IS NOT NULL`) does not name it and is
 * left alone: its rows stay as the owner wrote them.
 */
function requiredPresent(snapshot: Snapshot, rel: Relation): ReadonlySet<string> {
  let byTable = presentColumns.get(snapshot);
  if (!byTable) presentColumns.set(snapshot, (byTable = new Map()));
  const key = `${rel.schema}.${rel.name}`;
  const hit = byTable.get(key);
  if (hit) return hit;
  const naming = new RegExp(`\\b${literalPattern(rel.name)}\\b`, 'i');
  const texts = [...snapshot.policies.filter((p) => p.schema !== rel.schema || p.table !== rel.name).flatMap((p) => [p.using ?? '', p.withCheck ?? '']), ...snapshot.functions.map((f) => f.source ?? '')].filter((t) => naming.test(t));
  const out = new Set<string>();
  for (const c of rel.columns) {
    // A mark of a row's end (deleted_at, left_at, revoked_at) stays empty: a clean-up job that asks
    // `deleted_at IS NOT NULL` is no reason to make every row of the world a deleted one.
    if (c.notNull || c.default !== null || c.generated || c.identity || ENDED.test(c.name)) continue;
    const test = new RegExp(`\\b${literalPattern(c.name)}"?\\s+is\\s+not\\s+null\\b`, 'i');
    if (texts.some((t) => test.test(t))) out.add(c.name);
  }
  byTable.set(key, out);
  return out;
}

/** Per world (by its `made`), the rows the sign-up made, by table: what a key may point at before that table's turn. */
const earlyRows = new WeakMap<Made, ReadonlyMap<string, readonly { owner: Persona; row: Row }[]>>();

/** The rows of `table` a key may point at: the world's, else those the sign-up made. */
function poolOf(made: Made, table: string): readonly { owner: Persona; row: Row }[] {
  const own = made.get(table);
  return own && own.length > 0 ? own : (earlyRows.get(made)?.get(table) ?? []);
}

const impliedCache = new WeakMap<Snapshot, Map<string, { table: string; column: string } | undefined>>();

/**
 * The table a column name points at by convention: two or more single-column foreign keys of that
 * name elsewhere, all to the same table (`conta_id` → `public.workspaces (id)`), but for the accounts.
 */
export function impliedReference(snapshot: Snapshot, name: string): { table: string; column: string } | undefined {
  let byName = impliedCache.get(snapshot);
  if (!byName) {
    const refs = new Map<string, Set<string>>();
    const count = new Map<string, number>();
    for (const fk of snapshot.constraints) {
      if (fk.type !== 'foreign_key' || fk.columns.length !== 1 || !fk.refSchema || !fk.refTable || (fk.refSchema === 'auth' && fk.refTable === 'users')) continue;
      const col = fk.columns[0]!;
      refs.set(col, (refs.get(col) ?? new Set()).add(`${fk.refSchema}.${fk.refTable}\u0000${fk.refColumns[0]}`));
      count.set(col, (count.get(col) ?? 0) + 1);
    }
    byName = new Map();
    for (const [col, targets] of refs) {
      if (targets.size !== 1 || (count.get(col) ?? 0) < 2) continue;
      const [table, column] = [...targets][0]!.split('\u0000') as [string, string];
      byName.set(col, { table, column });
    }
    impliedCache.set(snapshot, byName);
  }
  if (byName.has(name)) return byName.get(name);
  // Else by the name alone: `exercise_id` holds ids of the one table named `exercises` (or `exercise`,
  // `categories` for `category_id`) whose key is one uuid column, where no key of that name says otherwise.
  const stem = /^(.+)_id$/i.exec(name)?.[1]?.toLowerCase();
  let by: { table: string; column: string } | undefined;
  if (stem && !snapshot.constraints.some((c) => c.type === 'foreign_key' && c.columns.length === 1 && c.columns[0] === name)) {
    const names = new Set([stem, `${stem}s`, `${stem}es`, stem.endsWith('y') ? `${stem.slice(0, -1)}ies` : stem]);
    const hits = snapshot.relations.flatMap((r) => {
      if (r.kind !== 'table' || !names.has(r.name.toLowerCase())) return [];
      const pk = snapshot.constraints.find((c) => c.schema === r.schema && c.table === r.name && c.type === 'primary_key');
      const col = pk?.columns.length === 1 ? r.columns.find((c) => c.name === pk.columns[0]) : undefined;
      return col?.type === 'uuid' ? [{ table: `${r.schema}.${r.name}`, column: col.name }] : [];
    });
    if (hits.length === 1) by = hits[0];
  }
  byName.set(name, by);
  return by;
}

/** Values for one row of `rel` owned by `owner`; then inserted, with other values tried on each refusal. */
async function insertRow(
  session: Session,
  snapshot: Snapshot,
  rel: Relation,
  owner: Persona,
  n: number,
  enums: Enums,
  made: Made,
  as: InsertAs,
): Promise<{ row: Row; ctid: string; borrowed: boolean; borrowedFrom?: Persona } | { reason: string; code: string | undefined }> {
  const constraints = snapshot.constraints.filter((c) => c.schema === rel.schema && c.table === rel.name);
  const values = new Map<string, string | null>();
  /** A foreign key points at another owner's row (the owner has none of its own there): whose. */
  let borrowedFrom: Persona | undefined;
  for (const fk of constraints) {
    if (fk.type !== 'foreign_key' || !fk.refSchema || !fk.refTable) continue;
    if (fk.refSchema === 'auth' && fk.refTable === 'users' && fk.columns.length === 1) {
      values.set(fk.columns[0]!, owner.id);
      continue;
    }
    const pool = poolOf(made, `${fk.refSchema}.${fk.refTable}`);
    // A key naming the writer's account (its profile row, an owner column) stays the writer's own;
    // the others point at the preferred persona's rows (an attacker's: the victim's).
    const follows = as.preferColumns === undefined || as.preferColumns.join() === fk.columns.join();
    const whose = accountKey(snapshot, fk) || !follows ? owner : (as.prefer ?? owner);
    // None of its own: a row of its tenant's (a role account's workspace is its tenant's), then any
    // where the key is required. An optional one (a parent folder, a reply-to) stays empty rather
    // than link the row to another owner's, which would make it that owner's tenant's.
    const optional = fk.columns.every((col) => !rel.columns.find((c) => c.name === col)?.notNull);
    const target =
      pool.find((m) => m.owner.id === whose.id) ?? (whose.tenant !== null ? pool.find((m) => m.owner.tenant === whose.tenant) : undefined) ?? (optional && whose === owner ? undefined : pool[0]);
    if (target && target.owner.id !== owner.id) borrowedFrom ??= target.owner;
    fk.columns.forEach((col, i) => {
      const v = target?.row[fk.refColumns[i]!];
      values.set(col, v === undefined || v === null ? null : typeof v === 'object' ? JSON.stringify(v) : String(v));
    });
  }
  for (const c of rel.columns) {
    if (c.generated || c.identity || values.has(c.name)) continue;
    // A key with no foreign key whose name other tables' keys give to one table (`conta_id`, with
    // `references workspaces` elsewhere): it holds that table's ids, as the app writes them.
    const implied = c.type === 'uuid' && c.notNull && c.default === null ? impliedReference(snapshot, c.name) : undefined;
    if (implied) {
      const pool = poolOf(made, implied.table);
      const whose = as.prefer ?? owner;
      const target = pool.find((m) => m.owner.id === whose.id) ?? (whose.tenant !== null ? pool.find((m) => m.owner.tenant === whose.tenant) : undefined);
      const v = target?.row[implied.column];
      if (typeof v === 'string') {
        values.set(c.name, v);
        continue;
      }
    }
    const ownerColumn = c.type === 'uuid' && OWNER_NAME.test(c.name);
    if (c.default !== null && !ownerColumn) continue;
    // A nullable e-mail is still filled: helpers and policies compare it with the caller's (`email = auth.jwt() ->> 'email'`).
    // So is a row's audience by role (`target_role`): a notice to a tenant's admins is one the policies must keep to that tenant.
    const roleAudience = ROLE_AUDIENCE.test(c.name) && (enums.labels.has(c.typeName) || checkLiterals(constraints, c.name).length > 0);
    if (!c.notNull && !ownerColumn && !roleAudience && !EMAIL_NAME.test(c.name) && !requiredPresent(snapshot, rel).has(c.name)) continue;
    // A value the CHECK lists that no policy of the table refuses (`type != 'personal'`: an API user
    // creates team organisations only), else one its pattern accepts (`email LIKE '%@example.edu'`).
    // Of those, one a policy of the table asks for first (`source = 'invitation'`): the row a user may write.
    const listed = checkLiterals(constraints, c.name);
    const refused = policyLiterals(snapshot, rel, c.name, '(?:!=|<>)');
    const asked = policyLiterals(snapshot, rel, c.name, '=');
    const literal = listed.find((v) => asked.has(v) && !refused.has(v)) ?? listed.find((v) => !refused.has(v)) ?? listed[0] ?? patternValue(constraints, c.name, owner.name, n);
    // An address a policy or function compares with the caller's (an invitation's invitee): the owner's own.
    const madeUp = literal ?? (callerEmails(snapshot).has(`${rel.schema}.${rel.name}.${c.name}`) ? owner.email : plainValue(c, owner, rel, n, enums));
    // Within the lengths a CHECK allows (`char_length(username) between 3 and 24`).
    const v = madeUp === undefined || literal !== undefined ? madeUp : withinLength(constraints, c.name, madeUp, owner, n);
    if (v === undefined) {
      if (c.notNull && c.default === null) return { reason: `no value can be made up for ${c.name} (${c.type})`, code: undefined };
      continue;
    }
    values.set(c.name, v);
  }
  for (const [col, v] of Object.entries(as.fixed ?? {})) values.set(col, v);
  // A referenced table with no row leaves a required key empty: say which.
  for (const [col, v] of values) {
    const column = rel.columns.find((c) => c.name === col);
    if (v === null && column?.notNull) {
      const fk = constraints.find((c) => c.type === 'foreign_key' && c.columns.includes(col));
      return { reason: `${col} references ${fk?.refSchema}.${fk?.refTable}, which has no row`, code: undefined };
    }
  }
  let last = '';
  let code: string | undefined;
  const claimant = as.claimsFor === undefined ? owner : as.claimsFor;
  /** Triggers set aside for this insert (`on` their table, by name). */
  let off: string[] = [];
  /** Whether the optional values were left out after a trigger's refusal (the least row the app would send). */
  let least = false;
  /** Whether a second account key was pointed at another account after a CHECK kept the two apart. */
  let apart = false;
  const triggers = async (what: 'disable' | 'enable') => {
    for (const t of off) await session.exec(`alter table ${qualified(rel.schema, rel.name)} ${what} trigger ${quoteIdent(t)}`);
  };
  for (let attempt = 0; attempt < 6; attempt++) {
    const cols = [...values.keys()].filter((k) => values.get(k) !== null);
    const typed = cols.map((k, i) => `$${i + 1}::text::${rel.columns.find((c) => c.name === k)!.type}`);
    const insert =
      cols.length === 0
        ? `insert into ${qualified(rel.schema, rel.name)} as t default values`
        : `insert into ${qualified(rel.schema, rel.name)} as t (${cols.map(quoteIdent).join(', ')}) values (${typed.join(', ')})`;
    const claims = () => setClaims(session, claimant?.id ?? '', as.role ?? (claimant ? 'authenticated' : 'anon'), claimant?.email ?? '', false);
    await session.exec('SAVEPOINT supaudit_world');
    try {
      await claims();
      if (as.role) {
        // As the API role, the insert supabase-js sends by default (`Prefer: return=minimal`): no
        // RETURNING, so no SELECT policy judges the new row. Allowed, it is made again with the same
        // claims as the superuser, which may read it back.
        await session.query(`select set_config('role', $1, true)`, [as.role]);
        await session.query(insert, cols.map((k) => values.get(k)));
        await session.exec('ROLLBACK TO SAVEPOINT supaudit_world');
        await claims();
      }
      await triggers('disable');
      const [row] = await session.query<{ j: Row; c: string }>(`${insert} returning to_jsonb(t) as j, t.ctid::text as c`, cols.map((k) => values.get(k)));
      await triggers('enable');
      await session.exec('RELEASE SAVEPOINT supaudit_world');
      for (const t of off) as.pastRefusingTriggers?.(`${t} on ${qualified(rel.schema, rel.name)}`);
      return { row: row!.j, ctid: row!.c, borrowed: borrowedFrom !== undefined, ...(borrowedFrom ? { borrowedFrom } : {}) };
    } catch (error) {
      await session.exec('ROLLBACK TO SAVEPOINT supaudit_world');
      last = describePgErrorSafely(error);
      code = (error as { code?: string }).code;
      // Raised by a trigger's rule on an optional value the row did not need (a coach of one's own
      // membership): once more with only what the row needs, as a client would send it. Through the
      // API this is the only way past a trigger; the world's own rows keep their values and go past it.
      if (code === 'P0001' && !least && (as.role !== undefined || !as.pastRefusingTriggers)) {
        least = true;
        if (leaveOutOptional(rel, values, as)) continue;
      }
      // Raised by a rule of the table's own triggers (a plan's limit): once more past the triggers that raise.
      if (code === 'P0001' && as.pastRefusingTriggers && as.role === undefined && off.length === 0) {
        off = await raisingTriggers(session, rel, (error as { where?: string }).where);
        if (off.length > 0) continue;
      }
      // A relation between two accounts (a follower and the one followed, a sender and a recipient)
      // that a CHECK keeps apart: the later key names another account, once.
      if (code === '23514' && !apart && (apart = true) && twoParties(error, snapshot, rel, constraints, values, owner, as, made)) continue;
      if (!adjust(error, rel, constraints, values, owner, n + attempt + 1, enums, snapshot.constraints)) break;
    }
  }
  return { reason: `the database refused every row tried: ${last}`, code };
}

/**
 * The CHECK a refusal names ties two or more account keys of the row that now name the same account
 * (`follower_id <> followed_id`): the last of them in the table's column order that the insert does
 * not fix points at another account's row instead, the preferred persona's where it has one. True
 * when a value changed.
 */
function twoParties(error: unknown, snapshot: Snapshot, rel: Relation, constraints: readonly Constraint[], values: Map<string, string | null>, owner: Persona, as: InsertAs, made: Made): boolean {
  const check = constraints.find((c) => c.type === 'check' && c.name === (error as { constraint?: string }).constraint);
  if (!check) return false;
  const keys = rel.columns
    .map((c) => ({ c, fk: constraints.find((k) => k.type === 'foreign_key' && k.columns.length === 1 && k.columns[0] === c.name && check.columns.includes(c.name)) }))
    .filter((x): x is { c: Column; fk: Constraint } => x.fk !== undefined && ((x.fk.refSchema === 'auth' && x.fk.refTable === 'users') || accountKey(snapshot, x.fk)));
  const same = keys.filter((k) => values.get(k.c.name) !== null && keys.some((o) => o !== k && values.get(o.c.name) === values.get(k.c.name)));
  const moved = same.filter((k) => !(k.c.name in (as.fixed ?? {})) && !(as.preferColumns ?? []).includes(k.c.name)).at(-1);
  if (!moved) return false;
  const others = [...new Set([...made.values()].flat().map((m) => m.owner))].filter((p) => p.id !== owner.id);
  const candidates = as.prefer && as.prefer.id !== owner.id ? [as.prefer, ...others] : others;
  for (const other of candidates) {
    const ref = moved.fk.refSchema === 'auth' && moved.fk.refTable === 'users' ? other.id : poolOf(made, `${moved.fk.refSchema}.${moved.fk.refTable}`).find((m) => m.owner.id === other.id)?.row[moved.fk.refColumns[0]!];
    if (typeof ref !== 'string' || ref === values.get(moved.c.name)) continue;
    values.set(moved.c.name, ref);
    return true;
  }
  return false;
}

/**
 * Leaves out the optional values of a row (nullable, not the ones the attempt is about): the least
 * row a client sends. False when there was none to leave out.
 */
function leaveOutOptional(rel: Relation, values: Map<string, string | null>, as: InsertAs): boolean {
  const kept = new Set([...Object.keys(as.fixed ?? {}), ...(as.preferColumns ?? [])]);
  let left = false;
  for (const c of rel.columns) {
    if (c.notNull || kept.has(c.name) || (values.get(c.name) ?? null) === null) continue;
    values.set(c.name, null);
    left = true;
  }
  return left;
}

/**
 * The enabled INSERT triggers of `rel` whose function raises on a condition: the one the error's
 * context names (`PL/pgSQL function public.enforce_limit() line 9 at RAISE`), else every such one.
 */
async function raisingTriggers(session: Session, rel: Relation, where: string | undefined): Promise<string[]> {
  const rows = await session.query<{ t: string; f: string; raises: boolean }>(
    `select t.tgname::text as t, p.proname::text as f, coalesce(p.prosrc ~* '\\m(if|case|when)\\M[\\s\\S]*\\mraise\\M', false) as raises
       from pg_catalog.pg_trigger t join pg_catalog.pg_proc p on p.oid = t.tgfoid
      where t.tgrelid = $1::regclass and not t.tgisinternal and t.tgenabled <> 'D' and (t.tgtype & 4) <> 0
      order by t.tgname`,
    [qualified(rel.schema, rel.name)],
  );
  const named = rows.filter((r) => where !== undefined && new RegExp(`function (?:[\\w$"]+\\.)?"?${literalPattern(r.f)}"?\\(`).test(where));
  // A rule that raises on a condition (a limit, a state): another tenant's data may well meet it.
  // One that raises whatever the row (`raise exception 'frozen'`) lets no row exist: not set aside.
  return (named.length > 0 ? named : rows).filter((r) => r.raises).map((r) => r.t);
}

/** Changes the values after a refusal; false when nothing else is worth trying. */
function adjust(error: unknown, rel: Relation, constraints: readonly Constraint[], values: Map<string, string | null>, owner: Persona, n: number, enums: Enums, all: readonly Constraint[] = []): boolean {
  const e = error as { code?: string; column?: string; constraint?: string; table?: string; schema?: string };
  const column = (name: string) => rel.columns.find((c) => c.name === name);
  if (e.code === '23503' && e.table !== undefined && e.table !== rel.name) {
    // A trigger copied a uuid of this row into a key to an account elsewhere (a notification's
    // `created_by := new.student_id`): the uuids no foreign key explains are the owner's id.
    const fk = all.find((c) => c.type === 'foreign_key' && c.name === e.constraint && c.table === e.table && (e.schema === undefined || c.schema === e.schema));
    if (fk?.refSchema !== 'auth' || fk.refTable !== 'users') return false;
    let changed = false;
    for (const c of rel.columns) {
      if (c.type !== 'uuid' || !values.has(c.name) || values.get(c.name) === owner.id || constraints.some((k) => k.type === 'foreign_key' && k.columns.includes(c.name))) continue;
      values.set(c.name, owner.id);
      changed = true;
    }
    return changed;
  }
  if (e.code === '23502' && e.column && column(e.column)) {
    // A default left it NULL (auth.uid() with no claims, a trigger): give it a value.
    const c = column(e.column)!;
    const v = checkLiterals(constraints, c.name)[0] ?? plainValue(c, owner, rel, n, enums);
    if (v === undefined) return false;
    values.set(c.name, v);
    return true;
  }
  if (e.code === '23505' || e.code === '23P01') {
    const unique = constraints.find((c) => c.name === e.constraint);
    const cols = unique?.columns ?? [...values.keys()];
    let changed = false;
    for (const name of cols) {
      const c = column(name);
      if (!c || constraints.some((fk) => fk.type === 'foreign_key' && fk.columns.includes(name))) continue;
      const v = plainValue(c, owner, rel, n * 7 + 3, enums);
      if (v !== undefined && v !== values.get(name)) {
        values.set(name, v);
        changed = true;
      }
    }
    return changed;
  }
  if (e.code === '23514') {
    const check = constraints.find((c) => c.name === e.constraint);
    if (!check) return false;
    // A JSON document the CHECK gives a shape (keys it must have, the type of each): one of that shape.
    let shaped = false;
    for (const name of check.columns) {
      const c = column(name);
      if (c?.type !== 'jsonb' && c?.type !== 'json') continue;
      const doc = jsonShaped(check.definition, name, `${owner.name}-${rel.name}-${name}-${n}`);
      if (doc !== undefined && doc !== values.get(name)) {
        values.set(name, doc);
        shaped = true;
      }
    }
    if (shaped) return true;
    // One way of meeting it at a time (an arm of its OR), the values each of its conditions names.
    const arms = checkArms(check.definition);
    if (arms && arms.length > 0) {
      const tried = armsTried.get(values) ?? new Map<string, number>();
      armsTried.set(values, tried);
      const usable = armOrder(arms, values, rel, all.length > 0 ? all : constraints);
      for (let k = tried.get(check.name) ?? 0; k < usable.length; k++) {
        tried.set(check.name, k + 1);
        if (meetArm(usable[k]!, values, rel, owner, n, enums)) return true;
      }
    }
    let changed = false;
    for (const name of check.columns) {
      const literals = checkLiterals([check], name);
      const now = values.get(name);
      const next = literals[(literals.indexOf(now ?? '') + 1) % Math.max(1, literals.length)];
      if (next !== undefined && next !== now) {
        values.set(name, next);
        changed = true;
      } else if (!values.has(name)) {
        const c = column(name);
        const v = c ? plainValue(c, owner, rel, n, enums) : undefined;
        if (v !== undefined) {
          values.set(name, v);
          changed = true;
        }
      }
    }
    return changed;
  }
  // Refused for a reason the rest does not know (a trigger or CHECK that reads the document's keys):
  // the documents as an empty object, as before they held their owner's text.
  let emptied = false;
  for (const c of rel.columns) {
    if ((c.type === 'jsonb' || c.type === 'json') && values.get(c.name)?.startsWith('{"lab":')) {
      values.set(c.name, '{}');
      emptied = true;
    }
  }
  return emptied;
}

/** A placeholder per JSON type (`jsonb_typeof(…) = 'string'`; a string holds the row's own text); a key of no stated type holds true. */
const JSON_PLACEHOLDER: Readonly<Record<string, unknown>> = { object: {}, array: [], number: 0, boolean: true };

/**
 * A JSON document of the shape a CHECK asks of `column`: the keys it tests with `?` (at the top,
 * or inside a key: `(doc -> 'notifications') ? 'new_exercise'`), typed where it says
 * `jsonb_typeof(doc -> 'key') = 'string'`. Two levels deep; undefined when the CHECK tests none.
 */
export function jsonShaped(definition: string, column: string, text = 'x'): string | undefined {
  const col = `\\(*"?${literalPattern(column)}"?`;
  const key = String.raw`'((?:[^']|'')+)'(?:::text)?`;
  const doc: Record<string, unknown> = {};
  const typeOf = new Map<string, string>();
  for (const m of definition.matchAll(new RegExp(String.raw`jsonb?_typeof\(${col}(?:\s*->\s*${key})?\)*\s*=\s*'(\w+)'`, 'gi'))) typeOf.set(m[1]?.replaceAll("''", "'") ?? '', m[2]!.toLowerCase());
  let any = false;
  const place = (path: readonly string[]) => {
    let at = doc;
    path.forEach((k, i) => {
      const last = i === path.length - 1;
      const type = typeOf.get(path.slice(0, i + 1).join('\u0000')) ?? (last ? undefined : 'object');
      if (!(k in at) || (!last && (typeof at[k] !== 'object' || at[k] === null || Array.isArray(at[k])))) at[k] = type === 'string' ? text : type !== undefined ? structuredClone(JSON_PLACEHOLDER[type] ?? text) : true;
      if (!last) at = at[k] as Record<string, unknown>;
    });
    any = true;
  };
  for (const m of definition.matchAll(new RegExp(String.raw`${col}\s*->\s*${key}\)*\s*\?\s*${key}`, 'gi'))) place([m[1]!.replaceAll("''", "'"), m[2]!.replaceAll("''", "'")]);
  for (const m of definition.matchAll(new RegExp(String.raw`${col}\)*\s*\?\s*${key}`, 'gi'))) place([m[1]!.replaceAll("''", "'")]);
  for (const k of typeOf.keys()) if (k !== '' && !(k in doc)) place([k]);
  if (!any && typeOf.get('') === undefined) return undefined;
  if (typeOf.get('') === 'array') return '[]';
  return JSON.stringify(doc);
}

/** Per row being made: how many arms of each CHECK were tried already (by constraint name). */
const armsTried = new WeakMap<Map<string, string | null>, Map<string, number>>();

/**
 * The arms worth trying, in order: not one that needs a value where a referenced table left the
 * key empty; first those that clear the fewest values already chosen (`scope = 'gym' and gym_id is
 * not null` before `scope = 'global' and gym_id is null`: the row stays tied to its tenant).
 */
function armOrder(arms: readonly CheckArm[], values: ReadonlyMap<string, string | null>, rel: Relation, constraints: readonly Constraint[]): CheckArm[] {
  const keyed = (column: string) => constraints.some((c) => c.type === 'foreign_key' && c.schema === rel.schema && c.table === rel.name && c.columns.includes(column));
  const usable = arms.filter((arm) => arm.conditions.every((c) => c.kind !== 'not_null' || (values.get(c.column) ?? null) !== null || !keyed(c.column)));
  const cleared = (arm: CheckArm) => arm.conditions.filter((c) => c.kind === 'null' && (values.get(c.column) ?? null) !== null).length;
  return usable.map((arm, i) => ({ arm, i, cost: cleared(arm) })).sort((x, y) => x.cost - y.cost || x.i - y.i).map((x) => x.arm);
}

/** Sets the values one arm of a CHECK names; false when it changes nothing. */
function meetArm(arm: CheckArm, values: Map<string, string | null>, rel: Relation, owner: Persona, n: number, enums: Enums): boolean {
  let changed = false;
  const set = (column: string, v: string | null) => {
    if ((values.get(column) ?? null) === v && values.has(column)) return;
    values.set(column, v);
    changed = true;
  };
  for (const c of arm.conditions) {
    const column = rel.columns.find((x) => x.name === c.column);
    if (!column || column.generated || column.identity) continue;
    const now = values.get(c.column) ?? null;
    if (c.kind === 'values') {
      if (now === null || !c.values.includes(now)) set(c.column, c.values[0] ?? null);
    } else if (c.kind === 'null') set(c.column, null);
    else if (c.kind === 'not_null') {
      if (now === null) set(c.column, plainValue(column, owner, rel, n, enums) ?? null);
    } else if (c.kind === 'length') {
      const v = now ?? plainValue(column, owner, rel, n, enums);
      if (v !== undefined) set(c.column, fitLength(v, c.min, c.max, owner.name, n));
    } else if (c.kind === 'number') {
      const x = now === null ? Number.NaN : Number(now);
      if (Number.isNaN(x) || (c.min !== undefined && x < c.min) || (c.max !== undefined && x > c.max)) set(c.column, String(c.min ?? c.max));
    }
  }
  return changed;
}

/** A made-up text within the lengths every single-arm CHECK on its column allows. */
function withinLength(constraints: readonly Constraint[], column: string, value: string, owner: Persona, n: number): string {
  let v = value;
  for (const check of constraints) {
    if (check.type !== 'check' || !check.columns.includes(column)) continue;
    const arms = checkArms(check.definition);
    if (!arms || arms.length !== 1) continue;
    for (const c of arms[0]!.conditions) if (c.kind === 'length' && c.column === column) v = fitLength(v, c.min, c.max, owner.name, n);
  }
  return v;
}

/** One line for the report: accounts, tenants and what the caps left out, and how many tables got rows (why the others did not, counted). */
export function worldSummary(world: World): string {
  const filled = world.tables.filter((t) => t.rows > 0);
  const own = world.tables.filter((t) => t.reason === 'made by sign-up' && t.rows === 0);
  const empty = world.tables.filter((t) => t.rows === 0 && t.reason !== 'made by sign-up');
  const accounts = world.accounts.length > 0 ? `${world.accounts.length} account${world.accounts.length === 1 ? '' : 's'} signed up (${world.accounts.map((a) => a.name).join(', ')})` : 'no account (the schema has no auth.users)';
  const roots = world.tenants.roots.map(
    (t) => `${qualified(t.root.schema, t.root.name)} through ${qualified(t.membership.schema, t.membership.name)}` + (t.roles.length > 0 ? ` (${t.roleColumn}: ${t.roles.join(', ')}${t.platformRoles.length > 0 ? `; the operators' ${t.platformRoles.join(', ')}, held by no account` : ''})` : t.roleColumn ? ` (${t.roleColumn}: no known value)` : ''),
  );
  const capped = [
    ...(world.tenants.cappedRoots.length > 0 ? [`tenant roots ${world.tenants.cappedRoots.join(', ')} not made (at most ${TENANT_CAPS.roots})`] : []),
    ...world.tenants.roots.filter((t) => t.cappedRoles.length > 0).map((t) => `role values ${t.cappedRoles.join(', ')} of ${qualified(t.membership.schema, t.membership.name)} given no account (at most ${TENANT_CAPS.roles})`),
  ];
  return (
    `lab world: ${accounts}` +
    (roots.length > 0 ? `; two tenants of ${roots.join(' and ')}, alice and bob members with the first role` : '') +
    (capped.length > 0 ? `; capped: ${capped.join('; ')}` : '') +
    `; rows added to ${filled.length} of ${world.tables.length} table${world.tables.length === 1 ? '' : 's'} (the user's schemas and storage.objects)` +
    (own.length > 0 ? `, ${own.length} by the sign-up trigger` : '') +
    (empty.length > 0 ? `; no row in ${empty.map((t) => `${qualified(t.schema, t.name)} (${t.reason})`).join(', ')}` : '') +
    (world.accountErrors.length > 0 ? `; ${world.accountErrors.join('; ')}` : '') +
    (world.adjusted.length > 0 ? `; expressions that fail in the embedded database set aside to make rows (generated columns made plain, expression indexes dropped): ${world.adjusted.join(', ')}` : '') +
    (world.triggersSetAside.length > 0 ? `; triggers that raised against the world's own rows (a plan's limit, a rule of the app), set aside for those rows only: ${world.triggersSetAside.join(', ')}` : '')
  );
}
