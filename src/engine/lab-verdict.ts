/**
 * Severity follows the lab: a static check's access finding is a hypothesis about what a persona
 * can do; the lab measured what each persona does do (the access matrix) and searched for attacks.
 *
 * - confirmed (a lab attack on the same table or function, a proof that ran, or the matrix showing
 *   the claimed access to other owners' rows): the finding keeps its level and says so;
 * - refuted (the matrix measured the claimed access on a world with rows of two owners, and no
 *   persona had it): the finding is not reported; `--verbose` lists it under `refuted`;
 * - unconfirmed (the lab could not show it either way): at most medium, and the message says what
 *   the lab tried.
 *
 * Facts of the catalog (RLS off on an exposed table, a definer view, a secret in a function body)
 * are not hypotheses: checks without `meta.labClaim` keep their level. Without a lab (a live
 * database audited with --no-lab) nothing changes here and a note says so.
 */
import type { CheckMeta, LabClaim } from '../model/check.ts';
import type { Finding } from '../model/finding.ts';
import { levelRank, type Level } from '../model/level.ts';
import { platformWrites } from '../model/platform.ts';
import type { LabCell, LabMatrixRow, LabReport, Report } from '../model/report.ts';
import { compareFindings, summarize } from './evaluate.ts';

export type Verdict = { readonly status: 'confirmed' | 'refuted' | 'unconfirmed'; readonly why: string };

type Command = 'select' | 'update' | 'delete' | 'insert';

/** The commands a finding claims access with: from its evidence where the check says (a policy's command), else from its claim. */
function claimedCommands(f: Finding, claim: LabClaim): readonly Command[] {
  const command = typeof f.evidence?.['command'] === 'string' ? (f.evidence['command'] as string).toLowerCase() : null;
  if (claim === 'access' && command !== null) {
    // An ALL policy whose WITH CHECK alone is true claims the rows it lets in, not reads or changes.
    if (command === 'all' && f.evidence?.['clause'] === 'WITH CHECK') return ['insert'];
    if (command === 'all') return ['select', 'update', 'delete', 'insert'];
    if (command === 'select' || command === 'update' || command === 'delete' || command === 'insert') return [command];
  }
  return claim === 'read' || claim === 'access' ? ['select'] : ['update', 'delete', 'insert'];
}

/** Rows of other tenants (or, where a table has no tenant, of other accounts) a cell reached: its own tenant's are its members' to share. */
function othersReached(cell: LabCell): number {
  return typeof cell === 'object' ? cell.other_tenants : 0;
}

function tableKey(schema: string, name: string): string {
  return `${schema}\u0000${name}`;
}

/** A function finding's key: its schema and signature (`name(args)`), as the lab's calls are kept. */
function functionKey(f: Finding): string {
  return tableKey(f.object.schema, f.object.function ?? f.object.name);
}

/** What the lab measured, indexed once per report. */
interface LabIndex {
  readonly lab: LabReport;
  readonly matrix: ReadonlyMap<string, readonly LabMatrixRow[]>;
  readonly rows: ReadonlyMap<string, { readonly rows: number; readonly reason?: string }>;
  /** Tables written and functions called by a confirmed attack (`schema\0name`: the step that went through), and buckets reached. */
  readonly attacked: ReadonlyMap<string, ReadonlySet<string>>;
  readonly called: ReadonlySet<string>;
  readonly buckets: ReadonlySet<string>;
  /**
   * Functions that a persona called with another user's ids (rolled back) and that then changed or
   * deleted that user's rows, made the caller a member of another tenant or returned another
   * user's private values: what the call did, by function.
   */
  readonly strangerChanges: ReadonlyMap<string, string>;
  /** Functions whose calls did that only with ids the caller cannot learn through the API: what they did, by function. */
  readonly needsIds: ReadonlyMap<string, string>;
  /** Names (`schema\0name`) with more than one function: an attack by name says nothing of which. */
  readonly overloaded: ReadonlySet<string>;
  /** Views read as anon or the outsider (persona × view): what each gave away, by view (an empty list: nothing). */
  readonly views: ReadonlyMap<string, { readonly leaks: readonly string[]; readonly rows: number }>;
  /** Tables whose rows with sensitive columns anon or the outsider read in the lab (lab_cross_owner_access, high). */
  readonly sensitiveReads: ReadonlySet<string>;
}

