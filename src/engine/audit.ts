import { allChecks } from '../../checks/index.ts';
import { introspect } from '../introspect/index.ts';
import type { Target } from '../introspect/targets/index.ts';
import { InconclusiveError, type Check, type CheckOptions } from '../model/check.ts';
import type { Level } from '../model/level.ts';
import { qualified } from '../model/ident.ts';
import type { LabReport, Report } from '../model/report.ts';
import type { IntrospectionNote, MigrationCatalog, Relation, Snapshot } from '../model/snapshot.ts';
import { initPolicyParser } from '../policy/index.ts';
import { probeTargets, runProbes, type ProbeCost, type RoleProbe } from '../introspect/probe.ts';
import { throwIfCancelled } from '../introspect/session.ts';
import { isSystemSchema } from '../model/schemas.ts';
import { blastRadius, toReportEntries, type RoleRadius } from '../score/blast-radius.ts';
import { apiAnswers, compareApi, compareProbes } from '../score/probe-compare.ts';
import { realtimeReport } from '../score/realtime.ts';
import type { ApiProbeOptions, ApiProbeResult } from '../introspect/api-probe.ts';
import type { BlastRadius, LoadReport } from '../model/report.ts';
import type { OpenedTarget } from '../introspect/targets/index.ts';
import { VERSION } from '../version.ts';
import { compareFindings, evaluate, summarize, type Evaluation } from './evaluate.ts';
import { UserError } from '../model/errors.ts';
import { locationKey, objectLocations, type LocationMap } from '../introspect/targets/locations.ts';
import type { Finding } from '../model/finding.ts';
import { explainTables, type ExplainResult } from '../introspect/explain.ts';
import { runExploits } from '../introspect/exploit.ts';
import { runLab } from '../lab/index.ts';
import { findingColumn, withLabVerdicts } from './lab-verdict.ts';
import { runLabOnCopy, type LabSource } from '../lab/copy.ts';
import { readDdlCatalog } from '../introspect/ddl-catalog.ts';
import { worldSummary, type World } from '../lab/world.ts';
import { effectGate, notAttemptedReason, readEffectCatalog, readSequenceValues, sequenceMovement, type EffectGate, type SequenceMovement } from '../introspect/effects.ts';
import type { Proof } from '../model/finding.ts';
import { levelRank, LEVELS } from '../model/level.ts';
import type { Session } from '../introspect/session.ts';
import unindexedPolicyColumn from '../../checks/unindexed_policy_column.ts';
import { docsUrl } from './evaluate.ts';
import { applySuppressions, type Suppression } from './suppress.ts';
import { scanApp, type ScanOptions } from '../app/usage.ts';
import { withAppUsage } from './app-usage.ts';

export interface AuditOptions {
  readonly exposedSchemas?: readonly string[];
  readonly checkOptions?: CheckOptions;
  readonly levels?: Readonly<Record<string, Level>>;
  readonly disabled?: readonly string[];
  readonly checks?: readonly Check[];
  readonly statementTimeoutMs?: number;
  readonly lockTimeoutMs?: number;
  readonly onStage?: (stage: string) => void;
  /** Run probes as each API role after introspection (`--probe`); writes only with `writes`. */
  readonly probe?: { readonly writes: boolean; readonly triggers: boolean };
  /** Ask the REST API what anon (and a user JWT) can see (`--api-url`, `--anon-key`, `--user-jwt`). */
  readonly apiProbe?: ApiProbeOptions;
  /** Aborting sends a cancel request for the statement in flight, closes the connection and sends nothing more. */
  readonly signal?: AbortSignal;
  /** `--explain`: plan `SELECT *` as authenticated on each table with policies (rolled back) and attach the cost to policy findings. */
  readonly explain?: boolean;
  /** Told what the write probes will run before they run. */
  readonly onProbePlan?: (plan: string) => void;
  /** Embedded targets: told what loads when it is large enough to take a while (see startEmbedded). */
  readonly onLoadPlan?: (plan: string) => void;
  /** Embedded targets: a migration statement that fails ends the audit (default: reported as a finding, loading goes on). */
  readonly strict?: boolean;
  /** List the static suspicions the lab refuted (`report.refuted`) instead of only counting them. */
  readonly verbose?: boolean;
  /** Entries of `supaudit.ignore.json` (`COMMENT` directives in the database always apply). */
  readonly suppressions?: readonly Suppression[];
  /** Today (YYYY-MM-DD) for suppression expiry; default: the current UTC date. */
  readonly today?: string;
  /** `supaudit load`: measure the policies as real users (see src/introspect/load.ts). */
  readonly load?: LoadSettings;
  /** false (`--no-lab`): no lab (no copy, world, matrix or attack search) on any target. */
  readonly lab?: boolean;
  /** The application's code to read for supabase calls (`--app`); `display` is how the report names the folder. */
  readonly app?: { readonly root: string; readonly display: string; readonly limits?: ScanOptions };
}

export interface LoadSettings {
  /** `schema.table` or `table`; default: every exposed table an API role may read, largest first. */
  readonly tables?: readonly string[];
  readonly maxTables: number;
  readonly concurrency: readonly number[];
  readonly durationMs: number;
  readonly maxSamples: number;
  readonly sloMs: number;
  readonly onProgress?: (text: string) => void;
  readonly onPlan?: (text: string) => void;
}

