/**
 * Probes: verify the static blast-radius model by running real statements as each role, with
 * synthetic JWT claims, inside a transaction that always rolls back. Read probes run in a
 * READ ONLY transaction; write probes (opt-in) each sit in a SAVEPOINT that is rolled back at once
 * (which also releases that statement's row and table locks), and the whole transaction is rolled
 * back at the end. What they cannot avoid is counted and reported (`ProbeCost`).
 *
 * Write probes never cascade: a DELETE is not probed on a table that another table references with
 * ON DELETE CASCADE / SET NULL / SET DEFAULT, an UPDATE never touches a referenced key column, so no
 * child row is touched and no child trigger fires. INSERTs give serial and identity columns an
 * explicit value, so no sequence advances. Error outcomes keep the SQLSTATE and object names only,
 * never the message text (which can quote row values: "Key (email)=(…)", "Failing row contains …").
 */
import { qualified, quoteIdent, quoteLiteral } from '../model/ident.ts';
import type { Column, Constraint, Relation, Snapshot } from '../model/snapshot.ts';
import { notAttemptedReason, type EffectGate } from './effects.ts';
import { describePgErrorSafely, isTimeout } from './errors.ts';
import { throwIfCancelled, type Session } from './session.ts';

export const PROBE_USER_ID = '00000000-0000-4000-8000-00000000beef';

export type ProbeCommand = 'select' | 'insert' | 'update' | 'delete';

/** What the database answered: rows visible/affected, denied (by privilege or RLS), or inconclusive. */
export interface ProbeOutcome {
  readonly command: ProbeCommand;
  /** `allowed`: the statement succeeded and touched `rows` rows (0 means RLS filtered everything). */
  readonly result: 'allowed' | 'denied' | 'rls_denied' | 'inconclusive' | 'skipped';
  readonly rows?: number;
  readonly error?: string;
  /** An inconclusive probe stopped by statement_timeout or lock_timeout (the table is slow or locked, not refused). */
  readonly timedOut?: true;
}

export interface TableProbe {
  readonly schema: string;
  readonly name: string;
  /** Rows the table holds, counted by the auditing role (owner/superuser view). */
  readonly totalRows: number | null;
  readonly outcomes: readonly ProbeOutcome[];
}

export interface RoleProbe {
  readonly role: string;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly tables: readonly TableProbe[];
  /** Set when the auditing user could not switch to the role at all (then `tables` is empty). */
  readonly error?: string;
}

export interface ProbeOptions {
  readonly roles: readonly string[];
  readonly tables: readonly Relation[];
  readonly writes: boolean;
  /** Probe writes on tables with triggers too (they fire, then roll back). */
  readonly writesOnTriggerTables: boolean;
  /** Every constraint of the snapshot: foreign keys decide which writes could cascade. */
  readonly constraints?: readonly Constraint[];
  readonly statementTimeoutMs?: number;
  readonly lockTimeoutMs?: number;
  /** Checked before every statement. */
  readonly signal?: AbortSignal;
  /**
   * Live databases: every statement is walked first (triggers, defaults, rules, FK actions, policies
   * and the functions they call) and not run when the walk reaches anything outside the transaction.
   */
  readonly gate?: EffectGate;
}

/** What the probes left behind, counted by the server for this transaction (`pg_stat_xact_user_tables`) before the rollback. */
export interface ProbeCost {
  /** Rows the rolled-back INSERT/UPDATE probes wrote: dead row versions until VACUUM removes them. */
  readonly deadRows: number;
  readonly inserted: number;
  readonly updated: number;
  readonly deleted: number;
  /** Scans added to pg_stat_*_tables (later audits read idx_scan for unused_index). */
  readonly seqScans: number;
  readonly idxScans: number;
  /** Tables whose counters moved. */
  readonly tables: number;
}

export interface ProbeRun {
  readonly roles: RoleProbe[];
  /** Null when the counters could not be read. */
  readonly cost: ProbeCost | null;
}

const ON_DELETE_CASCADING = /\bON DELETE (CASCADE|SET NULL|SET DEFAULT)\b/i;

