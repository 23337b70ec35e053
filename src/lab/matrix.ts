/**
 * The access matrix: what each persona of the lab's world can do to each exposed table, measured
 * by doing it in the lab's copy as that persona (role + JWT claims), every statement rolled back.
 *
 * For SELECT, UPDATE and DELETE the rows the statement reaches are sorted by their relation to the
 * persona: its own rows, its tenant's rows owned by someone else, other tenants' rows (another
 * account's, where the table has no tenant), and rows with no owner (the seed's, or rows of a table
 * with no owner column and no tenant; counted for reads only when the seed's). UPDATE (one column set
 * to itself) and DELETE are aimed at every row of the world, so each reaches those the persona may
 * touch. INSERT is one row of the persona's own, made the way the world makes rows, now with RLS
 * and grants in force.
 *
 * Writes are filtered, as PostgREST sends them: Supabase loads pg-safeupdate for the API's role
 * (`authenticator`), which refuses an UPDATE or DELETE with no WHERE, and a filter names columns,
 * so the table's SELECT policies apply to the rows written too (to the old row and the new one).
 */
import { qualified, quoteIdent } from '../model/ident.ts';
import type { LabMatrixRow, LabPersonaName } from '../model/report.ts';
import type { Relation, Snapshot } from '../model/snapshot.ts';
import type { Session } from '../introspect/session.ts';
import { actAs, keyFilter, keySql, ownerColumns, rowKey, rowOwner, tryInsert, type Persona, type World } from './world.ts';

interface Actor {
  readonly name: LabPersonaName;
  /** null: anon, who has no account. */
  readonly persona: Persona | null;
}

type Counts = { own: number; tenant: number; other_tenants: number; ownerless: number };

type Relation4 = 'own' | 'tenant' | 'other_tenants' | 'ownerless';

/**
 * The world's rows of a table with their relation to the persona (null: anon). A row's owner is
 * read from its owner column (none: no owner); its tenant from the root it points at, else its owner's.
 */
export function relatedRows(snapshot: Snapshot, world: World, rel: Relation, persona: Persona | null): { key: string; ctid?: string; relation: Relation4 }[] {
  const owned = ownerColumns(snapshot, rel).length > 0 || (rel.schema === 'storage' && rel.name === 'objects');
  const tenants = world.rowTenants.get(`${rel.schema}.${rel.name}`);
  return (world.made.get(`${rel.schema}.${rel.name}`) ?? []).map((m) => {
    const key = rowKey(snapshot, rel, m.row);
    const owner = owned ? (rowOwner(snapshot, world, rel, m.row) ?? m.owner.id) : null;
    const tenant = tenants?.get(key) ?? (owner !== null ? (world.accounts.find((a) => a.id === owner) ?? m.owner).tenant : null);
    const relation: Relation4 =
      persona !== null && owner === persona.id ? 'own'
      : tenant !== null && persona?.tenant === tenant ? 'tenant'
      : tenant !== null || owner !== null ? 'other_tenants'
      : 'ownerless';
    return { key, ...(m.ctid !== undefined ? { ctid: m.ctid } : {}), relation };
  });
}


/** One statement as the actor in a savepoint that is always rolled back: the rows it reached by owner, or the refusal. */
async function asActor(session: Session, actor: Actor, sql: string, params: readonly unknown[]): Promise<Counts | 'denied' | 'error'> {
  await session.exec('SAVEPOINT supaudit_matrix');
  try {
    await actAs(session, actor.persona);
    const [row] = await session.query<Counts>(sql, params);
    return { own: Number(row?.own ?? 0), tenant: Number(row?.tenant ?? 0), other_tenants: Number(row?.other_tenants ?? 0), ownerless: Number(row?.ownerless ?? 0) };
  } catch (error) {
    return (error as { code?: string }).code === '42501' ? 'denied' : 'error';
  } finally {
    await session.exec('ROLLBACK TO SAVEPOINT supaudit_matrix');
  }
}

