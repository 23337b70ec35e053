/**
 * What an attacker sees before and after a step: the world's rows of other owners it can read, per
 * table, and what grew between the two.
 */
import { qualified } from '../model/ident.ts';
import type { LabAttack, Relation, Snapshot } from '../model/snapshot.ts';
import type { Session } from '../introspect/session.ts';
import { actAs, keyFilter, worldRows, type Persona, type World } from './world.ts';

export type Seen = Record<string, number>;

/** Rows of other owners the persona can read, per table (the world's rows only: the seed's belong to nobody we know). */
export async function othersSeen(session: Session, snapshot: Snapshot, world: World, tables: readonly Relation[], p: Persona): Promise<Seen> {
  const out: Seen = {};
  for (const rel of tables) {
    const others = worldRows(snapshot, world, rel).filter((r) => r.owner !== p.id);
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

