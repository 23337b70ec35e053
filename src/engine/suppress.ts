/**
 * Suppressions: findings a team has accepted, with the reason. Two sources: entries of
 * `supaudit.ignore.json`, and `-- supaudit-ignore <check>: <reason>` lines in the COMMENT of the
 * object in the database. Pure: the caller reads the file and passes today's date.
 */
import type { Finding, FindingObject } from '../model/finding.ts';
import type { SuppressedFinding } from '../model/report.ts';
import type { IntrospectionNote, Snapshot } from '../model/snapshot.ts';

export interface Suppression {
  readonly fingerprint?: string;
  readonly check?: string;
  /** Glob on `schema.name` or `schema.name.column|policy|function`: `*` any text, `?` one character. */
  readonly object?: string;
  readonly reason: string;
  /** Last day (YYYY-MM-DD) the suppression applies. */
  readonly expires?: string;
  readonly by?: string;
  /** The file it came from, for notes. */
  readonly file: string;
}

export interface SuppressionOutcome {
  readonly findings: Finding[];
  readonly suppressed: SuppressedFinding[];
  readonly notes: IntrospectionNote[];
}

export type CommentSource = Pick<Snapshot, 'relations' | 'policies' | 'functions'>;

/** A directive is a line of its own: quoted in prose ("add -- supaudit-ignore x: y to ...") it does not count. */
const DIRECTIVE = /^[ \t]*--[ \t]*supaudit-ignore[ \t]+([A-Za-z0-9_]+)[ \t]*:?([^\n]*)$/gm;

/** `-- supaudit-ignore <check>: <reason>` directives in a comment; reason may be empty (then it does not count). */
export function parseIgnoreDirectives(comment: string | null | undefined): { check: string; reason: string }[] {
  if (!comment) return [];
  return [...comment.matchAll(DIRECTIVE)].map((m) => ({ check: m[1]!, reason: (m[2] ?? '').trim() }));
}

/**
 * `*` (any run) and `?` (one character) matching, in O(pattern × text) time whatever the pattern:
 * the classic greedy matcher with one backtrack point (a regular expression of many `.*` can take
 * exponential time on a near miss).
 */
export function globMatch(glob: string, text: string): boolean {
  const p = [...glob];
  const t = [...text];
  let pi = 0;
  let ti = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || (p[pi] !== '*' && p[pi] === t[ti]))) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = ti;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++mark;
    } else return false;
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

function subjects(o: FindingObject): string[] {
  const base = `${o.schema}.${o.name}`;
  const part = o.column ?? o.policy ?? o.function;
  return part === undefined ? [base] : [base, `${base}.${part}`];
}

export function matches(entry: Suppression, finding: Finding): boolean {
  if (entry.fingerprint !== undefined && entry.fingerprint !== finding.fingerprint) return false;
  if (entry.check !== undefined && entry.check !== finding.check) return false;
  if (entry.object !== undefined) {
    const glob = entry.object;
    if (!subjects(finding.object).some((s) => globMatch(glob, s))) return false;
  }
  return entry.fingerprint !== undefined || entry.check !== undefined;
}

interface CommentIndex {
  readonly relations: ReadonlyMap<string, CommentSource['relations'][number]>;
  readonly policies: ReadonlyMap<string, string | null>;
  readonly functions: ReadonlyMap<string, string | null>;
}

const key = (...parts: string[]) => parts.join('\u0000');

function indexComments(db: CommentSource): CommentIndex {
  return {
    relations: new Map(db.relations.map((r) => [key(r.schema, r.name), r])),
    policies: new Map(db.policies.map((p) => [key(p.schema, p.table, p.name), p.comment])),
    functions: new Map(db.functions.map((f) => [key(f.schema, f.name, `${f.name}(${f.identityArgs})`), f.comment])),
  };
}

/** The comments that may carry a directive for the finding: its own object's first, then its table's. */
function commentsFor(finding: Finding, db: CommentIndex): { on: string; text: string }[] {
  const o = finding.object;
  const out: { on: string; text: string | null | undefined }[] = [];
  if (o.type === 'function') {
    out.push({ on: `function ${o.schema}.${o.function ?? o.name}`, text: db.functions.get(key(o.schema, o.name, o.function ?? `${o.name}()`)) });
  } else {
    const rel = db.relations.get(key(o.schema, o.name));
    if (o.policy !== undefined) out.push({ on: `policy ${o.policy} on ${o.schema}.${o.name}`, text: db.policies.get(key(o.schema, o.name, o.policy)) });
    if (o.column !== undefined) out.push({ on: `column ${o.schema}.${o.name}.${o.column}`, text: rel?.columns.find((c) => c.name === o.column)?.comment });
    out.push({ on: `${o.schema}.${o.name}`, text: rel?.comment });
  }
  return out.filter((c): c is { on: string; text: string } => Boolean(c.text));
}

/**
 * Moves suppressed findings out of `findings`. An entry past its `expires` date suppresses
 * nothing: the finding stays and a note says the suppression expired.
 */
export function applySuppressions(findings: readonly Finding[], entries: readonly Suppression[], db: CommentSource, today: string): SuppressionOutcome {
  const kept: Finding[] = [];
  const suppressed: SuppressedFinding[] = [];
  const notes: IntrospectionNote[] = [];
  const warned = new Set<string>();
  const comments = indexComments(db);
  for (const finding of findings) {
    const matching = entries.filter((e) => matches(e, finding));
    const active = matching.find((e) => e.expires === undefined || e.expires >= today);
    if (active) {
      suppressed.push({
        finding,
        reason: active.reason,
        ...(active.by !== undefined ? { by: active.by } : {}),
        ...(active.expires !== undefined ? { expires: active.expires } : {}),
        source: 'file',
      });
      continue;
    }
    for (const e of matching) {
      notes.push({ area: 'suppressions', message: `suppression for ${finding.fingerprint} expired on ${e.expires} (reason: ${e.reason}); the finding is reported again (${e.file})` });
    }
    const fromComment = commentsFor(finding, comments)
      .flatMap((c) => parseIgnoreDirectives(c.text).map((d) => ({ ...d, on: c.on })))
      .filter((d) => d.check === finding.check);
    const usable = fromComment.find((d) => d.reason !== '');
    if (usable) {
      suppressed.push({ finding, reason: usable.reason, source: 'comment' });
      continue;
    }
    const bare = fromComment[0];
    if (bare && !warned.has(`${bare.on}\u0000${bare.check}`)) {
      warned.add(`${bare.on}\u0000${bare.check}`);
      notes.push({ area: 'suppressions', message: `the comment on ${bare.on} has "supaudit-ignore ${bare.check}" without a reason, so it suppresses nothing (write "-- supaudit-ignore ${bare.check}: <reason>")` });
    }
    kept.push(finding);
  }
  return { findings: kept, suppressed, notes };
}
