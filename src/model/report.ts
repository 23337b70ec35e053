import type { AppReport } from './app.ts';
import type { Finding } from './finding.ts';
import type { Level } from './level.ts';
import type { IntrospectionNote, LabAttack } from './snapshot.ts';

export type TargetKind = 'url' | 'migrations' | 'demo';

export interface RoleTableExposure {
  readonly schema: string;
  readonly name: string;
  readonly select: boolean;
  readonly insert: boolean;
  readonly update: boolean;
  readonly delete: boolean;
  readonly rows: number | 'all' | 'own rows' | 'unknown' | 'none';
  readonly sensitiveColumns: readonly string[];
  readonly via: readonly string[];
}

export interface RoleFunctionExposure {
  readonly schema: string;
  readonly name: string;
  readonly securityDefiner: boolean;
  readonly via: readonly string[];
}

export interface BlastRadius {
  readonly role: string;
  readonly score: number;
  readonly bypassesRls: boolean;
  readonly breakdown?: readonly { readonly reason: string; readonly points: number }[];
  readonly tables: readonly RoleTableExposure[];
  readonly functions: readonly RoleFunctionExposure[];
  /** Probe results (`--probe`, `--api-url`) and where they disagree with the static model. */
  readonly probe?: object;
}

/** Metadata of a check that ran, for reporters that describe rules (SARIF, JUnit, HTML). */
export interface ReportCheck {
  readonly id: string;
  readonly title: string;
  readonly level: Level;
  readonly category: 'security' | 'performance' | 'schema';
  readonly description: string;
  readonly facing: 'external' | 'internal';
  readonly splinter?: string;
  /** Link to the check's documentation. */
  readonly docs: string;
}

/** A finding a suppression accepted, with the reason; listed apart in every report. */
export interface SuppressedFinding {
  readonly finding: Finding;
  readonly reason: string;
  readonly by?: string;
  readonly expires?: string;
  /** `file`: supaudit.ignore.json; `comment`: `-- supaudit-ignore` in the object's COMMENT. */
  readonly source: 'file' | 'comment';
}

/** Comparison with a stored baseline (`--baseline`). */
export interface BaselineComparison {
  readonly file: string;
  /** Fingerprints of findings not in the baseline. */
  readonly new: readonly string[];
  /** Fingerprints in the baseline that no longer appear. */
  readonly fixed: readonly string[];
}

/** `anon`, `alice`, `bob`, `outsider`, or an account made for a tenant's role value (`t1_admin`, `t2_member`…). */
export type LabPersonaName = string;

/**
 * Rows a statement reached, by their relation to the persona: its own, its tenant's (owned by
 * someone else), other tenants' (or another account's, where the table has no tenant), and rows
 * with no owner (the seed's, or a table with no owner column and no tenant); or the statement was refused.
 */
export type LabCell = { readonly own: number; readonly tenant: number; readonly other_tenants: number; readonly ownerless: number } | 'denied' | 'error';

/** What one persona can do to one table in the lab (src/lab/matrix.ts). */
export interface LabMatrixRow {
  readonly schema: string;
  readonly name: string;
  readonly persona: LabPersonaName;
  readonly select: LabCell;
  readonly update: LabCell;
  readonly delete: LabCell;
  /**
   * A row of the persona's own, its foreign keys pointing at the persona's rows; where the persona
   * has none there, at its tenant's (`allowed_into_tenant`: a role account) or another owner's
   * (`allowed_into_others`: the outsider, anon).
   */
  readonly insert: 'allowed' | 'allowed_into_tenant' | 'allowed_into_others' | 'denied' | 'error';
}

