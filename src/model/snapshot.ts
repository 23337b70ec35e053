/**
 * The catalog snapshot: everything supaudit knows about a database, read once by
 * `src/introspect` and then handed, read-only, to checks, scoring and reporters.
 * No OIDs leave introspection: objects are identified by schema-qualified names.
 */
import type { LabFunctionRow, LabMatrixRow } from './report.ts';

/** One exploded ACL entry (`aclexplode`). `grantee` is `PUBLIC` for the pseudo-role. */
export interface AclItem {
  readonly grantee: string;
  readonly grantor: string;
  readonly privilege: Privilege;
  readonly grantable: boolean;
}

export type Privilege =
  | 'SELECT'
  | 'INSERT'
  | 'UPDATE'
  | 'DELETE'
  | 'TRUNCATE'
  | 'REFERENCES'
  | 'TRIGGER'
  | 'EXECUTE'
  | 'USAGE'
  | 'CREATE'
  | 'CONNECT'
  | 'TEMPORARY'
  | 'MAINTAIN';

export const PUBLIC_ROLE = 'PUBLIC';

export interface Role {
  readonly name: string;
  readonly superuser: boolean;
  readonly bypassRls: boolean;
  readonly canLogin: boolean;
  /** `rolinherit`: whether the role inherits privileges of roles it is a member of (PG 15 semantics). */
  readonly inherit: boolean;
}

/** `member` is a member of `role`. `inherit` is the effective inherit flag of that membership (PG16+ per grant, PG15 from rolinherit). */
export interface Membership {
  readonly role: string;
  readonly member: string;
  readonly inherit: boolean;
  /** Whether `member` may `SET ROLE role` (PG16+ set_option; always true before). */
  readonly canSet: boolean;
}

export interface SchemaInfo {
  readonly name: string;
  readonly owner: string;
  readonly acl: readonly AclItem[];
  readonly comment: string | null;
  /** Name of the extension that owns the schema, if any. */
  readonly extension: string | null;
}

export type RelationKind = 'table' | 'partitioned_table' | 'view' | 'materialized_view' | 'foreign_table';

export type ReplicaIdentity = 'default' | 'nothing' | 'full' | 'index';

export interface Column {
  readonly name: string;
  readonly position: number;
  /** `format_type(atttypid, atttypmod)`, e.g. `character varying(20)`, `uuid`, `public.my_enum`. */
  readonly type: string;
  /** Schema-qualified name of the base type, e.g. `pg_catalog.text`. */
  readonly typeName: string;
  readonly notNull: boolean;
  readonly default: string | null;
  /** Set when the column has a default whose text could not be read (then `default` is null and means nothing). */
  readonly defaultUnreadable?: string;
  readonly identity: boolean;
  readonly generated: boolean;
  /** Column-level grants (`attacl`), empty when none. */
  readonly acl: readonly AclItem[];
  /** Average width in bytes from `pg_stats`, when statistics exist and are readable. */
  readonly avgWidth: number | null;
  /** `pg_stats` hides this column from the auditing role (no SELECT on it, or RLS applies): `avgWidth` is unknown. */
  readonly statsHidden?: boolean;
  readonly comment: string | null;
}

export interface TableStats {
  readonly seqScan: number;
  readonly idxScan: number;
  readonly inserts: number;
  readonly updates: number;
  readonly deletes: number;
  readonly hotUpdates: number;
  readonly liveTuples: number;
  readonly deadTuples: number;
  readonly lastAnalyze: string | null;
}

export interface Relation {
  readonly schema: string;
  readonly name: string;
  readonly kind: RelationKind;
  readonly owner: string;
  readonly rlsEnabled: boolean;
  readonly rlsForced: boolean;
  /** `reltuples`; -1 when never vacuumed/analyzed (PG14+). */
  readonly rowEstimate: number;
  readonly pages: number;
  readonly sizeBytes: number;
  readonly replicaIdentity: ReplicaIdentity;
  /** `reloptions` as a map, e.g. `{ security_invoker: 'true' }`. */
  readonly options: Readonly<Record<string, string>>;
  readonly isPartition: boolean;
  readonly acl: readonly AclItem[];
  readonly columns: readonly Column[];
  readonly comment: string | null;
  readonly extension: string | null;
  /** `pg_get_viewdef` for views and materialized views. */
  readonly viewDefinition: string | null;
  /** Functions (`schema.name`) of enabled BEFORE INSERT row triggers, in firing order. */
  readonly beforeInsertFunctions?: readonly string[];
  /** Functions (`schema.name`) of enabled BEFORE UPDATE row triggers, in firing order. */
  readonly beforeUpdateFunctions?: readonly string[];
  /** `schema.name` of the functions of enabled AFTER INSERT/UPDATE/DELETE triggers (row or statement level). */
  readonly afterWriteFunctions?: readonly string[];
  readonly hasTriggers: boolean;
  readonly stats: TableStats | null;
}

