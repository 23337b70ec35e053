import { UserError } from '../model/errors.ts';

interface PgErrorLike {
  code?: string;
  message?: string;
  detail?: string;
}

function asPgError(error: unknown): PgErrorLike {
  return typeof error === 'object' && error !== null ? (error as PgErrorLike) : { message: String(error) };
}

export function isPermissionDenied(error: unknown): boolean {
  return asPgError(error).code === '42501';
}

/** The statement was stopped by statement_timeout (57014) or lock_timeout (55P03): the database gave no answer. */
export function isTimeout(error: unknown): boolean {
  const code = asPgError(error).code;
  return code === '57014' || code === '55P03';
}

/** `message (SQLSTATE xxxxx)`, one line. */
export function describePgError(error: unknown): string {
  const e = asPgError(error);
  const message = (e.message ?? String(error)).split('\n')[0] ?? '';
  return e.code ? `${message} (SQLSTATE ${e.code})` : message;
}

const CONDITIONS: Record<string, string> = {
  '42501': 'insufficient privilege',
  '23505': 'unique violation',
  '23503': 'foreign key violation',
  '23502': 'not-null violation',
  '23514': 'check violation',
  '23P01': 'exclusion violation',
  '22P02': 'invalid input syntax',
  '22001': 'value too long',
  '22003': 'numeric value out of range',
  '22007': 'invalid datetime format',
  '22023': 'invalid parameter value',
  '25006': 'read-only transaction',
  '40001': 'serialization failure',
  '40P01': 'deadlock detected',
  '42P17': 'infinite recursion in policy',
  '54001': 'stack depth limit exceeded',
  '55P03': 'lock not available (lock_timeout)',
  '57014': 'statement timeout or cancel',
  P0001: 'raised by a function or trigger',
};

/**
 * The server routines that report a constraint violation, with the catalog names of the objects in
 * the error's schema, table, column and constraint fields. A function fills the same fields with
 * anything it likes (`RAISE … USING COLUMN = row.email`, with a server-looking SQLSTATE such as
 * 23505), so an error from any other routine, or one that does not say which, keeps none of them.
 */
const CATALOG_NAMING_ROUTINES: ReadonlySet<string> = new Set([
  '_bt_check_unique', // unique violation (btree)
  'check_exclusion_or_unique_constraint', // exclusion, deferred unique
  'ri_ReportViolation', // foreign key
  'ExecConstraints', // not-null, check
  'ReportNotNullViolationError', // not-null (PostgreSQL 18)
  'ExecPartitionCheckEmitError', // partition constraint
  'ExecEvalConstraintCheck', // domain check
]);

/** Source files of the procedural languages' error reporting: RAISE, plpy.error, elog in PL/Perl and PL/Tcl. */
const RAISED_IN = /^(pl_exec|plpy_|plperl|pltcl|plv8)/;

/**
 * An error of a statement run on user data (probes, EXPLAIN, load), without anything that can hold
 * data: Postgres quotes row values in messages and details ("Key (email)=(a@b.c) already exists",
 * "Failing row contains (…)"), and a function's RAISE sets message, detail, hint and the object
 * fields to what it likes. Only the SQLSTATE, its condition and, for the server's own constraint
 * errors, the catalog names of the objects are kept.
 */
export function describePgErrorSafely(error: unknown): string {
  const e = asPgError(error) as PgErrorLike & { schema?: string; table?: string; column?: string; constraint?: string; file?: string; routine?: string };
  if (!e.code) return 'failed (no SQLSTATE)';
  const condition = CONDITIONS[e.code] ?? `SQLSTATE class ${e.code.slice(0, 2)}`;
  const raised = e.code !== 'P0001' && RAISED_IN.test(e.file ?? '') ? ', raised by a function or trigger' : '';
  const named = CATALOG_NAMING_ROUTINES.has(e.routine ?? '');
  // A fixed label read from the server's message template; a RAISE's own text is not believed.
  const rls = e.code === '42501' && !raised && /row-level security/i.test(e.message ?? '') ? ' (row-level security)' : '';
  const on = named
    ? [e.table ? `table ${e.schema ? `${e.schema}.` : ''}${e.table}` : null, e.column ? `column ${e.column}` : null, e.constraint ? `constraint ${e.constraint}` : null].filter(Boolean)
    : [];
  return `${condition}${raised}${rls}${on.length ? ` on ${on.join(', ')}` : ''} (SQLSTATE ${e.code})`;
}

/** An introspection stage failed: says which, and why, in one line. */
export class IntrospectionError extends UserError {
  constructor(
    readonly stage: string,
    cause: unknown,
  ) {
    const e = asPgError(cause);
    let hint: string | undefined;
    if (e.code === '57014') hint = 'the catalog query hit statement_timeout; raise it with --statement-timeout';
    else if (e.code === '55P03') hint = 'a lock on the catalog was held by another session; retry, or raise --lock-timeout';
    else if (e.code === '25006') hint = 'the server refused a read in a read-only transaction';
    super('introspection', `reading ${stage} failed: ${describePgError(cause)}`, hint, { cause });
    this.name = 'IntrospectionError';
  }
}

/**
 * The server or a pooler in front of it refused a new connection because it is full: SQLSTATE 53300
 * from Postgres (max_connections, a role's or database's CONNECTION LIMIT), or PgBouncer's
 * "no more connections allowed" (max_client_conn). `supaudit load` backs off on it.
 */
export class ConnectionLimitError extends UserError {
  constructor(
    where: string,
    /** What the server or pooler said, one line. */
    readonly reason: string,
  ) {
    super('connection', `too many connections on ${where} (${reason})`, 'use the pooler URL or retry later');
    this.name = 'ConnectionLimitError';
  }
}

/** PgBouncer's refusal at max_client_conn (sent as 08P01, so known by its text) and Supavisor's. */
const POOLER_FULL = /no more connections allowed|max client connections reached|max clients reached/i;

/** Whether a driver error on connect says the server or pooler is full. */
export function isConnectionLimit(error: unknown): boolean {
  const e = asPgError(error);
  return e.code === '53300' || POOLER_FULL.test(e.message ?? '');
}