/** What one call of a function as one persona did (rolled back): refused, or the rows it changed per table. */
export interface LabCall {
  /** Where the arguments came from: the caller's own ids and rows, the victim's rows (the caller's own id), the victim's ids too, NULLs. */
  readonly args: 'own' | 'victim_rows' | 'victim' | 'nulls';
  /**
   * With `victim_rows`, where only some arguments were the victim's: those (the caller's own rows
   * for the rest: its invitation, another tenant's project).
   */
  readonly victimArgs?: readonly string[];
  /**
   * Foreign keys (`schema.table.constraint`) set aside for this call: with them the call was refused
   * only by the victim's rows they hold to what it removes (a tenant's members), which a victim may not have.
   */
  readonly setAside?: readonly string[];
  /**
   * Triggers (`name on schema.table`) disabled for this call: with them the call was refused by a rule
   * on the victim's data alone (a plan's feature, a limit), not on who calls, which a victim may well meet.
   */
  readonly triggersAside?: readonly string[];
  /**
   * Arguments (names) given values the caller made up, in place of another user's ids it could not
   * learn: the call did the same with them, so they are no capability (an event key it picks itself).
   */
  readonly madeUp?: readonly string[];
  /**
   * Functions (`schema.name`) whose results gave the caller the other user's ids this call needed,
   * which it reads nowhere else: the leak is theirs, this call the use of it.
   */
  readonly learnedThrough?: readonly string[];
  readonly result: 'ok' | 'denied' | 'error';
  /** The SQLSTATE of a refusal. */
  readonly sqlstate?: string;
  /**
   * Rows inserted, updated and deleted per table (`schema.name`), only tables the call changed, as
   * Postgres's statistics count them: including changes an exception block inside the function
   * undid. `others` and `joined` hold what stayed.
   */
  readonly changed: Readonly<Record<string, { readonly inserted: number; readonly updated: number; readonly deleted: number }>>;
  /**
   * Of those, the world's rows of someone else (another user's; for a tenant's member, another
   * tenant's) the call updated or deleted, per table: told apart by physical address; the columns
   * whose values changed, and `countersOnly` where those are numbers and times only.
   */
  readonly others?: Readonly<Record<string, { readonly updated: number; readonly deleted: number; readonly columns?: readonly string[]; readonly countersOnly?: true }>>;
  /** Membership tables (`schema.name`) where the call inserted a row pointing at another tenant's root row: someone joined it. */
  readonly joined?: readonly string[];
  /**
   * Tables (`schema.name`) where the call wrote a row naming the caller (a role, a grant, a flag of
   * its own) that other tables' policies consult, after which the caller read other users' rows it
   * could not read before: access it gave itself, whatever arguments it was called with.
   */
  readonly granted?: readonly string[];
  /**
   * With `joined`: the function (`schema.name`) that, called next by the same caller with the rows
   * this call inserted (an invitation into another tenant, then its acceptance), made the membership.
   */
  readonly redeemedBy?: string;
  /**
   * Another user's values the call returned (`table.column` where the world wrote them; an
   * account's address is `auth.users.email`), from tables the caller cannot read those rows of itself.
   */
  readonly leaked?: readonly string[];
  /**
   * Arguments (by name, else `$n`) given another user's uuid that the caller cannot read anywhere
   * through the API (no table or view it may select holds it): the call needed an id the caller
   * has no way to learn, short of a leak. Set only on calls that did something to someone else.
   */
  readonly unlearned?: readonly string[];
}

/** One function of an exposed schema called as one persona (src/lab/calls.ts). */
export interface LabFunctionRow {
  readonly schema: string;
  readonly name: string;
  /** Its identity arguments, `org uuid, uid uuid`. */
  readonly args: string;
  readonly persona: LabPersonaName;
  readonly calls: readonly LabCall[];
}