export type ConstraintType = 'primary_key' | 'foreign_key' | 'unique' | 'check' | 'exclusion' | 'not_null' | 'trigger';

export interface Constraint {
  readonly schema: string;
  readonly table: string;
  readonly name: string;
  readonly type: ConstraintType;
  readonly columns: readonly string[];
  readonly definition: string;
  readonly validated: boolean;
  /** Foreign keys: the referenced table and columns. */
  readonly refSchema: string | null;
  readonly refTable: string | null;
  readonly refColumns: readonly string[];
  /** Foreign keys: the unique index on the referenced table that the key depends on. */
  readonly refIndex: string | null;
  /** Name of the index that implements a primary key / unique / exclusion constraint. */
  readonly index: string | null;
  /** Set when `definition` could not be read (it is then empty). */
  readonly unreadable?: string;
}

export interface Index {
  readonly schema: string;
  readonly table: string;
  readonly name: string;
  /** Key columns in order; `null` marks an expression column. */
  readonly columns: readonly (string | null)[];
  /** Number of key columns (INCLUDE columns are not key columns and are not listed in `columns`). */
  readonly includeColumns: readonly string[];
  /** `pg_get_expr(indexprs)`, the expression columns, or null. */
  readonly expressions: string | null;
  /** `pg_get_expr(indpred)` for partial indexes, or null. */
  readonly predicate: string | null;
  readonly method: string;
  readonly unique: boolean;
  readonly primary: boolean;
  readonly valid: boolean;
  readonly ready: boolean;
  /** The constraint backed by this index (pk, unique, exclusion), if any. */
  readonly constraint: string | null;
  readonly definition: string;
  readonly sizeBytes: number;
  /** `idx_scan` from `pg_stat_user_indexes`; null when unavailable. */
  readonly scans: number | null;
  /** Index of a partitioned table (no storage of its own). */
  readonly partitionedParent: boolean;
  /**
   * Per key column: operator class and collation (as OIDs in text: compared for equality only,
   * never shown) and sort options (`indoption` bits: 1 = DESC, 2 = NULLS FIRST).
   */
  readonly opclasses: readonly string[];
  readonly options: readonly number[];
  readonly collations: readonly string[];
  /** Set when its expressions or predicate could not be read: `expressions` and `predicate` are then null and mean nothing. */
  readonly unreadable?: string;
}

export type PolicyCommand = 'ALL' | 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';

export interface Policy {
  readonly schema: string;
  readonly table: string;
  readonly name: string;
  readonly command: PolicyCommand;
  readonly permissive: boolean;
  /** Role names; `PUBLIC` when the policy applies to every role. */
  readonly roles: readonly string[];
  readonly using: string | null;
  readonly withCheck: string | null;
  /** `COMMENT ON POLICY` (may carry `-- supaudit-ignore <check>: <reason>`). */
  readonly comment: string | null;
  /** Set when the expressions could not be read (then `using`/`withCheck` are null and mean nothing). */
  readonly unreadable?: string;
}

export type Volatility = 'immutable' | 'stable' | 'volatile';

export interface FunctionInfo {
  readonly schema: string;
  readonly name: string;
  /** `pg_get_function_identity_arguments`, e.g. `uid uuid, n integer`. */
  readonly identityArgs: string;
  readonly argCount: number;
  readonly returnType: string;
  readonly returnsSet: boolean;
  readonly kind: 'function' | 'procedure' | 'aggregate' | 'window';
  readonly language: string;
  readonly securityDefiner: boolean;
  readonly volatility: Volatility;
  readonly leakproof: boolean;
  readonly owner: string;
  /** `proconfig` entries, e.g. `search_path=""`. */
  readonly config: readonly string[];
  readonly acl: readonly AclItem[];
  readonly extension: string | null;
  /** Function body (`prosrc`) for SQL and PL/pgSQL functions, else null. */
  readonly source: string | null;
  readonly comment: string | null;
}

