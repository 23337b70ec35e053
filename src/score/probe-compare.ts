/**
 * Where the static blast-radius model and the probes disagree. A disagreement is either a bug in
 * the model or something the catalog does not show (a policy calling a function that behaves
 * differently than its text suggests); both deserve a look.
 */
import type { ApiProbeResult } from '../introspect/api-probe.ts';
import type { ProbeCommand, RoleProbe } from '../introspect/probe.ts';
import type { Reach, RoleRadius } from './blast-radius.ts';

export interface ProbeDisagreement {
  readonly role: string;
  readonly schema: string;
  readonly name: string;
  readonly command: ProbeCommand;
  readonly expected: Reach;
  readonly observed: string;
}

export interface ProbeSummary {
  readonly role: string;
  readonly error?: string;
  readonly tables: readonly {
    readonly schema: string;
    readonly name: string;
    readonly totalRows: number | null;
    readonly outcomes: RoleProbe['tables'][number]['outcomes'];
  }[];
  readonly disagreements: readonly ProbeDisagreement[];
  /** Probes the database answered (allowed or denied): the only ones compared with the model. */
  readonly answered: number;
  /** Probes that got no answer (an error other than a denial), so neither agree nor disagree; `timedOut` of them hit a timeout. */
  readonly inconclusive: number;
  readonly timedOut: number;
}

function observedText(result: string, rows: number | undefined, total: number | null): string {
  if (result !== 'allowed') return result;
  return total === null ? `${rows} rows` : `${rows} of ${total} rows`;
}

/**
 * Compares each probed (role, table, command) with the model's reach. Skipped and inconclusive
 * probes are not compared; inconclusive ones (a timeout, a trigger's error) are counted, since they
 * neither agree nor disagree and the model stays unverified there.
 */
export function compareProbes(radii: readonly RoleRadius[], probes: readonly RoleProbe[]): ProbeSummary[] {
  return probes.map((probe) => {
    const radius = radii.find((r) => r.role === probe.role);
    const disagreements: ProbeDisagreement[] = [];
    let answered = 0;
    let inconclusive = 0;
    let timedOut = 0;
    for (const table of probe.tables) {
      const model = radius?.tables.find((t) => t.schema === table.schema && t.name === table.name);
      for (const outcome of table.outcomes) {
        if (outcome.result === 'skipped') continue;
        if (outcome.result === 'inconclusive') {
          inconclusive++;
          if (outcome.timedOut) timedOut++;
          continue;
        }
        answered++;
        const expected: Reach = model ? model.direct[outcome.command] : 'none';
        const rows = outcome.rows ?? 0;
        let agrees: boolean;
        if (outcome.command === 'select') {
          const total = table.totalRows;
          if (outcome.result !== 'allowed') agrees = expected === 'none';
          else if (expected === 'none') agrees = rows === 0;
          else if (expected === 'all') agrees = total === null || rows === total;
          else if (expected === 'own rows') agrees = total === null || rows < total || total === 0;
          else agrees = true; // unknown: any answer is consistent
        } else if (outcome.command === 'insert') {
          if (outcome.result === 'allowed') agrees = expected !== 'none';
          else agrees = expected !== 'all';
        } else {
          // update/delete touch at most one row the role can see
          if (outcome.result !== 'allowed') agrees = expected === 'none' || expected === 'unknown';
          else if (rows > 0) agrees = expected !== 'none';
          else agrees = expected !== 'all' || (table.totalRows ?? 0) === 0;
        }
        if (!agrees) {
          disagreements.push({
            role: probe.role,
            schema: table.schema,
            name: table.name,
            command: outcome.command,
            expected,
            observed: observedText(outcome.result, outcome.rows, table.totalRows),
          });
        }
      }
    }
    return { role: probe.role, ...(probe.error ? { error: probe.error } : {}), tables: probe.tables, disagreements, answered, inconclusive, timedOut };
  });
}

export interface ApiDisagreement {
  readonly as: 'anon' | 'user';
  readonly object: string;
  readonly expected: string;
  readonly observed: string;
}

/** A request the API did not answer: a timeout, the gateway or the server failing (5xx), no response at all. */
function unanswered(r: { readonly status: number; readonly timedOut?: true; readonly error?: string }): boolean {
  return r.error !== undefined && (r.timedOut === true || r.status === 0 || r.status >= 500);
}

/** API requests the API answered (compared with the model) and those it did not; `timedOut` of these hit a timeout. */
export function apiAnswers(results: readonly ApiProbeResult[]): { readonly answered: number; readonly inconclusive: number; readonly timedOut: number } {
  const all = results.flatMap((r) => [...r.tables, ...r.functions]);
  const none = all.filter(unanswered);
  return { answered: all.length - none.length, inconclusive: none.length, timedOut: none.filter((r) => r.timedOut).length };
}

/**
 * Compares what the REST API answered with the model: a table the model says the role cannot
 * read must not return rows; one it says it can read must not be refused. A request with no answer
 * (see apiAnswers) is neither.
 */
export function compareApi(radii: readonly RoleRadius[], results: readonly ApiProbeResult[]): ApiDisagreement[] {
  const out: ApiDisagreement[] = [];
  for (const result of results) {
    const radius = radii.find((r) => r.role === (result.as === 'anon' ? 'anon' : 'authenticated'));
    for (const t of result.tables) {
      if (unanswered(t)) continue;
      const model = radius?.tables.find((x) => x.schema === t.schema && x.name === t.name);
      const expected: Reach = model ? model.direct.select : 'none';
      const object = `${t.schema}.${t.name}`;
      if (t.count === null) {
        if (expected === 'all' || expected === 'own rows') out.push({ as: result.as, object, expected: `select ${expected}`, observed: `HTTP ${t.status}: ${t.error ?? 'error'}` });
      } else if (expected === 'none' && t.count > 0) {
        out.push({ as: result.as, object, expected: 'select none', observed: `${t.count} rows` });
      }
    }
    for (const f of result.functions) {
      if (unanswered(f)) continue;
      const callable = radius?.functions.some((x) => x.schema === f.schema && x.name === f.name) ?? false;
      const refused = !f.ok && (f.status === 401 || f.status === 403);
      if (callable && refused) out.push({ as: result.as, object: `${f.schema}.${f.name}()`, expected: 'executable', observed: `HTTP ${f.status}` });
      if (!callable && f.ok) out.push({ as: result.as, object: `${f.schema}.${f.name}()`, expected: 'not executable', observed: `HTTP ${f.status}` });
    }
  }
  return out;
}
