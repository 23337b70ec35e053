/**
 * The app's supabase calls (src/app/usage.ts) set against the audited schema: for each exposed
 * table, function and bucket, where the app uses it or that it does not; on each finding about one
 * of them, where the app uses it (`evidence.usedBy`, and a sentence in the message). Pure: a
 * post-step over the report, like withProofs.
 */
import type { AppCall, AppObject, AppReport, AppUsage, AppUseRef } from '../model/app.ts';
import type { Finding } from '../model/finding.ts';
import type { Report } from '../model/report.ts';
import { API_ROLES, isSystemSchema } from '../model/schemas.ts';
import type { FunctionInfo, Relation, Snapshot } from '../model/snapshot.ts';
import { literalPattern } from '../model/sql-text.ts';

/** Checks whose object only stands for a role's whole reach (its largest table): what the app does with that one table says nothing about them. */
const SUMMARY_CHECKS = new Set(['blast_radius_anon', 'blast_radius_authenticated', 'blast_radius_custom_role']);

/** Places named in a finding's message; `evidence.usedBy` holds a few more. */
const SHOWN_IN_MESSAGE = 2;
const IN_EVIDENCE = 5;

export function withAppUsage(report: Report, snapshot: Snapshot, usage: AppUsage | undefined, root: string): Report {
  if (!usage) return report;
  const app = appReport(report, snapshot, usage, root);
  const annotate = (f: Finding) => annotateFinding(f, app);
  return {
    ...report,
    findings: report.findings.map(annotate),
    suppressed: report.suppressed.map((s) => ({ ...s, finding: annotate(s.finding) })),
    app,
    notes: [...report.notes, ...unexposedClientSchemas(snapshot, usage)],
  };
}

/**
 * Schemas the app's client or calls use (`db: { schema: 'api' }`, `.schema('api')`) that the audit
 * does not take as exposed, though the database has them: production must expose them for the app
 * to work, so what anon and users reach there was left out. Said, with the flag that audits it.
 */
function unexposedClientSchemas(snapshot: Snapshot, usage: AppUsage): Report['notes'] {
  const exposed = new Set(snapshot.exposedSchemas);
  const present = new Set([...snapshot.relations.map((r) => r.schema), ...snapshot.functions.map((f) => f.schema)]);
  const used = new Map<string, string>();
  for (const c of usage.clientSchemas ?? []) if (!used.has(c.schema)) used.set(c.schema, `${c.file}:${c.line}`);
  // A Realtime subscription names its schema too, but Realtime does not need it exposed: PostgREST calls only.
  for (const c of usage.calls) if (c.kind !== 'channel' && c.schema !== undefined && !used.has(c.schema)) used.set(c.schema, `${c.file}:${c.line}`);
  return [...used]
    .filter(([schema]) => !exposed.has(schema) && present.has(schema) && !isSystemSchema(schema))
    .map(([schema, at]) => ({
      area: 'app',
      message:
        `the app uses schema ${schema} (${at}), which this audit does not take as exposed (${snapshot.exposedSchemas.join(', ')}), yet the database has it: ` +
        `production must expose it for the app to work, and what anon and signed-in users reach there was not audited; run again with --schemas ${[...snapshot.exposedSchemas, schema].join(',')}`,
    }));
}