function indexLab(lab: LabReport, findings: readonly Finding[]): LabIndex {
  const matrix = new Map<string, LabMatrixRow[]>();
  for (const row of lab.matrix) {
    const key = tableKey(row.schema, row.name);
    matrix.set(key, [...(matrix.get(key) ?? []), row]);
  }
  const attacked = new Map<string, Set<string>>();
  const called = new Set<string>();
  const buckets = new Set<string>();
  for (const a of lab.attacks) {
    if (a.command === 'call') called.add(tableKey(a.table.schema, a.table.name));
    else if (a.command === 'reach') buckets.add(a.column.slice(a.column.indexOf(' ') + 1));
    // A member adding an account with a role above its own went through a policy meant to let it add
    // members: that confirms its own finding, not a suspicion about who else may insert there.
    else if (a.appointed || a.entitlement || a.signedUpWith || a.firstSignUp) continue;
    else {
      const key = tableKey(a.table.schema, a.table.name);
      const set = attacked.get(key) ?? new Set<string>();
      set.add(a.command);
      // And by column: an attack through the column a finding names confirms that finding, not one about another column of the same policy.
      for (const c of a.column.split(', ')) set.add(`${a.command}\u0000${c}`);
      attacked.set(key, set);
    }
    // The tables an attack gained were read through a write elsewhere: that shows nothing about
    // writing them, nor about the escalation a check suspects on them.
  }
  const strangerChanges = new Map<string, string>();
  const needsIds = new Map<string, string>();
  // A function by its signature: two overloads of a name are two functions (one may not even be callable).
  const batchLeaks = new Set(findings.filter((f) => f.check === 'lab_function_cross_owner' && (f.level === 'critical' || f.level === 'high') && f.object.type === 'function').map((f) => functionKey(f)));
  for (const row of lab.functions ?? []) {
    const signature = tableKey(row.schema, `${row.name}(${row.args})`);
    for (const call of row.calls) {
      const platform = platformWrites(row.persona, call);
      if (platform && !strangerChanges.has(signature)) strangerChanges.set(signature, `called in the lab as ${row.persona}, it ${platform.text}`);
      // A function with no arguments acts on what it picks itself: it counts where what it returned
      // is high by itself (another tenant's rows, a sensitive column: lab_function_cross_owner says).
      const batch = call.args === 'own' && row.args === '' && batchLeaks.has(signature);
      // A grant to itself counts whatever the arguments: the caller's own address is all it needs.
      const granted = call.result === 'ok' ? (call.granted ?? []) : [];
      if (call.result !== 'ok' || (call.args !== 'victim' && call.args !== 'victim_rows' && !batch && granted.length === 0)) continue;
      const effects = [
        ...(batch ? [] : (call.joined ?? [])).map((t) => `made the caller a member of another tenant (${t}${call.redeemedBy ? `, once it called ${call.redeemedBy} with the rows the call inserted` : ''})`),
        ...(granted.length > 0 ? [`wrote the caller's own row${granted.length === 1 ? '' : 's'} of ${granted.join(', ')}, which other tables' policies consult, and the caller then read other users' rows it could not read before`] : []),
        // A counter or a time stamp moved on someone's row (a view count, "last seen") confirms nothing.
        ...Object.entries(batch ? {} : (call.others ?? {}))
          .filter(([, o]) => !o.countersOnly)
          .map(([t, o]) => [o.updated > 0 ? `updated ${o.updated}` : '', o.deleted > 0 ? `deleted ${o.deleted}` : ''].filter(Boolean).join(' and ') + ` row(s) of another user in ${t}`),
        ...(call.leaked && call.leaked.length > 0 ? [`returned another user's ${call.leaked.join(', ')}`] : []),
      ];
      const key = signature;
      // Deleting someone's rows or joining their tenant stays confirmed (high, one level lower, in lab_function_cross_owner).
      const severe = (call.joined ?? []).length > 0 || granted.length > 0 || Object.values(call.others ?? {}).some((o) => o.deleted > 0);
      if (effects.length > 0 && (call.unlearned ?? []).length > 0 && !severe) {
        // The ids were the lab's to give: the caller could not have learned them.
        if (!needsIds.has(key)) needsIds.set(key, `called in the lab as ${row.persona} with another user's ids, it ${effects.join('; ')}, but it was given ${call.unlearned!.join(', ')}: random uuids or tokens the caller cannot read anywhere through the API`);
      } else if (effects.length > 0 && (call.learnedThrough ?? []).length > 0 && !severe) {
        // The ids came from another function's leak: the flaw is there.
        if (!needsIds.has(key)) needsIds.set(key, `called in the lab as ${row.persona} with another user's ids, it ${effects.join('; ')}, but the caller learns those ids only from what ${call.learnedThrough!.join(', ')} returns, reported on its own`);
      } else if (effects.length > 0 && !strangerChanges.has(key)) strangerChanges.set(key, `called in the lab as ${row.persona} with ${call.args === 'own' || call.args === 'nulls' ? 'its own values' : "another user's ids"}, it ${effects.join('; ')}`);
    }
  }
  const views = new Map<string, { leaks: string[]; rows: number }>();
  for (const v of lab.views ?? []) {
    if (v.result !== 'ok') continue;
    const key = tableKey(v.schema, v.name);
    const seen = views.get(key) ?? { leaks: [], rows: 0 };
    if (v.leaked && v.leaked.length > 0) seen.leaks.push(`${v.persona} read another user's ${v.leaked.join(', ')} through it`);
    seen.rows = Math.max(seen.rows, v.rows ?? 0);
    views.set(key, seen);
  }
  // Where the matrix's own finding says anon or the outsider read other people's sensitive rows.
  const sensitiveReads = new Set(findings.filter((f) => f.check === 'lab_cross_owner_access' && f.fingerprint.endsWith(':read') && f.level === 'high').map((f) => tableKey(f.object.schema, f.object.name)));
  const signatures = new Map<string, Set<string>>();
  for (const row of lab.functions ?? []) signatures.set(tableKey(row.schema, row.name), (signatures.get(tableKey(row.schema, row.name)) ?? new Set<string>()).add(row.args));
  const overloaded = new Set([...signatures].filter(([, a]) => a.size > 1).map(([k]) => k));
  return { lab, views, sensitiveReads, matrix, rows: new Map(lab.tables.map((t) => [tableKey(t.schema, t.name), t])), attacked, called, buckets, strangerChanges, needsIds, overloaded };
}

