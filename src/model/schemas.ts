/**
 * Schemas that belong to Postgres or to Supabase itself. Checks skip objects in them
 * (as splinter does), except checks that exist precisely to look at them (auth.users exposure).
 */
export const SYSTEM_SCHEMAS: ReadonlySet<string> = new Set([
  'pg_catalog',
  'information_schema',
  'pg_toast',
  'auth',
  'storage',
  'realtime',
  '_realtime',
  'extensions',
  'graphql',
  'graphql_public',
  'vault',
  'pgsodium',
  'pgsodium_masks',
  'pgmq',
  'pgmq_public',
  'pgbouncer',
  'cron',
  'net',
  '_analytics',
  'supabase_functions',
  'supabase_migrations',
  '_supavisor',
  'pgtle',
  'repack',
  'tiger',
  'tiger_data',
  'topology',
  'timescaledb_information',
  'timescaledb_experimental',
  '_timescaledb_internal',
  '_timescaledb_catalog',
  '_timescaledb_config',
  '_timescaledb_cache',
]);

export function isSystemSchema(schema: string): boolean {
  return SYSTEM_SCHEMAS.has(schema) || schema.startsWith('pg_temp') || schema.startsWith('pg_toast');
}

/** The roles PostgREST switches to for API requests. */
export const API_ROLES = ['anon', 'authenticated'] as const;

/** Roles that are part of the platform and not users' own. */
export function isPlatformRole(role: string): boolean {
  return (
    role === 'postgres' ||
    role === 'supabase_admin' ||
    role === 'authenticator' ||
    role === 'pgbouncer' ||
    role === 'dashboard_user' ||
    role.startsWith('supabase_') ||
    role.startsWith('pg_')
  );
}
