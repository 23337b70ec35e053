import { UserError } from '../model/errors.ts';
import type { ExposedSchemasSource, IntrospectionNote, Policy, Relation, Snapshot, SnapshotArea } from '../model/snapshot.ts';
import { EMPTY_DEFINITIONS, policyKey, readDefinitions, viewKey, withDefinitions, type Definitions } from './definitions.ts';
import { readColumns, relationKey, type BareColumn } from './columns.ts';
import { readConstraints } from './constraints.ts';
import { IntrospectionError, isPermissionDenied, describePgError } from './errors.ts';
import { readFunctions } from './functions.ts';
import { readIndexes } from './indexes.ts';
import { readPolicies } from './policies.ts';
import { readPublicationsExtensionsDefaults } from './publications.ts';
import { readRelations } from './relations.ts';
import { readRoles } from './roles.ts';
import { readSchemas } from './schemas.ts';
import { throwIfCancelled, type Session } from './session.ts';
import { readSettings, type ServerSettings } from './settings.ts';
import { readSupabaseTables } from './supabase.ts';
import { readViewDependencies } from './views.ts';

export interface IntrospectOptions {
  /** Exposed schemas given on the command line or in the config file: they win. */
  readonly exposedSchemas?: readonly string[];
  /** `[api] schemas` from `supabase/config.toml`, used when the database has no `pgrst.db_schemas`. */
  readonly configTomlSchemas?: readonly string[];
  readonly statementTimeoutMs?: number;
  readonly lockTimeoutMs?: number;
  /** Called when an area starts, for progress display. */
  readonly onStage?: (stage: string) => void;
  /** Checked before every round trip: once aborted, nothing more is sent. */
  readonly signal?: AbortSignal;
}

/** The areas in order. Each is exactly one round trip (plus transaction setup and end). */
export const STAGES = [
  'settings',
  'roles',
  'schemas',
  'relations',
  'columns',
  'constraints',
  'indexes',
  'policies',
  'functions',
  'view dependencies',
  'publications, extensions, default privileges',
  'storage and realtime',
  'definitions',
] as const;

/**
 * Reads the whole catalog in one `REPEATABLE READ READ ONLY` transaction with timeouts, in a
 * fixed number of round trips whatever the schema size. That transaction locks no user relation;
 * view definitions, policy expressions, column defaults, CHECK constraints and index expressions,
 * whose printing does, are read after it in a one-statement transaction of their own (definitions.ts). An area the user may not read is retried without the
 * statistics views, or marked unavailable with a note: the checks that need it are then
 * inconclusive, never silently wrong.
 */