/**
 * The column a static finding says a user writes to gain access (the role a policy lets it set, the
 * tenant key it leaves open, the owner column a write leaves free), where it names one. A NULL bypass names the gate left open, not the
 * column the attacker then writes: any write through the gate is its flaw.
 */
export function findingColumn(f: Finding): string | undefined {
  const c =
    f.check === 'privilege_escalation' ? f.evidence?.['column']
    : f.check === 'tenant_self_join' ? f.evidence?.['tenantColumn']
    : f.check === 'insert_without_owner_check' ? f.evidence?.['ownerColumn']
    : undefined;
  return typeof c === 'string' ? c : undefined;
}

/** The lab's verdict on one finding whose check makes `claim`. */
export function verdictOf(f: Finding, claim: LabClaim, index: LabIndex): Verdict {
  if (f.proof?.status === 'confirmed') return { status: 'confirmed', why: 'its exploit ran' };
  if (f.evidence?.['lab'] !== undefined) return { status: 'confirmed', why: 'a lab attack' };
  const key = tableKey(f.object.schema, f.object.name);
  const { lab } = index;
  const searched = `${lab.attempts} write${lab.attempts === 1 ? '' : 's'} and call${lab.attempts === 1 ? '' : 's'} with victims' ids, role values and NULLs, as anon, a signed-up outsider and a user of another tenant`;
  const stopped = lab.stopped ? `, before the search stopped (${lab.stopped})` : '';
  if (claim === 'call') {
    const signature = functionKey(f);
    // An attack names the function, not its overload: it speaks for a name with one function only.
    if (index.called.has(key) && !index.overloaded.has(key)) return { status: 'confirmed', why: 'a lab attack called it' };
    const changed = index.strangerChanges.get(signature);
    if (changed) return { status: 'confirmed', why: changed };
    const needs = index.needsIds.get(signature);
    if (needs) return { status: 'unconfirmed', why: needs };
    return { status: 'unconfirmed', why: `the lab called it as anon and as a signed-up outsider with another user's ids and with NULLs (${searched}${stopped}), and no call returned or opened another user's rows` };
  }
  if (claim === 'storage') {
    const bucket = typeof f.evidence?.['bucket'] === 'string' ? (f.evidence['bucket'] as string) : null;
    if ([...index.buckets].some((b) => bucket === null || b.endsWith(`bucket '${bucket}'`))) return { status: 'confirmed', why: 'the lab reached another user\'s objects' };
    return { status: 'unconfirmed', why: `the lab uploaded, read, overwrote and deleted objects of another user in every bucket as anon and as a signed-up outsider, and reached none${stopped}` };
  }
  if (f.object.type === 'function') {
    if (index.called.has(key) && !index.overloaded.has(key)) return { status: 'confirmed', why: 'a lab attack called it' };
    return { status: 'unconfirmed', why: `no lab attack went through it (${searched}${stopped})` };
  }
  const view = index.views.get(key);
  if (view && (claim === 'read' || claim === 'access')) {
    if (view.leaks.length > 0) return { status: 'confirmed', why: `in the lab, ${view.leaks.join('; ')}` };
    return {
      status: 'unconfirmed',
      why: `the lab read it as anon and as a signed-up outsider (${view.rows} row${view.rows === 1 ? '' : 's'}) and got none of another user's values that the tables' own policies keep from them`,
    };
  }
  // An attack by the command the finding's policy governs (an INSERT attack says nothing of the UPDATE policy beside it).
  const attackedBy = index.attacked.get(key);
  const command = typeof f.evidence?.['command'] === 'string' ? (f.evidence['command'] as string).toLowerCase() : null;
  const column = findingColumn(f);
  const through = (cmd: string) => attackedBy!.has(column === undefined ? cmd : `${cmd}\u0000${column}`);
  if (claim === 'escalation' && attackedBy && (command === null || command === 'all' ? ['insert', 'update', 'delete', 'select'].some(through) : through(command))) return { status: 'confirmed', why: 'a lab attack went through it' };
  const fill = index.rows.get(key);
  const noRows = fill === undefined ? 'the lab did not measure it (not an exposed table)' : fill.rows === 0 && fill.reason ? `the lab could not make rows in it (${fill.reason})` : null;
  if (claim === 'escalation') {
    return { status: 'unconfirmed', why: noRows ?? `${searched}${stopped}, gained no access to another owner's rows` };
  }
  const cells = index.matrix.get(key) ?? [];
  const commands = claimedCommands(f, claim);
  const reached = cells.filter((c) =>
    commands.some((cmd) => (cmd === 'insert' ? c.insert === 'allowed_into_others' : othersReached(c[cmd]) > 0)),
  );
  // Rows a sign-up trigger made are rows all the same: what the matrix reached there counts.
  if (reached.length > 0 && claim !== 'recursion') {
    return { status: 'confirmed', why: `${reached.map((c) => c.persona).join(', ')} reached another owner's rows in the lab` };
  }
  if (cells.length === 0 || noRows) return { status: 'unconfirmed', why: noRows ?? 'the lab did not measure it' };
  if (claim === 'recursion') {
    if (cells.some((c) => c.select === 'error')) return { status: 'confirmed', why: 'reading it failed in the lab' };
    if (cells.some((c) => typeof c.select === 'object')) return { status: 'refuted', why: 'every persona read it in the lab without an error' };
    return { status: 'unconfirmed', why: 'no persona may read it' };
  }
  if (commands.includes('select') && index.sensitiveReads.has(key)) return { status: 'confirmed', why: "anon or a signed-up outsider read rows with sensitive columns that the lab made for other users" };
  // The matrix inserts rows of the persona's own only: it never tries a row in someone else's name,
  // so an INSERT claim it did not confirm is not refuted.
  if (commands.includes('insert')) return { status: 'unconfirmed', why: "the lab's personas inserted rows of their own only; none landed among another owner's rows" };
  // Other members' rows of the persona's own tenant: a tenant's rows are often its members' to
  // share (a project, a task), and sometimes one member's alone (a comment, a profile). Neither
  // proven nor refuted: at most medium, saying what was measured.
  const inTenant = cells.filter((c) => commands.some((cmd) => cmd !== 'insert' && typeof c[cmd] === 'object' && (c[cmd] as { tenant: number }).tenant > 0));
  if (inTenant.length > 0 && commands.some((cmd) => cmd === 'update' || cmd === 'delete')) {
    return {
      status: 'unconfirmed',
      why: `in the lab, ${inTenant.map((c) => c.persona).join(', ')} could ${commands.filter((c) => c !== 'insert').join(' or ')} rows of other members of their own tenant, none of another tenant's`,
    };
  }
  // A statement that failed (a foreign key of another row, a trigger's error) measured nothing.
  const failed = cells.filter((c) => commands.some((cmd) => c[cmd] === 'error'));
  if (failed.length > 0) return { status: 'unconfirmed', why: `${commands.join(' or ')} failed in the lab for ${failed.map((c) => c.persona).join(', ')} (an error, not a refusal), so it measured nothing` };
  // Rows nobody made (the seed's) reached by anon or the outsider may be someone's: not a refutation.
  const seedReached = cells.some((c) => (c.persona === 'anon' || c.persona === 'outsider') && commands.includes('select') && typeof c.select === 'object' && c.select.ownerless > 0);
  if (seedReached) return { status: 'unconfirmed', why: "anon or a signed-up outsider reads the seed's rows, whose owners the lab does not know" };
  return {
    status: 'refuted',
    why: `in the lab, with rows of two owners, no persona (${cells.map((c) => c.persona).join(', ')}) could ${commands.join(' or ')} another owner's rows`,
  };
}