/** The lab: the world it built in its own copy of the project, and the access matrix measured there. */
export interface LabReport {
  readonly accounts: readonly string[];
  /** Tenant roots the world made two tenants of, with their membership and the role values given accounts. */
  readonly tenants?: readonly { readonly root: string; readonly membership: string; readonly roleColumn?: string; readonly roles: readonly string[] }[];
  readonly tables: readonly { readonly schema: string; readonly name: string; readonly rows: number; readonly reason?: string }[];
  readonly matrix: readonly LabMatrixRow[];
  /** Why the matrix stopped before the last table (its time budget), if it did: the tables after it are not measured. */
  readonly matrixStopped?: string;
  /** Tables the outsider reads other owners' rows of only through what they published (`is_public`, `visibility = 'public'`): with those private, none (src/lab/published.ts). */
  readonly published?: readonly string[];
  /** Attacks the lab confirmed: a write that made another owner's rows visible to the attacker. */
  readonly attacks: readonly LabAttack[];
  /** Writes tried by the attack search, and why it stopped early, if it did. */
  readonly attempts: number;
  readonly stopped?: string;
  /** Every function of the exposed schemas anon or authenticated may execute, called as each persona (persona × function). */
  readonly functions?: readonly LabFunctionRow[];
  /** Calls made, and why the calls stopped early (budget), if they did. */
  readonly functionCalls?: { readonly calls: number; readonly stopped?: string };
  /** Every view of the exposed schemas anon or authenticated may read, read as anon and the outsider (persona × view). */
  readonly views?: readonly LabViewRow[];
  /** Why persona × view stopped before the last view (its time budget), if it did. */
  readonly viewsStopped?: string;
}

/** One view of an exposed schema read as one persona (src/lab/views.ts). */
export interface LabViewRow {
  readonly schema: string;
  readonly name: string;
  readonly persona: LabPersonaName;
  readonly result: 'ok' | 'denied' | 'error';
  /** Rows it returned (at most the lab's cap). */
  readonly rows?: number;
  /** Another user's values it returned (`table.column` where the world wrote them) from tables the persona cannot read those rows of itself. */
  readonly leaked?: readonly string[];
}

/** One table of the `supabase_realtime` publication as Realtime's Postgres Changes sees it (src/score/realtime.ts). */
export interface RealtimeTableReport {
  readonly schema: string;
  readonly name: string;
  /** Published inserts + updates + deletes per second since the statistics reset; null when unknown. */
  readonly changesPerSecond: number | null;
  readonly replicaIdentity: 'default' | 'nothing' | 'full' | 'index';
  /** Sum of the published columns' average widths (pg_stats); null when unknown. */
  readonly rowWidthBytes: number | null;
  readonly rls: boolean;
  /** Most expensive SELECT policy: cheap, per_row_function or subquery_join; null with RLS off. */
  readonly policyCost: 'cheap' | 'per_row_function' | 'subquery_join' | null;
  readonly subscribers: number;
  /** Authorization checks per second: changes/s × subscribers with RLS on, 0 with RLS off. */
  readonly checksPerSecond: number | null;
  /** Upper bound on messages sent per second: changes/s × subscribers. */
  readonly messagesPerSecond: number | null;
  /** Share of the published limit (checks/s with RLS, messages/s without); over 1 is over capacity. */
  readonly utilisation: number | null;
}

/** Realtime publication load: present when the database has a `supabase_realtime` publication. */
export interface RealtimeReport {
  /** Where subscriber counts come from: `realtime.subscription`, or the assumption (`--realtime-subscribers`). */
  readonly subscribersSource: 'realtime.subscription' | 'assumed';
  readonly assumedSubscribers?: number;
  /** Supabase's published throughput figures the estimates are compared with (messages/s). */
  readonly limits: { readonly withRlsPerSecond: number; readonly withRlsLargePerSecond: number; readonly withoutRlsPerSecond: number };
  readonly tables: readonly RealtimeTableReport[];
  readonly assumptions: readonly string[];
}

export interface CheckError {
  readonly check: string;
  readonly message: string;
}

export interface InconclusiveCheck {
  readonly check: string;
  /** The unreadable area, and why. */
  readonly reason: string;
}

