/**
 * Persona × view: every view of the exposed schemas that anon or authenticated may SELECT is read
 * as anon and as the outsider (what `/rest/v1/<view>` returns them), each read rolled back. A view
 * that runs with its owner's rights reads its tables past their RLS; whether that gives a caller
 * anything is measured: another user's values or row keys in what the view returned (bob's, tenant 2), from
 * tables whose rows of other owners the caller cannot read itself (the access matrix says which).
 */
import { qualified } from '../model/ident.ts';
import { isSystemSchema } from '../model/schemas.ts';
import type { LabMatrixRow, LabViewRow } from '../model/report.ts';
import type { Snapshot } from '../model/snapshot.ts';
import type { Session } from '../introspect/session.ts';
import { leakedIn, othersReadBy, victimKeys, victimOf, victimValues } from './calls.ts';
import { actAs, type Persona, type World } from './world.ts';

/** Rows read per view: enough to hold every row the world made. */
const VIEW_ROWS = 2_000;

export async function readViews(session: Session, snapshot: Snapshot, world: World, matrix: readonly LabMatrixRow[], budgetMs: number): Promise<{ rows: LabViewRow[]; stopped?: string }> {
  const exposed = new Set(snapshot.exposedSchemas);
  const views = snapshot.relations
    .filter((r) => (r.kind === 'view' || r.kind === 'materialized_view') && exposed.has(r.schema) && r.extension === null && !isSystemSchema(r.schema))
    .sort((a, b) => (`${a.schema}.${a.name}` < `${b.schema}.${b.name}` ? -1 : 1));
  const victim = victimOf(world);
  const outsider = world.accounts.find((a) => a.name === 'outsider');
  const rows: LabViewRow[] = [];
  if (views.length === 0 || !victim) return { rows };
  // The victim's texts, and the keys of its rows: a view of stock levels names items, not their names.
  const secrets = new Map([...victimValues(snapshot, world, victim), ...victimKeys(snapshot, world, victim)]);
  const reads = othersReadBy(matrix);
  const personas: [string, Persona | null][] = [['anon', null], ...(outsider ? [['outsider', outsider] as [string, Persona]] : [])];
  const started = performance.now();
  await session.begin({ access: 'read write', statementTimeoutMs: 5_000, lockTimeoutMs: 1_000 });
  try {
    for (const [i, view] of views.entries()) {
      if (performance.now() - started > budgetMs) return { rows, stopped: `time budget of ${Math.round(budgetMs / 1000)} s reached after ${i} of ${views.length} views` };
      for (const [name, persona] of personas) {
        await session.exec('SAVEPOINT supaudit_view');
        try {
          await actAs(session, persona);
          const [row] = await session.query<{ n: number; v: string | null }>(
            `select count(*)::int as n, coalesce(json_agg(v)::text, '') as v from (select * from ${qualified(view.schema, view.name)} limit ${VIEW_ROWS}) v`,
          );
          const leaked = leakedIn(row?.v ?? '', secrets, reads.get(name) ?? new Set());
          rows.push({ schema: view.schema, name: view.name, persona: name, result: 'ok', rows: row?.n ?? 0, ...(leaked.length > 0 ? { leaked } : {}) });
        } catch (error) {
          rows.push({ schema: view.schema, name: view.name, persona: name, result: (error as { code?: string }).code === '42501' ? 'denied' : 'error' });
        } finally {
          await session.exec('ROLLBACK TO SAVEPOINT supaudit_view');
        }
      }
    }
  } finally {
    await session.exec('ROLLBACK').catch(() => undefined);
  }
  return { rows };
}
