/**
 * A file location for every finding. Code scanning (GitHub, GitLab) accepts a SARIF result only
 * with a physical location, and annotations need a file and line. Findings whose object the
 * migrations created already point at that migration; for the others (a live database with no
 * project folder, objects made by hand or by the platform) supaudit writes a schema file beside
 * the report: one line per object the findings name, sorted, each a definition read from the
 * catalog snapshot (columns, policy expressions, function signatures; no function bodies, no
 * data; secrets masked as in every report), and points each finding at its object's line. The file
 * is generated, never a migration to run.
 */
import type { Finding, FindingObject } from '../model/finding.ts';
import { qualified, quoteIdent } from '../model/ident.ts';
import { redact } from '../model/redact.ts';
import type { Report } from '../model/report.ts';
import type { FunctionInfo, Policy, Relation, Snapshot } from '../model/snapshot.ts';

export const SCHEMA_FILE_NAME = 'supaudit-schema.sql';

/** One line: collapses whitespace so a definition never spans lines (line numbers stay one per object). */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Object types defined by a relation's line (a column finding points at its table's line). */
const RELATION_TYPES: ReadonlySet<string> = new Set(['table', 'view', 'materialized_view', 'foreign_table', 'column']);

function objectKey(o: FindingObject): string {
  if (o.type === 'policy') return `policy\u0000${o.schema}\u0000${o.name}\u0000${o.policy ?? ''}`;
  if (o.type === 'function') return `function\u0000${o.schema}\u0000${o.function ?? o.name}`;
  if (RELATION_TYPES.has(o.type)) return `relation\u0000${o.schema}\u0000${o.name}`;
  return `${o.type}\u0000${o.schema}\u0000${o.name}`;
}

interface Index {
  readonly relations: ReadonlyMap<string, Relation>;
  readonly policies: ReadonlyMap<string, Policy>;
  readonly functions: ReadonlyMap<string, FunctionInfo>;
}

function indexOf(snapshot: Snapshot): Index {
  return {
    relations: new Map(snapshot.relations.map((r) => [`${r.schema}\u0000${r.name}`, r])),
    policies: new Map(snapshot.policies.map((p) => [`${p.schema}\u0000${p.table}\u0000${p.name}`, p])),
    functions: new Map(snapshot.functions.map((f) => [`${f.schema}\u0000${f.name}(${f.identityArgs})`, f])),
  };
}

function definition(o: FindingObject, index: Index): string {
  const rel = index.relations.get(`${o.schema}\u0000${o.name}`);
  if (o.type === 'policy') {
    const p = index.policies.get(`${o.schema}\u0000${o.name}\u0000${o.policy ?? ''}`);
    if (!p) return `-- policy ${quoteIdent(o.policy ?? '')} on ${qualified(o.schema, o.name)}`;
    const roles = p.roles.map((r) => (r === 'PUBLIC' ? 'public' : quoteIdent(r))).join(', ');
    const using = p.using !== null ? ` USING (${oneLine(p.using)})` : '';
    const check = p.withCheck !== null ? ` WITH CHECK (${oneLine(p.withCheck)})` : '';
    return `CREATE POLICY ${quoteIdent(p.name)} ON ${qualified(p.schema, p.table)} AS ${p.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'} FOR ${p.command} TO ${roles}${using}${check};`;
  }
  if (o.type === 'function') {
    const signature = o.function ?? `${o.name}()`;
    const fn = index.functions.get(`${o.schema}\u0000${signature}`);
    if (!fn) return `-- function ${o.schema}.${signature}`;
    const config = fn.config.length > 0 ? ` SET ${fn.config.map((c) => oneLine(c)).join(' SET ')}` : '';
    return `CREATE FUNCTION ${qualified(fn.schema, fn.name)}(${fn.identityArgs}) RETURNS ${fn.returnsSet ? 'SETOF ' : ''}${fn.returnType} LANGUAGE ${fn.language} ${fn.volatility.toUpperCase()}${fn.securityDefiner ? ' SECURITY DEFINER' : ''}${config} AS $$ … $$;`;
  }
  if (rel && RELATION_TYPES.has(o.type)) {
    const columns = rel.columns.map((c) => `${quoteIdent(c.name)} ${c.type}${c.notNull ? ' NOT NULL' : ''}`).join(', ');
    switch (rel.kind) {
      case 'view':
        return `CREATE VIEW ${qualified(rel.schema, rel.name)} AS ${oneLine(rel.viewDefinition ?? '…')}`.replace(/;?$/, ';');
      case 'materialized_view':
        return `CREATE MATERIALIZED VIEW ${qualified(rel.schema, rel.name)} AS ${oneLine(rel.viewDefinition ?? '…')}`.replace(/;?$/, ';');
      case 'foreign_table':
        return `CREATE FOREIGN TABLE ${qualified(rel.schema, rel.name)} (${columns});`;
      default:
        return `CREATE TABLE ${qualified(rel.schema, rel.name)} (${columns})${rel.rlsEnabled ? '; -- row level security enabled' : ';'}`;
    }
  }
  return `-- ${o.type.replace('_', ' ')} ${o.type === 'bucket' || o.type === 'extension' || o.type === 'schema' ? quoteIdent(o.name) : qualified(o.schema, o.name)}`;
}

/**
 * Gives every finding without a migration location a line of the generated schema file `path`
 * (relative to the folder supaudit runs in, as SARIF's SRCROOT); returns the file's text, or null
 * when every finding was already located.
 */
export function withSchemaFile(report: Report, snapshot: Snapshot, path: string): { report: Report; text: string | null } {
  const all = [...report.findings, ...report.suppressed.map((s) => s.finding)];
  const objects = new Map<string, FindingObject>();
  for (const f of all) if (!f.location) objects.set(objectKey(f.object), f.object);
  if (objects.size === 0) return { report, text: null };
  const header = [
    `-- ${SCHEMA_FILE_NAME}: written by supaudit ${report.tool.version} beside its report, so that every finding has a file and line.`,
    `-- One line per object a finding names, read from the catalog of ${oneLine(report.target.description ?? report.target.database ?? 'the audited database')}; function bodies left out.`,
    '-- Generated: not a migration, do not run it.',
    '',
  ];
  const keys = [...objects.keys()].sort();
  const lines = new Map(keys.map((k, i) => [k, header.length + i + 1]));
  const index = indexOf(snapshot);
  // Definitions are the catalog's own text: a view or policy may hold a key or a URL's password, and
  // this file sits beside the reports (and is uploaded with them), so it is masked the same way.
  const text = redact([...header, ...keys.map((k) => definition(objects.get(k)!, index))].join('\n') + '\n');
  const place = (f: Finding): Finding => (f.location ? f : { ...f, location: { file: path, line: lines.get(objectKey(f.object))! } });
  return {
    report: { ...report, findings: report.findings.map(place), suppressed: report.suppressed.map((s) => ({ ...s, finding: place(s.finding) })) },
    text,
  };
}