export async function introspect(session: Session, options: IntrospectOptions = {}): Promise<Snapshot> {
  const statementTimeout = options.statementTimeoutMs ?? 30_000;
  const lockTimeout = options.lockTimeoutMs ?? 3_000;
  const notes: IntrospectionNote[] = [];
  const unavailable: Partial<Record<SnapshotArea, string>> = {};
  const begin = async (isolation?: 'repeatable read') =>
    session.begin({
      access: 'read only',
      ...(isolation ? { isolation } : {}),
      statementTimeoutMs: statementTimeout,
      lockTimeoutMs: lockTimeout,
      // pg_get_expr/pg_get_viewdef then schema-qualify every name outside pg_catalog, so policy
      // text and fix SQL mean the same thing whatever search_path the user later runs them with.
      searchPath: 'pg_catalog',
    });
  /** Ends the failed transaction and opens the next one with the same limits. */
  const restart = async (isolation?: 'repeatable read') => {
    await session.exec('ROLLBACK');
    await begin(isolation);
  };

  /**
   * Runs one area. On permission denied, the transaction is restarted and the degraded variant
   * (without statistics views) tried; if that fails too the area is empty and noted.
   */
  async function area<T>(
    stage: string,
    full: () => Promise<T>,
    degraded: (() => Promise<T>) | null,
    empty: T,
    fields: readonly SnapshotArea[] = [],
    /** A lock held by another session on these (user) tables leaves the area unavailable instead of failing the audit. */
    lockTolerant = false,
  ): Promise<T> {
    throwIfCancelled(options.signal);
    options.onStage?.(stage);
    try {
      return await full();
    } catch (error) {
      throwIfCancelled(options.signal);
      if (lockTolerant && (error as { code?: string }).code === '55P03') {
        await restart();
        const reason = `${stage}: another session holds a lock on it (lock_timeout); audit again later for it`;
        notes.push({ area: 'locks', message: `partial: ${reason}` });
        for (const field of fields) unavailable[field] ??= reason;
        return empty;
      }
      if (!isPermissionDenied(error)) throw new IntrospectionError(stage, error);
      await restart('repeatable read');
      if (degraded) {
        try {
          const value = await degraded();
          notes.push({ area: stage, message: `partial: could not read statistics for ${stage} (${describePgError(error)})` });
          return value;
        } catch (second) {
          if (!isPermissionDenied(second)) throw new IntrospectionError(stage, second);
          await restart('repeatable read');
        }
      }
      const reason = `could not read ${stage} (${describePgError(error)})`;
      notes.push({ area: stage, message: `partial: ${reason}; the checks that need it are inconclusive` });
      for (const field of fields) unavailable[field] ??= reason;
      return empty;
    }
  }

  throwIfCancelled(options.signal);
  options.onStage?.('begin');
  try {
    await begin('repeatable read');
  } catch (error) {
    throwIfCancelled(options.signal);
    if (error instanceof UserError) throw error;
    throw new IntrospectionError('begin', error);
  }
  try {
    const settings = await area<ServerSettings | null>(
      'settings',
      () => readSettings(session, true),
      () => readSettings(session, false),
      null,
    );
    // Without the server settings nothing else can be interpreted: fail with the reason.
    if (!settings) throw new IntrospectionError('settings', notes.at(-1)?.message ?? 'permission denied');
    if (settings.versionNum < 150000) {
      notes.push({
        area: 'settings',
        message: `server ${settings.version.split(' ').slice(0, 2).join(' ')} is older than PostgreSQL 15: security_invoker views and some catalog columns are not available`,
      });
    }
    const { roles, memberships } = await area('roles', () => readRoles(session, settings.versionNum), null, { roles: [], memberships: [] }, ['roles', 'memberships']);
    const schemas = await area('schemas', () => readSchemas(session), null, [], ['schemas']);
    const { relations: bare, sequences } = await area(
      'relations',
      () => readRelations(session, true),
      () => readRelations(session, false),
      { relations: [], sequences: [] },
      ['relations', 'sequences'],
    );
    const bareColumns = await area<Map<string, BareColumn[]>>(
      'columns',
      () => readColumns(session, true),
      async () => {
        const value = await readColumns(session, false);
        unavailable.columnStats ??= 'pg_stats could not be read';
        return value;
      },
      new Map(),
      ['relations'],
    );
    const bareConstraints = await area('constraints', () => readConstraints(session), null, [], ['constraints']);
    const bareIndexes = await area('indexes', () => readIndexes(session, true), () => readIndexes(session, false), [], ['indexes']);
    const barePolicies = await area('policies', () => readPolicies(session), null, [], ['policies']);
    const functions = await area('functions', () => readFunctions(session), null, [], ['functions']);
    const viewDependencies = await area('view dependencies', () => readViewDependencies(session), null, [], ['viewDependencies']);
    const misc = await area(
      'publications, extensions, default privileges',
      () => readPublicationsExtensionsDefaults(session),
      null,
      { publications: [], extensions: [], defaultPrivileges: [] },
      ['publications', 'extensions', 'defaultPrivileges'],
    );
    if (settings.hasBuckets && !settings.canReadBuckets) {
      const reason = settings.canSelectBuckets && settings.rlsHidesBuckets
        ? 'could not read storage.buckets: row-level security applies to the auditing role, so it may see only some buckets'
        : 'could not read storage.buckets (no SELECT privilege)';
      notes.push({ area: 'storage', message: `partial: ${reason}; the storage checks are inconclusive` });
      unavailable.buckets ??= reason;
    }
    if (settings.hasRealtimeSubscriptions && !settings.canReadRealtimeSubscriptions) {
      notes.push({
        area: 'realtime',
        message: `partial: could not read realtime.subscription (${settings.rlsHidesRealtimeSubscriptions ? 'row-level security applies to the auditing role' : 'no SELECT privilege'}); subscriber counts are assumed`,
      });
    }
    const hiddenStats = [...bareColumns.entries()].filter(([, cols]) => cols.some((c) => c.statsHidden)).length;
    if (hiddenStats > 0) {
      const reason = `column statistics (pg_stats) are hidden for ${hiddenStats} relation${hiddenStats === 1 ? '' : 's'}: the auditing role lacks SELECT on their columns, or row-level security applies to it`;
      notes.push({ area: 'columns', message: `partial: ${reason}; row-width estimates are inconclusive` });
      unavailable.columnStats ??= reason;
    }
    options.onStage?.('end');
    await session.exec('ROLLBACK');

    // Printing view definitions, policy expressions, column defaults, CHECK constraints and index
    // expressions locks what they read: one short statement, in its own transaction, skipping what
    // another session has locked exclusively.
    // storage.buckets and realtime.subscription are tables too: read them in that short transaction.
    await begin();
    const supabase = await area(
      'storage and realtime',
      () =>
        readSupabaseTables(session, {
          buckets: settings.canReadBuckets,
          subscriptions: settings.canReadRealtimeSubscriptions,
        }),
      null,
      { buckets: null, subscriptions: null },
      ['buckets'],
      true,
    );
    let definitions: Definitions = EMPTY_DEFINITIONS;
    if (!unavailable.policies || !unavailable.relations) {
      // A lock taken between the pg_locks look-up and the printing: once more, which then skips it.
      const read = () =>
        readDefinitions(session).catch(async (error: unknown) => {
          if ((error as { code?: string }).code !== '55P03') throw error;
          await restart();
          return readDefinitions(session);
        });
      definitions = await area('definitions', read, null, definitions, ['policies'], true);
    }
    await session.exec('ROLLBACK');
    for (const s of definitions.skipped) {
      notes.push({
        area: 'locks',
        message: `${s.label} not read: another session holds or awaits an ACCESS EXCLUSIVE lock on ${s.lockedBy.join(', ')} (supaudit does not queue behind it); audit again later for it`,
      });
    }
    // Read as one statement: when it could not run, nothing of it is known.
    const notRead = definitions === EMPTY_DEFINITIONS ? (unavailable.policies ?? 'the definitions could not be read') : undefined;
    const { columns, constraints, indexes } = withDefinitions(definitions, notRead, { columns: bareColumns, constraints: bareConstraints, indexes: bareIndexes });
    const skippedKeys = new Map(definitions.skipped.filter((s) => s.kind === 'policy').map((s) => [s.key, s.lockedBy]));
    const policies: Policy[] = barePolicies.map(({ hasUsing, hasCheck, ...p }) => {
      const key = policyKey(p.schema, p.table, p.name);
      const text = definitions.policies.get(key);
      const lockedBy = skippedKeys.get(key);
      if (lockedBy) return { ...p, unreadable: `${lockedBy.join(', ')} was locked by another session` };
      if (!text || (hasUsing && text.using === null) || (hasCheck && text.withCheck === null)) {
        return { ...p, unreadable: unavailable.policies ?? 'the policy changed while it was read' };
      }
      return { ...p, using: text.using, withCheck: text.withCheck };
    });

    const relations: Relation[] = bare.map((r) => ({
      ...r,
      viewDefinition: definitions.views.get(viewKey(r.schema, r.name)) ?? null,
      columns: columns.get(relationKey(r.schema, r.name)) ?? [],
    }));
    const exposed = exposedSchemas(options, settings);
    if (!settings.roleSettingsRead && exposed.source !== 'option') {
      notes.push({
        area: 'exposed schemas',
        message: `pgrst.db_schemas could not be read (no access to pg_db_role_setting or pg_roles): exposed schemas ${exposed.source === 'config.toml' ? 'taken from config.toml' : 'assumed'}, which may not match the server; pass --schemas to be sure`,
      });
    }
    if (exposed.source === 'pgrst.db_schemas' && exposed.schemas.length === 0) {
      notes.push({
        area: 'exposed schemas',
        message: 'pgrst.db_schemas is set to the empty string: no schema is exposed through the Data API, so the API-exposure checks report nothing; pass --schemas to audit as if some were',
      });
    }
    if (exposed.source === 'default') {
      notes.push({
        area: 'exposed schemas',
        message:
          'no exposed-schema setting found (pgrst.db_schemas or supabase/config.toml [api] schemas): assuming only "public" is exposed; pass --schemas to set it',
      });
    }
    return {
      serverVersion: settings.version,
      serverVersionNum: settings.versionNum,
      database: settings.database,
      currentUser: settings.currentUser,
      exposedSchemas: exposed.schemas,
      exposedSchemasSource: exposed.source,
      roles,
      memberships,
      schemas,
      relations,
      constraints,
      indexes,
      policies,
      functions,
      sequences,
      viewDependencies,
      publications: misc.publications,
      extensions: misc.extensions,
      defaultPrivileges: misc.defaultPrivileges,
      buckets: supabase.buckets ?? [],
      realtimeSubscriptions: supabase.subscriptions,
      statsReset: settings.statsReset,
      takenAt: new Date().toISOString(),
      notes,
      ...(Object.keys(unavailable).length > 0 ? { unavailable } : {}),
    };
  } catch (error) {
    await session.exec('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

function splitSchemas(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim().replace(/^"(.*)"$/, '$1'))
    .filter((s) => s.length > 0);
}

function exposedSchemas(
  options: IntrospectOptions,
  settings: ServerSettings,
): { schemas: readonly string[]; source: ExposedSchemasSource } {
  if (options.exposedSchemas && options.exposedSchemas.length > 0) return { schemas: options.exposedSchemas, source: 'option' };
  if (settings.pgrstDbSchemas !== null) return { schemas: splitSchemas(settings.pgrstDbSchemas), source: 'pgrst.db_schemas' };
  if (options.configTomlSchemas && options.configTomlSchemas.length > 0) {
    return { schemas: options.configTomlSchemas, source: 'config.toml' };
  }
  return { schemas: ['public'], source: 'default' };
}
