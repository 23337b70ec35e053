/**
 * A sign-up that chooses its own privileges. The user metadata (`raw_user_meta_data`) is whatever
 * the person signing up sends (`supabase.auth.signUp({ options: { data } })`), yet sign-up triggers
 * often read a role, a tenant or an admin flag from it. The lab signs up twice, in savepoints rolled
 * back at once: a plain account, then one whose metadata sets each key that code run at sign-up
 * reads, to values that may widen access (a role above the others, the victim tenant's key, true);
 * confirmed when the second account reads rows of other owners that the first does not. The
 * policies, helpers and trigger chain that let it through are whatever the project has.
 */
import { qualified } from '../model/ident.ts';
import { literalPattern, namedAfter } from '../model/sql-text.ts';
import type { FunctionInfo, LabAttack, Relation, Snapshot } from '../model/snapshot.ts';
import type { Session } from '../introspect/session.ts';
import { gainedBetween, othersSeen } from './seen.ts';
import { byPrivilege, comparedLiterals } from './tenants.ts';
import { signUp, type Persona, type World } from './world.ts';

/** The plain sign-up the others are measured against, and the one that sets its own metadata. */
const PLAIN: Persona = { name: 'signup_plain', id: '5196a000-0000-4000-8000-0000000000a1', email: 'signup-plain@lab.supaudit.invalid', tenant: null };
const CHOSEN: Persona = { name: 'signup_chosen', id: '5196a000-0000-4000-8000-0000000000b2', email: 'signup-chosen@lab.supaudit.invalid', tenant: null };

/** Role values tried per key (the highest first). */
const MAX_VALUES = 3;
/** How deep the functions a sign-up trigger calls are followed. */
const CALL_DEPTH = 2;

/** A key that can only be a flag of privilege. */
const FLAG_KEY = /^(is|has|can)_|(^|_)(admin|staff|superuser|super_admin|moderator|verified|approved)$/i;

/** What code reads from the user metadata: the key, and the function that reads it. */
export interface MetadataKey {
  readonly key: string;
  readonly readBy: string;
  /** Read at sign-up (a trigger on auth.users, or what it calls); else read at every request (a helper of the policies, an RPC) from the caller's metadata. */
  readonly atSignUp: boolean;
  /** Values to try, most privileged first. */
  readonly values: readonly string[];
  /** The value is the victim tenant's key (the attacker must know it), not a role. */
  readonly tenant: boolean;
}

/** The functions run when an account is created: auth.users' triggers, and the functions they call. */
export function signUpFunctions(snapshot: Snapshot): FunctionInfo[] {
  const users = snapshot.relations.find((r) => r.schema === 'auth' && r.name === 'users');
  if (!users) return [];
  const named = (qualifiedName: string) => snapshot.functions.filter((f) => `${f.schema}.${f.name}` === qualifiedName && f.source !== null);
  let frontier = [...(users.beforeInsertFunctions ?? []), ...(users.afterWriteFunctions ?? [])].flatMap(named);
  const out = new Map(frontier.map((f) => [`${f.schema}.${f.name}(${f.identityArgs})`, f]));
  const user = snapshot.functions.filter((f) => f.extension === null && f.source !== null && f.schema !== 'auth' && f.schema !== 'pg_catalog');
  for (let depth = 0; depth < CALL_DEPTH && frontier.length > 0; depth++) {
    const next: FunctionInfo[] = [];
    for (const caller of frontier) {
      for (const f of user) {
        const id = `${f.schema}.${f.name}(${f.identityArgs})`;
        if (out.has(id) || !new RegExp(`\\b${literalPattern(f.name)}"?\\s*\\(`, 'i').test(caller.source!)) continue;
        out.set(id, f);
        next.push(f);
      }
    }
    frontier = next;
  }
  return [...out.values()];
}

/**
 * The metadata keys sign-up code reads, each with the values to try: where any of that code names
 * the user metadata, every `->> 'key'` it reads (a helper may be handed the metadata as an argument).
 * A key cast to an enum, or compared by policies and helpers with role-like literals, gets those
 * values; a key named like a tenant's key gets the victim tenant's; a flag gets true.
 */