export interface ViewDependency {
  readonly schema: string;
  readonly view: string;
  readonly refSchema: string;
  readonly refName: string;
}

export interface Publication {
  readonly name: string;
  readonly owner: string;
  readonly allTables: boolean;
  readonly insert: boolean;
  readonly update: boolean;
  readonly delete: boolean;
  readonly truncate: boolean;
  /** Tables published, with `FOR ALL TABLES` and `TABLES IN SCHEMA` expanded. */
  readonly tables: readonly PublishedTable[];
}

export interface PublishedTable {
  readonly schema: string;
  readonly name: string;
  /** Published columns (PG15+ column lists); null means all. */
  readonly columns: readonly string[] | null;
  readonly rowFilter: string | null;
}

export interface Extension {
  readonly name: string;
  readonly schema: string;
  readonly version: string;
  readonly defaultVersion: string | null;
  /** `extrelocatable`: ALTER EXTENSION … SET SCHEMA works. */
  readonly relocatable: boolean;
  /**
   * The chain of update scripts from the installed to the default version (`1.0--1.1--1.2`), null
   * when there is none (an unknown installed version, no script). Absent in snapshots from older
   * versions of supaudit.
   */
  readonly updatePath?: string | null;
}

export type DefaultAclObjectType = 'table' | 'sequence' | 'function' | 'type' | 'schema';

export interface DefaultPrivilege {
  /** The role whose newly created objects receive these grants. */
  readonly owner: string;
  /** null: applies in every schema. */
  readonly schema: string | null;
  readonly objectType: DefaultAclObjectType;
  readonly acl: readonly AclItem[];
}

export interface SequenceInfo {
  readonly schema: string;
  readonly name: string;
  readonly owner: string;
  readonly acl: readonly AclItem[];
}

export interface StorageBucket {
  readonly id: string;
  readonly name: string;
  readonly public: boolean;
}

export interface RealtimeSubscriptionCount {
  readonly schema: string;
  readonly table: string;
  readonly subscribers: number;
}

export type ExposedSchemasSource = 'option' | 'pgrst.db_schemas' | 'config.toml' | 'default';

/** Something introspection could not read: the report says so instead of going silent. */
export interface IntrospectionNote {
  readonly area: string;
  readonly message: string;
}

/**
 * What an unreadable catalog area leaves unknown: the snapshot fields, plus `columnStats` (pg_stats
 * hidden for some columns). A check that reads one of these is inconclusive, not run on empty data.
 */
export type SnapshotArea =
  | 'roles'
  | 'memberships'
  | 'schemas'
  | 'relations'
  | 'sequences'
  | 'constraints'
  | 'indexes'
  | 'policies'
  | 'functions'
  | 'viewDependencies'
  | 'publications'
  | 'extensions'
  | 'defaultPrivileges'
  | 'buckets'
  | 'columnStats';

/**
 * The project's `supabase/config.toml` (Auth, API settings), parsed. `values` is the TOML as parsed;
 * `lines` maps each dotted key (`auth.email.enable_confirmations`) and each table header
 * (`auth.email`) to its 1-based line.
 */
export interface ProjectConfig {
  /** The file, relative to the folder above the project (`supabase/config.toml`). */
  readonly file: string;
  readonly values: Readonly<Record<string, unknown>>;
  readonly lines: Readonly<Record<string, number>>;
}

/** A statement of the project's migrations or seed that failed on the embedded database and was passed over. */
export interface FailedStatement {
  /** Relative to the folder above the project. */
  readonly file: string;
  readonly line: number;
  readonly code: string;
  readonly message: string;
}

/** An account a migration creates in auth.users with a password (file:line of the statement). */
export interface SeededAccount {
  readonly file: string;
  readonly line: number;
  /** The e-mail address the statement names, when it names one. */
  readonly email: string | null;
  /** `literal`: hashed in the statement from a password written there (crypt('…')); `hash`: a stored hash. */
  readonly password: 'literal' | 'hash';
}

