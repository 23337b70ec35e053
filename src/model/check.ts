import type { FindingDraft } from './finding.ts';
import type { Level } from './level.ts';
import type { PrivilegeModel } from './privileges.ts';
import type { Relation, Snapshot, SnapshotArea } from './snapshot.ts';

export type CheckCategory = 'security' | 'performance' | 'schema';

export interface CheckMeta<Id extends string = string> {
  readonly id: Id;
  readonly title: string;
  /** Default level; a finding may raise or lower it, config may override it. */
  readonly level: Level;
  readonly category: CheckCategory;
  /** One sentence: what the check detects. */
  readonly description: string;
  /** `external`: reachable through the API; `internal`: database hygiene. */
  readonly facing: 'external' | 'internal';
  /** Peer tool lint id this check corresponds to (splinter), when the concept is the same. */
  readonly splinter?: string;
  /**
   * Inputs the check needs besides the snapshot fields it reads (those are tracked on their own):
   * e.g. `columnStats` for a check that reads column widths.
   */
  readonly needs?: readonly SnapshotArea[];
  /** `config.toml`: judges the project's `supabase/config.toml` (Auth and API settings), not the catalog. */
  readonly source?: 'config.toml';
  /** Its findings carry an exploit plan: the audit proves them in a rolled-back transaction (embedded targets, --probe-writes). */
  readonly proves?: boolean;
  /**
   * What its findings claim a persona can do, for the lab to confirm or refute (src/engine/lab-verdict.ts);
   * absent: its findings are facts of the catalog or the configuration and keep their level.
   */
  readonly labClaim?: LabClaim;
}

/**
 * - `read` / `write`: reading / changing other owners' rows of the finding's table (the access matrix);
 * - `access`: as the policy's command says (evidence.command), read for SELECT, write for the others;
 * - `recursion`: reading the table fails;
 * - `escalation`: a write or call that gains access to other owners' rows (the attack search);
 * - `call`: calling the finding's function gains it;
 * - `storage`: objects of another user in the finding's bucket are reached.
 */
export type LabClaim = 'read' | 'write' | 'access' | 'recursion' | 'escalation' | 'call' | 'storage';

export interface CheckOptions {
  /** Regular expression sources matched case-insensitively against column names. */
  readonly sensitiveColumnPatterns: readonly string[];
  /** Assumed realtime subscribers per table when `realtime.subscription` is not readable. */
  readonly realtimeSubscribers: number;
  /** Roles whose blast radius is computed besides the built-in ones (config `roles`). */
  readonly extraRoles?: readonly string[];
}

/** Everything a check may use. Pure data: no database, no I/O. */
export interface CheckContext {
  readonly snapshot: Snapshot;
  readonly privileges: PrivilegeModel;
  readonly options: CheckOptions;
  /** Schema reachable through PostgREST (`/rest/v1`). */
  isExposed(schema: string): boolean;
  /** Relation in a user schema: not a system schema, not owned by an extension. */
  isUserObject(schema: string, extension: string | null): boolean;
  /** Relation by schema and name. */
  relation(schema: string, name: string): Relation | undefined;
  /** Shared, lazily computed analyses (e.g. parsed policies), keyed by name. */
  memo<T>(key: string, compute: () => T): T;
}

export interface Check<Id extends string = string> {
  readonly meta: CheckMeta<Id>;
  run(ctx: CheckContext): readonly FindingDraft[];
}

/** Typed factory: keeps a check's shape checked at compile time. */
export function defineCheck<Id extends string>(check: Check<Id>): Check<Id> {
  return check;
}

/**
 * Thrown when a check (or an analysis it uses) reads a part of the catalog that could not be read:
 * the check is inconclusive, its partial result is dropped.
 */
export class InconclusiveError extends Error {
  constructor(
    readonly area: SnapshotArea,
    readonly reason: string,
  ) {
    super(`${area} unavailable: ${reason}`);
    this.name = 'InconclusiveError';
  }
}

/**
 * The snapshot as checks see it: reading a field whose area could not be read throws
 * `InconclusiveError`, so no check computes a result from an empty stand-in.
 */
export function guardedSnapshot(snapshot: Snapshot): Snapshot {
  const unavailable = snapshot.unavailable;
  if (!unavailable || Object.keys(unavailable).length === 0) return snapshot;
  return new Proxy(snapshot, {
    get(target, property, receiver) {
      if (typeof property === 'string' && property in unavailable && property !== 'columnStats') {
        const area = property as SnapshotArea;
        throw new InconclusiveError(area, unavailable[area]!);
      }
      return Reflect.get(target, property, receiver);
    },
  });
}