export interface AuditResult {
  readonly report: Report;
  readonly snapshot: Snapshot;
  /** Where each object was created, when the target was loaded from migrations (empty for a URL). */
  readonly locations: LocationMap;
}

/** Opens the target, reads the catalog, runs the checks, and always closes the connection. */
export async function runAudit(target: Target, options: AuditOptions = {}): Promise<AuditResult> {
  const started = performance.now();
  options.onStage?.(target.kind === 'url' ? 'connect' : 'load migrations');
  throwIfCancelled(options.signal);
  const opened = await target.open({
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onLoadPlan ? { onPlan: options.onLoadPlan } : {}),
    ...(options.strict ? { strict: true } : {}),
  });
  const onAbort = () => void opened.session.cancel?.().catch(() => undefined);
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let snapshot: Snapshot;
  let queries: number;
  let probes: RoleProbe[] | undefined;
  let probeCost: ProbeCost | null | undefined;
  let explained: ExplainResult | undefined;
  let proofs: Map<string, Proof> | undefined;
  let unproven = 0;
  let loaded: { report: LoadReport; notes: string[] } | undefined;
  let gate: EffectGate | undefined;
  let world: World | undefined;
  let lab: LabReport | undefined;
  let labNotes: readonly IntrospectionNote[] = [];
  let migrationCatalog: MigrationCatalog | undefined;
  let labSource: LabSource | undefined;
  /** Live write probes: sequences read before and after (null: they could not be read). */
  let sequences: SequenceMovement | null | undefined;
  const introStart = performance.now();
  try {
    snapshot = await introspect(opened.session, {
      exposedSchemas: options.exposedSchemas,
      configTomlSchemas: target.configTomlSchemas,
      statementTimeoutMs: options.statementTimeoutMs,
      lockTimeoutMs: options.lockTimeoutMs,
      onStage: options.onStage,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    queries = opened.session.roundTrips;
    // A live database: every probe and proof statement is walked first (src/introspect/effects.ts),
    // and the sequences are read before and after, so the note says what moved.
    const writes = target.kind === 'url' && Boolean(options.probe?.writes);
    // The API probe's requests commit wherever the target came from: they are walked on the catalog read here.
    if ((target.kind === 'url' && options.probe) || options.apiProbe) gate = effectGate(snapshot, await readEffectCatalog(opened.session));
    const sequencesBefore = writes ? await readSequenceValues(opened.session).catch(() => null) : null;
    if (options.probe) {
      options.onStage?.('probes');
      const tables = probeTargets(snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
      const roles = ['anon', 'authenticated', 'service_role'].filter((r) => snapshot.roles.some((x) => x.name === r));
      if (options.probe.writes) {
        options.onProbePlan?.(
          `probe: will run INSERT, UPDATE and DELETE (one row each) as ${roles.join(', ')} on ${tables.length} tables, ` +
            `each in a savepoint rolled back at once, in a transaction that is rolled back; no write that would cascade to other tables` +
            (options.probe.triggers ? '; triggers will fire (and roll back)' : '; writes that fire a trigger (of the table, a partition, a parent or a table a foreign key reaches) are skipped') +
            (target.kind === 'url' ? '; a write or read whose triggers, defaults, rules, constraints, policies or the functions they call reach anything outside the transaction (dblink, http, pg_net, COPY PROGRAM, advisory locks, setval, C or untrusted-language code, dynamic SQL) is not run' : '') +
            '; exploit proofs never run here: they run in the lab\'s own copy',
        );
      }
      const run = await runProbes(opened.session, {
        roles,
        tables,
        writes: options.probe.writes,
        writesOnTriggerTables: options.probe.triggers,
        constraints: snapshot.unavailable?.constraints === undefined ? snapshot.constraints : [],
        statementTimeoutMs: options.statementTimeoutMs,
        lockTimeoutMs: options.lockTimeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(gate ? { gate } : {}),
      });
      probes = run.roles;
      probeCost = run.cost;
    }
    if (options.explain) {
      throwIfCancelled(options.signal);
      options.onStage?.('explain');
      await initPolicyParser();
      explained = await explainTables(opened.session, snapshot, {
        tables: explainTargets(snapshot),
        statementTimeoutMs: options.statementTimeoutMs,
        lockTimeoutMs: options.lockTimeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    }
    if (options.lab !== false && target.kind !== 'url') {
      // The embedded copy is the lab's own: its world is built there (the proofs below act in it too).
      throwIfCancelled(options.signal);
      // config.toml names the access token hook the lab's claims go through.
      ({ world, report: lab } = await runLab(opened.session, { ...snapshot, projectConfig: target.projectConfig ?? null }, options.onStage));
    } else if (options.lab !== false) {
      // Nothing is written to a live database: the lab builds a copy of its own, once this
      // connection is closed; what the copy is built from is read now.
      throwIfCancelled(options.signal);
      const source = await liveLabSource(target, opened.session, options);
      if ('note' in source) labNotes = [source.note];
      else labSource = source;
    }
    if (target.kind !== 'url') {
      throwIfCancelled(options.signal);
      options.onStage?.('exploit proofs');
      // The proofs act in the lab's own copy, where pg_net, http and the like are stand-ins that
      // record and never send: not gated there (the gate read from it serves the API probe, whose
      // requests reach the live database). A live database's proofs run in its lab copy, below.
      proofs = await proveFindings(opened.session, snapshot, options);
    }
    if (sequencesBefore) {
      const after = await readSequenceValues(opened.session).catch(() => null);
      sequences = after ? sequenceMovement(sequencesBefore, after) : null;
    } else if (writes) sequences = null;
    if (options.load) {
      throwIfCancelled(options.signal);
      options.onStage?.('load');
      loaded = await measureLoad(opened, snapshot, options, options.load, target.kind !== 'url');
    }
  } catch (error) {
    if (options.signal?.aborted) throw new UserError('cancelled', 'cancelled: the running query was stopped and the connection closed');
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    await opened.session.close();
  }
  if (options.signal?.aborted) throw new UserError('cancelled', 'cancelled: the connection was closed');
  const introspectionMs = performance.now() - introStart;
  if (labSource) {
    const copy = await liveLab(labSource, { ...snapshot, projectConfig: target.projectConfig ?? null }, options);
    ({ world, report: lab, migrationCatalog } = copy);
    proofs = copy.proofs;
    labNotes = copy.notes;
  }
  let api: ApiProbeResult[] | undefined;
  if (options.apiProbe) {
    throwIfCancelled(options.signal);
    options.onStage?.('API probe');
    // supabase-js and ws load only when the API probe runs.
    const { runApiProbe } = await import('../introspect/api-probe.ts');
    api = await runApiProbe(snapshot, { ...options.apiProbe, ...(gate ? { gate } : {}) });
  }
  const workloadNotes =
    opened.noWorkload && (options.checks ?? allChecks).some((c) => c.meta.id === 'unused_index')
      ? [{ area: 'statistics', message: 'unused_index not applied: the embedded database ran only the migrations and seed, so index scan counters say nothing; audit a live database (--db-url) for it' }]
      : [];
  const configChecks = (options.checks ?? allChecks).filter((c) => c.meta.source === 'config.toml' && !(options.disabled ?? []).includes(c.meta.id));
  const configNotes =
    configChecks.length > 0 && !target.projectConfig
      ? [
          {
            area: 'auth settings',
            message:
              target.kind === 'url'
                ? 'auth settings not audited: no supabase/config.toml (pass --project <dir>); a hosted project keeps them in the dashboard (Authentication settings)'
                : `auth settings not audited: the project has no config.toml${target.projectDir ? ` (${target.projectDir})` : ''}`,
          },
        ]
      : [];
  snapshot = {
    ...snapshot,
    ...(opened.noWorkload ? { noWorkload: true } : {}),
    ...(lab ? { labAttacks: lab.attacks, labMatrix: lab.matrix, ...(lab.published ? { labPublished: lab.published } : {}), labTables: lab.tables, ...(lab.functions ? { labFunctions: lab.functions } : {}), ...(lab.tenants ? { labTenants: lab.tenants.map((t) => ({ root: t.root, membership: t.membership })) } : {}) } : {}),
    ...(migrationCatalog ? { migrationCatalog } : {}),
    ...(opened.failedStatements && opened.failedStatements.length > 0 ? { failedStatements: opened.failedStatements } : {}),
    ...(opened.seededAccounts && opened.seededAccounts.length > 0 ? { seededAccounts: opened.seededAccounts } : {}),
    projectConfig: target.projectConfig ?? null,
    notes: [
      ...opened.notes,
      ...snapshot.notes,
      ...workloadNotes,
      ...configNotes,
      ...(explained?.notes ?? []).map((message) => ({ area: 'explain', message })),
      ...(probeCost !== undefined ? [{ area: 'probes', message: probeCostText(probeCost, Boolean(options.probe?.writes), sequences) }] : []),
      ...labNotes,
      ...(world ? [{ area: 'lab', message: worldSummary(world) }] : []),
      ...(lab?.matrixStopped ? [{ area: 'lab', message: `access matrix: ${lab.matrixStopped}; the tables after it are not measured (their findings are not confirmed or refuted by the lab)` }] : []),
      ...(proofs && proofs.size > 0 ? [{ area: 'proofs', message: proofSummary(proofs, target.kind === 'url') }] : []),
      ...(loaded?.notes ?? []).map((message) => ({ area: 'load', message })),
    ],
  };
  options.onStage?.('parse policies');
  await initPolicyParser();
  options.onStage?.('checks');
  // Findings that could be proven (live database without --probe-writes): counted from the same
  // evaluation the report comes from, not from a second run of the checks.
  let report = buildReport(snapshot, target, options, { started, introspectionMs, queries }, probes, api, (e) => {
    if (!proofs) unproven = e.exploits.length;
  });
  if (unproven > 0) {
    report = {
      ...report,
      notes: [...report.notes, { area: 'proofs', message: `${unproven} finding${unproven === 1 ? '' : 's'} can be proven by a rolled-back exploit as a signed-in user in the lab's copy: run without --no-lab` }],
    };
  }
  if (loaded) report = { ...report, load: loaded.report };
  if (lab) report = { ...report, lab };
  const locations = withSettingLocations(objectLocations(opened.statements), target.projectConfig);
  if (options.app) options.onStage?.('app usage');
  const app = options.app ? scanApp(options.app.root, options.app.limits) : undefined;
  report = withAppUsage(withLabMerged(withProofs(withPlans(withLocations(report, locations), explained), proofs)), snapshot, app, options.app?.display ?? '');
  report = withLabVerdicts(report, new Map((options.checks ?? allChecks).map((c) => [c.meta.id, c.meta])), Boolean(options.verbose));
  return { report, snapshot, locations };
}

/**
 * What the lab of a live database builds its copy from: the project's migrations when `--project`
 * has them, else the live catalog's DDL (read here, only now that the lab is built). A catalog that
 * cannot be read leaves a note, not a failed audit.
 */
async function liveLabSource(target: Target, session: Session, options: AuditOptions): Promise<LabSource | { note: IntrospectionNote }> {
  if (target.projectMigrations) return { kind: 'migrations', target: target.projectMigrations };
  try {
    options.onStage?.('lab DDL');
    return { kind: 'catalog', catalog: await readDdlCatalog(session, { statementTimeoutMs: options.statementTimeoutMs, lockTimeoutMs: options.lockTimeoutMs }) };
  } catch (error) {
    if (options.signal?.aborted) throw error;
    return { note: { area: 'lab', message: `lab not built: ${(error as Error).message.split('\n')[0]}` } };
  }
}

/** The lab of a live database, in its own embedded copy (the live connection is closed by then). A copy that cannot be built leaves a note. */
async function liveLab(source: LabSource, snapshot: Snapshot, options: AuditOptions): Promise<{ world?: World; report?: LabReport; migrationCatalog?: MigrationCatalog; proofs?: Map<string, Proof>; notes: readonly IntrospectionNote[] }> {
  throwIfCancelled(options.signal);
  try {
    return await runLabOnCopy(source, snapshot, {
      statementTimeoutMs: options.statementTimeoutMs,
      lockTimeoutMs: options.lockTimeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onStage ? { onStage: options.onStage } : {}),
      // No exploit ever runs on the audited database: the proofs act in the copy, fixes applied there.
      prove: (session, copied) => proveFindings(session, copied, options),
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    return { notes: [{ area: 'lab', message: `lab not built: ${(error as Error).message.split('\n')[0]}` }] };
  }
}

/**
 * `supaudit load`: the cost checks evaluated (their findings tie slow tables to causes and fixes),
 * then the tables measured on the audit's session (and, live, further connections to the same URL).
 */
async function measureLoad(opened: OpenedTarget, snapshot: Snapshot, options: AuditOptions, settings: LoadSettings, embedded: boolean): Promise<{ report: LoadReport; notes: string[] }> {
  await initPolicyParser();
  const { runLoad } = await import('../introspect/load.ts');
  const { COST_CHECKS, loadTables, singleColumnPk } = await import('../score/load.ts');
  const evaluation = evaluate(snapshot, (options.checks ?? allChecks).filter((c) => COST_CHECKS.has(c.meta.id) && !(options.disabled ?? []).includes(c.meta.id)), {
    checkOptions: options.checkOptions,
  });
  const selection = loadTables(evaluation.context, evaluation.findings, settings.tables, settings.maxTables);
  if (selection.unknown.length > 0) {
    throw new UserError('usage', `--tables: ${selection.unknown.join(', ')} ${selection.unknown.length === 1 ? 'is not an exposed table' : 'are not exposed tables'} that anon or authenticated may read`);
  }
  const published = (() => {
    try {
      return realtimeReport(evaluation.context)?.tables ?? [];
    } catch (error) {
      if (error instanceof InconclusiveError) return [];
      throw error;
    }
  })();
  // A live database: a table whose policies (or what they call) reach outside the transaction is
  // not read as a user at all, not once and not a hundred times (src/introspect/effects.ts).
  const gate = embedded ? null : effectGate(snapshot, await readEffectCatalog(opened.session));
  const refused = new Map<Relation, string | null>();
  const allowed = (rel: Relation) => {
    if (!refused.has(rel)) refused.set(rel, gate ? notAttemptedReason(gate.effects(rel, 'select')) : null);
    return refused.get(rel) === null;
  };
  const tables = selection.tables.filter((t) => allowed(t.relation));
  const realtime = published
    .filter((t) => t.rls)
    .map((t) => {
      const relation = snapshot.relations.find((r) => r.schema === t.schema && r.name === t.name);
      return relation && allowed(relation) ? { relation, pk: singleColumnPk(snapshot, relation), subscribers: t.subscribers } : null;
    })
    .filter((x): x is NonNullable<typeof x> => x !== null);
  const run = await runLoad(opened.session, snapshot, tables, {
    concurrency: settings.concurrency,
    durationMs: settings.durationMs,
    maxSamples: settings.maxSamples,
    sloMs: settings.sloMs,
    statementTimeoutMs: options.statementTimeoutMs ?? 30_000,
    lockTimeoutMs: options.lockTimeoutMs ?? 3_000,
    timeoutMs: Math.min(options.statementTimeoutMs ?? 30_000, Math.max(1_000, Math.round(settings.sloMs * 10))),
    applyFixes: embedded,
    ...(opened.connect ? { connect: opened.connect } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(settings.onProgress ? { onProgress: settings.onProgress } : {}),
    ...(settings.onPlan ? { onPlan: settings.onPlan } : {}),
    realtime,
  });
  return {
    report: {
      tables: run.rows,
      concurrency: run.concurrency,
      sloMs: settings.sloMs,
      users: run.users,
      durationMs: run.durationMs,
      ...(run.realtime.length > 0 ? { realtime: run.realtime } : {}),
    },
    notes: [
      ...(selection.tables.length === 0 ? ['no exposed table that anon or authenticated may read: nothing to measure'] : []),
      ...[...refused].flatMap(([rel, reason]) => (reason ? [`${qualified(rel.schema, rel.name)} not measured: ${reason}`] : [])),
      ...(embedded ? ['measured on the embedded database (migrations and seed data only): figures show the shape of the cost, not production latency'] : []),
      ...run.notes,
    ],
  };
}

/** Exploit plans of the findings the checks that prove (`meta.proves`) would report. */
async function pendingExploits(snapshot: Snapshot, options: AuditOptions): Promise<Evaluation['exploits']> {
  const provers = (options.checks ?? allChecks).filter((c) => c.meta.proves === true && !(options.disabled ?? []).includes(c.meta.id));
  if (provers.length === 0) return [];
  await initPolicyParser();
  return evaluate(snapshot, provers, { checkOptions: options.checkOptions }).exploits;
}

/**
 * Runs the exploit of every finding that has one, as signed-in users, in a transaction that is
 * rolled back, then applies each fix and runs the exploit again. Only ever in a lab (the embedded
 * target, or a live database's copy), so no effect gate.
 */
export async function proveFindings(session: Session, snapshot: Snapshot, options: AuditOptions): Promise<Map<string, Proof>> {
  return runExploits(session, snapshot, await pendingExploits(snapshot, options), {
    applyFixes: true,
    statementTimeoutMs: options.statementTimeoutMs,
    lockTimeoutMs: options.lockTimeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

function proofSummary(proofs: ReadonlyMap<string, Proof>, inCopy: boolean): string {
  const n = (s: Proof['status']) => [...proofs.values()].filter((p) => p.status === s).length;
  const fixed = [...proofs.values()].filter((p) => p.fixVerified?.status === 'verified').length;
  return (
    `exploit proofs as signed-in users${inCopy ? " in the lab's copy (never on the live database)" : ''}, rolled back: ${n('confirmed')} confirmed, ${n('refuted')} refuted, ${n('inconclusive')} inconclusive` +
    (n('not_attempted') > 0 ? `, ${n('not_attempted')} not attempted (their statements could act outside the transaction)` : '') +
    `; fix verified for ${fixed}`
  );
}

/** Puts each proof on its finding: a refuted finding drops one level (it is not hidden), a confirmed one says so. */
export function withProofs(report: Report, proofs: ReadonlyMap<string, Proof> | undefined): Report {
  if (!proofs || proofs.size === 0) return report;
  const findings = report.findings
    .map((f) => {
      const proof = proofs.get(f.fingerprint);
      if (!proof) return f;
      if (proof.status === 'refuted') {
        const level = LEVELS[Math.min(LEVELS.length - 1, levelRank(f.level) + 1)]!;
        return { ...f, level, message: `${f.message} Exploit probe: refuted (${proof.reason}); level lowered from ${f.level}.`, proof };
      }
      const said =
        proof.status === 'confirmed'
          ? `confirmed: ${proof.reason}`
          : proof.status === 'not_attempted'
            ? `not attempted (${proof.reason.replace(/^not attempted: /, '')})`
            : `inconclusive (${proof.reason})`;
      return { ...f, message: `${f.message} Exploit probe: ${said}.`, proof };
    })
    .sort(compareFindings);
  return { ...report, findings, summary: summarize(findings) };
}

/**
 * One finding per flaw: where a check that proves (it carries an exploit plan) reported the same
 * table, the lab's finding is folded into it (its steps as evidence, the attack in the message).
 */
export function withLabMerged(report: Report): Report {
  const lab = report.findings.filter((f) => f.check === 'lab_confirmed_escalation');
  if (lab.length === 0) return report;
  // storage.objects by bucket: what the lab read in one bucket says nothing of another's policy.
  const bucketOf = (f: Finding) => (typeof f.evidence?.['bucket'] === 'string' ? (f.evidence['bucket'] as string) : /bucket '((?:[^']|'')*)'/.exec(f.fingerprint)?.[1]);
  const table = (f: Finding) => {
    const bucket = f.object.schema === 'storage' && f.object.name === 'objects' ? bucketOf(f) : undefined;
    return `${f.object.type === 'function' ? 'f' : 'r'}:${f.object.schema}.${f.object.name}${bucket !== undefined ? `#${bucket}` : ''}`;
  };
  // The command a finding is about (a policy's, an attack's): an INSERT flaw and an UPDATE of a
  // role on one table are two flaws, folded each into its own. Storage: per bucket, whatever the verb.
  const command = (f: Finding): string | undefined => {
    if (f.object.schema === 'storage' && f.object.name === 'objects') return undefined;
    const lab = f.evidence?.['lab'];
    const c = f.check === 'lab_confirmed_escalation' && lab !== null && typeof lab === 'object' ? (lab as { command?: unknown }).command : f.evidence?.['command'];
    return typeof c === 'string' && /^(insert|update|delete|select)$/i.test(c) ? c.toLowerCase() : undefined;
  };
  const confirmed = new Map<string, Finding[]>();
  // A finding with an exploit plan on the same table (and command, where both say it): its own
  // proof may have been inconclusive (no user or value it could try), the lab's world had them. A
  // function: the check that found it callable (findings come sorted, the most severe first).
  for (const f of report.findings) {
    const key = `${table(f)}#${command(f) ?? '*'}`;
    if (f.check === 'lab_confirmed_escalation') continue;
    if (f.object.type === 'function' ? /security_definer_function_executable$/.test(f.check) && !confirmed.has(key) : f.proof !== undefined) confirmed.set(key, [...(confirmed.get(key) ?? []), f]);
  }
  /** The columns a lab finding's attack wrote (a foreign key's may be several). */
  const attackColumns = (f: Finding): string[] => {
    const lab = f.evidence?.['lab'];
    const c = lab !== null && typeof lab === 'object' ? (lab as { column?: unknown }).column : undefined;
    return typeof c === 'string' ? c.split(', ') : [];
  };
  // Of the findings on the table and command, the first about the column the attack wrote, or about no column:
  // a member setting its role does not confirm a finding about another column the same policy leaves open.
  const matching = (f: Finding, candidates: readonly Finding[] | undefined): Finding | undefined => {
    const columns = attackColumns(f);
    return candidates?.find((x) => {
      const column = findingColumn(x);
      return column === undefined || columns.length === 0 || columns.includes(column);
    });
  };
  const folded = new Map<string, Finding[]>();
  for (const f of lab) {
    // A role given to another account (the ceiling of adding members) is a flaw of its own, whatever INSERT finding the table has.
    // So is a user granting itself an entitlement (a plan, credits), whatever UPDATE finding the table has,
    // and a sign-up choosing its metadata, whatever a check says of calling the helper that reads it.
    if (/:(appoint|entitle|signup)\.[^:]*$/.test(f.fingerprint)) continue;
    const c = command(f);
    const into =
      (c !== undefined ? matching(f, confirmed.get(`${table(f)}#${c}`)) : undefined) ??
      matching(f, confirmed.get(`${table(f)}#*`)) ??
      (c === undefined ? [...confirmed].filter(([k]) => k.startsWith(`${table(f)}#`)).map(([, v]) => matching(f, v)).find((x) => x !== undefined) : undefined);
    if (into) folded.set(into.fingerprint, [...(folded.get(into.fingerprint) ?? []), f]);
  }
  if (folded.size === 0) return report;
  const dropped = new Set([...folded.values()].flat().map((f) => f.fingerprint));
  const findings = report.findings
    .filter((f) => !dropped.has(f.fingerprint))
    .map((f) => {
      const labs = folded.get(f.fingerprint);
      if (!labs) return f;
      const said = f.proof?.status === 'confirmed' ? 'The lab confirmed it by effect too' : 'Confirmed in the lab by effect';
      // The lab's effect sets the level when it is the more severe.
      const level = labs.reduce((l, x) => (levelRank(x.level) < levelRank(l) ? x.level : l), f.level);
      // An inconclusive probe said only that its own try showed nothing: the lab's attack answers it.
      const message = f.proof?.status === 'inconclusive' ? f.message.replace(/ Exploit probe: inconclusive \(.*?\)\.(?= |$)/, '') : f.message;
      return { ...f, level, message: `${message} ${said} (${labs.length} attack${labs.length === 1 ? '' : 's'}: ${labs.map((l) => l.message.replace(/^Confirmed in the lab: /, '')).join(' ')})`, evidence: { ...f.evidence, lab: labs.map((l) => l.evidence?.['lab']) } };
    })
    .sort(compareFindings);
  return { ...report, findings, summary: summarize(findings) };
}

/** What the probes left behind, in one line for the notes. */
export function probeCostText(cost: ProbeCost | null, writes: boolean, sequences?: SequenceMovement | null): string {
  if (cost === null) return 'probe cost: the transaction counters (pg_stat_xact_user_tables) could not be read';
  const scans = `${cost.seqScans} sequential and ${cost.idxScans} index scans added to the table statistics`;
  if (!writes) return `probe cost: ${scans} (read-only; nothing else changed)`;
  return (
    `probe cost: ${cost.inserted} inserted, ${cost.updated} updated and ${cost.deleted} deleted rows, all rolled back, ` +
    `leaving ${cost.deadRows} dead row version${cost.deadRows === 1 ? '' : 's'} for VACUUM in ${cost.tables} table${cost.tables === 1 ? '' : 's'}; ` +
    `${scans}; ${sequenceText(sequences)}; no cascading write`
  );
}

/** What the sequences did during the probes and proofs: "no sequence advanced" only when that was measured. */
function sequenceText(sequences: SequenceMovement | null | undefined): string {
  if (sequences === undefined) return "serial and identity columns given explicit values (sequences not measured on the embedded database)";
  if (sequences === null) return 'sequences not measured (pg_sequences could not be read): serial and identity columns were given explicit values, but a default or trigger calling nextval may have advanced one';
  if (sequences.moved.length === 0) return `no sequence advanced (${sequences.read} sequence${sequences.read === 1 ? '' : 's'} read before and after)`;
  return (
    `sequences advanced during the run (a rollback does not undo nextval; another session may also have used them): ` +
    sequences.moved.map((m) => `${m.name} ${m.by}`).join(', ')
  );
}

/** Checks whose findings are about what a table's policies cost: they get the table's plan. */
const PLAN_CHECKS = new Set(['auth_rls_initplan', 'unindexed_policy_column', 'policy_join_slow_shape', 'multiple_permissive_policies', 'policy_role_unrestricted', 'realtime_rls_cost']);

/** Tables with RLS and policies in user schemas, with the columns unindexed_policy_column would index. */
function explainTargets(snapshot: Snapshot): { schema: string; name: string; columns: string[] }[] {
  const withPolicies = new Set(snapshot.policies.map((p) => `${p.schema}\u0000${p.table}`));
  const columns = new Map<string, string[]>();
  for (const f of evaluate(snapshot, [unindexedPolicyColumn]).findings) {
    if (f.object.column === undefined || f.evidence?.['expression'] !== undefined) continue;
    const key = `${f.object.schema}\u0000${f.object.name}`;
    columns.set(key, [...(columns.get(key) ?? []), f.object.column]);
  }
  return snapshot.relations
    .filter((r) => r.rlsEnabled && r.extension === null && !isSystemSchema(r.schema) && withPolicies.has(`${r.schema}\u0000${r.name}`))
    .map((r) => ({ schema: r.schema, name: r.name, columns: columns.get(`${r.schema}\u0000${r.name}`) ?? [] }));
}

/** Attaches each table's plan to the policy findings on it (evidence.plan) and says what it shows. */
export function withPlans(report: Report, explained: ExplainResult | undefined): Report {
  if (!explained) return report;
  const byTable = new Map(explained.plans.map((p) => [`${p.schema}\u0000${p.name}`, p]));
  const findings = report.findings.map((f) => {
    if (!PLAN_CHECKS.has(f.check)) return f;
    const plan = byTable.get(`${f.object.schema}\u0000${f.object.name}`);
    if (!plan) return f;
    const hypothetical = f.object.column !== undefined ? plan.hypothetical.find((h) => h.column === f.object.column) : undefined;
    const shown =
      ` EXPLAIN as authenticated: total cost ${plan.totalCost.toFixed(1)}${plan.seqScanFiltered ? ', sequential scan filtering every row' : ''}` +
      (hypothetical ? `; with the index (hypopg) ${hypothetical.totalCost.toFixed(1)}, ${hypothetical.ratio}× cheaper.` : '.');
    return {
      ...f,
      message: f.message + shown,
      evidence: { ...(f.evidence ?? {}), plan: { totalCost: plan.totalCost, seqScanFiltered: plan.seqScanFiltered, filter: plan.filter, ...(hypothetical ? { hypotheticalIndex: hypothetical } : {}) } },
    };
  });
  return { ...report, findings };
}

/** Points each finding at the migration file and line that created its object (policy, else relation or function). */
/** Locations of the project's config.toml settings (`config.toml` findings point at their key, else its table, else line 1). */
function withSettingLocations(locations: LocationMap, config: Target['projectConfig']): LocationMap {
  if (!config) return locations;
  const map = new Map(locations);
  for (const [key, line] of Object.entries(config.lines)) map.set(locationKey(config.file, key), { file: config.file, line });
  return map;
}

export function withLocations(report: Report, locations: LocationMap): Report {
  if (locations.size === 0) return report;
  const locate = (f: Finding) => {
    const o = f.object;
    if (o.type === 'migration') return { file: o.schema, line: Number(o.name.replace(/^line /, '')) || 1 };
    if (o.type === 'setting') {
      // The key, else the nearest table header that holds it, else the file's first line.
      const parts = o.name.split('.');
      for (let n = parts.length; n > 0; n--) {
        const hit = locations.get(locationKey(o.schema, parts.slice(0, n).join('.')));
        if (hit) return hit;
      }
      return { file: o.schema, line: 1 };
    }
    return (o.policy !== undefined ? locations.get(locationKey(o.schema, o.name, o.policy)) : undefined) ?? locations.get(locationKey(o.schema, o.name));
  };
  const place = (f: Finding) => {
    const location = locate(f);
    return location ? { ...f, location } : f;
  };
  return { ...report, findings: report.findings.map(place), suppressed: report.suppressed.map((s) => ({ ...s, finding: place(s.finding) })) };
}

export function buildReport(
  snapshot: Snapshot,
  target: Pick<Target, 'kind' | 'description'>,
  options: AuditOptions,
  timing: { started: number; introspectionMs: number; queries: number },
  probes?: readonly RoleProbe[],
  api?: readonly ApiProbeResult[],
  onEvaluated?: (evaluation: Evaluation) => void,
): Report {
  const checksStart = performance.now();
  const evaluation = evaluate(snapshot, options.checks ?? allChecks, {
    checkOptions: options.checkOptions,
    levels: options.levels,
    disabled: options.disabled,
  });
  onEvaluated?.(evaluation);
  const inconclusive = [...evaluation.inconclusive];
  const partial = <T,>(what: string, compute: () => T, fallback: T): T => {
    try {
      return compute();
    } catch (error) {
      if (!(error instanceof InconclusiveError)) throw error;
      inconclusive.push({ check: what, reason: `${error.area}: ${error.reason}` });
      return fallback;
    }
  };
  const radii = partial('blast radius', () => evaluation.context.memo('blast-radius', () => blastRadius(evaluation.context)), [] as RoleRadius[]);
  const realtime = partial('realtime load', () => realtimeReport(evaluation.context), undefined);
  const checksMs = performance.now() - checksStart;
  const probeNotes = [...probeSummaryNotes(radii, probes), ...apiNotes(radii, api)];
  const accepted = applySuppressions(evaluation.findings, options.suppressions ?? [], snapshot, options.today ?? new Date().toISOString().slice(0, 10));
  const missingRoles = (options.checkOptions?.extraRoles ?? [])
    .filter((r) => !snapshot.roles.some((x) => x.name === r))
    .map((r) => ({ area: 'config', message: `role "${r}" (config "roles") does not exist in this database: no blast radius for it` }));
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
    summary: summarize(accepted.findings),
    findings: accepted.findings,
    suppressed: accepted.suppressed,
    checks: (options.checks ?? allChecks)
      .filter((c) => !(options.disabled ?? []).includes(c.meta.id))
      .map((c) => ({
        id: c.meta.id,
        title: c.meta.title,
        level: options.levels?.[c.meta.id] ?? c.meta.level,
        category: c.meta.category,
        description: c.meta.description,
        facing: c.meta.facing,
        ...(c.meta.splinter ? { splinter: c.meta.splinter } : {}),
        docs: docsUrl(c.meta.id),
      })),
    blastRadius: withProbes(radii, probes, api),
    ...(realtime ? { realtime } : {}),
    notes: [...snapshot.notes, ...probeNotes, ...missingRoles, ...accepted.notes],
    checkErrors: evaluation.errors,
    ...(inconclusive.length > 0 ? { inconclusive } : {}),
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

/** Blast-radius entries for the report, each with its probe results and disagreements when probes ran. */
function withProbes(radii: readonly RoleRadius[], probes: readonly RoleProbe[] | undefined, api: readonly ApiProbeResult[] | undefined): BlastRadius[] {
  const entries = toReportEntries(radii);
  if (!probes && !api) return entries;
  const summaries = probes ? compareProbes(radii, probes) : [];
  return entries.map((e) => {
    const summary = summaries.find((s) => s.role === e.role);
    const apiResult = api?.find((a) => (a.as === 'anon' ? 'anon' : 'authenticated') === e.role);
    if (!summary && !apiResult) return e;
    return { ...e, probe: { ...(summary ?? {}), ...(apiResult ? { api: apiResult } : {}) } };
  });
}

function apiNotes(radii: readonly RoleRadius[], api: readonly ApiProbeResult[] | undefined): { area: string; message: string }[] {
  if (!api) return [];
  const disagreements = compareApi(radii, api);
  const { answered, inconclusive, timedOut } = apiAnswers(api);
  const n = disagreements.length;
  // As for the database probes: requests without an answer are counted, never taken for agreement.
  const verdict =
    inconclusive === 0
      ? `${n} disagreement${n === 1 ? '' : 's'} with the static model`
      : `${answered - n} of ${answered} answered requests agree with the static model${n > 0 ? `, ${n} disagree` : ''}; ` +
        `${inconclusive} inconclusive (no answer: a timeout or a server error${timedOut > 0 ? `; ${timedOut} timed out` : ''}), not compared`;
  return [
    { area: 'API probe', message: `REST API asked as ${api.map((a) => a.as).join(' and ')}: ${verdict}` },
    ...api.filter((a) => a.bucketsError).map((a) => ({ area: 'API probe', message: `storage listing as ${a.as} failed: ${a.bucketsError}` })),
    ...disagreements.map((d) => ({ area: 'API probe', message: `as ${d.as}, ${d.object}: model says ${d.expected}, API answered ${d.observed}` })),
  ];
}

function probeSummaryNotes(radii: readonly RoleRadius[], probes: readonly RoleProbe[] | undefined): { area: string; message: string }[] {
  if (!probes) return [];
  const summaries = compareProbes(radii, probes);
  const notes = summaries.flatMap((s) => [
    ...(s.error ? [{ area: 'probes', message: s.error }] : []),
    ...s.disagreements.map((d) => ({
      area: 'probes',
      message: `model and database disagree for ${d.role} ${d.command} on ${d.schema}.${d.name}: model says ${d.expected}, probe saw ${d.observed}`,
    })),
  ]);
  const total = summaries.reduce((n, s) => n + s.disagreements.length, 0);
  // Only statements the database answered count as probes that ran.
  const ran = summaries.filter((s) => !s.error && s.tables.some((t) => t.outcomes.some((o) => o.result !== 'skipped' && o.result !== 'inconclusive')));
  if (ran.length === 0) {
    notes.unshift({ area: 'probes', message: 'no probe could run (see the notes above): the blast-radius model is unverified' });
    return notes;
  }
  const failed = summaries.filter((s) => !ran.includes(s)).map((s) => s.role);
  const sum = (key: 'answered' | 'inconclusive' | 'timedOut') => summaries.reduce((n, s) => n + s[key], 0);
  const [answered, inconclusive, timedOut] = [sum('answered'), sum('inconclusive'), sum('timedOut')];
  // A probe with no answer (a timeout above all) is no agreement: with any, the count of agreeing
  // probes is given out of those answered, never a bare "0 disagreements".
  const verdict =
    inconclusive === 0
      ? `${total} disagreement${total === 1 ? '' : 's'} with the static model`
      : `${answered - total} of ${answered} answered probes agree with the static model${total > 0 ? `, ${total} disagree` : ''}; ` +
        `${inconclusive} inconclusive, not compared (${[timedOut > 0 ? `${timedOut} timed out: statement_timeout or lock_timeout` : null, inconclusive > timedOut ? `${inconclusive - timedOut} failed otherwise` : null].filter(Boolean).join(', ')})`;
  notes.unshift({
    area: 'probes',
    message: `probes ran as ${ran.map((s) => s.role).join(', ')} in a rolled-back transaction: ${verdict}` + (failed.length > 0 ? `; none ran as ${failed.join(', ')}` : ''),
  });
  return notes;
}
