/**
 * Attack search in the lab, by effect: for every write an attacker can make, try values taken from
 * the victim's side, and measure what the attacker can read afterwards. An attack is confirmed when
 * the attacker sees rows of another owner that it did not see before — whatever the policy, helper
 * or trigger that let the step through, and whatever the tables are called.
 *
 * Attackers: the outsider (any signed-up account, owning nothing) and bob (a tenant of his own,
 * after alice's rows). Writes tried, each in a savepoint rolled back at once:
 * - an INSERT of a row of the attacker's (its owner columns the attacker's id) whose foreign keys
 *   point at the victim's rows, with each value a CHECK or enum allows in its other columns;
 * - an UPDATE of one of the attacker's own rows setting a foreign key to the victim's key, a
 *   role-like column (enum, CHECK list) to each value it allows, or a reference to an account
 *   (an application's student, a task's assignee) to the victim's user id.
 * Bounded by a budget of attempts and seconds; deterministic (tables, columns and values in order).
 */
import { qualified, quoteIdent } from '../model/ident.ts';
import { argumentsOf, literalPattern, namedAfter, namedTables } from '../model/sql-text.ts';
import type { Constraint, FunctionInfo, LabAttack, Relation, Snapshot } from '../model/snapshot.ts';
import type { Session } from '../introspect/session.ts';
import { checkLiterals, comparedLiterals, grantsMore, memberAccountColumns, memberState, outranks, type TenantRoot } from './tenants.ts';
import { gainedBetween, othersSeen, policed, reachOf, setColumn, type Seen } from './seen.ts';
import { entitlementAttacks, paidRowAttacks } from './entitlement.ts';
import { ladderAttacks } from './ladder.ts';
import { firstSignUpAttack, signUpAttacks } from './signup.ts';
import { gateRows } from './published.ts';
import { calledFunctions } from '../model/function-calls.ts';
import { accountKey, actAs, foundTenant, keyFilter, keySql, ownerColumns, rowKey, rowOwner, tryInsert, worldRows, type Persona, type World } from './world.ts';
import { jsonShape, jsonValue, type JsonLeaf } from './payload.ts';

export interface AttackSearch {
  readonly attacks: readonly LabAttack[];
  readonly attempts: number;
  /** Why the search stopped before the end (budget), if it did. */
  readonly stopped?: string;
}

export interface AttackBudget {
  readonly attempts: number;
  readonly ms: number;
}

/** A column that holds a role: what policies and helpers compare with to decide what a user may do. */
const ROLE_COLUMN = /(^|_)(role|roles|level|permission|permissions|access|access_level|rank|type|kind|tier|is_admin|admin|staff|status)$/i;

/**
 * Values a column can be set to that may widen access: true for a flag, each enum label and CHECK
 * literal (the last ones, often the highest, first), and the literals policies and functions compare
 * a column of that name with (`role = 'admin'`, `kind in ('staff')`).
 */
function roleValues(snapshot: Snapshot, rel: Relation, column: string, constraints: readonly Constraint[], world: World): string[] {
  const c = rel.columns.find((x) => x.name === column);
  if (!c) return [];
  if (c.type === 'boolean') return ['true'];
  const labels = world.enums.labels.get(c.typeName) ?? checkLiterals(constraints, column);
  return [...new Set([...[...labels].reverse(), ...comparedLiterals(snapshot, column)])].slice(0, 6);
}

/** Searches attacks in the lab's copy; everything is rolled back. */
export async function searchAttacks(session: Session, snapshot: Snapshot, world: World, tables: readonly Relation[], budget: AttackBudget): Promise<AttackSearch> {
  const attacks: LabAttack[] = [];
  const started = performance.now();
  let attempts = 0;
  let stopped: string | undefined;
  /** Whether the budget allows another attempt, counting `used` that a step made and has not added yet. */
  const within = (used: number) => attempts + used < budget.attempts && performance.now() - started <= budget.ms;
  const victim = world.owners[0];
  const attackers = ([['outsider', world.accounts.find((a) => a.name === 'outsider')], ['bob', world.owners[1]]] as const).filter(
    (a): a is readonly ['outsider' | 'bob', Persona] => a[1] !== undefined,
  );
  if (!victim) return { attacks, attempts };
  await session.begin({ access: 'read write', statementTimeoutMs: 10_000, lockTimeoutMs: 1_000 });
  try {
    // The victim's rows shown to a relation (its followers, its team), not to everyone: what forging that relation gains.
    await gateRows(session, snapshot, world, victim);
    // Two rounds, so that one attacker's searches do not use up the budget before the other's
    // takeovers are tried: first each attacker's memberships and relations (the cheap, decisive
    // writes), then the costlier searches and the other tables.
    const states = new Map<string, { baseline: Seen; watched: Relation[]; found: Set<string> }>();
    outer: for (const round of [1, 2] as const) for (const [name, attacker] of attackers) {
      let state = states.get(name);
      if (!state) {
        const seen = await othersSeen(session, snapshot, world, tables, attacker);
        // Only tables where the attacker does not already see every other owner's row can show a gain.
        state = { baseline: seen, watched: tables.filter((rel) => worldRows(snapshot, world, rel).filter((r) => r.owner !== attacker.id).length > (seen[`${rel.schema}.${rel.name}`] ?? 0)), found: new Set<string>() };
        states.set(name, state);
      }
      const { baseline, watched, found } = state;
      // Two steps: any account first creates a tenant of its own, as the app lets it, then reads.
      if (round === 1 && name === 'outsider') {
        // Anyone first: an account whose sign-up chose its own role or tenant.
        const signedUp = await signUpAttacks(session, snapshot, world, tables);
        attempts += signedUp.attempts;
        attacks.push(...signedUp.attacks);
        // The first account of a new deployment, where sign-up code gives the first one more.
        const first = await firstSignUpAttack(session, snapshot, world, tables);
        attempts += first.attempts;
        attacks.push(...first.attacks);
        // A plan, credits or a premium flag of its own row that the user sets itself.
        const entitled = await entitlementAttacks(session, snapshot, world, tables);
        attempts += entitled.attempts;
        attacks.push(...entitled.attacks);
        // A subscription row it writes itself, for itself or a tenant it founded.
        const paid = await paidRowAttacks(session, snapshot, world, tables);
        attempts += paid.attempts;
        attacks.push(...paid.attacks);
        const founded = await founderAttacks(session, snapshot, world, watched, attacker, baseline);
        attempts += founded.attempts;
        attacks.push(...founded.attacks);
        const promoted = await selfPromotion(session, snapshot, world, tables);
        attempts += promoted.attempts;
        attacks.push(...promoted.attacks);
        const deposed = await deposeHead(session, snapshot, world, tables, promoted.attacks);
        attempts += deposed.attempts;
        attacks.push(...deposed.attacks);
      }
      // The tenants' memberships first, before the costlier searches: a self-join is the takeover, and the budget may run out before the last table.
      const memberships = new Set(world.tenants.roots.map((t) => `${t.membership.schema}.${t.membership.name}`));
      /** Each table's writes with the victim's keys and role values; false when the budget ran out. */
      const writeTables = async (list: readonly Relation[], partiesOnly = false): Promise<boolean> => {
        for (const rel of list) {
          const key = `${rel.schema}.${rel.name}`;
          const constraints = snapshot.constraints.filter((c) => c.schema === rel.schema && c.table === rel.name);
          // A key naming an account stays the attacker's own; every other key is tried pointing at the victim's row.
          const fks = constraints.filter((c) => c.type === 'foreign_key' && c.refSchema && c.refTable && !accountKey(snapshot, c));
          const keyColumns = new Set(constraints.filter((c) => c.type === 'primary_key' || c.type === 'foreign_key').flatMap((c) => c.columns));
          const roleColumns = rel.columns
            .filter((c) => !c.generated && !c.identity && !keyColumns.has(c.name) && roleValues(snapshot, rel, c.name, constraints, world).length > 0)
            .filter((c) => c.type === 'boolean' || world.enums.labels.has(c.typeName) || checkLiterals(constraints, c.name).length > 1 || comparedLiterals(snapshot, c.name).length > 0)
            .map((c) => c.name);
          // A reference to an account on one of the attacker's rows, set to the victim's id (an
          // application's student, a task's assignee): a relation the attacker forges alone, which
          // another table's policy may trust ("a team owner reads its applicants' profiles").
          const primary = new Set(constraints.filter((c) => c.type === 'primary_key').flatMap((c) => c.columns));
          const accounts = constraints.filter(
            (c) => c.type === 'foreign_key' && c.columns.length === 1 && !primary.has(c.columns[0]!) && ((c.refSchema === 'auth' && c.refTable === 'users') || accountKey(snapshot, c)),
          );
          // A membership is written in the state the helpers count (`active`, not the `pending` of a request): the row an attacker sends.
          const root = world.tenants.roots.find((t) => t.membership.schema === rel.schema && t.membership.name === rel.name);
          const state = root ? Object.fromEntries(memberState(snapshot, root, rel, world.enums.labels)) : {};
          // A relation between two accounts (a follow, a friendship, a message): the attacker's row
          // naming the victim as the other party, in each state policies and helpers compare
          // (`status = 'accepted'`), as if the victim had agreed.
          const parties = accounts.length >= 2 && partiesOnly && trustedElsewhere(snapshot, rel) ? accounts.flatMap((fk) => {
            const ref = fk.refSchema === 'auth' && fk.refTable === 'users' ? victim.id : (world.made.get(`${fk.refSchema}.${fk.refTable}`) ?? []).find((m) => m.owner.id === victim.id)?.row[fk.refColumns[0]!];
            if (typeof ref !== 'string') return [];
            const column = fk.columns[0]!;
            return [
              { command: 'insert' as const, column, value: ref, also: state, party: true },
              ...roleColumns.flatMap((col) => roleValues(snapshot, rel, col, constraints, world).map((v) => ({ command: 'insert' as const, column, value: ref, also: { ...state, [col]: v }, party: true }))),
            ];
          }) : [];
          const tries: { command: 'insert' | 'update'; column: string; value?: string; fk?: Constraint; also?: Record<string, string>; party?: boolean }[] = partiesOnly ? parties : [
            ...fks.map((fk) => ({ command: 'insert' as const, column: fk.columns.join(', '), fk, also: state })),
            ...roleColumns.flatMap((col) => roleValues(snapshot, rel, col, constraints, world).map((value) => ({ command: 'insert' as const, column: col, value, also: state }))),
            ...fks.filter((fk) => fk.columns.length === 1).map((fk) => ({ command: 'update' as const, column: fk.columns[0]!, fk })),
            ...roleColumns.flatMap((col) => roleValues(snapshot, rel, col, constraints, world).map((value) => ({ command: 'update' as const, column: col, value }))),
            ...accounts.map((fk) => ({ command: 'update' as const, column: fk.columns[0]!, value: victim.id })),
          ];
          for (const t of tries) {
            if (found.has(`${key}:${t.command}`)) break;
            if (!within(0)) {
              stopped = attempts >= budget.attempts ? `budget of ${budget.attempts} attempts reached` : `time budget of ${Math.round(budget.ms / 1000)} s reached`;
              return false;
            }
            attempts++;
            await session.exec('SAVEPOINT supaudit_attack');
            try {
              const wrote = t.command === 'insert' ? await insertAs(session, snapshot, world, rel, attacker, victim, t) : await updateAs(session, snapshot, world, rel, attacker, victim, t);
              if (!wrote) continue;
              const after = await othersSeen(session, snapshot, world, watched, attacker);
              const gained = gainedBetween(baseline, after);
              if (Object.keys(gained).length > 0) {
                found.add(`${key}:${t.command}`);
                attacks.push({
                  attacker: name,
                  table: { schema: rel.schema, name: rel.name },
                  command: t.command,
                  column: t.column,
                  ...(t.party ? { party: { ...(t.also ?? {}) } } : t.value !== undefined && t.command === 'insert' ? { value: t.value } : {}),
                  steps: [wrote, ...Object.keys(gained).map((k) => `SELECT count(*) FROM ${k}`)],
                  gained,
                });
              }
            } finally {
              await session.exec('ROLLBACK TO SAVEPOINT supaudit_attack');
            }
          }
        }
        return true;
      };
      if (round === 1) {
        if (!(await writeTables(tables.filter((r) => memberships.has(`${r.schema}.${r.name}`))))) break outer;
        // Relations between two accounts next (few tables, a few tries each): a forged follow or friendship.
        if (!(await writeTables(tables.filter((r) => !memberships.has(`${r.schema}.${r.name}`)), true))) break outer;
        continue;
      }
      if (name === 'outsider') {
        // A relation already forged as the victim's other party is not a role of the attacker's as well.
        const forged = new Set(attacks.filter((a) => a.party !== undefined).map((a) => `${a.table.schema}.${a.table.name}`));
        const escalated = await roleEscalation(session, snapshot, world, tables.filter((r) => !forged.has(`${r.schema}.${r.name}`)), within);
        attempts += escalated.attempts;
        attacks.push(...escalated.attacks);
        // A holder of a middle global role (a tenant admin, a moderator) gives itself the highest.
        const climbed = await ladderAttacks(session, snapshot, world, tables, (used) => within(attempts + used), escalated.attacks);
        attempts += climbed.attempts;
        attacks.push(...climbed.attacks);
        const takeovers = await ownerTakeover(session, snapshot, world, tables, within);
        attempts += takeovers.attempts;
        attacks.push(...takeovers.attacks);
        const planted = await crossTenantWrites(session, snapshot, world, tables, within);
        attempts += planted.attempts;
        attacks.push(...planted.attacks);
      }
      if (!(await writeTables(tables.filter((r) => !memberships.has(`${r.schema}.${r.name}`))))) break outer;
    }
    attacks.push(...(await storageReach(session, snapshot, world, victim, attackers)));
    if (!stopped) {
      const calls = await searchCalls(session, snapshot, world, tables, victim, attackers, budget, attempts, started);
      attacks.push(...calls.attacks);
      attempts = calls.attempts;
      stopped = calls.stopped;
    }
  } finally {
    await session.exec('ROLLBACK').catch(() => undefined);
  }
  return { attacks, attempts, ...(stopped ? { stopped } : {}) };
}

