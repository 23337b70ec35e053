import type { Session } from './session.ts';
import { rlsAppliesToCurrentUser } from './sql.ts';

export interface ServerSettings {
  readonly version: string;
  readonly versionNum: number;
  readonly database: string;
  readonly currentUser: string;
  /**
   * `pgrst.db_schemas` from the session, or from the `authenticator` role's or the database's settings
   * (Postgres's precedence). The empty string is an explicit setting (nothing exposed), null is "not set".
   */
  readonly pgrstDbSchemas: string | null;
  readonly statsReset: string | null;
  /** False when `pg_db_role_setting`/`pg_roles` could not be read: `pgrstDbSchemas` is then unknown, not absent. */
  readonly roleSettingsRead: boolean;
  readonly hasBuckets: boolean;
  readonly canReadBuckets: boolean;
  /** RLS applies to the auditing role on storage.buckets: it would see only some rows (or none). */
  /** The role has SELECT on storage.buckets, which RLS may still filter (`rlsHidesBuckets`). */
  readonly canSelectBuckets: boolean;
  readonly rlsHidesBuckets: boolean;
  readonly rlsHidesRealtimeSubscriptions: boolean;
  readonly hasRealtimeSubscriptions: boolean;
  readonly canReadRealtimeSubscriptions: boolean;
}

/** Whether a table exists and is readable, without `to_regclass` (which errors without USAGE on the schema). */
function optionalTable(schema: string, table: string, alias: string, readRoles: boolean): string {
  const from = `from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = '${schema}' and c.relname = '${table}'`;
  return `exists (select 1 ${from}) as has_${alias},
    coalesce((select has_schema_privilege(n.oid, 'usage') and has_table_privilege(c.oid, 'select') ${from}), false) as can_read_${alias},
    coalesce((select ${rlsAppliesToCurrentUser('c', readRoles)} ${from}), false) as rls_hides_${alias}`;
}

function sql(full: boolean): string {
  const roleSchemas = full
    ? `(select substr(s, length('pgrst.db_schemas=') + 1)
     from pg_db_role_setting rs cross join lateral unnest(rs.setconfig) s
    where rs.setrole in (0, coalesce((select oid from pg_roles where rolname = 'authenticator'), 0))
      and rs.setdatabase in (0, (select oid from pg_database where datname = current_database()))
      and s like 'pgrst.db\\_schemas=%'
    order by (rs.setrole <> 0) desc, rs.setdatabase desc limit 1)`
    : 'null::text';
  const statsReset = full ? `(select stats_reset::text from pg_stat_database where datname = current_database())` : 'null::text';
  return `
select version() as version,
  current_setting('server_version_num')::int as version_num,
  current_database() as database,
  current_user as current_user,
  nullif(current_setting('pgrst.db_schemas', true), '') as session_db_schemas,
  ${roleSchemas} as role_db_schemas,
  ${statsReset} as stats_reset,
  ${optionalTable('storage', 'buckets', 'buckets', full)},
  ${optionalTable('realtime', 'subscription', 'subscriptions', full)}
`;
}

interface Row {
  version: string;
  version_num: number;
  database: string;
  current_user: string;
  session_db_schemas: string | null;
  role_db_schemas: string | null;
  stats_reset: string | null;
  has_buckets: boolean;
  can_read_buckets: boolean;
  rls_hides_buckets: boolean;
  has_subscriptions: boolean;
  can_read_subscriptions: boolean;
  rls_hides_subscriptions: boolean;
}

export async function readSettings(session: Session, full = true): Promise<ServerSettings> {
  const [row] = await session.query<Row>(sql(full));
  if (!row) throw new Error('server settings query returned no row');
  return {
    version: row.version,
    versionNum: Number(row.version_num),
    database: row.database,
    currentUser: row.current_user,
    pgrstDbSchemas: row.session_db_schemas ?? row.role_db_schemas,
    statsReset: row.stats_reset,
    roleSettingsRead: full,
    hasBuckets: row.has_buckets,
    canReadBuckets: row.can_read_buckets && !row.rls_hides_buckets,
    canSelectBuckets: row.can_read_buckets,
    rlsHidesBuckets: row.rls_hides_buckets,
    rlsHidesRealtimeSubscriptions: row.rls_hides_subscriptions && row.can_read_subscriptions,
    hasRealtimeSubscriptions: row.has_subscriptions,
    canReadRealtimeSubscriptions: row.can_read_subscriptions && !row.rls_hides_subscriptions,
  };
}
