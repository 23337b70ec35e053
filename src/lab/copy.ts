/**
 * The lab for a live database: nothing is ever written there, so the lab builds its own embedded
 * copy — from the project's migrations when they are at hand, else from DDL generated from the live
 * catalog — and runs there, exactly as on an embedded target. The copy is closed afterwards.
 */
import type { Proof } from '../model/finding.ts';
import { introspect } from '../introspect/index.ts';
import type { Target } from '../introspect/targets/index.ts';
import type { Session } from '../introspect/session.ts';
import type { DdlCatalog } from '../model/ddl-catalog.ts';
import type { LabReport } from '../model/report.ts';
import { isSystemSchema } from '../model/schemas.ts';
import type { FailedStatement, IntrospectionNote, MigrationCatalog, Snapshot } from '../model/snapshot.ts';
import { renderDdl } from './ddl.ts';
import { runLab } from './index.ts';
import type { World } from './world.ts';

/** Where the copy comes from: the project's migrations (an embedded target), or the live catalog read for it. */
export type LabSource = { readonly kind: 'migrations'; readonly target: Target } | { readonly kind: 'catalog'; readonly catalog: DdlCatalog };

export interface CopyLab {
  readonly world: World;
  readonly report: LabReport;
  readonly notes: readonly IntrospectionNote[];
  /** The migrations' catalog, before the world was added (a copy from migrations only). */
  readonly migrationCatalog?: MigrationCatalog;
  /** The exploit proofs run in the copy, by fingerprint (when `prove` was given). */
  readonly proofs?: Map<string, Proof>;
}

export interface CopyLabOptions {
  readonly signal?: AbortSignal;
  readonly onStage?: (stage: string) => void;
  readonly statementTimeoutMs?: number;
  readonly lockTimeoutMs?: number;
  /** The exploit proofs, run in the copy after the lab (never on the live database). */
  readonly prove?: (session: Session, snapshot: Snapshot) => Promise<Map<string, Proof>>;
}

/** Builds the copy, reads its catalog, runs the lab in it and closes it. */
export async function runLabOnCopy(source: LabSource, live: Snapshot, options: CopyLabOptions = {}): Promise<CopyLab> {
  options.onStage?.('lab copy');
  const copy = await openCopy(source, live, options.signal);
  try {
    const snapshot = await introspect(copy.session, {
      exposedSchemas: live.exposedSchemas,
      statementTimeoutMs: options.statementTimeoutMs,
      lockTimeoutMs: options.lockTimeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const migrationCatalog = source.kind === 'migrations' ? migrationCatalogOf(snapshot) : undefined;
    const { world, report } = await runLab(copy.session, { ...snapshot, projectConfig: live.projectConfig ?? null }, options.onStage);
    options.onStage?.('exploit proofs');
    const proofs = options.prove ? await options.prove(copy.session, snapshot) : undefined;
    return { world, report, notes: [{ area: 'lab', message: copy.note }], ...(migrationCatalog ? { migrationCatalog } : {}), ...(proofs ? { proofs } : {}) };
  } finally {
    await copy.session.close();
  }
}

async function openCopy(source: LabSource, live: Snapshot, signal: AbortSignal | undefined): Promise<{ session: Session; note: string }> {
  if (source.kind === 'migrations') {
    const opened = await source.target.open(signal ? { signal } : {});
    const failed = opened.failedStatements ?? [];
    return {
      session: opened.session,
      note: `lab built from the project's migrations (${source.target.description})${failed.length > 0 ? `: ${failed.length} statement${failed.length === 1 ? '' : 's'} failed${firstFailures(failed)}` : ''}`,
    };
  }
  const statements = renderDdl(live, source.catalog);
  // One source per statement: a statement this parser refuses costs only itself, not the rest.
  const { startEmbedded } = await import('../introspect/targets/embedded.ts');
  const db = await startEmbedded(
    statements.map((text, i) => ({ display: `lab DDL statement ${i + 1}`, text: `${text};` })),
    '.',
    signal ? { signal } : {},
  );
  const failed = db.failed.length + db.skipped.length;
  const skippedNote = db.skipped.length > 0 ? ` (${db.skipped.length} for extensions the embedded database lacks)` : '';
  return {
    session: db.session,
    note: `lab built from DDL generated from the live catalog: ${statements.length} statements, ${failed} failed${skippedNote}${firstFailures(db.failed)}`,
  };
}

/** The first failures, for the note: enough to see what the copy lacks. */
function firstFailures(failed: readonly FailedStatement[]): string {
  if (failed.length === 0) return '';
  return ` (${failed.slice(0, 3).map((f) => `${f.file}: ${f.message}`).join('; ')}${failed.length > 3 ? '; …' : ''})`;
}

/** The user's relations, policies and functions of a catalog, as migration_drift compares them. */
export function migrationCatalogOf(snapshot: Snapshot): MigrationCatalog {
  const user = (schema: string, extension: string | null = null) => extension === null && !isSystemSchema(schema);
  const relations = snapshot.relations.filter((r) => user(r.schema, r.extension));
  const policyTables = new Set(snapshot.relations.filter((r) => user(r.schema, r.extension) || r.schema === 'storage').map((r) => `${r.schema}\u0000${r.name}`));
  return {
    relations: relations.map(({ schema, name, kind, rlsEnabled, rlsForced, acl }) => ({ schema, name, kind, rlsEnabled, rlsForced, acl })),
    policies: snapshot.policies.filter((p) => policyTables.has(`${p.schema}\u0000${p.table}`)),
    functions: snapshot.functions
      .filter((f) => user(f.schema, f.extension))
      .map(({ schema, name, identityArgs, kind, source, securityDefiner, config }) => ({ schema, name, identityArgs, kind, source, securityDefiner, config })),
  };
}