export interface Report {
  readonly schemaVersion: 1;
  readonly tool: { readonly name: 'supaudit'; readonly version: string };
  readonly target: {
    readonly kind: TargetKind;
    readonly database: string;
    readonly serverVersion: string;
    /** Redacted description of the target (URL without password, or a folder). */
    readonly description?: string;
  };
  readonly exposedSchemas: { readonly schemas: readonly string[]; readonly source: string };
  readonly summary: Readonly<Record<Level, number>>;
  readonly findings: readonly Finding[];
  /** Static suspicions the lab refuted (`--verbose`; otherwise a note counts them). */
  readonly refuted?: readonly Finding[];
  /** Findings accepted by a suppression (not counted in `summary`, never fail a run). */
  readonly suppressed: readonly SuppressedFinding[];
  /** The checks that ran. */
  readonly checks: readonly ReportCheck[];
  readonly baseline?: BaselineComparison;
  readonly blastRadius: readonly BlastRadius[];
  /** Per-table Realtime load (`supabase_realtime`); absent without the publication. */
  readonly realtime?: RealtimeReport;
  /** `supaudit load`: policies measured as real users under concurrency. */
  readonly load?: LoadReport;
  /** The lab (embedded targets): its world and the access matrix measured there. */
  readonly lab?: LabReport;
  /** The application's supabase calls (`--app`, or the folder above the project's `supabase/`) and what they use. */
  readonly app?: AppReport;
  /** What could not be read or run: the report is partial where these say so. */
  readonly notes: readonly IntrospectionNote[];
  readonly checkErrors: readonly CheckError[];
  /** Checks that could not run because a part of the catalog they need was unreadable. */
  readonly inconclusive?: readonly InconclusiveCheck[];
  readonly stats: {
    readonly durationMs: number;
    readonly queries: number;
    readonly introspectionMs: number;
    readonly checksMs: number;
    readonly checksRun: number;
    readonly objects: { readonly relations: number; readonly policies: number; readonly functions: number };
  };
}

/** A request shape a supabase-js client sends through PostgREST. */
export type LoadShape = 'list' | 'by_pk' | 'by_owner' | 'count';

/** One table × shape × role × concurrency, measured. Latencies are of the query itself (not BEGIN/claims). */
export interface LoadRow {
  readonly schema: string;
  readonly name: string;
  readonly role: 'anon' | 'authenticated';
  readonly shape: LoadShape;
  /** The statement, as PostgREST would send it (parameters as $1). */
  readonly sql: string;
  readonly concurrency: number;
  readonly samples: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly throughputPerSec: number;
  /** The same statements with RLS bypassed (as the auditing role), same concurrency; null when it cannot bypass RLS. */
  readonly bypassP50Ms: number | null;
  readonly bypassP95Ms: number | null;
  /** p50 with RLS ÷ p50 without; null without a baseline. */
  readonly overhead: number | null;
  /** `slo`: p99 above --slo-ms; `degrades`: the overhead grows with concurrency (×1.5 over the 1-client figure). */
  readonly flags: readonly ('slo' | 'degrades')[];
  /** Fingerprints of the findings that explain the cost (initplan, unindexed policy column, join shape…). */
  readonly findings: readonly string[];
  /** Re-measured with those findings' fixes applied (embedded targets only), 1 client. */
  readonly fixed?: { readonly p50Ms: number; readonly p95Ms: number; readonly p99Ms: number; readonly overhead: number | null };
}

export interface LoadReport {
  readonly tables: readonly LoadRow[];
  readonly concurrency: readonly number[];
  readonly sloMs: number;
  /** Real users whose claims the requests carried (ids from owner columns and auth.users). */
  readonly users: number;
  readonly durationMs: number;
  /** Realtime: one change to a published table authorised for each sampled subscriber's claims. */
  readonly realtime?: readonly LoadRealtimeRow[];
}

/** The per-subscriber RLS check of a published table, measured: what one change costs to authorise. */
export interface LoadRealtimeRow {
  readonly schema: string;
  readonly name: string;
  /** Mean time to authorise one change for one subscriber. */
  readonly perCheckMs: number;
  readonly subscribers: number;
  /** Changes per second the database can authorise for that many subscribers (one core). */
  readonly changesPerSec: number;
}
