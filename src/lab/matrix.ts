/**
 * The access matrix: what each persona of the lab's world can do to each exposed table, measured
 * by doing it in the lab's copy as that persona (role + JWT claims), every statement rolled back.
 *
 * For SELECT, UPDATE and DELETE the rows the statement reaches are sorted by who owns them in the
 * world: the persona's own rows, other owners' rows, and rows the world did not make (the seed's:
 * `unattributed`, counted for reads only). UPDATE (one column set to itself) and DELETE are aimed at
 * every row of the world, so each reaches those the persona may touch. INSERT is one row of the
 * persona's own, made the way the world makes rows, now with RLS and grants in force.
 */
import { qualified, quoteIdent } from '../model/ident.ts';
import type { LabMatrixRow, LabPersonaName } from '../model/report.ts';
import type { Relation, Snapshot } from '../model/snapshot.ts';
import type { Session } from '../introspect/session.ts';
import { actAs, keyFilter, keySql, PERSONAS, tryInsert, worldRows, type Persona, type World } from './world.ts';

interface Actor {
  readonly name: LabPersonaName;
  /** null: anon, who has no account. */
  readonly persona: Persona | null;
}

const ACTORS: readonly Actor[] = [{ name: 'anon', persona: null }, ...PERSONAS.map((p) => ({ name: p.name, persona: p }))];

type Counts = { own: number; others: number; unattributed: number };


/** One statement as the actor in a savepoint that is always rolled back: the rows it reached by owner, or the refusal. */
async function asActor(session: Session, actor: Actor, sql: string, params: readonly unknown[]): Promise<Counts | 'denied' | 'error'> {
  await session.exec('SAVEPOINT supaudit_matrix');
  try {
    await actAs(session, actor.persona);
    const [row] = await session.query<{ own: number; others: number; unattributed: number }>(sql, params);
    return { own: Number(row?.own ?? 0), others: Number(row?.others ?? 0), unattributed: Number(row?.unattributed ?? 0) };
  } catch (error) {
    return (error as { code?: string }).code === '42501' ? 'denied' : 'error';
  } finally {
    await session.exec('ROLLBACK TO SAVEPOINT supaudit_matrix');
  }
}

/** Measures the matrix in the lab's copy; everything is rolled back. */
export async function measureMatrix(session: Session, snapshot: Snapshot, world: World, tables: readonly Relation[]): Promise<LabMatrixRow[]> {
  const out: LabMatrixRow[] = [];
  await session.begin({ access: 'read write', statementTimeoutMs: 10_000, lockTimeoutMs: 1_000 });
  try {
    for (const rel of tables) {
      const name = qualified(rel.schema, rel.name);
      const setColumn = rel.columns.find((c) => !c.generated && !c.identity);
      const rows = worldRows(snapshot, world, rel);
      const key = keySql(snapshot, rel, 't');
      for (const actor of ACTORS) {
        const me = actor.persona?.id ?? null;
        const own = rows.filter((r) => r.owner === me).map((r) => r.key);
        const others = rows.filter((r) => r.owner !== me).map((r) => r.key);
        const counts = (from: string) =>
          `select count(*) filter (where k = any ($1::jsonb[]))::int as own, count(*) filter (where k = any ($2::jsonb[]))::int as others, ` +
          `count(*) filter (where not (k = any ($1::jsonb[]) or k = any ($2::jsonb[])))::int as unattributed from ${from}`;
        // Reads count every row; writes touch only the world's rows (the seed's are left alone, so they count 0 there).
        const select = await asActor(session, actor, counts(`(select ${key} as k from ${name} t) s`), [own, others]);
        // Writes are aimed at the world's rows by key (an index or TID scan), so the policies run on those rows only.
        const target = keyFilter(snapshot, rel, 't', rows, 3);
        const update = setColumn
          ? await asActor(
              session,
              actor,
              `with w as (update ${name} t set ${quoteIdent(setColumn.name)} = t.${quoteIdent(setColumn.name)} where ${target.sql} returning ${key} as k) ${counts('w')}`,
              [own, others, ...target.params],
            )
          : 'error';
        const del = await asActor(session, actor, `with w as (delete from ${name} t where ${target.sql} returning ${key} as k) ${counts('w')}`, [own, others, ...target.params]);
        // anon has no account: its row is made as alice's.
        const owner = actor.persona ?? world.owners[0];
        let insert: LabMatrixRow['insert'] = 'error';
        if (owner) {
          await session.exec('SAVEPOINT supaudit_matrix_insert');
          try {
            const made = await tryInsert(session, snapshot, rel, owner, 97, world, { role: actor.persona ? 'authenticated' : 'anon', claimsFor: actor.persona });
            // anon has no account: any row it writes belongs to someone else.
            insert = 'row' in made ? (made.borrowed || actor.persona === null ? 'allowed_into_others' : 'allowed') : made.code === '42501' ? 'denied' : 'error';
          } finally {
            await session.exec('ROLLBACK TO SAVEPOINT supaudit_matrix_insert');
          }
        }
        out.push({ schema: rel.schema, name: rel.name, persona: actor.name, select, update, delete: del, insert });
      }
    }
  } finally {
    await session.exec('ROLLBACK').catch(() => undefined);
  }
  return out;
}
