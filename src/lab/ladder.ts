/**
 * A role in the middle climbs: where a table of global roles (`user_roles`: an account and a role
 * column with three values or more, not a tenant's membership) lets holders of one role manage
 * roles, a holder of a middle role (a tenant admin, a moderator) may give itself the highest. The
 * world holds no such account (alice, bob and the outsider hold what the sign-up gives), so the lab
 * makes one per middle value, in a savepoint rolled back afterwards: signed up as Auth does, its role
 * row set to that value by the lab, its profile placed in tenant 1 where a profile names the tenant.
 * It then inserts a role row of its own, and updates its role row, with each value above its own;
 * confirmed when it reads, updates or deletes more of the world's rows than before.
 */
import { qualified, quoteIdent } from '../model/ident.ts';
import type { LabAttack, Relation, Snapshot } from '../model/snapshot.ts';
import type { Session } from '../introspect/session.ts';
import { gainedBetween, policed, reachOf, setColumn } from './seen.ts';
import { byPrivilege, checkLiterals, memberAccountColumns } from './tenants.ts';
import { actAs, setTenantOf, signUp, tryInsert, type Persona, type World } from './world.ts';

/** At most this many middle values get a holder, per role column. */
const MAX_HOLDERS = 2;

const ROLE_NAME = /(^|_)(role|roles|level|access_level|permission|rank|tier|kind|type)$/i;

/** A holder's fixed id and address (the n-th middle value met, so stable across runs). */
function holder(value: string, n: number): Persona {
  const name = `holder_${value}`.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 40);
  return { name, id: `401de400-0000-4000-8000-${String(n).padStart(12, '0')}`, email: `${name}-${n}@lab.supaudit.invalid`, tenant: 1 };
}

/** Role tables: an account column and a role column whose values (enum, CHECK) are three or more, not a tenant's membership. */
function roleTables(snapshot: Snapshot, world: World, tables: readonly Relation[]): { rel: Relation; account: string; column: string; values: string[] }[] {
  const memberships = new Set(world.tenants.roots.map((t) => `${t.membership.schema}.${t.membership.name}`));
  const out: { rel: Relation; account: string; column: string; values: string[] }[] = [];
  for (const rel of tables) {
    if (memberships.has(`${rel.schema}.${rel.name}`)) continue;
    const [account, ...more] = memberAccountColumns(snapshot, rel);
    if (!account || more.length > 0) continue;
    const constraints = snapshot.constraints.filter((c) => c.schema === rel.schema && c.table === rel.name);
    for (const c of rel.columns) {
      if (!ROLE_NAME.test(c.name) || c.generated) continue;
      const values = [...(world.enums.labels.get(c.typeName) ?? checkLiterals(constraints, c.name))];
      if (values.length >= 3) out.push({ rel, account, column: c.name, values: byPrivilege(values) });
    }
  }
  return out;
}

/** Puts the holder's profile-like membership rows (one tenant per account, left empty by the sign-up) in tenant 1. */
async function placeHolder(session: Session, snapshot: Snapshot, world: World, p: Persona): Promise<void> {
  for (const t of world.tenants.roots) {
    const tenantRow = world.made.get(`${t.root.schema}.${t.root.name}`)?.find((m) => m.owner.tenant === 1)?.row;
    const rel = snapshot.relations.find((r) => r.schema === t.membership.schema && r.name === t.membership.name);
    const [account] = rel ? memberAccountColumns(snapshot, rel) : [];
    if (!tenantRow || !rel || !account || t.rootColumns.length !== 1) continue;
    await setTenantOf(session, rel, t, { sql: `t.${quoteIdent(account)}::text = $1 and t.${quoteIdent(t.rootColumns[0]!)} is null`, params: [p.id] }, tenantRow);
  }
}