/**
 * Applies the lab's verdicts to the report's findings: unconfirmed critical/high findings lowered to
 * medium, refuted ones moved out (to `refuted` when `verbose`).
 */
export function withLabVerdicts(report: Report, metas: ReadonlyMap<string, CheckMeta>, verbose: boolean): Report {
  if (!report.lab) return report;
  const index = indexLab(report.lab, report.findings);
  const refuted: Finding[] = [];
  let lowered = 0;
  const findings: Finding[] = [];
  // A live database whose lab was built from its migrations: where they differ (migration_drift),
  // the lab measured the migrations' version, not the live one, and judges nothing there.
  const drifted = new Set(report.findings.filter((f) => f.check === 'migration_drift').map((f) => tableKey(f.object.schema, f.object.name)));
  for (const f of report.findings) {
    const claim = claimOf(f, metas.get(f.check));
    if (claim === null || drifted.has(tableKey(f.object.schema, f.object.name))) {
      findings.push(f);
      continue;
    }
    const verdict = verdictOf(f, claim, index);
    const labVerdict = { status: verdict.status, why: verdict.why };
    if (verdict.status === 'refuted') {
      refuted.push({ ...f, evidence: { ...f.evidence, labVerdict } });
      continue;
    }
    if (verdict.status === 'unconfirmed' && levelRank(f.level) < levelRank('medium')) {
      lowered++;
      findings.push({ ...f, level: 'medium' as Level, message: `${f.message} Not confirmed in the lab: ${verdict.why}; level lowered from ${f.level} to medium.`, evidence: { ...f.evidence, labVerdict } });
      continue;
    }
    findings.push({ ...f, evidence: { ...f.evidence, labVerdict } });
  }
  const folded = foldMeasured(findings, metas);
  folded.sort(compareFindings);
  const notes = [...report.notes];
  if (lowered > 0 || refuted.length > 0) {
    notes.push({
      area: 'lab',
      message:
        `severity follows the lab: ${lowered} static suspicion${lowered === 1 ? '' : 's'} the lab could not confirm lowered to medium` +
        `, ${refuted.length} the lab refuted not reported${refuted.length > 0 && !verbose ? ' (--verbose lists them)' : ''}`,
    });
  }
  return { ...report, findings: folded, summary: summarize(folded), notes, ...(verbose && refuted.length > 0 ? { refuted: refuted.sort(compareFindings) } : {}) };
}