/**
 * Foreign keys that reference `rel` and would change child rows on a DELETE, as labels. (UPDATE
 * probes need no such list: they never write a referenced column, see `referencedColumns`.)
 */
function deleteCascades(rel: Relation, constraints: readonly Constraint[]): string[] {
  const out: string[] = [];
  for (const c of constraints) {
    if (c.type !== 'foreign_key' || c.refSchema !== rel.schema || c.refTable !== rel.name) continue;
    const m = ON_DELETE_CASCADING.exec(c.definition);
    if (m) out.push(`${c.schema}.${c.table} (${c.name}: ON DELETE ${m[1]!.toUpperCase()})`);
  }
  return out;
}

/** Columns that some foreign key references: an UPDATE probe leaves them alone. */
function referencedColumns(rel: Relation, constraints: readonly Constraint[]): Set<string> {
  const out = new Set<string>();
  for (const c of constraints) if (c.type === 'foreign_key' && c.refSchema === rel.schema && c.refTable === rel.name) for (const col of c.refColumns) out.add(col);
  return out;
}

function claimsFor(role: string): Record<string, unknown> {
  if (role === 'anon') return { role: 'anon' };
  return { sub: PROBE_USER_ID, role, aud: 'authenticated', email: 'probe@supaudit.invalid' };
}

/** A literal of the column's type for a probe INSERT, or null when none can be made up safely. */
function probeValue(type: string, column: string): string | null {
  const t = type.toLowerCase();
  if (t === 'uuid') return /(^|_)(user|owner|author|profile|created_by|member)(_|$)/.test(column) ? quoteLiteral(PROBE_USER_ID) : 'gen_random_uuid()';
  if (/^(text|character varying|varchar|citext|character)/.test(t)) return quoteLiteral('supaudit-probe');
  if (/^(smallint|integer|bigint|numeric|real|double precision)/.test(t)) return '0';
  if (t === 'boolean') return 'false';
  if (t.startsWith('timestamp') || t === 'date') return 'now()';
  if (t === 'jsonb' || t === 'json') return `'{}'::${t}`;
  if (t.endsWith('[]')) return `'{}'::${t}`;
  return null;
}

/** An explicit value for a serial or identity column, far from any value a sequence hands out. */
export function sequenceFreeValue(type: string): string | null {
  const t = type.toLowerCase();
  if (t === 'smallint') return '-32767';
  if (t === 'integer') return '-2147483647';
  if (t === 'bigint') return '-9223372036854775807';
  if (t.startsWith('numeric')) return '-2147483647';
  return null;
}

