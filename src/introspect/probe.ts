/**
 * Probes: verify the static blast-radius model by running real statements as each role, with
 * synthetic JWT claims, inside a transaction that always rolls back. Read probes run in a
 * READ ONLY transaction; write probes (opt-in) each sit in a SAVEPOINT that is rolled back, and
 * the whole transaction is rolled back at the end. Nothing persists (sequences may advance).
 */
import { qualified, quoteIdent, quoteLiteral } from '../model/ident.ts';
import type { Relation, Snapshot } from '../model/snapshot.ts';
import { describePgError } from './errors.ts';
import type { Session } from './session.ts';

export const PROBE_USER_ID = '00000000-0000-4000-8000-00000000beef';

export type ProbeCommand = 'select' | 'insert' | 'update' | 'delete';

/** What the database answered: rows visible/affected, denied (by privilege or RLS), or inconclusive. */
export interface ProbeOutcome {
  readonly command: ProbeCommand;
  /** `allowed`: the statement succeeded and touched `rows` rows (0 means RLS filtered everything). */
  readonly result: 'allowed' | 'denied' | 'rls_denied' | 'inconclusive' | 'skipped';
  readonly rows?: number;
  readonly error?: string;
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
  readonly statementTimeoutMs?: number;
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

function insertSql(rel: Relation): string | null {
  const required = rel.columns.filter((c) => c.notNull && c.default === null && !c.identity && !c.generated);
  if (required.length === 0) return `INSERT INTO ${qualified(rel.schema, rel.name)} DEFAULT VALUES`;
  const values = required.map((c) => probeValue(c.type, c.name));
  if (values.some((v) => v === null)) return null;
  return `INSERT INTO ${qualified(rel.schema, rel.name)} (${required.map((c) => quoteIdent(c.name)).join(', ')}) VALUES (${values.join(', ')})`;
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
export async function runProbes(session: Session, options: ProbeOptions): Promise<RoleProbe[]> {
  const timeout = Math.max(1, Math.floor(options.statementTimeoutMs ?? 5_000));
  // The audit session defaults to read-only, so write probes ask for READ WRITE explicitly.
  const begin = options.writes ? 'BEGIN READ WRITE' : 'BEGIN READ ONLY';
  await session.exec(`${begin}; SET LOCAL statement_timeout = ${timeout}; SET LOCAL lock_timeout = 1000`);
  try {
    const totals = new Map<string, number | null>();
    for (const rel of options.tables) {
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
      await session.exec('SAVEPOINT supaudit_probe');
      try {
        await session.query(`SELECT set_config('role', $1, true)`, [role]);
      } catch (error) {
        results.push({ role, claims, tables: [], error: `cannot switch to role ${role}: ${describePgError(error)}` });
        continue;
      } finally {
        await session.exec('ROLLBACK TO SAVEPOINT supaudit_probe');
      }
      for (const rel of options.tables) {
        const outcomes: ProbeOutcome[] = [];
        const commands: ProbeCommand[] = options.writes ? ['select', 'insert', 'update', 'delete'] : ['select'];
        for (const command of commands) {
          if (command !== 'select' && rel.hasTriggers && !options.writesOnTriggerTables) {
            outcomes.push({ command, result: 'skipped', error: 'table has triggers (use --probe-triggers to include it)' });
            continue;
          }
          if (command !== 'select' && rel.kind !== 'table' && rel.kind !== 'partitioned_table') {
            outcomes.push({ command, result: 'skipped', error: `${rel.kind.replace('_', ' ')}` });
            continue;
          }
          const name = qualified(rel.schema, rel.name);
          const firstColumn = rel.columns[0] ? quoteIdent(rel.columns[0].name) : null;
          let sql: string | null;
          switch (command) {
            case 'select':
              sql = `SELECT count(*)::float8 AS n FROM ${name}`;
              break;
            case 'insert':
              sql = insertSql(rel);
              break;
            case 'update':
              sql = firstColumn ? `UPDATE ${name} SET ${firstColumn} = ${firstColumn} WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${name} LIMIT 1))` : null;
              break;
            case 'delete':
              sql = `DELETE FROM ${name} WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${name} LIMIT 1))`;
              break;
          }
          if (sql === null) {
            outcomes.push({ command, result: 'skipped', error: 'no safe value for a required column' });
            continue;
          }
          await session.exec('SAVEPOINT supaudit_probe');
          try {
            await session.query(`SELECT set_config('role', $1, true), set_config('request.jwt.claims', $2, true), set_config('request.jwt.claim.sub', $3, true)`, [
              role,
              JSON.stringify(claims),
              typeof claims['sub'] === 'string' ? claims['sub'] : '',
            ]);
            if (command === 'select') {
              const [row] = await session.query<{ n: number }>(sql);
              outcomes.push({ command, result: 'allowed', rows: Number(row?.n ?? 0) });
            } else {
              const rows = await session.query(`WITH probe AS (${sql} RETURNING 1) SELECT count(*)::float8 AS n FROM probe`);
              outcomes.push({ command, result: 'allowed', rows: Number((rows[0] as { n?: number } | undefined)?.n ?? 0) });
            }
          } catch (error) {
            outcomes.push({ command, result: classify(error), error: describePgError(error) });
          } finally {
            await session.exec('ROLLBACK TO SAVEPOINT supaudit_probe');
          }
        }
        tables.push({ schema: rel.schema, name: rel.name, totalRows: totals.get(`${rel.schema}.${rel.name}`) ?? null, outcomes });
      }
      results.push({ role, claims, tables });
    }
    return results;
  } finally {
    await session.exec('ROLLBACK').catch(() => undefined);
  }
}

/** Tables worth probing: user relations in exposed schemas. */
export function probeTargets(snapshot: Snapshot, isUser: (r: Relation) => boolean): Relation[] {
  const exposed = new Set(snapshot.exposedSchemas);
  return snapshot.relations.filter((r) => exposed.has(r.schema) && isUser(r) && r.kind !== 'foreign_table');
}
