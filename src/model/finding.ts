import type { Level } from './level.ts';

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