const USES_SEQUENCE = /\bnextval\s*\(/i;

/** A serial or identity column: a rolled-back INSERT that leaves it to its default still advances its sequence. */
export function sequencedColumn(c: Column): boolean {
  return !c.generated && (c.identity || (c.default !== null && USES_SEQUENCE.test(c.default)));
}

/** The probe INSERT and the columns it gives a value (the defaults of the others run). */
function insertSql(rel: Relation): { sql: string; explicit: Set<string> } | null {
  // Serial and identity columns get an explicit value: a rolled-back INSERT would still advance their sequence.
  const sequenced = rel.columns.filter(sequencedColumn);
  const required = rel.columns.filter((c) => c.notNull && c.default === null && !c.identity && !c.generated);
  const columns = [...sequenced, ...required];
  const explicit = new Set(columns.map((c) => c.name));
  if (columns.length === 0) return { sql: `INSERT INTO ${qualified(rel.schema, rel.name)} DEFAULT VALUES`, explicit };
  const values = [...sequenced.map((c) => sequenceFreeValue(c.type)), ...required.map((c) => probeValue(c.type, c.name))];
  if (values.some((v) => v === null)) return null;
  const overriding = sequenced.some((c) => c.identity) ? ' OVERRIDING SYSTEM VALUE' : '';
  return { sql: `INSERT INTO ${qualified(rel.schema, rel.name)} (${columns.map((c) => quoteIdent(c.name)).join(', ')})${overriding} VALUES (${values.join(', ')})`, explicit };
}

function classify(error: unknown): ProbeOutcome['result'] {
  const code = (error as { code?: string }).code;
  const message = String((error as { message?: string }).message ?? '');
  if (code === '42501' && /row-level security/i.test(message)) return 'rls_denied';
  if (code === '42501') return 'denied';
  return 'inconclusive';
}

/**
 * Runs the probes. Every statement is wrapped in a savepoint so one failure does not abort the
 * others; the transaction is always rolled back, also on error.
 */
export async function runProbes(session: Session, options: ProbeOptions): Promise<ProbeRun> {
  const timeout = Math.max(1, Math.floor(options.statementTimeoutMs ?? 5_000));
  const constraints = options.constraints ?? [];
  const check = () => throwIfCancelled(options.signal);
  check();
  await session.begin({
    access: options.writes ? 'read write' : 'read only',
    statementTimeoutMs: timeout,
    // A probe never queues behind another session's lock for long: that table's probe is inconclusive.
    lockTimeoutMs: Math.min(1_000, options.lockTimeoutMs ?? 1_000),
  });
  try {
    const totals = new Map<string, number | null>();
    for (const rel of options.tables) {
      check();
      // Counted as the auditing role, so no policy runs; a view's definition does.
      if (options.gate && notAttemptedReason(options.gate.effects(rel, 'select')) !== null) {
        totals.set(`${rel.schema}.${rel.name}`, null);
        continue;
      }
      await session.exec('SAVEPOINT supaudit_probe');
      try {
        const [row] = await session.query<{ n: number }>(`SELECT count(*)::float8 AS n FROM ${qualified(rel.schema, rel.name)}`);
        totals.set(`${rel.schema}.${rel.name}`, Number(row?.n ?? 0));
        await session.exec('RELEASE SAVEPOINT supaudit_probe');
      } catch {
        totals.set(`${rel.schema}.${rel.name}`, null);
        await session.exec('ROLLBACK TO SAVEPOINT supaudit_probe');
      }
    }
    const results: RoleProbe[] = [];
    for (const role of options.roles) {
      const claims = claimsFor(role);
      const tables: TableProbe[] = [];
      check();
      await session.exec('SAVEPOINT supaudit_probe');
      try {
        await session.query(`SELECT set_config('role', $1, true)`, [role]);
      } catch (error) {
        results.push({ role, claims, tables: [], error: `cannot switch to role ${role}: ${describePgErrorSafely(error)}` });
        continue;
      } finally {
        await session.exec('ROLLBACK TO SAVEPOINT supaudit_probe');
      }
      for (const rel of options.tables) {
        const outcomes: ProbeOutcome[] = [];
        const commands: ProbeCommand[] = options.writes ? ['select', 'insert', 'update', 'delete'] : ['select'];
        const cascade = deleteCascades(rel, constraints);
        const referenced = referencedColumns(rel, constraints);
        // UPDATE sets a column to itself; never a referenced key (an ON UPDATE action could fire), nor an identity column (GENERATED ALWAYS refuses it).
        const updateColumn = rel.columns.find((c) => !referenced.has(c.name) && !c.generated && !c.identity) ?? null;
        for (const command of commands) {
          check();
          if (command === 'delete' && cascade.length > 0) {
            outcomes.push({ command, result: 'skipped', error: `a DELETE would cascade to ${cascade.join(', ')}` });
            continue;
          }
          if (command !== 'select' && rel.kind !== 'table' && rel.kind !== 'partitioned_table') {
            outcomes.push({ command, result: 'skipped', error: `${rel.kind.replace('_', ' ')}` });
            continue;
          }
          const name = qualified(rel.schema, rel.name);
          const firstColumn = updateColumn ? quoteIdent(updateColumn.name) : null;
          const insert = command === 'insert' ? insertSql(rel) : null;
          const written = insert?.explicit ?? (command === 'update' && updateColumn ? new Set([updateColumn.name]) : null);
          const effects = options.gate?.effects(rel, command, written);
          const refused = effects ? notAttemptedReason(effects) : null;
          if (refused !== null) {
            outcomes.push({ command, result: 'skipped', error: refused });
            continue;
          }
          // A partition's or a referencing table's trigger fires as surely as the table's own.
          const fires = effects ? effects.triggers.length > 0 : rel.hasTriggers;
          if (command !== 'select' && fires && !options.writesOnTriggerTables) {
            outcomes.push({ command, result: 'skipped', error: 'the write fires triggers (use --probe-triggers to include it)' });
            continue;
          }
          let sql: string | null;
          switch (command) {
            case 'select':
              sql = `SELECT count(*)::float8 AS n FROM ${name}`;
              break;
            case 'insert':
              sql = insert?.sql ?? null;
              break;
            case 'update':
              sql = firstColumn ? `UPDATE ${name} SET ${firstColumn} = ${firstColumn} WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${name} LIMIT 1))` : null;
              break;
            case 'delete':
              sql = `DELETE FROM ${name} WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${name} LIMIT 1))`;
              break;
          }
          if (sql === null) {
            outcomes.push({ command, result: 'skipped', error: command === 'update' ? 'every column is a referenced key or generated' : 'no safe value for a required column' });
            continue;
          }
          await session.exec('SAVEPOINT supaudit_probe');
          try {
            check();
            await session.query(`SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true), set_config('request.jwt.claim.sub', $3, true)`, [
              role,
              JSON.stringify(claims),
              typeof claims['sub'] === 'string' ? claims['sub'] : '',
            ]);
            check();
            if (command === 'select') {
              const [row] = await session.query<{ n: number }>(sql);
              outcomes.push({ command, result: 'allowed', rows: Number(row?.n ?? 0) });
            } else {
              const rows = await session.query(`WITH probe AS (${sql} RETURNING 1) SELECT count(*)::float8 AS n FROM probe`);
              outcomes.push({ command, result: 'allowed', rows: Number((rows[0] as { n?: number } | undefined)?.n ?? 0) });
            }
          } catch (error) {
            if (options.signal?.aborted) throw error;
            outcomes.push({ command, result: classify(error), error: describePgErrorSafely(error), ...(isTimeout(error) ? { timedOut: true as const } : {}) });
          } finally {
            await session.exec('ROLLBACK TO SAVEPOINT supaudit_probe');
          }
        }
        tables.push({ schema: rel.schema, name: rel.name, totalRows: totals.get(`${rel.schema}.${rel.name}`) ?? null, outcomes });
      }
      results.push({ role, claims, tables });
    }
    return { roles: results, cost: await probeCost(session) };
  } finally {
    await session.exec('ROLLBACK').catch(() => undefined);
  }
}

/** This transaction's own counters, read before the rollback: exactly what the probes add to pg_stat_*_tables. */
async function probeCost(session: Session): Promise<ProbeCost | null> {
  try {
    const [row] = await session.query<Record<string, number>>(
      `SELECT coalesce(sum(n_tup_ins), 0)::float8 AS ins, coalesce(sum(n_tup_upd), 0)::float8 AS upd, coalesce(sum(n_tup_del), 0)::float8 AS del,
              coalesce(sum(seq_scan), 0)::float8 AS seq, coalesce(sum(idx_scan), 0)::float8 AS idx,
              count(*) FILTER (WHERE n_tup_ins + n_tup_upd + n_tup_del + seq_scan + coalesce(idx_scan, 0) > 0)::float8 AS tables
         FROM pg_catalog.pg_stat_xact_user_tables`,
    );
    if (!row) return null;
    const n = (k: string) => Number(row[k] ?? 0);
    return { deadRows: n('ins') + n('upd'), inserted: n('ins'), updated: n('upd'), deleted: n('del'), seqScans: n('seq'), idxScans: n('idx'), tables: n('tables') };
  } catch {
    return null;
  }
}

/** Tables worth probing: user relations in exposed schemas. */
export function probeTargets(snapshot: Snapshot, isUser: (r: Relation) => boolean): Relation[] {
  const exposed = new Set(snapshot.exposedSchemas);
  return snapshot.relations.filter((r) => exposed.has(r.schema) && isUser(r) && r.kind !== 'foreign_table');
}
