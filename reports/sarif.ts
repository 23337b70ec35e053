/**
 * SARIF 2.1.0 for GitHub code scanning and other SARIF viewers. Rules come from the checks that
 * ran, each with its doc as help; each finding is a result keyed by its fingerprint
 * (`partialFingerprints`), located at the migration file and line that created its object, or at
 * its line of the schema file the CLI writes beside the report (`withSchemaFile`), plus the
 * logical location `schema.object`. Suppressed findings are results with an accepted suppression.
 */
import { createHash } from 'node:crypto';
import type { Location, Log, ReportingDescriptor, Result } from 'sarif';
import type { Finding } from '../src/model/finding.ts';
import type { Level } from '../src/model/level.ts';
import type { Report, ReportCheck } from '../src/model/report.ts';
import { redact } from '../src/model/redact.ts';
import { INVISIBLE_CLASS } from '../src/model/ident.ts';
import { visibleText } from './_format.ts';
import { absoluteDocsUrl, PROJECT_URL } from './_links.ts';
import { checkDoc } from '../src/docs.ts';
import { objectPath } from './_report.ts';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
export const FINGERPRINT_KEY = 'supauditFingerprint/v1';

export function sarifLevel(level: Level): Result.level {
  switch (level) {
    case 'critical':
    case 'high':
      return 'error';
    case 'medium':
      return 'warning';
    default:
      return 'note';
  }
}

/** GitHub's `security-severity` (0–10): ≥9 critical, 7–8.9 high, 4–6.9 medium, 0.1–3.9 low, 0 none. */
const SECURITY_SEVERITY: Record<Level, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '0.0' };

