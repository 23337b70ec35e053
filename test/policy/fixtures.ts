/** Minimal Snapshot objects for policy tests: every required field filled, everything else empty. */
import type { Column, FunctionInfo, Policy, PolicyCommand, Relation, Snapshot } from '../../src/model/snapshot.ts';

export function column(name: string, type = 'text', position = 1): Column {
  return {
    name,
    position,
    type,
    typeName: `pg_catalog.${type}`,
    notNull: false,
    default: null,
    identity: false,
    generated: false,
    acl: [],
    avgWidth: null,
    comment: null,
  };
}

export function relation(
  schema: string,
  name: string,
  columns: readonly string[],
  options: Partial<Pick<Relation, 'kind' | 'rlsEnabled' | 'rlsForced' | 'rowEstimate' | 'owner'>> = {},
): Relation {
  return {
    schema,
    name,
    kind: options.kind ?? 'table',
    owner: options.owner ?? 'postgres',
    rlsEnabled: options.rlsEnabled ?? true,
    rlsForced: options.rlsForced ?? false,
    rowEstimate: options.rowEstimate ?? 1000,
    pages: 10,
    sizeBytes: 81920,
    replicaIdentity: 'default',
    options: {},
    isPartition: false,
    acl: [],
    columns: columns.map((c, i) => column(c, 'text', i + 1)),
    comment: null,
    extension: null,
    viewDefinition: null,
    hasTriggers: false,
    stats: null,
  };
}

export function fn(
  schema: string,
  name: string,
  options: Partial<
    Pick<FunctionInfo, 'volatility' | 'securityDefiner' | 'language' | 'source' | 'argCount' | 'identityArgs' | 'returnType' | 'returnsSet' | 'config' | 'kind'>
  > = {},
): FunctionInfo {
  return {
    schema,
    name,
    identityArgs: options.identityArgs ?? '',
    argCount: options.argCount ?? 0,
    returnType: options.returnType ?? 'boolean',
    returnsSet: options.returnsSet ?? false,
    kind: options.kind ?? 'function',
    language: options.language ?? 'sql',
    securityDefiner: options.securityDefiner ?? false,
    volatility: options.volatility ?? 'volatile',
    leakproof: false,
    owner: 'postgres',
    config: options.config ?? [],
    acl: [],
    extension: null,
    source: options.source ?? null,
    comment: null,
  };
}

export function policy(
  table: string,
  name: string,
  options: { schema?: string; command?: PolicyCommand; using?: string | null; withCheck?: string | null; roles?: string[]; permissive?: boolean; comment?: string | null } = {},
): Policy {
  return {
    schema: options.schema ?? 'public',
    table,
    name,
    command: options.command ?? 'ALL',
    permissive: options.permissive ?? true,
    roles: options.roles ?? ['PUBLIC'],
    using: options.using ?? null,
    withCheck: options.withCheck ?? null,
    comment: options.comment ?? null,
  };
}

export function snapshot(parts: { relations?: Relation[]; functions?: FunctionInfo[]; policies?: Policy[] } = {}): Snapshot {
  return {
    serverVersion: '17.4',
    serverVersionNum: 170004,
    database: 'postgres',
    currentUser: 'postgres',
    exposedSchemas: ['public'],
    exposedSchemasSource: 'default',
    roles: [],
    memberships: [],
    schemas: [],
    relations: parts.relations ?? [],
    constraints: [],
    indexes: [],
    policies: parts.policies ?? [],
    functions: parts.functions ?? [],
    sequences: [],
    viewDependencies: [],
    publications: [],
    extensions: [],
    defaultPrivileges: [],
    buckets: [],
    realtimeSubscriptions: null,
    statsReset: null,
    takenAt: '2026-01-01T00:00:00.000Z',
    notes: [],
  };
}

/** A small Supabase-like schema used by most tests. */
export function supabaseSnapshot(policies: Policy[] = []): Snapshot {
  return snapshot({
    relations: [
      relation('public', 'projects', ['id', 'team_id', 'owner_id', 'Owner Id', 'is_public', 'data', 'name', 'org_id', 'deleted_at']),
      relation('public', 'team_members', ['team_id', 'user_id', 'role']),
      relation('public', 'teams', ['id', 'org_id', 'name']),
      relation('public', 'profiles', ['id', 'user_id', 'role', 'is_admin']),
      relation('public', 'documents', ['id', 'project_id', 'owner_id', 'team_id']),
      relation('private', 'memberships', ['org_id', 'user_id', 'role']),
      relation('app', 'items', ['id', 'owner', 'team_id', 'user_id']),
      relation('app', 'team_members', ['team_id', 'user_id']),
      relation('storage', 'objects', ['id', 'bucket_id', 'name', 'owner', 'owner_id']),
      relation('auth', 'users', ['id', 'email', 'raw_user_meta_data', 'raw_app_meta_data'], { rlsEnabled: false }),
      relation('public', 'audit_log', ['id', 'actor'], { rlsEnabled: false }),
    ],
    functions: [
      fn('auth', 'uid', { volatility: 'stable', returnType: 'uuid', source: "select nullif(current_setting('request.jwt.claim.sub', true), '')::uuid" }),
      fn('auth', 'jwt', { volatility: 'stable', returnType: 'jsonb', source: "select current_setting('request.jwt.claims', true)::jsonb" }),
      fn('auth', 'role', { volatility: 'stable', returnType: 'text', source: "select current_setting('request.jwt.claim.role', true)" }),
      fn('auth', 'email', { volatility: 'stable', returnType: 'text', source: "select current_setting('request.jwt.claim.email', true)" }),
      fn('public', 'is_team_member', {
        volatility: 'stable',
        argCount: 1,
        identityArgs: 't integer',
        source: 'select exists (select 1 from team_members where team_id = t and user_id = auth.uid())',
      }),
      fn('public', 'is_admin', {
        volatility: 'stable',
        securityDefiner: true,
        source: 'select exists (select 1 from public.profiles p where p.user_id = auth.uid() and p.is_admin)',
      }),
      fn('public', 'is_admin_volatile', {
        volatility: 'volatile',
        source: 'select exists (select 1 from profiles where user_id = auth.uid() and is_admin)',
      }),
      fn('public', 'user_teams', {
        volatility: 'stable',
        securityDefiner: true,
        returnsSet: true,
        returnType: 'SETOF integer',
        source: 'select team_id from team_members where user_id = auth.uid()',
      }),
      fn('public', 'user_team_ids', {
        volatility: 'stable',
        securityDefiner: true,
        returnType: 'integer[]',
        language: 'plpgsql',
        config: ['search_path=""'],
        source: 'begin return array(select team_id from public.team_members where user_id = auth.uid()); end',
      }),
      fn('public', 'slugify', { volatility: 'immutable', argCount: 1, source: "select lower($1)" }),
      fn('private', 'has_role', {
        volatility: 'stable',
        securityDefiner: true,
        argCount: 1,
        identityArgs: 'r text',
        source: 'select exists (select 1 from private.memberships m where m.user_id = auth.uid() and m.role = r)',
      }),
      fn('private', 'log_access', { volatility: 'volatile', argCount: 1, language: 'plpgsql', source: 'begin insert into audit_log(actor) values ($1); return true; end' }),
    ],
    policies,
  });
}
