import type { ExposedSchemasSource, IntrospectionNote, Relation, Snapshot } from '../model/snapshot.ts';
import { readColumns, relationKey } from './columns.ts';
import { readConstraints } from './constraints.ts';
import { IntrospectionError, isPermissionDenied, describePgError } from './errors.ts';
import { readFunctions } from './functions.ts';
import { readIndexes } from './indexes.ts';
import { readPolicies } from './policies.ts';
import { readPublicationsExtensionsDefaults } from './publications.ts';
import { readRelations } from './relations.ts';
import { readRoles } from './roles.ts';
import { readSchemas } from './schemas.ts';
import type { Session } from './session.ts';
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
] as const;

/**
 * Reads the whole catalog in one `REPEATABLE READ READ ONLY` transaction with timeouts, in a
 * fixed number of round trips whatever the schema size. An area the user may not read is
 * retried without the statistics views, or left empty with a note: never a silent gap.
 */
export async function introspect(session: Session, options: IntrospectOptions = {}): Promise<Snapshot> {
  const statementTimeout = options.statementTimeoutMs ?? 30_000;
  const lockTimeout = options.lockTimeoutMs ?? 3_000;
  const notes: IntrospectionNote[] = [];
  const begin = async () =>
    session.exec(
      `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ` +
        `SET LOCAL statement_timeout = ${Math.max(1, Math.floor(statementTimeout))}; ` +
        `SET LOCAL lock_timeout = ${Math.max(1, Math.floor(lockTimeout))}; ` +
        `SET LOCAL idle_in_transaction_session_timeout = ${Math.max(1, Math.floor(statementTimeout * 2))}; ` +
        // pg_get_expr/pg_get_viewdef then schema-qualify every name outside pg_catalog, so policy
        // text and fix SQL mean the same thing whatever search_path the user later runs them with.
        `SET LOCAL search_path = pg_catalog`,
    );

  /**
   * Runs one area. On permission denied, the transaction is restarted and the degraded variant
   * (without statistics views) tried; if that fails too the area is empty and noted.
   */
  async function area<T>(stage: string, full: () => Promise<T>, degraded: (() => Promise<T>) | null, empty: T): Promise<T> {
    options.onStage?.(stage);
    try {
      return await full();
    } catch (error) {
      if (!isPermissionDenied(error)) throw new IntrospectionError(stage, error);
      await session.exec('ROLLBACK');
      await begin();
      if (degraded) {
        try {
          const value = await degraded();
          notes.push({ area: stage, message: `partial: could not read statistics for ${stage} (${describePgError(error)})` });
          return value;
        } catch (second) {
          if (!isPermissionDenied(second)) throw new IntrospectionError(stage, second);
          await session.exec('ROLLBACK');
          await begin();
        }
      }
      notes.push({ area: stage, message: `partial: could not read ${stage} (${describePgError(error)})` });
      return empty;
    }
  }

  options.onStage?.('begin');
  try {
    await begin();
  } catch (error) {
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
    const { roles, memberships } = await area('roles', () => readRoles(session, settings.versionNum), null, {
      roles: [],
      memberships: [],
    });
    const schemas = await area('schemas', () => readSchemas(session), null, []);
    const { relations: bare, sequences } = await area(
      'relations',
      () => readRelations(session, true),
      () => readRelations(session, false),
      { relations: [], sequences: [] },
    );
    const columns = await area('columns', () => readColumns(session, true), () => readColumns(session, false), new Map());
    const constraints = await area('constraints', () => readConstraints(session), null, []);
    const indexes = await area('indexes', () => readIndexes(session, true), () => readIndexes(session, false), []);
    const policies = await area('policies', () => readPolicies(session), null, []);
    const functions = await area('functions', () => readFunctions(session), null, []);
    const viewDependencies = await area('view dependencies', () => readViewDependencies(session), null, []);
    const misc = await area(
      'publications, extensions, default privileges',
      () => readPublicationsExtensionsDefaults(session),
      null,
      { publications: [], extensions: [], defaultPrivileges: [] },
    );
    const supabase = await area(
      'storage and realtime',
      () =>
        readSupabaseTables(session, {
          buckets: settings.canReadBuckets,
          subscriptions: settings.canReadRealtimeSubscriptions,
        }),
      null,
      { buckets: null, subscriptions: null },
    );
    if (settings.hasBuckets && !settings.canReadBuckets) {
      notes.push({ area: 'storage', message: 'partial: could not read storage.buckets (no SELECT privilege)' });
    }
    if (settings.hasRealtimeSubscriptions && !settings.canReadRealtimeSubscriptions) {
      notes.push({ area: 'realtime', message: 'partial: could not read realtime.subscription (no SELECT privilege)' });
    }
    options.onStage?.('end');
    await session.exec('ROLLBACK');

    const relations: Relation[] = bare.map((r) => ({ ...r, columns: columns.get(relationKey(r.schema, r.name)) ?? [] }));
    const exposed = exposedSchemas(options, settings);
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
  if (settings.pgrstDbSchemas) return { schemas: splitSchemas(settings.pgrstDbSchemas), source: 'pgrst.db_schemas' };
  if (options.configTomlSchemas && options.configTomlSchemas.length > 0) {
    return { schemas: options.configTomlSchemas, source: 'config.toml' };
  }
  return { schemas: ['public'], source: 'default' };
}