/** An attack the lab confirmed by effect (src/lab/attack.ts). */
export interface LabAttack {
  /** `member`: a member of tenant 1 with the role value listed last (a plain member, where roles are listed highest first). */
  readonly attacker: 'outsider' | 'bob' | 'anon' | 'member';
  /** The table written, and how. */
  readonly table: { readonly schema: string; readonly name: string };
  /** `call`: the attacker called the function `table` names with the victim's ids (`column`: the arguments). */
  readonly command: 'insert' | 'update' | 'delete' | 'call' | 'reach';
  /** The column whose value came from the victim's side (a foreign key, a role-like column). */
  readonly column: string;
  /** With `insert` of a role-like column: the value written there (its keys point at the victim's rows). */
  readonly value?: string;
  /**
   * With `insert` into a relation between two accounts (a follow, a friendship): `column` named the
   * victim as the other party, and the row was written with these values (`status: accepted`), as if
   * the victim had agreed.
   */
  readonly party?: Readonly<Record<string, string>>;
  /** The statements, with `:attacker`, `:victim_row` placeholders. */
  readonly steps: readonly string[];
  /** Rows of other owners the attacker sees, before → after, per table that changed. */
  readonly gained: Readonly<Record<string, { readonly before: number; readonly after: number }>>;
  /** A member that set its own membership's role column (`column`): the role value it gave itself. */
  readonly promotedTo?: string;
  /** With `promotedTo` on a membership: the role the member held before (a member, an admin making itself owner). */
  readonly promotedFrom?: string;
  /** With `promotedTo`: the member gave that role to another account it added (the role ceiling of adding members), not to itself. */
  readonly appointed?: true;
  /** With `promotedTo`: a holder of a middle value of a global role table (`promotedFrom`, which the lab gave it) gave itself a higher one. */
  readonly climbed?: true;
  /**
   * A member (`promotedFrom`: the role it holds) demoted (`update`: set the role column to its own
   * value) or removed (`delete`) the membership of its tenant's highest member, who holds `holder`;
   * `lost`: the rows of the world that member reached before → after.
   */
  readonly deposed?: { readonly holder: string; readonly byPlainest: boolean; readonly lost: Readonly<Record<string, { readonly before: number; readonly after: number }>> };
  /**
   * A member of one tenant wrote a row into another tenant, which that tenant's members then see
   * (`gained`: the rows they see): `insert` a new row, `move` an UPDATE of its own tenant's row
   * setting the tenant key, `join` a membership row of the other tenant.
   */
  readonly planted?: 'insert' | 'move' | 'join';
  /** With `planted`: the function (`schema.name`) that turned the planted row (an invitation moved to another tenant) into a membership of that tenant for the attacker. */
  readonly redeemedBy?: string;
  /** For a listing of a public bucket: the plain accounts (outsider, a plain member) that may upload there. */
  readonly uploaders?: readonly string[];
  /** A member (of this role) set the owner column of its tenant's root row to itself, and then reached more rows. */
  readonly takeover?: string;
  /** A tenant's founder added another user (`column`: the membership's account column) to its new tenant with no invitation, and then read that user's rows. */
  readonly pulledIn?: true;
  /** A sign-up (`table` auth.users) whose user metadata set these keys, which the functions `metadataReadBy` read at sign-up: it then read `gained` more rows than a plain sign-up. */
  readonly signedUpWith?: Readonly<Record<string, string>>;
  readonly metadataReadBy?: readonly string[];
  /** With `signedUpWith`: no reader runs at sign-up; they read the caller's metadata at every request (which updateUser() also sets). */
  readonly metadataReadAnytime?: true;
  /** With `signedUpWith`: one of the values was the victim tenant's key, which the attacker must know. */
  readonly needsTenantKey?: true;
  /** A sign-up (`table` auth.users) made while these tables, which the functions `testedBy` test for rows at sign-up, had none (a new deployment): it then read `gained` more rows than an earlier plain account. */
  readonly firstSignUp?: { readonly emptied: readonly string[]; readonly testedBy: readonly string[] };
  /** The attacker set `column` of its own row to `value`, and it stayed: a plan, credits or a flag that `readBy` (functions, policies) trust. */
  readonly entitlement?: { readonly value: string; readonly readBy: readonly string[] };
}

/**
 * The project's migrations as the catalog of a fresh database they were loaded into (the lab's
 * copy, before its world): what migration_drift compares the live catalog with. User objects only,
 * expressions printed by pg_get_expr as on the live side.
 */
