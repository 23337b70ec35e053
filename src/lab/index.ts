/**
 * The lab: on the embedded copy of a project (never an audited database), the world, the access
 * matrix measured in it, and the attack search. One entry for the engine.
 */
import { qualified } from '../model/ident.ts';
import type { Session } from '../introspect/session.ts';
import type { LabReport } from '../model/report.ts';
import { isSystemSchema } from '../model/schemas.ts';
import type { Relation, Snapshot } from '../model/snapshot.ts';
import { searchAttacks } from './attack.ts';
import { callFunctions } from './calls.ts';
import { measureMatrix } from './matrix.ts';
import { publishedOnly } from './published.ts';
import { readViews } from './views.ts';
import { buildWorld, type World } from './world.ts';

/** How long the attack search may run: attempts (each a write and a read of every watched table) and wall time. */
const BUDGET = { attempts: 400, ms: 30_000 } as const;

/** How long the access matrix may run (each table: a read and two filtered writes per persona, and an insert). */
const MATRIX_BUDGET_MS = 60_000;

/** How long persona × view may read. */
const VIEW_BUDGET_MS = 20_000;

/** How many function calls persona × function may make, and for how long. */
const CALL_BUDGET = { calls: 1_200, ms: 40_000 } as const;

/** Builds the world, then measures the matrix and searches attacks on the tables the API reaches. */
export async function runLab(session: Session, snapshot: Snapshot, onStage?: (stage: string) => void): Promise<{ world: World; report: LabReport }> {
  onStage?.('lab world');
  const isUser = (r: Relation) => r.extension === null && !isSystemSchema(r.schema);
  const world = await buildWorld(session, snapshot, isUser);
  onStage?.('access matrix');
  const exposed = new Set(snapshot.exposedSchemas);
  // storage.objects is reached through the Storage API with the user's token: under RLS like the rest.
  const tables = snapshot.relations.filter(
    (r) =>
      (exposed.has(r.schema) && (r.kind === 'table' || r.kind === 'partitioned_table') && !r.isPartition && isUser(r)) ||
      (r.schema === 'storage' && r.name === 'objects' && world.made.has('storage.objects')),
  );
  const { rows: matrix, stopped: matrixStopped } = await measureMatrix(session, snapshot, world, tables, MATRIX_BUDGET_MS);
  // What a stranger reads only because its owners published it (a public gym, a public workout).
  const published = await publishedOnly(session, snapshot, world, tables, matrix);
  onStage?.('attack search');
  const search = await searchAttacks(session, snapshot, world, tables, BUDGET);
  onStage?.('persona × function');
  // What the attacks opened, any attacker can read first: ids there are not secrets.
  const opened = [...new Set(search.attacks.flatMap((a) => Object.keys(a.gained)))];
  const functions = await callFunctions(session, snapshot, world, CALL_BUDGET, matrix, opened);
  onStage?.('persona × view');
  const views = await readViews(session, snapshot, world, matrix, VIEW_BUDGET_MS);
  return {
    world,
    report: {
      accounts: world.accounts.map((a) => a.name),
      ...(world.tenants.roots.length > 0 ? { tenants: world.tenants.roots.map((t) => ({ root: qualified(t.root.schema, t.root.name), membership: qualified(t.membership.schema, t.membership.name), ...(t.roleColumn ? { roleColumn: t.roleColumn } : {}), roles: t.roles })) } : {}),
      tables: world.tables, matrix, ...(matrixStopped ? { matrixStopped } : {}), ...(published.length > 0 ? { published } : {}), attacks: search.attacks, attempts: search.attempts, ...(search.stopped ? { stopped: search.stopped } : {}),
      functions: functions.rows,
      functionCalls: { calls: functions.calls, ...(functions.stopped ? { stopped: functions.stopped } : {}) },
      views: views.rows,
      ...(views.stopped ? { viewsStopped: views.stopped } : {}),
    },
  };
}
