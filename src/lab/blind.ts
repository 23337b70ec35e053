/**
 * Blind writes: an UPDATE or a DELETE with no WHERE and no RETURNING reads no column, so Postgres
 * applies only the UPDATE or DELETE policies to it, not the SELECT ones. That is what PostgREST runs
 * for `PATCH /table` or `DELETE /table` with no filter and `Prefer: return=minimal`: a user who may
 * not read a row can still overwrite or delete it when its UPDATE or DELETE policy says `true`.
 *
 * Measured in the lab's copy as the persona, in a savepoint rolled back at once: which of the
 * world's rows the statement changed, told apart afterwards (as the superuser, in the same
 * savepoint) by their physical address (an updated row gets a new one, a deleted row none).
 */
import { qualified, quoteIdent } from '../model/ident.ts';
import type { Relation, Snapshot } from '../model/snapshot.ts';
import type { Session } from '../introspect/session.ts';
import { actAs, keyFilter, keySql, type Persona } from './world.ts';

export type BlindResult = ReadonlySet<string> | 'denied' | 'error';

/**
 * A column an UPDATE may set for every row without reading any: not a key, not generated, not in
 * a constraint (NULL where it is nullable, else its default). null: none (the update is not measured).
 */
function blindSet(snapshot: Snapshot, rel: Relation): string | null {
  // Keys, checks and exclusions (PG 18 lists NOT NULL as constraints too: those are the column's own notNull).
  const constrained = new Set(snapshot.constraints.filter((c) => c.schema === rel.schema && c.table === rel.name && c.type !== 'not_null').flatMap((c) => c.columns));
  const free = rel.columns.filter((c) => !c.generated && !c.identity && !constrained.has(c.name));
  const nullable = free.find((c) => !c.notNull);
  if (nullable) return `${quoteIdent(nullable.name)} = NULL`;
  const defaulted = free.find((c) => c.default !== null);
  if (defaulted) return `${quoteIdent(defaulted.name)} = DEFAULT`;
  for (const c of free) {
    const value = constantOf(c.type);
    if (value !== null) return `${quoteIdent(c.name)} = ${value}`;
  }
  return null;
}

/** A constant of a column's type that needs no row to compute (the type as format_type prints it). */
function constantOf(type: string): string | null {
  if (/^(text|character varying|varchar|character|char|citext|name)\b/.test(type)) return `''`;
  if (/^(smallint|integer|bigint|numeric|real|double precision|decimal)\b/.test(type)) return '0';
  if (type === 'boolean') return 'false';
  if (type === 'uuid') return 'gen_random_uuid()';
  if (/^(timestamp|date)\b/.test(type)) return 'now()';
  if (type === 'jsonb' || type === 'json') return `'{}'`;
  return null;
}

/** Addresses of the world's rows (by key, compared as the matrix compares them: as jsonb), as the superuser sees them now. */
async function addresses(session: Session, snapshot: Snapshot, rel: Relation, rows: readonly { key: string; ctid?: string }[]): Promise<Map<string, string>> {
  const filter = keyFilter(snapshot, rel, 't', rows, 1);
  const found = await session.query<{ i: number; c: string }>(
    `select w.i::int as i, t.ctid::text as c from ${qualified(rel.schema, rel.name)} t join unnest($2::jsonb[]) with ordinality w(k, i) on ${keySql(snapshot, rel, 't')} = w.k where ${filter.sql}`,
    [...filter.params, rows.map((r) => r.key)],
  );
  return new Map(found.map((r) => [rows[Number(r.i) - 1]!.key, r.c]));
}

/** The world's rows a blind UPDATE or DELETE as `persona` (null: anon) changed, by key. */
export async function blindReach(session: Session, snapshot: Snapshot, rel: Relation, persona: Persona | null, rows: readonly { key: string; ctid?: string }[], command: 'update' | 'delete'): Promise<BlindResult> {
  if (rows.length === 0 || rel.kind !== 'table') return new Set();
  const set = command === 'update' ? blindSet(snapshot, rel) : '';
  if (set === null) return 'error';
  await session.exec('SAVEPOINT supaudit_blind');
  try {
    const before = await addresses(session, snapshot, rel, rows);
    await actAs(session, persona);
    await session.exec(command === 'update' ? `update ${qualified(rel.schema, rel.name)} set ${set}` : `delete from ${qualified(rel.schema, rel.name)}`);
    await session.exec('RESET ROLE');
    const after = await addresses(session, snapshot, rel, rows);
    return new Set([...before].filter(([k, c]) => after.get(k) !== c).map(([k]) => k));
  } catch (error) {
    return (error as { code?: string }).code === '42501' ? 'denied' : 'error';
  } finally {
    await session.exec('ROLLBACK TO SAVEPOINT supaudit_blind');
  }
}