export function metadataKeys(snapshot: Snapshot, world: World, victim: Persona): MetadataKey[] {
  const functions = signUpFunctions(snapshot);
  const out = new Map<string, MetadataKey>();
  const add = (f: FunctionInfo, key: string, atSignUp: boolean) => {
    if (out.has(key) || key === 'full_name' || key === 'name') return;
    const tenantKey = tenantValue(snapshot, world, victim, key);
    const values = tenantKey !== undefined ? [tenantKey] : roleValuesOf(snapshot, world, f.source!, key);
    if (values.length > 0) out.set(key, { key, readBy: `${f.schema}.${f.name}`, atSignUp, values, tenant: tenantKey !== undefined });
  };
  if (functions.some((f) => /raw_user_meta_data|user_metadata/i.test(f.source!))) {
    for (const f of functions) for (const m of f.source!.matchAll(/->>?\s*'([A-Za-z_][A-Za-z0-9_]*)'/g)) add(f, m[1]!, true);
  }
  // Helpers and RPCs that read the caller's metadata when they run (`auth.jwt() -> 'user_metadata' ->> 'role'`,
  // `raw_user_meta_data ->> 'role'` of auth.users): the user sets it at sign-up, and later with updateUser().
  const signUp = new Set(functions);
  for (const f of snapshot.functions) {
    if (signUp.has(f) || f.source === null || f.extension !== null || f.schema === 'auth' || f.schema === 'pg_catalog') continue;
    for (const m of f.source.matchAll(METADATA_READ)) add(f, m[1]!, false);
  }
  return [...out.values()];
}

/** A key read straight from the user metadata: `raw_user_meta_data ->> 'role'`, `-> 'user_metadata' ->> 'role'`, `user_metadata->>'role'`. */
const METADATA_READ = /(?:raw_user_meta_data|'user_metadata'|\buser_metadata)\s*\)?\s*->>?\s*'([A-Za-z_][A-Za-z0-9_]*)'/gi;

/** The victim tenant's key, for a key named like a tenant root's key (`organization_id`, `tenant`, `team_id`). */
function tenantValue(snapshot: Snapshot, world: World, victim: Persona, key: string): string | undefined {
  // The tenant a user works in is often "current": `current_organization_id`, `active_team`, `selected_workspace_id`.
  const stem = key.replace(/_?(id|uuid|key)$/i, '').replace(/^(current|active|selected|default|primary|my)_/i, '').toLowerCase();
  if (stem === '') return undefined;
  for (const t of world.tenants.roots) {
    const name = t.root.name.toLowerCase();
    const matches = t.rootColumns.some((c) => c.toLowerCase() === key.toLowerCase()) || namedAfter(name, stem);
    if (!matches || t.refColumns.length !== 1) continue;
    const row = world.made.get(`${t.root.schema}.${t.root.name}`)?.find((m) => m.owner.id === victim.id)?.row;
    const value = row?.[t.refColumns[0]!];
    if (value !== undefined && value !== null) return String(value);
  }
  return undefined;
}

const claimTexts = new WeakMap<Snapshot, readonly string[]>();

/** Policies and function bodies that read a key of the JWT's claims or of the users' metadata. */
function claimReaders(snapshot: Snapshot): readonly string[] {
  const hit = claimTexts.get(snapshot);
  if (hit) return hit;
  const reads = /auth\s*\.\s*jwt\s*\(|request\.jwt|app_metadata|user_metadata|raw_app_meta_data|raw_user_meta_data/i;
  const texts = [...snapshot.policies.flatMap((p) => [p.using ?? '', p.withCheck ?? '']), ...snapshot.functions.map((f) => f.source ?? '')].filter((t) => reads.test(t));
  claimTexts.set(snapshot, texts);
  return texts;
}

/** Values a role key may take: the enum it is cast to, the literals policies and helpers compare a column of its name with; true for a flag. */
function roleValuesOf(snapshot: Snapshot, world: World, source: string, key: string): string[] {
  const cast = new RegExp(`->>\\s*'${key}'\\s*\\)*\\s*::\\s*"?([A-Za-z_][\\w]*)"?(?:\\s*\\.\\s*"?([A-Za-z_][\\w]*)"?)?`, 'i').exec(source);
  const typeName = cast ? (cast[2] ? `${cast[1]}.${cast[2]}` : cast[1]!) : undefined;
  const labels = typeName
    ? [...world.enums.labels].filter(([t]) => t === typeName || t.endsWith(`.${typeName}`)).flatMap(([, l]) => l)
    : [];
  const compared = [...comparedLiterals(snapshot, key)];
  // The metadata read itself compared: `(raw_user_meta_data ->> 'role')::text = 'admin'`, `... ->> 'role' in ('admin', 'staff')`.
  // As written or as Postgres prints it (`'account_type'::text`), under a COALESCE with a default (`coalesce(… ->> 'account_type', '') = 'admin'`).
  const read = new RegExp(
    `->>\\s*'${key}'(?:\\s*::\\s*\\w+)?\\s*\\)*\\s*(?:,\\s*'(?:[^']|'')*'(?:\\s*::\\s*\\w+)?\\s*\\)+\\s*)?(?:::\\s*\\w+\\s*\\)*\\s*)?(?:=|<>|!=|in\\s*\\()\\s*'((?:[^']|'')+)'((?:\\s*,\\s*'(?:[^']|'')*')*)`,
    'gi',
  );
  // In the function that reads it, and wherever the key is read from the claims or the metadata
  // (`auth.jwt() -> 'app_metadata' ->> 'account_type' = 'admin'` in a policy: what the copied key decides).
  for (const text of [source, ...claimReaders(snapshot)]) {
    for (const m of text.matchAll(read)) {
      compared.push(m[1]!.replaceAll("''", "'"));
      for (const more of (m[2] ?? '').matchAll(/'((?:[^']|'')*)'/g)) compared.push(more[1]!.replaceAll("''", "'"));
    }
  }
  const values = byPrivilege([...new Set([...labels, ...compared])]);
  if (values.length > 0) return values.slice(0, MAX_VALUES);
  return FLAG_KEY.test(key) || /::\s*bool/i.test(cast?.[0] ?? '') ? ['true'] : [];
}