/** Measures the matrix in the lab's copy; everything is rolled back. */
export async function measureMatrix(session: Session, snapshot: Snapshot, world: World, tables: readonly Relation[], budgetMs = Infinity): Promise<{ rows: LabMatrixRow[]; stopped?: string }> {
  const out: LabMatrixRow[] = [];
  const started = performance.now();
  let measured = 0;
  const actors: Actor[] = [{ name: 'anon', persona: null }, ...world.accounts.map((p) => ({ name: p.name, persona: p }))];
  await session.begin({ access: 'read write', statementTimeoutMs: 10_000, lockTimeoutMs: 1_000 });
  try {
    for (const rel of tables) {
      if (performance.now() - started > budgetMs) {
        return { rows: out, stopped: `time budget of ${Math.round(budgetMs / 1000)} s reached after ${measured} of ${tables.length} tables` };
      }
      measured++;
      const name = qualified(rel.schema, rel.name);
      const setColumn = rel.columns.find((c) => !c.generated && !c.identity);
      const all = (world.made.get(`${rel.schema}.${rel.name}`) ?? []).map((m) => ({ key: rowKey(snapshot, rel, m.row), ...(m.ctid !== undefined ? { ctid: m.ctid } : {}) }));
      const key = keySql(snapshot, rel, 't');
      // Writes are aimed at the world's rows by key (an index or TID scan), so the policies run on those rows only.
      const target = keyFilter(snapshot, rel, 't', all, 4);
      for (const actor of actors) {
        const rows = relatedRows(snapshot, world, rel, actor.persona);
        const keys = (r: Relation4) => rows.filter((x) => x.relation === r).map((x) => x.key);
        const params = [keys('own'), keys('tenant'), keys('other_tenants')];
        const counts = (from: string) =>
          `select count(*) filter (where k = any ($1::jsonb[]))::int as own, count(*) filter (where k = any ($2::jsonb[]))::int as tenant, ` +
          `count(*) filter (where k = any ($3::jsonb[]))::int as other_tenants, ` +
          `count(*) filter (where k is null or not (k = any ($1::jsonb[]) or k = any ($2::jsonb[]) or k = any ($3::jsonb[])))::int as ownerless from ${from}`;
        // Reads count every row; writes touch only the world's rows.
        // The key is built for the world's rows only (the seed's may be many: they count as ownerless).
        // Seed rows (ownerless) are counted for anon and the outsider, whose reach of them matters;
        // a member reads the world's rows only (a key or TID scan: a seed of 30,000 rows behind a
        // per-row policy function is not read again for every role account).
        const stranger = actor.persona === null || actor.persona.tenant === null;
        const select = await asActor(
          session,
          actor,
          counts(stranger ? `(select case when ${target.sql} then ${key} end as k from ${name} t) s` : `(select ${key} as k from ${name} t where ${target.sql}) s`),
          [...params, ...target.params],
        );
        const update = setColumn
          ? await asActor(
              session,
              actor,
              `with w as (update ${name} t set ${quoteIdent(setColumn.name)} = t.${quoteIdent(setColumn.name)} where ${target.sql} returning ${key} as k) ${counts('w')}`,
              [...params, ...target.params],
            )
          : 'error';
        const del = await asActor(session, actor, `with w as (delete from ${name} t where ${target.sql} returning ${key} as k) ${counts('w')}`, [...params, ...target.params]);
        // anon has no account: its row is made as alice's.
        const owner = actor.persona ?? world.owners[0];
        let insert: LabMatrixRow['insert'] = 'error';
        if (owner) {
          await session.exec('SAVEPOINT supaudit_matrix_insert');
          try {
            // A role account has no rows of its own but its membership: its keys point at its tenant's rows.
            const side = actor.persona?.member ? world.owners.find((o) => o.tenant === actor.persona!.tenant) : undefined;
            const made = await tryInsert(session, snapshot, rel, owner, 97, world, { role: actor.persona ? 'authenticated' : 'anon', claimsFor: actor.persona, ...(side ? { prefer: side } : {}) });
            // anon has no account: any row it writes belongs to someone else.
            insert =
              !('row' in made) ? (made.code === '42501' ? 'denied' : 'error')
              : actor.persona === null ? 'allowed_into_others'
              : !made.borrowed ? 'allowed'
              : made.borrowedFrom?.tenant != null && made.borrowedFrom.tenant === actor.persona.tenant ? 'allowed_into_tenant'
              : 'allowed_into_others';
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
  return { rows: out };
}
