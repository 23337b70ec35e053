import { allChecks } from '../../checks/index.ts';
import { introspect } from '../introspect/index.ts';
import type { Target } from '../introspect/targets/index.ts';
import type { Check, CheckOptions } from '../model/check.ts';
import type { Level } from '../model/level.ts';
import type { Report } from '../model/report.ts';
import type { Snapshot } from '../model/snapshot.ts';
import { initPolicyParser } from '../policy/index.ts';
import { blastRadius, toReportEntries } from '../score/blast-radius.ts';
import { VERSION } from '../version.ts';
import { evaluate, summarize } from './evaluate.ts';

export interface AuditOptions {
  readonly exposedSchemas?: readonly string[];
  readonly checkOptions?: CheckOptions;
  readonly levels?: Readonly<Record<string, Level>>;
  readonly disabled?: readonly string[];
  readonly checks?: readonly Check[];
  readonly statementTimeoutMs?: number;
  readonly lockTimeoutMs?: number;
  readonly onStage?: (stage: string) => void;
}

export interface AuditResult {
  readonly report: Report;
  readonly snapshot: Snapshot;
}

/** Opens the target, reads the catalog, runs the checks, and always closes the connection. */
export async function runAudit(target: Target, options: AuditOptions = {}): Promise<AuditResult> {
  const started = performance.now();
  options.onStage?.(target.kind === 'url' ? 'connect' : 'load migrations');
  const opened = await target.open();
  let snapshot: Snapshot;
  let queries: number;
  const introStart = performance.now();
  try {
    snapshot = await introspect(opened.session, {
      exposedSchemas: options.exposedSchemas,
      configTomlSchemas: target.configTomlSchemas,
      statementTimeoutMs: options.statementTimeoutMs,
      lockTimeoutMs: options.lockTimeoutMs,
      onStage: options.onStage,
    });
    queries = opened.session.roundTrips;
  } finally {
    await opened.session.close();
  }
  const introspectionMs = performance.now() - introStart;
  snapshot = { ...snapshot, notes: [...opened.notes, ...snapshot.notes] };
  options.onStage?.('parse policies');
  await initPolicyParser();
  options.onStage?.('checks');
  const report = buildReport(snapshot, target, options, { started, introspectionMs, queries });
  return { report, snapshot };
}

export function buildReport(
  snapshot: Snapshot,
  target: Pick<Target, 'kind' | 'description'>,
  options: AuditOptions,
  timing: { started: number; introspectionMs: number; queries: number },
): Report {
  const checksStart = performance.now();
  const evaluation = evaluate(snapshot, options.checks ?? allChecks, {
    checkOptions: options.checkOptions,
    levels: options.levels,
    disabled: options.disabled,
  });
  const checksMs = performance.now() - checksStart;
  return {
    schemaVersion: 1,
    tool: { name: 'supaudit', version: VERSION },
    target: {
      kind: target.kind,
      database: snapshot.database,
      serverVersion: snapshot.serverVersion,
      description: target.description,
    },
    exposedSchemas: { schemas: snapshot.exposedSchemas, source: snapshot.exposedSchemasSource },
    summary: summarize(evaluation.findings),
    findings: evaluation.findings,
    blastRadius: toReportEntries(evaluation.context.memo('blast-radius', () => blastRadius(evaluation.context))),
    notes: snapshot.notes,
    checkErrors: evaluation.errors,
    stats: {
      durationMs: Math.round(performance.now() - timing.started),
      queries: timing.queries,
      introspectionMs: Math.round(timing.introspectionMs),
      checksMs: Math.round(checksMs),
      checksRun: evaluation.checksRun,
      objects: {
        relations: snapshot.relations.length,
        policies: snapshot.policies.length,
        functions: snapshot.functions.length,
      },
    },
  };
}
