/**
 * Rows their owners chose to publish: a gym listed as public, a workout shared with everyone. The
 * access matrix counts them as other users' rows that a stranger reads, which they are, by the
 * owner's choice. To tell a leak from a publication, the outsider's reads are measured once more
 * with every publication flag of the world's rows set to its private value (`is_public = false`,
 * `visibility = 'private'`): a table whose other owners' rows then vanish from the outsider's view
 * is read only through what its owners published. Everything runs in a savepoint rolled back.
 */
import type { LabMatrixRow } from '../model/report.ts';
import type { Relation, Snapshot } from '../model/snapshot.ts';
import type { Session } from '../introspect/session.ts';
import { checkLiterals, comparedLiterals } from './tenants.ts';
import { othersSeen, setColumn } from './seen.ts';
import { asState, keyFilter, worldRows, type Persona, type World } from './world.ts';

/** A flag that publishes its row: `is_public`, `published`, `listed`, `discoverable`. */
const PUBLISH_FLAG = /^(is_)?(public|published|listed|discoverable|visible|shared)$/i;

/** A column that says who may see its row: `visibility`, `privacy`, `audience`, `sharing`. */
const AUDIENCE = /(^|_)(visibility|privacy|audience|sharing|share_scope)$/i;

/** The value of such a column that shows its row to nobody else. */
const PRIVATE_WORD = /^(private|only_?me|hidden|unlisted|personal|owner|owner_only|none|invite_only|restricted|draft)$/i;

/** The value of such a column that shows its row to everyone. */
const PUBLIC_WORD = /^(public|everyone|all|anyone|open|world|published|listed|global)$/i;

/** Per table with world rows, its publication columns and their private values. */
function privateValues(snapshot: Snapshot, world: World): { rel: Relation; sets: [string, string][] }[] {
  const out: { rel: Relation; sets: [string, string][] }[] = [];
  for (const rel of snapshot.relations) {
    if ((world.made.get(`${rel.schema}.${rel.name}`) ?? []).length === 0) continue;
    const constraints = snapshot.constraints.filter((c) => c.schema === rel.schema && c.table === rel.name);
    const sets: [string, string][] = [];
    for (const c of rel.columns) {
      if (c.generated || c.identity) continue;
      if (c.type === 'boolean' && PUBLISH_FLAG.test(c.name)) sets.push([c.name, 'false']);
      else if (AUDIENCE.test(c.name)) {
        const values = world.enums.labels.get(c.typeName) ?? checkLiterals(constraints, c.name);
        const word = values.find((v) => /^private$/i.test(v)) ?? values.find((v) => PRIVATE_WORD.test(v));
        if (word !== undefined) sets.push([c.name, word]);
      }
    }
    if (sets.length > 0) out.push({ rel, sets });
  }
  return out;
}

/**
 * The tables (`schema.name`) among those the outsider reads other owners' rows of, where it reads
 * none once every publication flag of the world is private: read only through what owners published.
 */
export async function publishedOnly(session: Session, snapshot: Snapshot, world: World, tables: readonly Relation[], matrix: readonly LabMatrixRow[]): Promise<string[]> {
  const outsider = world.accounts.find((a) => a.name === 'outsider');
  if (!outsider) return [];
  const read = new Set(
    matrix.filter((m) => (m.persona === 'outsider' || m.persona === 'anon') && typeof m.select === 'object' && m.select.other_tenants > 0).map((m) => `${m.schema}.${m.name}`),
  );
  const candidates = tables.filter((r) => read.has(`${r.schema}.${r.name}`));
  const flags = privateValues(snapshot, world);
  if (candidates.length === 0 || flags.length === 0) return [];
  await session.begin({ access: 'read write', statementTimeoutMs: 10_000, lockTimeoutMs: 1_000 });
  try {
    const before = await othersSeen(session, snapshot, world, candidates, outsider);
    // A state, not an event: as the superuser, triggers aside; one column at a time, so a CHECK
    // that ties two of them (a private row must have no share link) leaves the other as it was.
    await asState(session, async () => {
      for (const { rel, sets } of flags) for (const [column, value] of sets) await setState(session, rel, column, value);
    });
    const after = await othersSeen(session, snapshot, world, candidates, outsider);
    return candidates.map((r) => `${r.schema}.${r.name}`).filter((k) => (before[k] ?? 0) > 0 && (after[k] ?? 0) === 0);
  } finally {
    await session.exec('ROLLBACK').catch(() => undefined);
  }
}

/**
 * The victim's rows set to an audience that a relation opens (`visibility = 'followers'`, `'team'`):
 * a value of the column's type or CHECK, neither public nor private, that a policy or helper compares
 * the column with. A published row hides what an attacker gains by forging the relation (an accepted
 * follow of its own making); a row shown to everyone cannot leak. As the superuser, triggers aside,
 * in the caller's transaction (the attack search's, rolled back). The number of rows changed.
 */
export async function gateRows(session: Session, snapshot: Snapshot, world: World, victim: Persona): Promise<number> {
  let changed = 0;
  await asState(session, async () => {
    for (const rel of snapshot.relations) {
      if (rel.kind !== 'table') continue;
      const rows = worldRows(snapshot, world, rel).filter((r) => r.owner === victim.id);
      if (rows.length === 0) continue;
      const constraints = snapshot.constraints.filter((c) => c.schema === rel.schema && c.table === rel.name);
      for (const c of rel.columns) {
        if (c.generated || c.identity || !AUDIENCE.test(c.name)) continue;
        // Compared in a policy, or in a helper through its parameter (`_visibility = 'followers'`).
        const compared = new Set([c.name, `_${c.name}`, `p_${c.name}`].flatMap((name) => comparedLiterals(snapshot, name)));
        const values = world.enums.labels.get(c.typeName) ?? checkLiterals(constraints, c.name);
        const gated = values.find((v) => compared.has(v) && !PUBLIC_WORD.test(v) && !PRIVATE_WORD.test(v));
        if (gated === undefined) continue;
        changed += await setState(session, rel, c.name, gated, keyFilter(snapshot, rel, 't', rows, 2));
      }
    }
  });
  return changed;
}

/** Sets one column of the rows of `rel` that `where` picks (all by default), in a savepoint: how many rows, 0 where the database refuses. */
async function setState(session: Session, rel: Relation, column: string, value: string, where: { sql: string; params: readonly unknown[] } = { sql: 'true', params: [] }): Promise<number> {
  await session.exec('SAVEPOINT supaudit_state');
  try {
    const n = await setColumn(session, rel, column, rel.columns.find((c) => c.name === column)!.type, value, where);
    await session.exec('RELEASE SAVEPOINT supaudit_state');
    return n;
  } catch {
    await session.exec('ROLLBACK TO SAVEPOINT supaudit_state');
    return 0;
  }
}