/** Per snapshot: each policy's table, and its text with the bodies of the helpers it calls (transitively). */
const policyTexts = new WeakMap<Snapshot, { table: string; text: string }[]>();

/**
 * Whether a policy of another table, or a helper such a policy calls, names `rel`: a row written
 * there is trusted to decide access elsewhere (an accepted follow opens the followed user's posts).
 */
function trustedElsewhere(snapshot: Snapshot, rel: Relation): boolean {
  let entries = policyTexts.get(snapshot);
  if (!entries) {
    const byName = new Map<string, FunctionInfo[]>();
    for (const f of snapshot.functions) if (f.source !== null) byName.set(f.name.toLowerCase(), [...(byName.get(f.name.toLowerCase()) ?? []), f]);
    entries = snapshot.policies.map((p) => {
      const text = `${p.using ?? ''}\n${p.withCheck ?? ''}`;
      const helpers = [...text.matchAll(/([A-Za-z_][\w$]*)"?\s*\(/g)].flatMap((m) => byName.get(m[1]!.toLowerCase()) ?? []).flatMap((f) => calledFunctions(f, snapshot.functions));
      return { table: `${p.schema}.${p.table}`, text: [text, ...helpers.map((f) => f.source ?? '')].join('\n') };
    });
    policyTexts.set(snapshot, entries);
  }
  const key = `${rel.schema}.${rel.name}`;
  const naming = new RegExp(`\\b${literalPattern(rel.name)}\\b`, 'i');
  return entries.some((e) => e.table !== key && naming.test(e.text));
}

/**
 * A gate the caller satisfies itself: the outsider creates a tenant of its own through the API (a
 * row of the tenant root; then its membership with the first role value, unless a trigger made it),
 * as any new customer does, and then reads rows of other tenants it could not read before — a
 * policy or helper that asks "is the caller an admin of some organisation" instead of "of this one".
 */
async function founderAttacks(
  session: Session,
  snapshot: Snapshot,
  world: World,
  watched: readonly Relation[],
  attacker: Persona,
  baseline: Seen,
): Promise<{ attacks: LabAttack[]; attempts: number }> {
  const attacks: LabAttack[] = [];
  let attempts = 0;
  for (const t of world.tenants.roots) {
    if (!snapshot.relations.some((r) => r.schema === t.membership.schema && r.name === t.membership.name)) continue;
    attempts++;
    await session.exec('SAVEPOINT supaudit_founder');
    try {
      const founded = await foundTenant(session, snapshot, world, t, attacker, 301);
      if (!founded) continue;
      const { root, membership, member: fixed } = founded;
      const steps = [`INSERT INTO ${qualified(root.schema, root.name)} (…) VALUES (…) -- as :attacker, a tenant of its own`];
      if (founded.joined) steps.push(`INSERT INTO ${qualified(membership.schema, membership.name)} (${[...Object.keys(fixed)].map(quoteIdent).join(', ')}) VALUES (<the new tenant>${t.roleColumn ? `, '${t.roles[0]}'` : ''}) -- as :attacker`);
      const after = await othersSeen(session, snapshot, world, watched, attacker);
      const gained = gainedBetween(baseline, after);
      if (Object.keys(gained).length > 0) {
        attacks.push({ attacker: 'outsider', table: { schema: root.schema, name: root.name }, command: 'insert', column: '(a tenant of its own)', steps: [...steps, ...Object.keys(gained).map((k) => `SELECT count(*) FROM ${k}`)], gained });
        continue;
      }
      // Then it adds another user to its new tenant, as a plain member, with no invitation the
      // user accepted: where members read each other's things, the victim's rows come with it.
      const accounts = memberAccountColumns(snapshot, membership);
      if (accounts.length !== 1) continue;
      for (const victim of world.owners) {
        attempts++;
        await session.exec('SAVEPOINT supaudit_pull');
        try {
          const pulled = { ...fixed, [accounts[0]!]: victim.id, ...(t.roleColumn && t.roles.length > 0 ? { [t.roleColumn]: t.roles[t.roles.length - 1]! } : {}) };
          const added = await tryInsert(session, snapshot, membership, attacker, 307, world, { role: 'authenticated', fixed: pulled });
          if (!('row' in added)) continue;
          const won = gainedBetween(baseline, await othersSeen(session, snapshot, world, watched, attacker));
          if (Object.keys(won).length === 0) continue;
          attacks.push({
            attacker: 'outsider',
            table: { schema: membership.schema, name: membership.name },
            command: 'insert',
            column: accounts[0]!,
            pulledIn: true,
            steps: [
              ...steps,
              `INSERT INTO ${qualified(membership.schema, membership.name)} (${[...Object.keys(pulled)].map(quoteIdent).join(', ')}) VALUES (<the new tenant>, <the victim's user id>${t.roleColumn && t.roles.length > 0 ? `, '${t.roles[t.roles.length - 1]}'` : ''}) -- as :attacker, with no invitation the victim accepted`,
              ...Object.keys(won).map((k) => `SELECT count(*) FROM ${k}`),
            ],
            gained: won,
          });
          break;
        } finally {
          await session.exec('ROLLBACK TO SAVEPOINT supaudit_pull');
        }
      }
    } finally {
      await session.exec('ROLLBACK TO SAVEPOINT supaudit_founder');
    }
  }
  return { attacks, attempts };
}

/**
 * A member promotes itself: each member of tenant 1 whose role some other value outranks, the
 * plainest first, sets the role column of its own membership row to a value above its own (the
 * plainest: to any other), with the filtered UPDATE the API sends, until one succeeds. The row it
 * changed is the one the policies and helpers read to decide what it may do: a viewer making itself
 * owner, or where only admins may edit memberships, an admin making itself owner.
 */
async function selfPromotion(session: Session, snapshot: Snapshot, world: World, tables: readonly Relation[]): Promise<{ attacks: LabAttack[]; attempts: number }> {
  const attacks: LabAttack[] = [];
  let attempts = 0;
  const policedTables = policed(snapshot, world, tables);
  for (const t of world.tenants.roots) {
    // The operators' roles are above every tenant's: a member making itself one is the climb that matters most.
    const ladder = [...t.platformRoles, ...t.roles];
    if (!t.roleColumn || ladder.length < 2) continue;
    const rel = snapshot.relations.find((r) => r.schema === t.membership.schema && r.name === t.membership.name);
    const column = rel?.columns.find((c) => c.name === t.roleColumn);
    if (!rel || !column) continue;
    // Only what a role can change is measured: the tables whose policies read the membership, directly or through a helper that does.
    const naming = new RegExp(`\\b${literalPattern(rel.name)}\\b`, 'i');
    const helpers = snapshot.functions.filter((f) => f.source !== null && f.extension === null && naming.test(f.source)).map((f) => new RegExp(`\\b${literalPattern(f.name)}"?\\s*\\(`, 'i'));
    const watched = policedTables.filter((r) =>
      snapshot.policies.some((p) => p.schema === r.schema && p.table === r.name && [naming, ...helpers].some((re) => re.test(`${p.using ?? ''} ${p.withCheck ?? ''}`))),
    );
    const rootKey = `${t.root.schema}.${t.root.name}`;
    // Every role account of tenant 1 but the highest, the plainest first (the role listed last):
    // a member making itself admin, an admin making itself owner.
    const members = world.accounts
      .filter((a) => a.tenant === 1 && a.member?.root === rootKey && t.roles.includes(a.member.role) && ladder.some((r) => outranks(ladder, r, a.member!.role)))
      .sort((a, b) => t.roles.indexOf(b.member!.role) - t.roles.indexOf(a.member!.role));
    const plainest = (member: Persona) => member === members[0] && member.member!.role === t.roles[t.roles.length - 1];
    /** A value above the member's role: for one above the plainest, only one some policy or helper grants more (an admin that is already worth an owner gains nothing). */
    const above = (member: Persona, value: string) => outranks(ladder, value, member.member!.role) && (plainest(member) || grantsMore(snapshot, column.name, rel.name, value, member.member!.role));
    const promoted = () => attacks.some((a) => a.table.schema === rel.schema && a.table.name === rel.name && a.promotedFrom !== undefined);
    // The plainest that makes itself more is the finding: anyone above it could too.
    for (const member of members) {
      if (promoted()) break;
      const own = (world.made.get(`${rel.schema}.${rel.name}`) ?? []).find((m) => m.owner.id === member.id);
      if (!own) continue;
      const filter = keyFilter(snapshot, rel, 't', [{ key: rowKey(snapshot, rel, own.row) }], 2);
      // The plainest tries every other value; one above it, only those above its own.
      const held = member.member!.role;
      /** What the member reads, updates and deletes as it is: a promotion is one when the new value opens more. */
      let before: Seen | undefined;
      for (const value of ladder.filter((r) => r !== held && (plainest(member) || above(member, r)))) {
        attempts++;
        before ??= await reachOf(session, snapshot, world, watched, member);
        await session.exec('SAVEPOINT supaudit_promote');
        try {
          await actAs(session, member);
          if ((await setColumn(session, rel, column.name, column.type, value, filter)) > 0) {
            // The value must open something: a role nothing compares (a rewrite dropped the role checks)
            // changes nothing in the database.
            const gained = gainedBetween(before, await reachOf(session, snapshot, world, watched, member));
            // Or a policy or helper grants the new value more than the held one, in ways the world's
            // rows do not show (an owner's delete a foreign key refuses, its power over the admins).
            if (Object.keys(gained).length === 0 && !grantsMore(snapshot, column.name, rel.name, value, held)) continue;
            attacks.push({
              attacker: 'member',
              table: { schema: rel.schema, name: rel.name },
              command: 'update',
              column: t.roleColumn,
              steps: [`UPDATE ${qualified(rel.schema, rel.name)} SET ${quoteIdent(column.name)} = '${value.replaceAll("'", "''")}' WHERE <its own membership> -- as a '${held}' of the tenant`, ...Object.keys(gained).map((k) => `SELECT / UPDATE / DELETE … FROM ${k}`)],
              gained,
              promotedTo: value,
              promotedFrom: held,
            });
            break;
          }
        } catch {
          // Refused: the policy or a trigger holds.
        } finally {
          await session.exec('ROLLBACK TO SAVEPOINT supaudit_promote');
        }
      }
    }
    // Adding another account with a role above its own (an admin adding an accomplice as owner):
    // the role ceiling of whoever may add members. The account added is the outsider, into tenant 1.
    // Tried even where a member climbed by itself: it goes through another policy, which a fix of
    // the first leaves open.
    const outsider = world.accounts.find((a) => a.name === 'outsider');
    const home = (world.made.get(rootKey) ?? []).find((m) => m.owner.tenant === 1);
    if (!outsider || !home) continue;
    // A role whose holder made itself more needs no accomplice: adding or raising another through
    // the same membership is that climb again, not a second hole.
    const climbers = new Set(attacks.filter((a) => a.table.schema === rel.schema && a.table.name === rel.name && !a.appointed && a.promotedFrom !== undefined).map((a) => a.promotedFrom));
    const inTenant = Object.fromEntries(t.rootColumns.map((c, i) => [c, String(home.row[t.refColumns[i]!] ?? '')]));
    appoint: for (const member of members) {
      const held = member.member!.role;
      if (climbers.has(held)) continue;
      for (const value of ladder.filter((r) => above(member, r))) {
        attempts++;
        await session.exec('SAVEPOINT supaudit_appoint');
        try {
          const made = await tryInsert(session, snapshot, rel, outsider, 306, world, { role: 'authenticated', claimsFor: member, fixed: { ...inTenant, [t.roleColumn]: value } });
          if ('row' in made) {
            attacks.push({
              attacker: 'member',
              table: { schema: rel.schema, name: rel.name },
              command: 'insert',
              column: t.roleColumn,
              steps: [`INSERT INTO ${qualified(rel.schema, rel.name)} (…, ${quoteIdent(column.name)}) VALUES (<its own tenant>, <an account of its choosing>, '${value.replaceAll("'", "''")}') -- as a '${held}' of the tenant`],
              gained: {},
              promotedTo: value,
              promotedFrom: held,
              appointed: true,
            });
            break appoint;
          }
        } finally {
          await session.exec('ROLLBACK TO SAVEPOINT supaudit_appoint');
        }
      }
    }
    if (attacks.some((a) => a.appointed && a.table.schema === rel.schema && a.table.name === rel.name)) continue;
    // Or raising a member of its tenant (an accomplice, or a second account of its own it added as
    // the app lets it) above its own role, where the account's one row holds its tenant and role and
    // no new row can be added for an existing account: the accomplice's reach is measured.
    const accomplice = [...world.accounts]
      .reverse()
      .find((a) => a.tenant === 1 && a.member?.root === rootKey && a.member.role === t.roles[t.roles.length - 1]);
    const theirs = accomplice && (world.made.get(`${rel.schema}.${rel.name}`) ?? []).find((m) => m.owner.id === accomplice.id);
    if (!accomplice || !theirs) continue;
    const filter = keyFilter(snapshot, rel, 't', [{ key: rowKey(snapshot, rel, theirs.row) }], 2);
    let before: Seen | undefined;
    raise: for (const member of members) {
      if (member === accomplice || climbers.has(member.member!.role)) continue;
      const held = member.member!.role;
      for (const value of ladder.filter((r) => above(member, r) && r !== accomplice.member!.role)) {
        attempts++;
        before ??= await reachOf(session, snapshot, world, watched, accomplice);
        await session.exec('SAVEPOINT supaudit_appoint');
        try {
          await actAs(session, member);
          if ((await setColumn(session, rel, column.name, column.type, value, filter)) === 0) continue;
          const gained = gainedBetween(before, await reachOf(session, snapshot, world, watched, accomplice));
          if (Object.keys(gained).length === 0) continue;
          attacks.push({
            attacker: 'member',
            table: { schema: rel.schema, name: rel.name },
            command: 'update',
            column: t.roleColumn,
            steps: [
              `UPDATE ${qualified(rel.schema, rel.name)} SET ${quoteIdent(column.name)} = '${value.replaceAll("'", "''")}' WHERE <another member of its tenant> -- as a '${held}' of the tenant`,
              ...Object.keys(gained).map((k) => `SELECT / UPDATE / DELETE … FROM ${k} -- as that member`),
            ],
            gained,
            promotedTo: value,
            promotedFrom: held,
            appointed: true,
          });
          break raise;
        } catch {
          // Refused: the policy or a trigger holds.
        } finally {
          await session.exec('ROLLBACK TO SAVEPOINT supaudit_appoint');
        }
      }
    }
  }
  return { attacks, attempts };
}

/**
 * A member takes its tenant over by removing whoever is above it: the lowest role account of tenant 1
 * that can (the plainest first) sets the role of its tenant's highest member (alice, who holds the
 * first role) to its own, or deletes that membership. Confirmed when alice then reaches fewer of the
 * world's rows: she lost what her role or membership gave her. Not tried on a membership whose
 * members already promote themselves (that climb is the finding).
 */
async function deposeHead(session: Session, snapshot: Snapshot, world: World, tables: readonly Relation[], climbs: readonly LabAttack[]): Promise<{ attacks: LabAttack[]; attempts: number }> {
  const attacks: LabAttack[] = [];
  let attempts = 0;
  const head = world.owners.find((o) => o.tenant === 1);
  if (!head) return { attacks, attempts };
  for (const t of world.tenants.roots) {
    if (!t.roleColumn || t.roles.length < 2) continue;
    const rel = tables.find((r) => r.schema === t.membership.schema && r.name === t.membership.name);
    const column = rel?.columns.find((c) => c.name === t.roleColumn);
    if (!rel || !column || climbs.some((a) => a.table.schema === rel.schema && a.table.name === rel.name && a.promotedFrom !== undefined)) continue;
    const accountColumn = memberAccountColumns(snapshot, rel)[0];
    if (!accountColumn) continue;
    const rootKey = `${t.root.schema}.${t.root.name}`;
    const home = (world.made.get(rootKey) ?? []).find((m) => m.owner.id === head.id);
    if (!home) continue;
    // Alice's membership of her own tenant, holding the highest role (the world's, or one a trigger made when she founded it).
    const tenantTest = t.rootColumns.map((c, i) => `t.${quoteIdent(c)}::text = $${i + 2}`).join(' and ');
    const [mine] = await session.query<{ j: Record<string, unknown> }>(
      `select to_jsonb(t) as j from ${qualified(rel.schema, rel.name)} t where t.${quoteIdent(accountColumn)}::text = $1 and ${tenantTest} limit 1`,
      [head.id, ...t.refColumns.map((c) => String(home.row[c] ?? ''))],
    );
    if (!mine || String(mine.j[t.roleColumn] ?? '') !== t.roles[0]) continue;
    // Only members the head outranks (by the roles' words first: an owner listed last is still an owner).
    const members = world.accounts
      .filter((a) => a.tenant === 1 && a.member?.root === rootKey && a.member.role !== t.roles[0] && outranks(t.roles, t.roles[0]!, a.member.role))
      .sort((a, b) => t.roles.indexOf(b.member!.role) - t.roles.indexOf(a.member!.role));
    const watched = policed(snapshot, world, tables);
    let before: Seen | undefined;
    depose: for (const member of members) {
      for (const command of ['update', 'delete'] as const) {
        attempts++;
        before ??= await reachOf(session, snapshot, world, watched, head);
        const filter = keyFilter(snapshot, rel, 't', [{ key: rowKey(snapshot, rel, mine.j) }], command === 'update' ? 2 : 1);
        await session.exec('SAVEPOINT supaudit_depose');
        try {
          await actAs(session, member);
          const done =
            command === 'update'
              ? await setColumn(session, rel, column.name, column.type, member.member!.role, filter)
              : Number((await session.query<{ n: number }>(`with w as (delete from ${qualified(rel.schema, rel.name)} t where ${filter.sql} returning 1) select count(*)::int as n from w`, filter.params))[0]?.n ?? 0);
          if (done === 0) continue;
          await session.exec('RESET ROLE');
          const after = await reachOf(session, snapshot, world, watched, head);
          const lost = Object.fromEntries(Object.entries(before).filter(([k, n]) => (after[k] ?? 0) < n).map(([k, n]) => [k, { before: n, after: after[k] ?? 0 }]));
          if (Object.keys(lost).length === 0) continue;
          attacks.push({
            attacker: 'member',
            table: { schema: rel.schema, name: rel.name },
            command,
            column: t.roleColumn,
            steps: [
              command === 'update'
                ? `UPDATE ${qualified(rel.schema, rel.name)} SET ${quoteIdent(column.name)} = '${member.member!.role.replaceAll("'", "''")}' WHERE <the membership of its tenant's '${t.roles[0]}'> -- as a '${member.member!.role}' of the tenant`
                : `DELETE FROM ${qualified(rel.schema, rel.name)} WHERE <the membership of its tenant's '${t.roles[0]}'> -- as a '${member.member!.role}' of the tenant`,
            ],
            gained: {},
            promotedFrom: member.member!.role,
            deposed: { holder: t.roles[0]!, byPlainest: member.member!.role === t.roles[t.roles.length - 1], lost },
          });
          break depose;
        } catch {
          // Refused: the policy or a trigger holds.
        } finally {
          await session.exec('ROLLBACK TO SAVEPOINT supaudit_depose');
        }
      }
    }
  }
  return { attacks, attempts };
}

/** Tenant 1's account with the role value listed last of the first root (a plain member), where that root has two values or more. */
function plainestMember(world: World): Persona | undefined {
  const root = world.tenants.roots[0];
  if (!root || root.roles.length < 2) return undefined;
  return world.accounts.find((a) => a.tenant === 1 && a.member?.role === root.roles[root.roles.length - 1]);
}

/**
 * A user gives itself a role: on a table whose rows name their owner and carry a role-like column
 * (a global `user_roles`, a `profiles.role`; a tenant's membership is selfPromotion's), the
 * plainest account of tenant 1 sets the column of its own row to each value the column allows, or
 * inserts a row of its own with that value (a user may hold several roles). Confirmed when it then
 * reads, updates or deletes rows of the world it could not before: the value is the one the
 * policies and helpers trust. Without that effect (a role users pick themselves, trusted by
 * nothing) nothing is reported.
 */
async function roleEscalation(
  session: Session,
  snapshot: Snapshot,
  world: World,
  tables: readonly Relation[],
  /** Whether the search's budget allows another attempt, given the attempts this step made so far. */
  within: (used: number) => boolean,
): Promise<{ attacks: LabAttack[]; attempts: number }> {
  const attacks: LabAttack[] = [];
  let attempts = 0;
  const memberships = new Set(world.tenants.roots.map((t) => `${t.membership.schema}.${t.membership.name}`));
  const side = world.owners.find((o) => o.tenant === 1);
  if (!side) return { attacks, attempts };
  // The plainest account of tenant 1, else its first account; with no tenants, any signed-up account: the outsider.
  const roots = world.tenants.roots[0];
  const attacker = roots ? (plainestMember(world) ?? side) : world.accounts.find((a) => a.name === 'outsider');
  if (!attacker) return { attacks, attempts };
  const watched = policed(snapshot, world, tables);
  let before: Seen | undefined;
  for (const rel of tables) {
    if (memberships.has(`${rel.schema}.${rel.name}`) || !within(attempts)) continue;
    const owners = ownerColumns(snapshot, rel);
    if (owners.length === 0) continue;
    const constraints = snapshot.constraints.filter((c) => c.schema === rel.schema && c.table === rel.name);
    const keyColumns = new Set(constraints.filter((c) => c.type === 'primary_key' || c.type === 'foreign_key').flatMap((c) => c.columns));
    const roleColumns = rel.columns.filter(
      (c) => !c.generated && !c.identity && !keyColumns.has(c.name) && ROLE_COLUMN.test(c.name) && (world.enums.labels.has(c.typeName) || checkLiterals(constraints, c.name).length > 1 || comparedLiterals(snapshot, c.name).length > 0),
    );
    if (roleColumns.length === 0) continue;
    const own = (world.made.get(`${rel.schema}.${rel.name}`) ?? []).find((m) => rowOwner(snapshot, world, rel, m.row) === attacker.id);
    for (const column of roleColumns) {
      const held = own ? String(own.row[column.name] ?? '') : undefined;
      /** Per command, the value that opened the most rows: an UPDATE of its own row and an INSERT of a new one are two doors (two policies). */
      const best = new Map<'update' | 'insert', LabAttack>();
      const total = (a: LabAttack) => Object.values(a.gained).reduce((n, g) => n + g.after - g.before, 0);
      for (const value of roleValues(snapshot, rel, column.name, constraints, world).filter((v) => v !== held)) {
        for (const command of own ? (['update', 'insert'] as const) : (['insert'] as const)) {
          if (!within(attempts)) break;
          before ??= await reachOf(session, snapshot, world, watched, attacker);
          attempts++;
          await session.exec('SAVEPOINT supaudit_escalate');
          try {
            let step: string | null = null;
            if (command === 'update' && own) {
              await actAs(session, attacker);
              const filter = keyFilter(snapshot, rel, 't', [{ key: rowKey(snapshot, rel, own.row), ...(own.ctid ? { ctid: own.ctid } : {}) }], 2);
              if ((await setColumn(session, rel, column.name, column.type, value, filter)) > 0) step = `UPDATE ${qualified(rel.schema, rel.name)} SET ${quoteIdent(column.name)} = '${value.replaceAll("'", "''")}' WHERE <its own row> -- as :attacker`;
            } else {
              const made = await tryInsert(session, snapshot, rel, attacker, 305, world, { role: 'authenticated', fixed: { [column.name]: value } });
              if ('row' in made) step = `INSERT INTO ${qualified(rel.schema, rel.name)} (…, ${quoteIdent(column.name)}) VALUES (…, '${value.replaceAll("'", "''")}') -- as :attacker, a row of its own`;
            }
            if (step === null) continue;
            const after = await reachOf(session, snapshot, world, watched, attacker);
            const gained = gainedBetween(before, after);
            if (Object.keys(gained).length === 0) continue;
            const attack: LabAttack = {
              attacker: roots ? 'member' : 'outsider',
              table: { schema: rel.schema, name: rel.name },
              command,
              column: column.name,
              steps: [step, ...Object.keys(gained).map((k) => `SELECT / UPDATE / DELETE … FROM ${k}`)],
              gained,
              promotedTo: value,
            };
            const was = best.get(command);
            if (!was || total(attack) > total(was)) best.set(command, attack);
          } catch {
            // Refused (a CHECK, a trigger, the policy): not this way.
          } finally {
            await session.exec('ROLLBACK TO SAVEPOINT supaudit_escalate');
          }
        }
      }
      attacks.push(...[...best.values()]);
    }
  }
  return { attacks, attempts };
}

/**
 * A member takes its tenant over: on a tenant root whose row names its owner (`owner_id`), each
 * role account of tenant 1 (an admin, an editor) sets that column of its tenant's row to itself,
 * with the filtered UPDATE the API sends. Confirmed when it then reads, updates or deletes rows of
 * the world it could not before: the owner's powers (delete the tenant, manage its admins) are now
 * its own, and the owner's may be gone.
 */
async function ownerTakeover(
  session: Session,
  snapshot: Snapshot,
  world: World,
  tables: readonly Relation[],
  /** Whether the search's budget allows another attempt, given the attempts this step made so far. */
  within: (used: number) => boolean,
): Promise<{ attacks: LabAttack[]; attempts: number }> {
  const attacks: LabAttack[] = [];
  let attempts = 0;
  const side = world.owners.find((o) => o.tenant === 1);
  if (!side) return { attacks, attempts };
  const watched = policed(snapshot, world, tables);
  for (const t of world.tenants.roots) {
    const rootKey = `${t.root.schema}.${t.root.name}`;
    const root = snapshot.relations.find((r) => r.schema === t.root.schema && r.name === t.root.name);
    const row = (world.made.get(rootKey) ?? []).find((m) => m.owner.id === side.id);
    if (!root || !row) continue;
    const keyColumns = new Set(snapshot.constraints.filter((c) => c.schema === root.schema && c.table === root.name && c.type === 'primary_key').flatMap((c) => c.columns));
    // The columns naming the row's owner that hold the first account's id: not the key (a profile-like root).
    const columns = ownerColumns(snapshot, root).filter((c) => !keyColumns.has(c) && String(row.row[c] ?? '') === side.id);
    const members = world.accounts.filter((a) => a.tenant === 1 && a.member?.root === rootKey);
    const filter = keyFilter(snapshot, root, 't', [{ key: rowKey(snapshot, root, row.row), ...(row.ctid ? { ctid: row.ctid } : {}) }], 2);
    for (const column of columns) {
      const type = root.columns.find((c) => c.name === column)!.type;
      for (const attacker of members) {
        if (!within(attempts)) return { attacks, attempts };
        const before = await reachOf(session, snapshot, world, watched, attacker);
        attempts++;
        await session.exec('SAVEPOINT supaudit_takeover');
        try {
          await actAs(session, attacker);
          if ((await setColumn(session, root, column, type, attacker.id, filter).catch(() => 0)) === 0) continue;
          const gained = gainedBetween(before, await reachOf(session, snapshot, world, watched, attacker));
          if (Object.keys(gained).length === 0) continue;
          attacks.push({
            attacker: 'member',
            table: { schema: root.schema, name: root.name },
            command: 'update',
            column,
            steps: [
              `UPDATE ${qualified(root.schema, root.name)} SET ${quoteIdent(column)} = auth.uid() WHERE <its own tenant's row> -- as :attacker, a '${attacker.member!.role}' of the tenant`,
              ...Object.keys(gained).map((k) => `SELECT / UPDATE / DELETE … FROM ${k}`),
            ],
            gained,
            takeover: attacker.member!.role,
          });
          break;
        } finally {
          await session.exec('ROLLBACK TO SAVEPOINT supaudit_takeover');
        }
      }
    }
  }
  return { attacks, attempts };
}

/**
 * A member of tenant 1 writes a row into tenant 2: an INSERT whose tenant key is the other tenant's
 * (its other keys pointing at its own tenant's rows, the "mixed" row an OR over untied columns lets
 * through), or an UPDATE of a row of its own tenant that sets the tenant key to the other tenant's
 * (an UPDATE policy without WITH CHECK). Confirmed when a member of tenant 2 then sees the row in
 * its tenant. Only tables with one key to the tenant root (a row pointing at two tenants is a link
 * between them, a share), and only where a signed-up outsider cannot write the same row (a join
 * request, a contact form: open to anyone by design, and judged by other checks).
 */
async function crossTenantWrites(
  session: Session,
  snapshot: Snapshot,
  world: World,
  tables: readonly Relation[],
  /** Whether the search's budget allows another attempt, given the attempts this step made so far. */
  within: (used: number) => boolean,
): Promise<{ attacks: LabAttack[]; attempts: number }> {
  const attacks: LabAttack[] = [];
  let attempts = 0;
  const side = world.owners.find((o) => o.tenant === 1);
  const victim = world.owners.find((o) => o.tenant === 2);
  const outsider = world.accounts.find((a) => a.name === 'outsider');
  if (!side || !victim) return { attacks, attempts };
  /** What the victim reads of other owners' rows: a row that adds to it (beyond itself) shares the writer's things. */
  let victimSees: Seen | undefined;
  const shares = async (rel: Relation): Promise<boolean> => {
    const gained = gainedBetween(victimSees!, await othersSeen(session, snapshot, world, tables, victim));
    return Object.keys(gained).some((k) => k !== `${rel.schema}.${rel.name}`);
  };
  for (const t of world.tenants.roots) {
    const rootKey = `${t.root.schema}.${t.root.name}`;
    const victimRoot = (world.made.get(rootKey) ?? []).find((m) => m.owner.id === victim.id);
    if (!victimRoot) continue;
    // The plainest member first (roles listed highest first), then the tenant's first account.
    const members = [
      ...[...world.accounts.filter((a) => a.tenant === 1 && a.member?.root === rootKey)].sort((a, b) => t.roles.indexOf(b.member!.role) - t.roles.indexOf(a.member!.role)),
      side,
    ];
    for (const rel of tables) {
      if (!within(attempts)) return { attacks, attempts };
      if (`${rel.schema}.${rel.name}` === rootKey) continue;
      const keys = snapshot.constraints.filter((c) => c.schema === rel.schema && c.table === rel.name && c.type === 'foreign_key' && `${c.refSchema}.${c.refTable}` === rootKey);
      if (keys.length !== 1) continue;
      const fk = keys[0]!;
      const values = fk.refColumns.map((c) => victimRoot.row[c]);
      if (values.some((v) => v === null || v === undefined)) continue;
      const fixed = Object.fromEntries(fk.columns.map((c, i) => [c, typeof values[i] === 'object' ? JSON.stringify(values[i]) : String(values[i])]));
      const column = fk.columns.join(', ');
      const joins = `${rel.schema}.${rel.name}` === `${t.membership.schema}.${t.membership.name}`;
      /** Rows of the other tenant's the victim sees among `rows` (the written rows, by key). */
      const seenByVictim = async (rows: readonly { key: string; ctid?: string }[]): Promise<number> => {
        await session.exec('SAVEPOINT supaudit_plant_seen');
        try {
          await actAs(session, victim);
          const filter = keyFilter(snapshot, rel, 't', rows, 1);
          const [row] = await session.query<{ n: number }>(`select count(*)::int as n from ${qualified(rel.schema, rel.name)} t where ${filter.sql}`, filter.params);
          return Number(row?.n ?? 0);
        } catch {
          return 0;
        } finally {
          await session.exec('ROLLBACK TO SAVEPOINT supaudit_plant_seen');
        }
      };
      // Measured before any write of this search.
      victimSees ??= await othersSeen(session, snapshot, world, tables, victim);
      /**
       * Whether the persona reads the other tenant's rows of this table already, where a signed-up
       * outsider does not: a persona that does (a platform admin) is not bound by the tenant, and
       * writing there is its power, not a plant. Rows anyone reads (an invitation by its token) say nothing of the writer.
       */
      const theirs = (world.made.get(`${rel.schema}.${rel.name}`) ?? []).filter((m) => world.rowTenants.get(`${rel.schema}.${rel.name}`)?.get(rowKey(snapshot, rel, m.row)) === 2);
      let openToAll: boolean | undefined;
      const readsOthers = async (p: Persona): Promise<boolean> => {
        if (theirs.length === 0) return false;
        if (outsider && p !== outsider) {
          openToAll ??= await readsOthers(outsider);
          if (openToAll) return false;
        }
        await session.exec('SAVEPOINT supaudit_plant_reads');
        try {
          await actAs(session, p);
          const filter = keyFilter(snapshot, rel, 't', theirs.map((m) => ({ key: rowKey(snapshot, rel, m.row), ...(m.ctid ? { ctid: m.ctid } : {}) })), 1);
          const [row] = await session.query<{ n: number }>(`select count(*)::int as n from ${qualified(rel.schema, rel.name)} t where ${filter.sql}`, filter.params);
          return Number(row?.n ?? 0) > 0;
        } catch {
          return false;
        } finally {
          await session.exec('ROLLBACK TO SAVEPOINT supaudit_plant_reads');
        }
      };
      let found = false;
      // An outsider writing the same row: open to anyone (a join request), not a tenant boundary.
      let open: boolean | undefined;
      for (const attacker of members) {
        if (found || !within(attempts)) break;
        if (await readsOthers(attacker)) continue;
        attempts++;
        await session.exec('SAVEPOINT supaudit_plant');
        try {
          const made = await tryInsert(session, snapshot, rel, attacker, 303, world, { role: 'authenticated', prefer: side, fixed });
          if (!('row' in made)) continue;
          const seen = await seenByVictim([{ key: rowKey(snapshot, rel, made.row), ctid: made.ctid }]);
          if (seen === 0) continue;
          // A grant or a share: the row gives the other tenant the writer's own things, as designed.
          if (await shares(rel)) break;
          if (open === undefined && outsider) {
            await session.exec('ROLLBACK TO SAVEPOINT supaudit_plant');
            attempts++;
            open = 'row' in (await tryInsert(session, snapshot, rel, outsider, 304, world, { role: 'authenticated', prefer: side, fixed }));
          }
          if (open) break;
          found = true;
          const redeem = joins ? null : await redeemed(session, snapshot, world, t, rel, [made.row], attacker, victimRoot.row);
          attacks.push({
            attacker: 'member',
            table: { schema: rel.schema, name: rel.name },
            command: 'insert',
            column,
            steps: [
              `INSERT INTO ${qualified(rel.schema, rel.name)} (…, ${fk.columns.map(quoteIdent).join(', ')}) VALUES (…, <key of the other tenant's ${qualified(t.root.schema, t.root.name)} row>) -- as :attacker, ${attacker.member ? `a '${attacker.member.role}'` : 'a'} member of its own tenant only`,
              ...(redeem ? [redeem.step] : []),
            ],
            gained: { [`${rel.schema}.${rel.name}`]: { before: 0, after: seen } },
            planted: joins || redeem ? 'join' : 'insert',
            ...(redeem ? { redeemedBy: redeem.fn } : {}),
          });
        } finally {
          await session.exec('ROLLBACK TO SAVEPOINT supaudit_plant');
        }
      }
      // Moving a row of its own tenant into the other one: the tenant key is the only one (a membership's is its identity).
      if (found || joins || fk.columns.length !== 1) continue;
      const tenants = world.rowTenants.get(`${rel.schema}.${rel.name}`);
      const ours = (world.made.get(`${rel.schema}.${rel.name}`) ?? []).filter((m) => tenants?.get(rowKey(snapshot, rel, m.row)) === 1);
      const type = rel.columns.find((c) => c.name === fk.columns[0])?.type;
      if (ours.length === 0 || !type) continue;
      /** Moves the rows `attacker` may update into the other tenant: the moved rows' keys, or null when refused. */
      const move = async (attacker: Persona, target: readonly { key: string; ctid?: string }[]): Promise<{ k: string; c: string }[] | null> => {
        try {
          await actAs(session, attacker);
          const filter = keyFilter(snapshot, rel, 't', target, 2);
          const moved = await session.query<{ k: string; c: string }>(
            `update ${qualified(rel.schema, rel.name)} t set ${quoteIdent(fk.columns[0]!)} = $1::text::${type} where ${filter.sql} returning ${keySql(snapshot, rel, 't')}::text as k, t.ctid::text as c`,
            [fixed[fk.columns[0]!], ...filter.params],
          );
          return moved.length > 0 ? moved : null;
        } catch {
          // Refused: the policy's WITH CHECK (or USING) holds.
          return null;
        }
      };
      const all = ours.map((m) => ({ key: rowKey(snapshot, rel, m.row), ...(m.ctid ? { ctid: m.ctid } : {}) }));
      // A signed-up outsider moving them too: the table is open to anyone (RLS off, a policy of true), judged by other checks.
      if (outsider) {
        attempts++;
        await session.exec('SAVEPOINT supaudit_plant');
        const open = (await move(outsider, all)) !== null;
        await session.exec('ROLLBACK TO SAVEPOINT supaudit_plant');
        if (open) continue;
      }
      for (const attacker of members) {
        if (!within(attempts)) break;
        if (await readsOthers(attacker)) continue;
        // Its own rows first (an assignee's task), then the tenant's.
        const rows = [...ours].sort((a, b) => Number(rowOwner(snapshot, world, rel, b.row) === attacker.id) - Number(rowOwner(snapshot, world, rel, a.row) === attacker.id));
        const target = rows.map((m) => ({ key: rowKey(snapshot, rel, m.row), ...(m.ctid ? { ctid: m.ctid } : {}) }));
        attempts++;
        await session.exec('SAVEPOINT supaudit_plant');
        try {
          const moved = await move(attacker, target);
          if (moved === null) continue;
          const seen = await seenByVictim(moved.map((m) => ({ key: m.k, ctid: m.c })));
          // No share test here: a moved row takes its children along (its comments, its files), which the other tenant then sees too.
          if (seen === 0) continue;
          // As the database sees them: the mover may no longer read what it moved.
          await session.exec('RESET ROLE');
          const movedRows = await session.query<{ j: Record<string, unknown> }>(`select to_jsonb(t) as j from ${qualified(rel.schema, rel.name)} t where t.ctid::text = any ($1::text[])`, [moved.map((m) => m.c)]);
          const redeem = await redeemed(session, snapshot, world, t, rel, movedRows.map((r) => r.j), attacker, victimRoot.row);
          attacks.push({
            attacker: 'member',
            table: { schema: rel.schema, name: rel.name },
            command: 'update',
            column,
            steps: [
              `UPDATE ${qualified(rel.schema, rel.name)} SET ${quoteIdent(fk.columns[0]!)} = <key of the other tenant's ${qualified(t.root.schema, t.root.name)} row> WHERE <a row of its own tenant> -- as :attacker, ${attacker.member ? `a '${attacker.member.role}'` : 'a'} member of its own tenant only`,
              ...(redeem ? [redeem.step] : []),
            ],
            gained: { [`${rel.schema}.${rel.name}`]: { before: 0, after: seen } },
            planted: redeem ? 'join' : 'move',
            ...(redeem ? { redeemedBy: redeem.fn } : {}),
          });
          break;
        } finally {
          await session.exec('ROLLBACK TO SAVEPOINT supaudit_plant');
        }
      }
    }
  }
  return { attacks, attempts };
}

/** The tables a function's body names, read once per function (every call that inserted rows asks again). */
const bodyTables = new WeakMap<FunctionInfo, ReturnType<typeof namedTables>>();
function tablesOfBody(f: FunctionInfo): ReturnType<typeof namedTables> {
  let found = bodyTables.get(f);
  if (!found) bodyTables.set(f, (found = namedTables(f.source ?? '')));
  return found;
}

/** At most this many functions are tried to turn a planted row into a membership. */
const REDEEM_CALLS = 4;

/**
 * A row planted into another tenant that a function turns into a membership: an invitation moved
 * to another organisation, then accepted. Each exposed SECURITY DEFINER function whose body reads
 * the planted row's table and writes the membership is called as the attacker, with the planted
 * row as its own (its key, its token); a membership of the other tenant's for the attacker
 * afterwards is a join. The function and the step that did it, or null. Runs in a savepoint rolled back.
 */
export async function redeemed(
  session: Session,
  snapshot: Snapshot,
  world: World,
  t: TenantRoot,
  rel: Relation,
  planted: readonly Record<string, unknown>[],
  attacker: Persona,
  /** The other tenant's row of the tenant root. */
  victimRoot: Readonly<Record<string, unknown>>,
): Promise<{ fn: string; step: string } | null> {
  const membership = snapshot.relations.find((r) => r.schema === t.membership.schema && r.name === t.membership.name);
  // The attacker as the member's account (not as who invited or updated someone).
  const accountColumns = membership ? memberAccountColumns(snapshot, membership) : [];
  if (!membership || accountColumns.length === 0 || planted.length === 0) return null;
  const names = (r: Relation, f: FunctionInfo) => tablesOfBody(f).some((n) => n.name === r.name && (n.schema === null || n.schema === r.schema));
  const functions = snapshot.functions.filter(
    (f) => f.securityDefiner && f.kind === 'function' && f.extension === null && f.argCount > 0 && snapshot.exposedSchemas.includes(f.schema) && f.source !== null && !/^(trigger|event_trigger)$/.test(f.returnType) && names(rel, f) && names(membership, f),
  );
  const table = `${rel.schema}.${rel.name}`;
  const mine: World = { ...world, made: new Map(world.made).set(table, [...planted.map((row) => ({ owner: attacker, row })), ...(world.made.get(table) ?? [])]) };
  const victimKey = t.refColumns.map((c) => String(victimRoot[c] ?? ''));
  // What the planted rows hold that is theirs (not the attacker's own id or address).
  const held = new Set(planted.flatMap((row) => Object.values(row).flatMap((v) => (typeof v === 'string' || typeof v === 'number' ? [String(v)] : []))).filter((v) => v !== attacker.id && v !== attacker.email));
  for (const fn of functions.slice(0, REDEEM_CALLS)) {
    const args = argumentsOf(fn.identityArgs);
    const values = args.map((a) => argumentValue(snapshot, mine, a, attacker, attacker, fn.source));
    // No value of the planted row (its key, its token) among its arguments: nothing to redeem.
    if (!values.some((v) => v !== null && held.has(v))) continue;
    await session.exec('SAVEPOINT supaudit_redeem');
    try {
      await actAs(session, attacker);
      await session.query(`select ${qualified(fn.schema, fn.name)}(${args.map((a, i) => `$${i + 1}::${a.type}`).join(', ')})::text`, values);
      await session.exec('RESET ROLE');
      const [row] = await session.query<{ n: number }>(
        `select count(*)::int as n from ${qualified(membership.schema, membership.name)} m where ${t.rootColumns.map((c, i) => `m.${quoteIdent(c)}::text = $${i + 1}`).join(' and ')} and (${accountColumns.map((c) => `m.${quoteIdent(c)}::text = $${t.rootColumns.length + 1}`).join(' or ')})`,
        [...victimKey, attacker.id],
      );
      if (Number(row?.n ?? 0) > 0) {
        return {
          fn: qualified(fn.schema, fn.name),
          step: `SELECT ${qualified(fn.schema, fn.name)}(<the planted row's ${args.map((a) => a.name || a.type).join(', ')}>) -- as :attacker: it is now a member of the other tenant (a row in ${qualified(membership.schema, membership.name)})`,
        };
      }
    } catch {
      // Refused or failed: not redeemed this way.
    } finally {
      await session.exec('ROLLBACK TO SAVEPOINT supaudit_redeem');
    }
  }
  return null;
}

/**
 * Storage objects of the victim that another persona reaches directly, with no write first: read in
 * a private bucket, listed in a public one (its files are served to whoever knows their path; a
 * listing gives the paths), overwritten or deleted in any.
 */
async function storageReach(session: Session, snapshot: Snapshot, world: World, victim: Persona, attackers: readonly (readonly ['outsider' | 'bob', Persona])[]): Promise<LabAttack[]> {
  const objects = snapshot.relations.find((r) => r.schema === 'storage' && r.name === 'objects');
  const rows = (world.made.get('storage.objects') ?? []).filter((m) => m.owner.id === victim.id);
  if (!objects || rows.length === 0) return [];
  const out: LabAttack[] = [];
  const callers: (readonly ['anon' | 'outsider' | 'bob', Persona | null])[] = [['anon', null], ...attackers];
  for (const [name, persona] of callers) {
    for (const bucket of snapshot.buckets) {
      const mine = rows.filter((m) => m.row['bucket_id'] === bucket.id).map((m) => ({ key: rowKey(snapshot, objects, m.row), ...(m.ctid ? { ctid: m.ctid } : {}) }));
      if (mine.length === 0) continue;
      const filter = keyFilter(snapshot, objects, 't', mine, 1);
      // A public bucket serves its files by URL to whoever knows the path: listing them gives the paths.
      const verbs = [[bucket.public ? 'list' : 'read', `select count(*)::int as n from storage.objects t where ${filter.sql}`] as const,
        ['overwrite', `with w as (update storage.objects t set name = t.name where ${filter.sql} returning 1) select count(*)::int as n from w`] as const,
        ['delete', `with w as (delete from storage.objects t where ${filter.sql} returning 1) select count(*)::int as n from w`] as const];
      for (const [verb, sql] of verbs) {
        await session.exec('SAVEPOINT supaudit_reach');
        try {
          await actAs(session, persona);
          const [row] = await session.query<{ n: number }>(sql, filter.params);
          const n = Number(row?.n ?? 0);
          if (n > 0) {
            // A listing discloses users' files only where users upload: who of the plain accounts may.
            const uploaders = verb === 'list' ? await plainUploaders(session, world, bucket.id) : undefined;
            out.push({
              ...(uploaders ? { uploaders } : {}),
              attacker: name,
              table: { schema: 'storage', name: 'objects' },
              command: 'reach',
              column: `${verb} in ${bucket.public ? 'public' : 'private'} bucket '${bucket.id}'`,
              steps: [`${verb === 'read' || verb === 'list' ? 'SELECT … FROM' : verb === 'overwrite' ? 'UPDATE' : 'DELETE FROM'} storage.objects WHERE bucket_id = '${bucket.id.replaceAll("'", "''")}' AND name = '<victim id>/…' -- as ${name === 'anon' ? 'anon' : ':attacker'}`],
              gained: { 'storage.objects': { before: 0, after: n } },
            });
          }
        } catch {
          // Refused: nothing reached.
        } finally {
          await session.exec('ROLLBACK TO SAVEPOINT supaudit_reach');
        }
      }
    }
  }
  return out;
}

/**
 * The plain accounts that may upload into a bucket, in their own folder, as the Storage API inserts
 * (the outsider, and tenant 1's plainest member): none where only admins (or the service role) do.
 */
async function plainUploaders(session: Session, world: World, bucket: string): Promise<string[]> {
  const plain = [world.accounts.find((a) => a.name === 'outsider'), plainestMember(world)].filter((p): p is Persona => p !== undefined);
  const out: string[] = [];
  for (const p of plain) {
    await session.exec('SAVEPOINT supaudit_upload');
    try {
      await actAs(session, p);
      await session.query(`insert into storage.objects (bucket_id, name, owner, owner_id, metadata) values ($1, $2, $3::uuid, $3::text, '{}'::jsonb)`, [bucket, `${p.id}/lab-upload-${p.name}.txt`, p.id]);
      out.push(p.name);
    } catch {
      // Refused: this account may not upload here.
    } finally {
      await session.exec('ROLLBACK TO SAVEPOINT supaudit_upload');
    }
  }
  return out;
}

/** An argument named for an account: a user, an owner, a member. */
const ACCOUNT_WORD = /^(user|owner|member|profile|account|author|uid|creator)$/;

/**
 * A value from the world for an argument: the key of `rowsOf`'s row of the table the argument is
 * named after (`p_team_id`, `team` → teams; `org` → organizations, `key` → api_keys when no table is named exactly;
 * `p_team_ids uuid[]` → an array of that key), `account`'s id for a user-like name or another uuid
 * and its e-mail for a mail-like text, the first role value of a tenant's membership for a text
 * named like its role column, an enum's first label, and plain values for the rest (a count of 10,
 * an offset of 0, true, a date, `{}`; free text is `rowsOf`'s name, what a search for the victim's
 * rows would type). Null when nothing fits (then NULL is passed).
 */
export function argumentValue(snapshot: Snapshot, world: World, arg: { name: string; type: string }, rowsOf: Persona, account: Persona | null, body: string | null = null): string | null {
  const t = arg.type.toLowerCase().trim();
  if (t.endsWith('[]')) {
    // An array of keys (`p_ids uuid[]`, `member_ids bigint[]`); an array of words (kinds, tags) stays
    // NULL, which such functions read as "all".
    if (!/^(uuid|smallint|integer|bigint)\[\]$/.test(t)) return null;
    const one = argumentValue(snapshot, world, { name: arg.name.replace(/s$/i, ''), type: arg.type.trim().slice(0, -2) }, rowsOf, account, body);
    return one === null ? null : `{${JSON.stringify(one)}}`;
  }
  // `p_org_id`, `_organization_id`, `in_team`: the thing it names.
  const bare = arg.name.toLowerCase().replace(/^(p|in|arg|v)?_+/, '');
  const base = bare.replace(/_?ids?$/, '');
  if (ACCOUNT_WORD.test(base) && t === 'uuid') return account?.id ?? null;
  const family = typeFamily(t);
  // The key of rowsOf's row in a table, when its type is the argument's (an integer is not a uuid).
  const keyOf = (table: string): string | null => {
    const rel = snapshot.relations.find((r) => `${r.schema}.${r.name}` === table);
    const pk = rel && snapshot.constraints.find((c) => c.schema === rel.schema && c.table === rel.name && c.type === 'primary_key');
    const column = pk?.columns.length === 1 ? rel!.columns.find((c) => c.name === pk.columns[0]) : undefined;
    const mine = (world.made.get(table) ?? []).find((m) => m.owner.id === rowsOf.id);
    if (!column || !mine || typeFamily(column.type.toLowerCase()) !== family) return null;
    const v = mine.row[column.name];
    return v === null || v === undefined ? null : String(v);
  };
  // The thing the argument names, then its last words (`source_training` → training, `old_character` → character).
  const names = lastWords(base);
  const tables = [...world.made.keys()];
  for (const [i, name] of names.entries()) {
    // A qualified account (`target_user_id`, `new_owner_id`): an account's id, unless a table is
    // named after the whole of it (`team_member_id` → team_members), tried first.
    if (i > 0 && t === 'uuid' && ACCOUNT_WORD.test(name)) return account?.id ?? null;
    const exact = (table: string) => namedAfter(table, name);
    // A table named exactly after it answers alone: a longer name that starts the same is another table.
    // Else a table whose name starts with it (`org` → organizations), then one whose last word it is (`key` → api_keys).
    const named = tables.some((table) => exact(table.split('.')[1]!.toLowerCase()))
      ? [exact]
      : [(table: string) => name.length >= 3 && table.startsWith(name), (table: string) => name.length >= 3 && (table.endsWith(`_${name}s`) || table.endsWith(`_${name}`))];
    for (const matches of named) {
      for (const table of tables) {
        if (!matches(table.split('.')[1]!.toLowerCase())) continue;
        const v = keyOf(table);
        if (v !== null) return v;
      }
    }
  }
  // The tables the body reads and writes: a bare `id` is the key of the first of them that has
  // one of its type; an argument a condition compares with the column it is named after
  // (`where invoice_ref = p_invoice_ref`, not `set name = p_name`) takes rowsOf's value there.
  // The column may be named after the argument or after its last words (`invitation_token` compared with `token`).
  const comparedColumn =
    body === null || bare === ''
      ? undefined
      : lastWords(bare).find((column) =>
          new RegExp(`\\b(?:where|and|or|on)\\s+(?:\\w+\\.)?"?${literalPattern(column)}"?\\s*=\\s*${literalPattern(arg.name)}(?![\\w$])|(?<![\\w.$])${literalPattern(arg.name)}\\s*=\\s*(?:\\w+\\.)?"?${literalPattern(column)}\\b`, 'i').test(body),
        );
  const compared = comparedColumn !== undefined;
  for (const table of tablesNamedIn(body, world)) {
    if (base === '') {
      const v = keyOf(table);
      if (v !== null) return v;
      continue;
    }
    if (!compared) break;
    const rel = snapshot.relations.find((r) => `${r.schema}.${r.name}` === table);
    const column = rel?.columns.find((c) => c.name.toLowerCase() === comparedColumn && typeFamily(c.type.toLowerCase()) === family);
    const mine = column && (world.made.get(table) ?? []).find((m) => m.owner.id === rowsOf.id);
    const v = mine && column ? mine.row[column.name] : undefined;
    if (v !== null && v !== undefined && typeof v !== 'object') return String(v);
  }
  if (t === 'uuid') return account?.id ?? null;
  const text = family === 'text';
  if (text && /mail/.test(base)) return account?.email ?? null;
  const role = world.tenants.roots.find((r) => r.roleColumn !== undefined && r.roleColumn.toLowerCase() === base && r.roles.length > 0);
  if (role) return role.roles[0]!;
  const labels = world.enums.labels.get(arg.type.trim()) ?? world.enums.labels.get(`public.${arg.type.trim()}`);
  if (labels && labels.length > 0) return labels[0]!;
  // A word the body compares the argument with (`IF p_status = 'paid'`): the branch that acts.
  const literal = text ? parameterLiterals(body, arg.name)[0] : undefined;
  if (literal !== undefined) return literal;
  if (family === 'number') return /offset|skip|page$/.test(base) ? '0' : '10';
  if (t === 'boolean') return 'true';
  // A bound in time reaches every row the world made: `p_before`/`p_until` far ahead, `p_since`/`p_from` far back.
  if (/^(timestamp|timestamptz|date)\b/.test(t)) return /(^|_)(before|until|till|to|end|ends|max|upto|cutoff)($|_)/.test(base) ? '2100-01-01' : /(^|_)(after|since|from|start|starts|min)($|_)/.test(base) ? '2000-01-01' : '2026-01-01';
  if (t === 'jsonb' || t === 'json') {
    // The payload the body reads, each key filled as an argument of its name would be.
    const shape = jsonShape(body, arg.name);
    return shape ? jsonValue(shape, (leaf) => payloadLeaf(snapshot, world, leaf, rowsOf, account, body)) : '{}';
  }
  // A word the body writes into a column whose CHECK lists the words it takes (`type in ('purchase', …)`): the first.
  if (text && bare !== '') {
    for (const rel of relationsNamedIn(snapshot, body)) {
      const constraints = rel ? snapshot.constraints.filter((c) => c.schema === rel.schema && c.table === rel.name) : [];
      for (const column of lastWords(bare)) {
        const listed = rel?.columns.some((c) => c.name.toLowerCase() === column) ? checkLiterals(constraints, column) : [];
        if (listed.length > 0) return listed[0]!;
      }
    }
  }
  if (text) return rowsOf.name;
  return null;
}

/** The relations a body reads or writes (`from`, `join`, `update`, `into`), in its order; an unqualified name in `public`. */
export function relationsNamedIn(snapshot: Snapshot, body: string | null): Relation[] {
  if (!body) return [];
  return namedTables(body)
    .map(({ schema, name }) => snapshot.relations.find((r) => r.name === name && (schema === null ? r.schema === 'public' : r.schema === schema)))
    .filter((r): r is Relation => r !== undefined);
}

/** One key of a JSON payload: as an argument of its name and type (an untyped `…_id` is a uuid); an untyped key the body reads through `nullif`/`coalesce` is left out. */
export function payloadLeaf(snapshot: Snapshot, world: World, leaf: JsonLeaf, rowsOf: Persona, account: Persona | null, body: string | null): string | null {
  const id = /(^|_)id$/i.test(leaf.key);
  if (leaf.type === null && leaf.optional && !id) return null;
  return argumentValue(snapshot, world, { name: leaf.key, type: leaf.type ?? (id ? 'uuid' : 'text') }, rowsOf, account, body);
}

/** A snake_case name and its last words, longest first: `source_training_id` → source_training_id, training_id, id. */
function lastWords(name: string): string[] {
  const words = name.split('_').filter(Boolean);
  return words.map((_, i) => words.slice(i).join('_'));
}

/** Which values of a type compare with which: a key of one family fits an argument of the same. */
export function typeFamily(t: string): 'uuid' | 'number' | 'text' | 'other' {
  if (t === 'uuid') return 'uuid';
  if (/^(smallint|integer|bigint|numeric|real|double precision|decimal)\b/.test(t)) return 'number';
  if (/^(text|character varying|varchar|citext|character)\b/.test(t)) return 'text';
  return 'other';
}

/** The world's tables (`schema.name`) a function body reads or writes, in the order it names them. */
export function tablesNamedIn(body: string | null, world: World): string[] {
  if (!body) return [];
  const out: string[] = [];
  const tables = [...world.made.keys()];
  for (const { schema, name } of namedTables(body)) {
    const found = schema !== null ? tables.find((t) => t === `${schema}.${name}`) : (tables.find((t) => t === `public.${name}`) ?? tables.find((t) => t.endsWith(`.${name}`)));
    if (found && !out.includes(found)) out.push(found);
  }
  return out;
}

/** The string literals a body compares a parameter with (`p = 'x'`, `'x' = p`, `p in ('x', 'y')`, `case p when 'x'`), in order. */
export function parameterLiterals(body: string | null, param: string): string[] {
  if (!body || param === '') return [];
  const p = literalPattern(param);
  const lit = `'((?:[^']|'')*)'`;
  const out: string[] = [];
  const patterns = [
    new RegExp(`(?<![\\w.])${p}\\s*(?:=|<>|!=)\\s*${lit}`, 'gi'),
    new RegExp(`${lit}\\s*(?:=|<>|!=)\\s*${p}(?![\\w])`, 'gi'),
    new RegExp(`(?<![\\w.])${p}\\s+(?:not\\s+)?in\\s*\\(([^)]*)\\)`, 'gi'),
    new RegExp(`\\bcase\\s+${p}\\s+when\\s+${lit}`, 'gi'),
  ];
  const found: { at: number; values: string[] }[] = [];
  for (const re of patterns) {
    for (const m of body.matchAll(re)) {
      const values = re === patterns[2] ? [...m[1]!.matchAll(/'((?:[^']|'')*)'/g)].map((x) => x[1]!) : [m[1]!];
      found.push({ at: m.index ?? 0, values: values.map((v) => v.replace(/''/g, "'")) });
    }
  }
  for (const f of found.sort((a, b) => a.at - b.at)) for (const v of f.values) if (!out.includes(v)) out.push(v);
  return out;
}

/**
 * Calls every function of the exposed schemas (what /rest/v1/rpc reaches) as anon and as the
 * outsider, with the victim's ids, then with NULLs: confirmed when the call made the victim's rows
 * visible to the caller afterwards (what a call returns or changes is persona × function's, calls.ts).
 */
async function searchCalls(
  session: Session,
  snapshot: Snapshot,
  world: World,
  tables: readonly Relation[],
  victim: Persona,
  attackers: readonly (readonly ['outsider' | 'bob', Persona])[],
  budget: AttackBudget,
  attemptsSoFar: number,
  started: number,
): Promise<{ attacks: LabAttack[]; attempts: number; stopped?: string }> {
  const attacks: LabAttack[] = [];
  let attempts = attemptsSoFar;
  const exposed = new Set(snapshot.exposedSchemas);
  const functions = snapshot.functions.filter(
    (f) => exposed.has(f.schema) && f.extension === null && f.kind === 'function' && !/^(trigger|event_trigger)$/.test(f.returnType) && !/^(pg_|information_schema$)/.test(f.schema),
  );
  const outsider = attackers.find(([name]) => name === 'outsider')?.[1];
  // Who then reads more: an account (anon reads nothing afterwards that it could not read before a call).
  const callers: (readonly ['outsider', Persona])[] = outsider ? [['outsider', outsider]] : [];
  for (const [name, persona] of callers) {
    const baseline = await othersSeen(session, snapshot, world, tables, persona);
    const watched = tables.filter((rel) => worldRows(snapshot, world, rel).filter((r) => r.owner !== persona.id).length > (baseline[`${rel.schema}.${rel.name}`] ?? 0));
    for (const fn of functions) {
      const args = argumentsOf(fn.identityArgs);
      const victims = args.map((a) => argumentValue(snapshot, world, a, victim, victim, fn.source));
      const tries = [victims, ...(victims.some((v) => v !== null) ? [args.map(() => null)] : [])];
      for (const values of tries) {
        if (attempts >= budget.attempts || performance.now() - started > budget.ms) {
          return { attacks, attempts, stopped: attempts >= budget.attempts ? `budget of ${budget.attempts} attempts reached` : `time budget of ${Math.round(budget.ms / 1000)} s reached` };
        }
        attempts++;
        const call = `${qualified(fn.schema, fn.name)}(${args.map((a, i) => `$${i + 1}::${a.type}`).join(', ')})`;
        const sql = fn.returnsSet ? `select count(*)::text as v from ${call} r` : `select (${call})::text as v`;
        await session.exec('SAVEPOINT supaudit_call');
        try {
          await actAs(session, persona);
          await session.query(sql, values);
          const after = await othersSeen(session, snapshot, world, watched, persona);
          const gained = gainedBetween(baseline, after);
          if (Object.keys(gained).length > 0) {
            const shown = args.map((a, i) => (values[i] === null ? 'NULL' : `<${a.name || a.type} of the victim>`)).join(', ');
            attacks.push({
              attacker: name,
              table: { schema: fn.schema, name: fn.name },
              command: 'call',
              column: shown,
              steps: [`SELECT ${qualified(fn.schema, fn.name)}(${shown}) -- as :attacker`],
              gained,
            });
            break;
          }
        } catch {
          // Refused (no EXECUTE, the function's own check): nothing gained.
        } finally {
          await session.exec('ROLLBACK TO SAVEPOINT supaudit_call');
        }
      }
    }
  }
  return { attacks, attempts };
}

/** The attacker inserts a row of its own pointing at the victim's rows (or with a role-like value): the statement shown, or null when refused. */
async function insertAs(
  session: Session,
  snapshot: Snapshot,
  world: World,
  rel: Relation,
  attacker: Persona,
  victim: Persona,
  t: { column: string; value?: string; fk?: Constraint; also?: Readonly<Record<string, string>> },
): Promise<string | null> {
  const fixed = { ...(t.also ?? {}), ...(t.value !== undefined ? { [t.column]: t.value } : {}) };
  const made = await tryInsert(session, snapshot, rel, attacker, 211, world, {
    role: 'authenticated',
    prefer: victim,
    ...(t.fk ? { preferColumns: t.fk.columns } : {}),
    ...(Object.keys(fixed).length > 0 ? { fixed } : {}),
  });
  if (!('row' in made)) return null;
  if (t.fk && !made.borrowed) return null;
  return t.fk
    ? `INSERT INTO ${qualified(rel.schema, rel.name)} (…, ${[...t.fk.columns, ...Object.keys(t.also ?? {})].map(quoteIdent).join(', ')}) VALUES (…, <key of a row of the victim in ${qualified(t.fk.refSchema!, t.fk.refTable!)}>${Object.values(t.also ?? {}).map((v) => `, '${v.replaceAll("'", "''")}'`).join('')}) -- as :attacker`
    : `INSERT INTO ${qualified(rel.schema, rel.name)} (…, ${[t.column, ...Object.keys(t.also ?? {}).filter((k) => k !== t.column)].map(quoteIdent).join(', ')}) VALUES (…, ${[t.value!, ...Object.entries(t.also ?? {}).filter(([k]) => k !== t.column).map(([, v]) => v)].map((v) => (v === victim.id ? "<the victim's user id>" : `'${v.replaceAll("'", "''")}'`)).join(', ')}) -- as :attacker`;
}

/** The attacker updates one of its own rows: a foreign key to the victim's key, or a role-like column to a value. */
async function updateAs(
  session: Session,
  snapshot: Snapshot,
  world: World,
  rel: Relation,
  attacker: Persona,
  victim: Persona,
  t: { column: string; value?: string; fk?: Constraint },
): Promise<string | null> {
  const own = (world.made.get(`${rel.schema}.${rel.name}`) ?? []).find((m) => rowOwner(snapshot, world, rel, m.row) === attacker.id);
  if (!own) return null;
  let value = t.value;
  if (t.fk) {
    const target = (world.made.get(`${t.fk.refSchema}.${t.fk.refTable}`) ?? []).find((m) => m.owner.id === victim.id);
    const v = target?.row[t.fk.refColumns[0]!];
    if (v === undefined || v === null) return null;
    value = typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  if (value === undefined) return null;
  const pk = snapshot.constraints.find((c) => c.schema === rel.schema && c.table === rel.name && c.type === 'primary_key');
  const keyColumns = pk?.columns ?? rel.columns.map((c) => c.name);
  const type = rel.columns.find((c) => c.name === t.column)!.type;
  const where = keyColumns.map((c, i) => `${quoteIdent(c)}::text = $${i + 2}`).join(' and ');
  const keyValues = keyColumns.map((c) => {
    const v = own.row[c];
    return v === null || v === undefined ? null : typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
  try {
    await actAs(session, attacker);
    if ((await setColumn(session, rel, t.column, type, value, { sql: where, params: keyValues })) === 0) return null;
  } catch {
    return null;
  }
  return t.fk
    ? `UPDATE ${qualified(rel.schema, rel.name)} SET ${quoteIdent(t.column)} = <key of a row of the victim in ${qualified(t.fk.refSchema!, t.fk.refTable!)}> WHERE <a row of :attacker>`
    : `UPDATE ${qualified(rel.schema, rel.name)} SET ${quoteIdent(t.column)} = ${value === victim.id ? "<the victim's user id>" : `'${value.replaceAll("'", "''")}'`} WHERE <a row of :attacker>`;
}
