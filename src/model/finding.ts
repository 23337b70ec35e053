import type { Level } from './level.ts';
import type { Stride } from './stride.ts';

export const OBJECT_TYPES = [
  'table',
  'view',
  'materialized_view',
  'foreign_table',
  'function',
  'policy',
  'index',
  'column',
  'publication',
  'bucket',
  'extension',
  'schema',
  /** A setting of the project's `supabase/config.toml`: `schema` is the file, `name` the dotted key. */
  'setting',
  /** A statement of the project's migrations: `schema` is the file, `name` `line <n>`. */
  'migration',
] as const;
export type ObjectType = (typeof OBJECT_TYPES)[number];

export interface FindingObject {
  readonly schema: string;
  readonly name: string;
  readonly type: ObjectType;
  readonly column?: string;
  readonly policy?: string;
  readonly function?: string;
}

export interface Remediation {
  readonly text: string;
  readonly sql?: string;
}

/**
 * How to prove a finding in the database (pure data; `src/introspect/exploit.ts` runs it): a signed-in
 * user A writes `column` of `table` (an INSERT of a row of its own, or an UPDATE of its own row) with a
 * value taken from another user's row (or one of `candidates`), inside a savepoint as A, and counts
 * what A sees in `observe` before and after. Everything is rolled back.
 */
export interface ExploitPlan {
  readonly kind?: 'gain';
  /** The database role the attacker's requests run as. */
  readonly role: string;
  readonly table: { readonly schema: string; readonly name: string };
  readonly write: 'insert' | 'update';
  /** The column that holds the caller's user id (compared with auth.uid()). */
  readonly actorColumn: string;
  /** The column the attacker sets. */
  readonly column: string;
  /** Values worth trying besides other rows' values (constants the policies compare the column with). */
  readonly candidates?: readonly string[];
  /** Tables whose rows the attacker counts before and after the write. */
  readonly observe: readonly { readonly schema: string; readonly name: string }[];
  /** The finding's fix SQL, applied on the embedded target to verify it closes the hole. */
  readonly fix?: string;
  /** A column of `table` the owner must still be able to update after the fix (update plans). */
  readonly ownerColumn?: string;
}

/**
 * How to prove that a role reaches rows of someone else directly (storage objects gated by bucket
 * only): as the role (a synthetic signed-in user, or anon), read / overwrite / delete one row of
 * `scope` owned by another user, or insert one into another user's folder. Rolled back.
 */
export interface ReachPlan {
  readonly kind: 'reach';
  readonly role: string;
  readonly table: { readonly schema: string; readonly name: string };
  readonly command: 'select' | 'update' | 'delete' | 'insert';
  /** The rows in question, as a condition on the table (`bucket_id = 'avatars'`). */
  readonly scope: string;
  /** The bucket (insert plans put the object there). */
  readonly bucket: string;
  /** The column that names each row's owner (`owner_id`). */
  readonly ownerColumn: string;
  readonly fix?: string;
}

/**
 * How to prove a NULL short-circuit: as a signed-in user, insert a row (values of an existing row,
 * the caller's id in `actorColumn`) with `column` NULL, then the same row with `column` set to a
 * made-up value. Accepted with NULL and refused with the value: the rest of the check was skipped.
 */
export interface BypassPlan {
  readonly kind: 'bypass';
  readonly role: string;
  readonly table: { readonly schema: string; readonly name: string };
  readonly column: string;
  /** The column the permissive policy ties to auth.uid(), if any. */
  readonly actorColumn: string | null;
  readonly fix?: string;
}

/** What running an exploit plan showed (row counts only, never row values). */
export interface Proof {
  /** `not_attempted`: a live database, and the statements could set off something a rollback does not undo (`reason` says what). */
  readonly status: 'confirmed' | 'refuted' | 'inconclusive' | 'not_attempted';
  /** `gain`: rows visible to the user before/after an escalation write; `reach`: a row of someone else touched directly; `bypass`: a row accepted with NULL, refused without. */
  readonly kind?: 'gain' | 'reach' | 'bypass';
  /** The statements, with `:actor` and `:value` standing for the user id and the value used. */
  readonly steps: readonly string[];
  /** Rows the attacker saw in each observed table before and after the write (`schema.name` → count). */
  readonly before?: Readonly<Record<string, number>>;
  readonly after?: Readonly<Record<string, number>>;
  readonly reason: string;
  /** The fix, applied and the exploit run again (embedded targets only: DDL is never run on a live database). */
  readonly fixVerified?: {
    readonly status: 'verified' | 'failed' | 'not_attempted';
    readonly reason: string;
  };
}

/** What a check returns; the engine adds `check`, `fingerprint` and `docs`. */
export interface FindingDraft {
  readonly level?: Level;
  readonly title?: string;
  readonly message: string;
  readonly object: FindingObject;
  readonly roles?: readonly string[];
  readonly remediation: Remediation;
  /** Extra part of the fingerprint when one object can carry several findings of a check. */
  readonly detail?: string;
  /** Structured evidence for reports and the interactive review (grant, policy text, estimates). */
  readonly evidence?: Readonly<Record<string, unknown>>;
  /** How to prove it in the database (rolled back): run with --probe-writes and on embedded targets. */
  readonly exploit?: ExploitPlan | ReachPlan | BypassPlan;
}

export interface Finding {
  readonly check: string;
  readonly level: Level;
  readonly fingerprint: string;
  readonly title: string;
  readonly message: string;
  readonly object: FindingObject;
  readonly roles: readonly string[];
  readonly remediation: Remediation;
  readonly docs: string;
  readonly evidence?: Readonly<Record<string, unknown>>;
  /** The migration file and line that created the object, when the target was loaded from migrations. */
  readonly location?: { readonly file: string; readonly line: number };
  /** The rolled-back exploit's outcome, when it ran. */
  readonly proof?: Proof;
  /** STRIDE categories of the threat (src/model/stride.ts). */
  readonly stride?: readonly Stride[];
}

/**
 * Stable identity of a finding: `check:schema.object[.column|.policy][:detail]`.
 * No OIDs, no timestamps: suppressions, baselines and SARIF key on it.
 */
export function fingerprint(check: string, object: FindingObject, detail?: string): string {
  let subject = `${object.schema}.${object.name}`;
  if (object.column !== undefined) subject += `.${object.column}`;
  if (object.policy !== undefined) subject += `.${object.policy}`;
  if (object.function !== undefined) subject += `.${object.function}`;
  return detail === undefined ? `${check}:${subject}` : `${check}:${subject}:${detail}`;
}