export interface MigrationCatalog {
  readonly relations: readonly Pick<Relation, 'schema' | 'name' | 'kind' | 'rlsEnabled' | 'rlsForced' | 'acl'>[];
  readonly policies: readonly Policy[];
  readonly functions: readonly Pick<FunctionInfo, 'schema' | 'name' | 'identityArgs' | 'kind' | 'source' | 'securityDefiner' | 'config'>[];
}

export interface Snapshot {
  readonly serverVersion: string;
  readonly serverVersionNum: number;
  readonly database: string;
  readonly currentUser: string;
  readonly exposedSchemas: readonly string[];
  readonly exposedSchemasSource: ExposedSchemasSource;
  readonly roles: readonly Role[];
  readonly memberships: readonly Membership[];
  readonly schemas: readonly SchemaInfo[];
  readonly relations: readonly Relation[];
  readonly constraints: readonly Constraint[];
  readonly indexes: readonly Index[];
  readonly policies: readonly Policy[];
  readonly functions: readonly FunctionInfo[];
  readonly sequences: readonly SequenceInfo[];
  readonly viewDependencies: readonly ViewDependency[];
  readonly publications: readonly Publication[];
  readonly extensions: readonly Extension[];
  readonly defaultPrivileges: readonly DefaultPrivilege[];
  readonly buckets: readonly StorageBucket[];
  /** From `realtime.subscription` when it exists and is readable; null otherwise. */
  readonly realtimeSubscriptions: readonly RealtimeSubscriptionCount[] | null;
  /** `pg_stat_database.stats_reset` of the current database (ISO), if known. */
  readonly statsReset: string | null;
  /**
   * True when the database has run no workload: the embedded database, which ran only the
   * migrations and the seed. Usage counters (index scans) then say nothing about the application.
   */
  readonly noWorkload?: boolean;
  /**
   * The project's `config.toml`: null when the audit had none (a live database without `--project`),
   * absent in snapshots taken without an audit (then the config checks are silent too).
   */
  readonly projectConfig?: ProjectConfig | null;
  /**
   * Attacks the lab confirmed in its own copy of the project (the embedded target itself, or for a
   * live database a copy built from its migrations or its catalog): absent when no lab ran
   * (`--no-lab`, a copy that could not be built, a snapshot taken without an audit), then
   * lab_confirmed_escalation is silent.
   */
  readonly labAttacks?: readonly LabAttack[];
  /** The lab's access matrix (embedded targets): absent when no lab ran, then lab_cross_owner_access is silent. */
  readonly labMatrix?: readonly LabMatrixRow[];
  /** Tables whose other owners' rows the outsider reads only through what their owners published (`schema.name`). */
  readonly labPublished?: readonly string[];
  /** The lab's persona × function calls: absent when no lab ran, then lab_function_cross_owner is silent. */
  readonly labFunctions?: readonly LabFunctionRow[];
  /** Per table the lab's world filled (`rows`: rows it added; 0 with `reason` 'made by sign-up': a trigger made them): absent when no lab ran. */
  readonly labTables?: readonly { readonly schema: string; readonly name: string; readonly rows: number; readonly reason?: string }[];
  /** The tenant roots (and their memberships) the lab's world was built on, `schema.name`: absent when no lab ran or it found none. */
  readonly labTenants?: readonly { readonly root: string; readonly membership: string }[];
  /**
   * A live database audited with its project's migrations (`--db-url` with `--project`, the lab
   * built from them): their catalog, for migration_drift. Absent otherwise, and then it is silent.
   */
  readonly migrationCatalog?: MigrationCatalog;
  /** Statements of the migrations that failed and were passed over (embedded targets without --strict). */
  readonly failedStatements?: readonly FailedStatement[];
  /** Accounts the migrations (not the seed) create in auth.users with a password: present for a migrations target. */
  readonly seededAccounts?: readonly SeededAccount[];
  /** When the snapshot was taken (ISO). Kept out of findings to keep them deterministic. */
  readonly takenAt: string;
  readonly notes: readonly IntrospectionNote[];
  /** Areas that could not be read, with the reason (absent when everything was read). */
  readonly unavailable?: Readonly<Partial<Record<SnapshotArea, string>>>;
}