/** Each middle value's holder tries every value above its own, by INSERT and by UPDATE; the first that opens rows is the attack (one per project). */
export async function ladderAttacks(
  session: Session,
  snapshot: Snapshot,
  world: World,
  tables: readonly Relation[],
  within: (used: number) => boolean,
  /** Attacks found already: where the plainest account gives itself a role there, a middle one climbing says nothing more. */
  found: readonly LabAttack[] = [],
): Promise<{ attacks: LabAttack[]; attempts: number }> {
  const attacks: LabAttack[] = [];
  let attempts = 0;
  const watched = policed(snapshot, world, tables);
  let n = 0;
  for (const { rel, account, column, values } of roleTables(snapshot, world, tables)) {
    if (found.some((a) => a.promotedTo !== undefined && a.table.schema === rel.schema && a.table.name === rel.name && a.column === column)) continue;
    const type = rel.columns.find((c) => c.name === column)!.type;
    for (const [rank, value] of values.slice(1, -1).slice(0, MAX_HOLDERS).entries()) {
      const p = holder(value, ++n);
      const above = values.slice(0, rank + 1);
      await session.exec('SAVEPOINT supaudit_ladder');
      try {
        // The holder, as the lab makes it (the superuser): signed up, its role row set, in tenant 1.
        await signUp(session, p);
        const [set] = await session.query<{ n: number }>(
          `with w as (update ${qualified(rel.schema, rel.name)} set ${quoteIdent(column)} = $2::text::${type} where ${quoteIdent(account)}::text = $1 returning 1) select count(*)::int as n from w`,
          [p.id, value],
        );
        if (Number(set?.n ?? 0) === 0 && !('row' in (await tryInsert(session, snapshot, rel, p, 601 + n, world, { fixed: { [account]: p.id, [column]: value } })))) continue;
        await placeHolder(session, snapshot, world, p);
        const before = await reachOf(session, snapshot, world, watched, p);
        for (const higher of above) {
          for (const command of ['insert', 'update'] as const) {
            if (!within(attempts)) return { attacks, attempts };
            attempts++;
            await session.exec('SAVEPOINT supaudit_climb');
            try {
              let step: string | null = null;
              if (command === 'insert') {
                const made = await tryInsert(session, snapshot, rel, p, 651 + n, world, { role: 'authenticated', fixed: { [account]: p.id, [column]: higher } });
                if ('row' in made) step = `INSERT INTO ${qualified(rel.schema, rel.name)} (${quoteIdent(account)}, ${quoteIdent(column)}) VALUES (:attacker, '${higher.replaceAll("'", "''")}') -- as :attacker, holding '${value}'`;
              } else {
                await actAs(session, p);
                const where = { sql: `t.${quoteIdent(account)}::text = $2`, params: [p.id] };
                if ((await setColumn(session, rel, column, type, higher, where)) > 0) step = `UPDATE ${qualified(rel.schema, rel.name)} SET ${quoteIdent(column)} = '${higher.replaceAll("'", "''")}' WHERE ${quoteIdent(account)} = :attacker -- as :attacker, holding '${value}'`;
              }
              if (step === null) continue;
              const gained = gainedBetween(before, await reachOf(session, snapshot, world, watched, p));
              if (Object.keys(gained).length === 0) continue;
              attacks.push({
                attacker: 'member',
                table: { schema: rel.schema, name: rel.name },
                command,
                column,
                steps: [step, ...Object.keys(gained).map((k) => `SELECT / UPDATE / DELETE … FROM ${k}`)],
                gained,
                promotedTo: higher,
                promotedFrom: value,
                climbed: true,
              });
              return { attacks, attempts };
            } catch {
              // Refused: not this way.
            } finally {
              await session.exec('ROLLBACK TO SAVEPOINT supaudit_climb');
            }
          }
        }
      } catch {
        // The holder could not be made (a trigger refused it): nothing measured.
      } finally {
        await session.exec('ROLLBACK TO SAVEPOINT supaudit_ladder');
      }
    }
  }
  return { attacks, attempts };
}