/** `report.app`: the calls, each exposed object with its uses (or why it has none), and calls to names the schema lacks. */
export function appReport(report: Pick<Report, 'blastRadius'>, snapshot: Snapshot, usage: AppUsage, root: string): AppReport {
  const exposed = new Set(snapshot.exposedSchemas);
  const relations = snapshot.relations.filter((r) => exposed.has(r.schema) && r.extension === null && !isSystemSchema(r.schema) && !r.isPartition);
  const functions = uniqueBy(
    snapshot.functions.filter((f) => exposed.has(f.schema) && f.extension === null && !isSystemSchema(f.schema) && f.kind === 'function' && f.returnType !== 'trigger' && f.returnType !== 'event_trigger'),
    (f) => `${f.schema}.${f.name}`,
  );
  const reach = apiReach(report);
  const dynamicKinds = new Set(usage.dynamic.map((d) => (d.kind === 'channel' ? 'table' : d.kind)));
  // "Unused" is a claim about the whole app: only a complete scan that saw the client at work, with
  // no call of that kind whose name it could not read, may make it.
  const unusedStatus = (kind: 'table' | 'rpc' | 'bucket'): AppObject['status'] => (usage.complete && usage.calls.length > 0 && !dynamicKinds.has(kind) ? 'unused' : 'not_seen');
  const matched = new Set<AppCall>();
  const usesOf = (test: (c: AppCall) => boolean): AppUseRef[] => {
    const hits = usage.calls.filter(test);
    for (const c of hits) matched.add(c);
    return sortRefs(hits.map(toRef));
  };
  const inSchema = (c: AppCall, schema: string) => c.schema === undefined || c.schema === schema;
  const objects: AppObject[] = [
    ...relations.map((r): AppObject => {
      const usedBy = usesOf((c) => (c.kind === 'table' || c.kind === 'channel') && (c.name === r.name || (c.kind === 'channel' && c.name === '*')) && inSchema(c, r.schema));
      return status('table', r.schema, r.name, reach.get(`table ${r.schema}.${r.name}`) ?? [], usedBy, () => relationUsers(snapshot, r), unusedStatus('table'));
    }),
    ...functions.map((fn): AppObject => {
      const usedBy = usesOf((c) => c.kind === 'rpc' && c.name === fn.name && inSchema(c, fn.schema));
      return status('function', fn.schema, fn.name, reach.get(`function ${fn.schema}.${fn.name}`) ?? [], usedBy, () => functionUsers(snapshot, fn), unusedStatus('rpc'));
    }),
    ...snapshot.buckets.map((b): AppObject => {
      const usedBy = usesOf((c) => c.kind === 'bucket' && (c.name === b.id || c.name === b.name));
      return status('bucket', 'storage', b.id, [], usedBy, () => [], unusedStatus('bucket'));
    }),
  ];
  const unknown = new Map<string, { kind: AppCall['kind']; schema?: string; name: string; usedBy: AppUseRef[] }>();
  for (const c of usage.calls) {
    if (matched.has(c) || c.name === '*') continue;
    const key = `${c.kind === 'channel' ? 'table' : c.kind}\u0000${c.schema ?? ''}\u0000${c.name}`;
    const entry = unknown.get(key) ?? { kind: c.kind === 'channel' ? 'table' : c.kind, ...(c.schema !== undefined ? { schema: c.schema } : {}), name: c.name, usedBy: [] };
    entry.usedBy.push(toRef(c));
    unknown.set(key, entry);
  }
  return {
    root,
    ...usage,
    objects,
    unknown: [...unknown.values()].map((u) => ({ ...u, usedBy: sortRefs(u.usedBy) })),
  };
}

function status(
  type: AppObject['type'],
  schema: string,
  name: string,
  roles: readonly string[],
  usedBy: readonly AppUseRef[],
  users: () => string[],
  unused: AppObject['status'],
): AppObject {
  if (usedBy.length > 0) return { type, schema, name, roles, status: 'used', usedBy };
  const referencedBy = users();
  if (referencedBy.length > 0) return { type, schema, name, roles, status: 'database', usedBy, referencedBy };
  return { type, schema, name, roles, status: unused, usedBy };
}

/** Which API roles reach each table (any privilege that reaches rows) and function, from the blast radius. */
function apiReach(report: Pick<Report, 'blastRadius'>): Map<string, string[]> {
  const reach = new Map<string, string[]>();
  const add = (key: string, role: string) => reach.set(key, [...(reach.get(key) ?? []), role]);
  for (const radius of report.blastRadius) {
    if (!(API_ROLES as readonly string[]).includes(radius.role)) continue;
    for (const t of radius.tables) if ((t.select && t.rows !== 'none') || t.insert || t.update || t.delete) add(`table ${t.schema}.${t.name}`, radius.role);
    for (const f of radius.functions) add(`function ${f.schema}.${f.name}`, radius.role);
  }
  return reach;
}

/**
 * Policies of other tables, views and functions that name the table. A policy runs as the caller:
 * if one of them reads this table, the API roles need it even though the app never names it.
 */
function relationUsers(snapshot: Snapshot, r: Relation): string[] {
  const names = mentions(r.name);
  return [
    ...snapshot.policies.filter((p) => !(p.schema === r.schema && p.table === r.name) && names([p.using, p.withCheck])).map((p) => `policy ${p.schema}.${p.table}.${p.name}`),
    ...snapshot.relations.filter((v) => v !== r && names([v.viewDefinition])).map((v) => `view ${v.schema}.${v.name}`),
    ...snapshot.functions.filter((f) => f.extension === null && names([f.source])).map((f) => `function ${f.schema}.${f.name}`),
  ].slice(0, 3);
}