/**
 * The metadata each attempt sets: each role value alone, then the tenant keys alone, then each role
 * value with the tenant keys (a role that counts only inside a tenant). A combination is tried only
 * while neither alone gained: what it gains is then the pair's, not the tenant key's.
 */
function attemptsOf(keys: readonly MetadataKey[]): Record<string, string>[] {
  const roles = keys.filter((k) => !k.tenant);
  const tenants = Object.fromEntries(keys.filter((k) => k.tenant).map((k) => [k.key, k.values[0]!]));
  const depth = Math.max(0, ...roles.map((k) => k.values.length));
  const chosen = Array.from({ length: depth }, (_, i) => Object.fromEntries(roles.map((k) => [k.key, k.values[Math.min(i, k.values.length - 1)]!])));
  const withTenants = Object.keys(tenants).length > 0;
  return [...chosen, ...(withTenants ? [tenants] : []), ...(withTenants ? chosen.map((c) => ({ ...tenants, ...c })) : [])];
}

/**
 * Signs up with chosen metadata and measures what the account reads against a plain sign-up. At
 * most two attacks: the first that gains with a role value (its own privileges), and the first that
 * gains with the tenant keys alone (a tenant it was never invited to).
 */
export async function signUpAttacks(session: Session, snapshot: Snapshot, world: World, tables: readonly Relation[]): Promise<{ attacks: LabAttack[]; attempts: number }> {
  const victim = world.owners[0];
  if (!victim || !world.accounts.some((a) => a.id === victim.id)) return { attacks: [], attempts: 0 };
  const keys = metadataKeys(snapshot, world, victim);
  if (keys.length === 0) return { attacks: [], attempts: 0 };
  let attempts = 1;
  await session.exec('SAVEPOINT supaudit_signup');
  let plain: Record<string, number>;
  try {
    await signUp(session, PLAIN);
    plain = await othersSeen(session, snapshot, world, tables, PLAIN);
  } catch {
    return { attacks: [], attempts };
  } finally {
    await session.exec('ROLLBACK TO SAVEPOINT supaudit_signup');
  }
  const found = new Map<'role' | 'tenant', LabAttack>();
  for (const metadata of attemptsOf(keys)) {
    const used = keys.filter((k) => k.key in metadata);
    const kind = used.some((k) => !k.tenant) ? 'role' : 'tenant';
    if (found.has(kind) || (used.some((k) => k.tenant) && kind === 'role' && found.has('tenant'))) continue;
    attempts++;
    await session.exec('SAVEPOINT supaudit_signup');
    try {
      await signUp(session, CHOSEN, metadata);
      const gained = gainedBetween(plain, await othersSeen(session, snapshot, world, tables, CHOSEN));
      if (Object.keys(gained).length === 0) continue;
      const readers = [...new Set(used.map((k) => k.readBy))];
      found.set(kind, {
        attacker: 'anon',
        table: { schema: 'auth', name: 'users' },
        command: 'insert',
        column: 'raw_user_meta_data',
        signedUpWith: metadata,
        metadataReadBy: readers,
        ...(used.every((k) => !k.atSignUp) ? { metadataReadAnytime: true as const } : {}),
        ...(used.some((k) => k.tenant) ? { needsTenantKey: true as const } : {}),
        steps: [
          `supabase.auth.signUp({ email, password, options: { data: ${JSON.stringify(metadata)} } }) -- as anyone; ${readers.join(', ')} reads it ${used.every((k) => !k.atSignUp) ? 'from the caller\'s metadata' : 'at sign-up'}`,
          ...Object.keys(gained).map((k) => `SELECT count(*) FROM ${k} -- as the new account; a plain sign-up reads ${plain[k] ?? 0}`),
        ],
        gained,
      });
    } catch {
      // The trigger refused these values (a cast, a foreign key): the next attempt.
    } finally {
      await session.exec('ROLLBACK TO SAVEPOINT supaudit_signup');
    }
  }
  return { attacks: [...found.values()], attempts };
}

