/**
 * The access matrix: what each persona of the lab's world can do to each exposed table, measured
 * by doing it in the lab's copy as that persona (role + JWT claims), every statement rolled back.
 *
 * For SELECT, UPDATE and DELETE the rows the statement reaches are sorted by who owns them in the
 * world: the persona's own rows, other owners' rows, and rows the world did not make (seed or
 * sign-up: `unattributed`). UPDATE sets one column to itself and DELETE has no WHERE, so each
 * reaches every row the persona may touch. INSERT is one row of the persona's own, made the way the
 * world makes rows, now with RLS and grants in force.
 */
import { qualified, quoteIdent } from '../model/ident.ts';
import type { LabMatrixRow, LabPersonaName } from '../model/report.ts';
import type { Relation, Snapshot } from '../model/snapshot.ts';
import type { Session } from '../introspect/session.ts';
import { PERSONAS, rowOwner, tryInsert, type Persona, type World } from './world.ts';

interface Actor {
  readonly name: LabPersonaName;
  readonly role: 'anon' | 'authenticated';
  readonly persona: Persona | null;
}

const ACTORS: readonly Actor[] = [
  { name: 'anon', role: 'anon', persona: null },
  ...PERSONAS.map((p) => ({ name: p.name, role: 'authenticated' as const, persona: p })),
];

async function become(session: Session, actor: Actor, world: World): Promise<void> {
  const persona = actor.persona ? (world.owners.find((o) => o.name === actor.persona!.name) ?? actor.persona) : null;
  const claims = persona ? { sub: persona.id, role: actor.role, aud: 'authenticated', email: persona.email } : { role: actor.role };
  await session.query(`select set_config('role', $1, true), set_config('request.jwt.claims', $2, true), set_config('request.jwt.claim.sub', $3, true)`, [
    actor.role,
    JSON.stringify(claims),
    persona?.id ?? '',
  ]);
}

type Counts = { own: number; others: number; unattributed: number };

function classify(rows: readonly Record<string, unknown>[], rel: Relation, snapshot: Snapshot, world: World, actor: Actor): Counts {
  const me = actor.persona ? (world.owners.find((o) => o.name === actor.persona!.name)?.id ?? actor.persona.id) : null;
  const out: Counts = { own: 0, others: 0, unattributed: 0 };
  for (const row of rows) {
    const owner = rowOwner(snapshot, world, rel, row);
    if (owner === null) out.unattributed++;
    else if (owner === me) out.own++;
    else out.others++;
  }
  return out;
}

/** One statement as the actor in a savepoint that is always rolled back: the rows it returned, or the refusal. */
async function asActor(session: Session, actor: Actor, world: World, sql: string): Promise<Record<string, unknown>[] | 'denied' | 'error'> {
  await session.exec('SAVEPOINT supaudit_matrix');
  try {
    await become(session, actor, world);
    return (await session.query<{ j: Record<string, unknown> }>(sql)).map((r) => r.j);
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
      for (const actor of ACTORS) {
        const cell = (r: Record<string, unknown>[] | 'denied' | 'error') => (typeof r === 'string' ? r : classify(r, rel, snapshot, world, actor));
        const select = cell(await asActor(session, actor, world, `select to_jsonb(t) as j from ${name} t`));
        const update = setColumn
          ? cell(await asActor(session, actor, world, `with w as (update ${name} t set ${quoteIdent(setColumn.name)} = t.${quoteIdent(setColumn.name)} returning to_jsonb(t) as j) select j from w`))
          : 'error';
        const del = cell(await asActor(session, actor, world, `with w as (delete from ${name} t returning to_jsonb(t) as j) select j from w`));
        const owner = actor.persona ? (world.owners.find((o) => o.name === actor.persona!.name) ?? actor.persona) : world.owners[0];
        let insert: LabMatrixRow['insert'] = 'error';
        if (owner) {
          await session.exec('SAVEPOINT supaudit_matrix_insert');
          try {
            const made = await tryInsert(session, snapshot, rel, owner, 97, world, { role: actor.role, claimsFor: actor.persona ? owner : null });
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