/** Policies, views, defaults, constraints and other functions that call the function (they need EXECUTE as the caller). */
function functionUsers(snapshot: Snapshot, fn: FunctionInfo): string[] {
  const names = mentions(fn.name);
  return [
    ...snapshot.policies.filter((p) => names([p.using, p.withCheck])).map((p) => `policy ${p.schema}.${p.table}.${p.name}`),
    ...snapshot.relations.filter((v) => names([v.viewDefinition, ...v.columns.map((c) => c.default)])).map((v) => `${v.viewDefinition !== null ? 'view' : 'table'} ${v.schema}.${v.name}`),
    ...snapshot.constraints.filter((c) => c.type === 'check' && names([c.definition])).map((c) => `constraint ${c.schema}.${c.table}.${c.name}`),
    ...snapshot.functions.filter((f) => f.extension === null && !(f.schema === fn.schema && f.name === fn.name) && names([f.source])).map((f) => `function ${f.schema}.${f.name}`),
  ].slice(0, 3);
}

/** Does any of these SQL texts name the identifier (as a whole word, quoted or not)? */
function mentions(name: string): (texts: readonly (string | null | undefined)[]) => boolean {
  const escaped = literalPattern(name);
  const word = new RegExp(`(^|[^\\w$])"?${escaped}"?(?![\\w$])`);
  return (texts) => texts.some((t) => t != null && word.test(t));
}

function toRef(c: AppCall): AppUseRef {
  const operations = c.kind === 'channel' ? c.operations.map((o) => `realtime ${o}`) : c.kind === 'rpc' ? [] : c.operations;
  return { file: c.file, line: c.line, side: c.side, serviceRole: c.serviceRole, operations: operations.length === 0 && c.kind === 'channel' ? ['realtime'] : operations };
}

/** Calls with the API roles first (they constrain a fix), then by file and line; each place once. */
function sortRefs(refs: readonly AppUseRef[]): AppUseRef[] {
  const merged = new Map<string, AppUseRef>();
  for (const r of refs) {
    const key = `${r.file}:${r.line}`;
    const had = merged.get(key);
    merged.set(key, had ? { ...had, operations: [...new Set([...had.operations, ...r.operations])] } : r);
  }
  return [...merged.values()].sort((a, b) => Number(a.serviceRole) - Number(b.serviceRole) || (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));
}

function uniqueBy<T>(items: readonly T[], key: (t: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}

/** `src/x.ts:12 (update; service role)`. */
export function useText(ref: AppUseRef): string {
  const said = [...ref.operations, ...(ref.serviceRole ? ['service role'] : [])];
  return `${ref.file}:${ref.line}${said.length > 0 ? ` (${said.join('; ')})` : ''}`;
}

/** The object a finding is about, as the app sees it: a function, a bucket, else a table (columns, policies and indexes sit on one). */
function objectFor(f: Finding, app: AppReport): AppObject | undefined {
  const o = f.object;
  const bucket = typeof f.evidence?.['bucket'] === 'string' ? (f.evidence['bucket'] as string) : o.type === 'bucket' ? o.name : undefined;
  if (bucket !== undefined) return app.objects.find((x) => x.type === 'bucket' && x.name === bucket);
  if (o.type === 'function') return app.objects.find((x) => x.type === 'function' && x.schema === o.schema && x.name === o.name);
  if (o.type === 'setting' || o.type === 'extension' || o.type === 'schema' || o.type === 'publication') return undefined;
  return app.objects.find((x) => x.type === 'table' && x.schema === o.schema && x.name === o.name);
}

/** `evidence.usedBy` and "Used by the app at …" on a finding about an object the app uses; "not used" when the scan can say so. */
function annotateFinding(f: Finding, app: AppReport): Finding {
  if (SUMMARY_CHECKS.has(f.check)) return f;
  const object = objectFor(f, app);
  if (!object) return f;
  if (object.status === 'used') {
    const shown = object.usedBy.slice(0, SHOWN_IN_MESSAGE).map(useText);
    const more = object.usedBy.length - shown.length;
    const places = more > 0 ? `${shown.join(', ')} and ${more} more place${more === 1 ? '' : 's'}` : shown.join(' and ');
    return {
      ...f,
      message: `${f.message} Used by the app at ${places}.`,
      evidence: { ...(f.evidence ?? {}), usedBy: object.usedBy.slice(0, IN_EVIDENCE), ...(object.usedBy.length > IN_EVIDENCE ? { usedByCount: object.usedBy.length } : {}) },
    };
  }
  if (object.status === 'unused') {
    return { ...f, message: `${f.message} Not used by the app (no call in ${app.files} file${app.files === 1 ? '' : 's'} read).`, evidence: { ...(f.evidence ?? {}), usedBy: [] } };
  }
  return f;
}