/** The account that signs up first, on a world whose tables the sign-up code counts were emptied. */
const FIRST: Persona = { name: 'signup_first', id: '5196a000-0000-4000-8000-0000000000c3', email: 'signup-first@lab.supaudit.invalid', tenant: null };

/** A table read to learn whether any row exists: `count(*) … from t`, `exists (select … from t`. */
const EMPTINESS = /\b(?:count\s*\(\s*(?:\*|\d+|[\w."]+)\s*\)[^;]*?|exists\s*\(\s*select\b[^;]*?)\bfrom\s+((?:"?[A-Za-z_][\w$]*"?\s*\.\s*)?"?[A-Za-z_][\w$]*"?)/gi;

/** The tables sign-up code tests for rows (the first account's branch: `IF (select count(*) from user_roles) = 0 THEN 'admin'`), with the functions that test them. */
export function firstAccountTests(snapshot: Snapshot): { tables: Relation[]; testedBy: string[] } {
  const tables = new Map<string, Relation>();
  const testedBy = new Set<string>();
  for (const f of signUpFunctions(snapshot)) {
    for (const m of f.source!.matchAll(EMPTINESS)) {
      const parts = m[1]!.split('.').map((p) => p.trim().replace(/^"|"$/g, ''));
      const [schema, name] = parts.length === 2 ? [parts[0]!, parts[1]!] : [undefined, parts[0]!];
      const rel =
        snapshot.relations.find((r) => r.kind === 'table' && r.name === name && r.schema === (schema ?? 'public')) ??
        (schema === undefined ? snapshot.relations.find((r) => r.kind === 'table' && r.name === name && r.schema !== 'auth') : undefined);
      if (!rel) continue;
      tables.set(`${rel.schema}.${rel.name}`, rel);
      testedBy.add(`${f.schema}.${f.name}`);
    }
  }
  return { tables: [...tables.values()], testedBy: [...testedBy] };
}

/**
 * The first sign-up of a new deployment: where sign-up code tests whether a table has rows, the lab
 * empties those tables (as a fresh project, a preview branch or a restored backup has them before
 * its administrator signs up), signs up one account, and compares what it reads with what the
 * outsider, an earlier plain account, reads in the same state. Confirmed when the newcomer reads
 * rows of other owners that the outsider does not: the first account to sign up is given more.
 */
export async function firstSignUpAttack(session: Session, snapshot: Snapshot, world: World, tables: readonly Relation[]): Promise<{ attacks: LabAttack[]; attempts: number }> {
  const { tables: emptied, testedBy } = firstAccountTests(snapshot);
  const outsider = world.accounts.find((a) => a.name === 'outsider');
  if (emptied.length === 0 || !outsider) return { attacks: [], attempts: 0 };
  await session.exec('SAVEPOINT supaudit_first');
  try {
    // Rows only: no trigger or foreign key acts on the delete, as in a database that never had them.
    await session.exec('SET LOCAL session_replication_role = replica');
    for (const rel of emptied) await session.exec(`DELETE FROM ${qualified(rel.schema, rel.name)}`);
    await session.exec('SET LOCAL session_replication_role = origin');
    const earlier = await othersSeen(session, snapshot, world, tables, outsider);
    await signUp(session, FIRST);
    const gained = gainedBetween(earlier, await othersSeen(session, snapshot, world, tables, FIRST));
    if (Object.keys(gained).length === 0) return { attacks: [], attempts: 1 };
    const names = emptied.map((r) => `${r.schema}.${r.name}`);
    return {
      attempts: 1,
      attacks: [
        {
          attacker: 'anon',
          table: { schema: 'auth', name: 'users' },
          command: 'insert',
          column: 'first sign-up',
          firstSignUp: { emptied: names, testedBy },
          steps: [
            `-- a deployment where ${names.join(' and ')} ${names.length === 1 ? 'has' : 'have'} no rows yet (its administrator has not signed up)`,
            `supabase.auth.signUp({ email, password }) -- as anyone, first; ${testedBy.join(', ')} tests ${names.join(', ')} for rows at sign-up`,
            ...Object.keys(gained).map((k) => `SELECT count(*) FROM ${k} -- as the new account; an earlier plain account reads ${earlier[k] ?? 0}`),
          ],
          gained,
        },
      ],
    };
  } catch {
    return { attacks: [], attempts: 1 };
  } finally {
    await session.exec('ROLLBACK TO SAVEPOINT supaudit_first');
  }
}
