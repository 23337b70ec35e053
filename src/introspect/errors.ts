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

/** `message (SQLSTATE xxxxx)`, one line. */
export function describePgError(error: unknown): string {
  const e = asPgError(error);
  const message = (e.message ?? String(error)).split('\n')[0] ?? '';
  return e.code ? `${message} (SQLSTATE ${e.code})` : message;
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
