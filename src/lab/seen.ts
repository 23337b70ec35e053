/**
 * What an attacker sees before and after a step: the world's rows of other owners it can read, per
 * table, and what grew between the two.
 */
import { qualified, quoteIdent } from '../model/ident.ts';
import type { LabAttack, Relation, Snapshot } from '../model/snapshot.ts';
import type { Session } from '../introspect/session.ts';
import { actAs, keyFilter, worldRows, type Persona, type World } from './world.ts';

export type Seen = Record<string, number>;

/**
 * Rows of other owners the persona can read, per table (the world's rows only: the seed's belong to
 * nobody we know). With `foreign`, not its own tenant's either: what a member reaches beyond its tenant.
 */
export async function othersSeen(session: Session, snapshot: Snapshot, world: World, tables: readonly Relation[], p: Persona, foreign = false): Promise<Seen> {
  const out: Seen = {};
  const tenantOf = (owner: string) => [...world.accounts, ...world.owners].find((a) => a.id === owner)?.tenant ?? null;
  for (const rel of tables) {
    const tenants = world.rowTenants.get(`${rel.schema}.${rel.name}`);
    const others = worldRows(snapshot, world, rel).filter((r) => r.owner !== p.id && !(foreign && p.tenant !== null && (tenants?.get(r.key) ?? tenantOf(r.owner)) === p.tenant));
    if (others.length === 0) {
      out[`${rel.schema}.${rel.name}`] = 0;
      continue;
    }
    await session.exec('SAVEPOINT supaudit_seen');
    try {
      await actAs(session, p);
      const filter = keyFilter(snapshot, rel, 't', others, 1);
      const [row] = await session.query<{ n: number }>(`select count(*)::int as n from ${qualified(rel.schema, rel.name)} t where ${filter.sql}`, filter.params);
      out[`${rel.schema}.${rel.name}`] = Number(row?.n ?? 0);
    } catch {
      out[`${rel.schema}.${rel.name}`] = 0;
    } finally {
      await session.exec('ROLLBACK TO SAVEPOINT supaudit_seen');
    }
  }
  return out;
}

export function gainedBetween(before: Seen, after: Seen): LabAttack['gained'] {
  const out: Record<string, { before: number; after: number }> = {};
  for (const [k, n] of Object.entries(after)) if (n > (before[k] ?? 0)) out[k] = { before: before[k] ?? 0, after: n };
  return out;
}

/** The tables with world rows and policies: where a write elsewhere can open rows. */
export function policed(snapshot: Snapshot, world: World, tables: readonly Relation[]): Relation[] {
  return tables.filter((rel) => (world.made.get(`${rel.schema}.${rel.name}`) ?? []).length > 0 && snapshot.policies.some((p) => p.schema === rel.schema && p.table === rel.name));
}

/** Sets one column of the rows `where` picks (as whoever the session acts as): how many it changed. */
export async function setColumn(session: Session, rel: Relation, column: string, type: string, value: string, where: { sql: string; params: readonly unknown[] }): Promise<number> {
  const [row] = await session.query<{ n: number }>(
    `with w as (update ${qualified(rel.schema, rel.name)} t set ${quoteIdent(column)} = $1::text::${type} where ${where.sql} returning 1) select count(*)::int as n from w`,
    [value, ...where.params],
  );
  return Number(row?.n ?? 0);
}

/** Rows of the world a persona reaches per table: read, updated and deleted (each statement rolled back). */
export async function reachOf(session: Session, snapshot: Snapshot, world: World, tables: readonly Relation[], p: Persona): Promise<Seen> {
  const out: Seen = {};
  for (const rel of tables) {
    const rows = worldRows(snapshot, world, rel);
    const setColumn = rel.columns.find((c) => !c.generated && !c.identity);
    if (rows.length === 0 || !setColumn) continue;
    const filter = keyFilter(snapshot, rel, 't', rows, 1);
    const name = qualified(rel.schema, rel.name);
    let n = 0;
    for (const sql of [
      `select count(*)::int as n from ${name} t where ${filter.sql}`,
      `with w as (update ${name} t set ${quoteIdent(setColumn.name)} = t.${quoteIdent(setColumn.name)} where ${filter.sql} returning 1) select count(*)::int as n from w`,
      `with w as (delete from ${name} t where ${filter.sql} returning 1) select count(*)::int as n from w`,
    ]) {
      await session.exec('SAVEPOINT supaudit_reach_of');
      try {
        await actAs(session, p);
        const [row] = await session.query<{ n: number }>(sql, filter.params);
        n += Number(row?.n ?? 0);
      } catch (error) {
        // Refused or failed: nothing reached. But a delete the policies let through and a foreign
        // key then stopped (another row still points at it) was reached all the same: measured
        // again with the keys' triggers off, in the lab's own copy, rolled back at once.
        if ((error as { code?: string }).code === '23503' && sql.startsWith('with w as (delete')) {
          await session.exec('ROLLBACK TO SAVEPOINT supaudit_reach_of');
          try {
            await session.query(`select set_config('session_replication_role', 'replica', true)`);
            await actAs(session, p);
            const [row] = await session.query<{ n: number }>(sql, filter.params);
            n += Number(row?.n ?? 0);
          } catch {
            // Refused: nothing reached.
          }
        }
      } finally {
        await session.exec('ROLLBACK TO SAVEPOINT supaudit_reach_of');
      }
    }
    out[`${rel.schema}.${rel.name}`] = n;
  }
  return out;
}