/** The claim a finding makes: its check's, except a sensitive column of a table without RLS (a catalog fact). */
function claimOf(f: Finding, meta: CheckMeta | undefined): LabClaim | null {
  const claim = meta?.labClaim ?? null;
  if (claim === null) return null;
  if (f.check === 'sensitive_columns_exposed' && f.evidence?.['shared'] !== true) return null;
  // An UPDATE policy whose WITH CHECK alone is true claims that rows may be moved to any value: the matrix does not move rows.
  if (f.evidence?.['clause'] === 'WITH CHECK' && f.evidence?.['command'] === 'UPDATE') return null;
  return claim;
}

/**
 * One finding per flaw: what the matrix measured on a table (lab_cross_owner_access) folds into a
 * static finding on the same table that it confirmed (the policy that lets it), which takes the
 * more severe level and the measurement.
 */
/** Catalog facts that already say the whole table is open: what the matrix measured is their evidence. */
const OPEN_TABLE: ReadonlySet<string> = new Set(['rls_disabled_in_public', 'policy_exists_rls_disabled']);

const MEASURED: ReadonlySet<string> = new Set(['lab_cross_owner_access', 'lab_function_cross_owner']);

/**
 * Whether a measurement speaks to what a static finding says: a function's, as the same role (what
 * anon did raises the finding on anon's grant, not its sibling on authenticated's); a table's, for
 * the same command where the finding names one (a measured write says nothing of an INSERT policy).
 */