/** `rls_disabled_in_public` → `RlsDisabledInPublic`: SARIF's human-readable rule name. */
function ruleName(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

function rule(check: ReportCheck): ReportingDescriptor {
  const helpUri = absoluteDocsUrl(check.docs);
  const doc = checkDoc(check.id);
  const tags: string[] = [check.category, check.facing === 'external' ? 'api-facing' : 'internal', 'supabase', 'postgres'];
  const pointer = helpUri ?? `supaudit explain ${check.id}`;
  return {
    id: check.id,
    name: ruleName(check.id),
    shortDescription: { text: check.title },
    fullDescription: { text: check.description },
    // The check's own doc (why, how to fix, bad and good SQL, false positives), shipped with supaudit.
    help: doc
      ? { text: doc, markdown: doc }
      : { text: `${check.description}\n\nMore: ${pointer}`, markdown: `${check.description}\n\nMore: \`${pointer}\`` },
    ...(helpUri ? { helpUri } : {}),
    defaultConfiguration: { level: sarifLevel(check.level) },
    properties: {
      tags,
      ...(check.category === 'security' ? { 'security-severity': SECURITY_SEVERITY[check.level] } : {}),
      ...(check.splinter ? { splinter: check.splinter } : {}),
    },
  };
}

/** A rule for a finding whose check is not listed in `report.checks` (reports built by hand). */
function fallbackCheck(f: Finding): ReportCheck {
  return { id: f.check, title: f.title, level: f.level, category: 'security', description: f.title, facing: 'external', docs: f.docs };
}

function location(f: Finding): Location {
  const logical = { fullyQualifiedName: visibleText(objectPath(f.object)), name: visibleText(f.object.policy ?? f.object.column ?? f.object.function ?? f.object.name), kind: f.object.type };
  if (!f.location) return { logicalLocations: [logical] };
  return {
    physicalLocation: {
      artifactLocation: { uri: encodeURI(f.location.file.replaceAll('\\', '/')).replace(/[?#]/g, encodeURIComponent), uriBaseId: 'SRCROOT' },
      region: { startLine: Math.max(1, f.location.line) },
    },
    logicalLocations: [logical],
  };
}

/** The report as one SARIF log with one run. */
export function toSarif(report: Report): Log {
  const checks = [...report.checks];
  const known = new Set(checks.map((c) => c.id));
  for (const f of [...report.findings, ...report.suppressed.map((s) => s.finding)]) {
    if (!known.has(f.check)) {
      checks.push(fallbackCheck(f));
      known.add(f.check);
    }
  }
  const index = new Map(checks.map((c, i) => [c.id, i]));
  const newSinceBaseline = report.baseline ? new Set(report.baseline.new) : null;
  const result = (f: Finding): Result => ({
    ruleId: f.check,
    ruleIndex: index.get(f.check)!,
    level: sarifLevel(f.level),
    message: { text: visibleText(f.message) },
    locations: [location(f)],
    // GitHub matches alerts across runs by primaryLocationLineHash: derived from the fingerprint,
    // an alert follows its object when a migration moves it to another line.
    partialFingerprints: { [FINGERPRINT_KEY]: f.fingerprint, primaryLocationLineHash: `${createHash('sha256').update(f.fingerprint).digest('hex').slice(0, 16)}:1` },
    ...(newSinceBaseline ? { baselineState: newSinceBaseline.has(f.fingerprint) ? 'new' : 'unchanged' } : {}),
    properties: {
      supauditLevel: f.level,
      title: visibleText(f.title),
      roles: [...f.roles],
      remediation: visibleText(f.remediation.text),
      ...(f.remediation.sql ? { fixSql: f.remediation.sql } : {}),
      ...(f.proof ? { proof: f.proof } : {}),
      ...(f.stride && f.stride.length > 0 ? { stride: [...f.stride] } : {}),
    },
  });
  const results: Result[] = [
    ...report.findings.map(result),
    ...report.suppressed.map((s) => ({
      ...result(s.finding),
      suppressions: [
        {
          kind: s.source === 'comment' ? ('inSource' as const) : ('external' as const),
          status: 'accepted' as const,
          justification: s.reason,
          ...(s.by || s.expires ? { properties: { ...(s.by ? { by: s.by } : {}), ...(s.expires ? { expires: s.expires } : {}) } } : {}),
        },
      ],
    })),
  ];
  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'supaudit',
            version: report.tool.version,
            semanticVersion: report.tool.version,
            ...(PROJECT_URL ? { informationUri: PROJECT_URL } : {}),
            rules: checks.map(rule),
          },
        },
        originalUriBaseIds: { SRCROOT: { description: { text: 'The folder supaudit ran in (migration paths are relative to it).' } } },
        results,
        columnKind: 'utf16CodeUnits',
        properties: {
          target: { kind: report.target.kind, database: report.target.database, serverVersion: report.target.serverVersion },
          summary: report.summary,
          ...(report.baseline ? { baseline: { file: report.baseline.file, new: report.baseline.new.length, fixed: [...report.baseline.fixed] } } : {}),
          notes: report.notes.map((n) => `${n.area}: ${n.message}`),
        },
        ...(report.checkErrors.length > 0 || (report.inconclusive ?? []).length > 0
          ? {
              invocations: [
                {
                  executionSuccessful: true,
                  toolExecutionNotifications: [
                    ...report.checkErrors.map((e) => ({
                      level: 'error' as const,
                      message: { text: `check ${e.check} failed: ${e.message}` },
                      descriptor: { id: e.check },
                    })),
                    ...(report.inconclusive ?? []).map((i) => ({
                      level: 'warning' as const,
                      message: { text: `check ${i.check} inconclusive: ${i.reason}` },
                      descriptor: { id: i.check },
                    })),
                  ],
                },
              ],
            }
          : {}),
      },
    ],
  };
}

/** Invisible characters, less the C0 controls JSON.stringify already escapes (and the layout's own newlines). */
const INVISIBLE_OUTSIDE_JSON_ESCAPES = new RegExp(`(?![\\u0000-\\u001f])${INVISIBLE_CLASS}`, 'gu');

export function renderSarif(report: Report): string {
  // Identity strings (fingerprints, rule ids) keep their characters, written as JSON escapes: no
  // invisible character reaches a viewer raw.
  const json = redact(JSON.stringify(toSarif(report), null, 2));
  return json.replace(INVISIBLE_OUTSIDE_JSON_ESCAPES, (ch) => Array.from({ length: ch.length }, (_, i) => `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')) + '\n';
}