function sameClaim(f: Finding, m: Finding): boolean {
  if (f.object.type === 'function') return f.roles.length === 0 || m.roles.some((r) => f.roles.includes(r));
  const command = typeof f.evidence?.['command'] === 'string' ? (f.evidence['command'] as string).toLowerCase() : null;
  if (command === null || command === 'all') return true;
  return /:read(\.member)?$/.test(m.fingerprint) ? command === 'select' : command === 'update' || command === 'delete';
}

function foldMeasured(findings: readonly Finding[], metas: ReadonlyMap<string, CheckMeta>): Finding[] {
  // A table by name; a function by its signature (overloads are different functions).
  const table = (f: Finding) => `${f.object.schema}\u0000${f.object.type === 'function' ? (f.object.function ?? f.object.name) : f.object.name}`;
  const measured = new Map<string, Finding[]>();
  for (const f of findings) if (MEASURED.has(f.check)) measured.set(table(f), [...(measured.get(table(f)) ?? []), f]);
  // Each measurement folds into the first static finding on the same object that it speaks to.
  const target = new Map<Finding, Finding>();
  const folded = new Map<Finding, Finding[]>();
  for (const f of findings) {
    if (MEASURED.has(f.check)) continue;
    const claim = metas.get(f.check)?.labClaim;
    const folds = f.object.type === 'function' ? claim === 'call' || claim === 'escalation' : claim === 'read' || claim === 'write' || claim === 'access';
    const confirmed = folds && (f.evidence?.['labVerdict'] as Verdict | undefined)?.status === 'confirmed';
    if (!confirmed && !OPEN_TABLE.has(f.check)) continue;
    for (const m of measured.get(table(f)) ?? []) {
      if (target.has(m) || !sameClaim(f, m)) continue;
      target.set(m, f);
      folded.set(f, [...(folded.get(f) ?? []), m]);
    }
  }
  return findings.flatMap((f) => {
    if (MEASURED.has(f.check)) return target.has(f) ? [] : [f];
    const ms = folded.get(f);
    if (!ms) return [f];
    const level = ms.reduce((l, m) => (levelRank(m.level) < levelRank(l) ? m.level : l), f.level);
    return [{ ...f, level, message: [f.message, ...ms.map((m) => m.message)].join(' '), evidence: { ...f.evidence, lab: ms.length === 1 ? ms[0]!.evidence?.['lab'] : ms.map((m) => m.evidence?.['lab']) } }];
  });
}
