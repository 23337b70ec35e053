/**
 * Errors a user can cause or fix (bad URL, refused connection, failing migration, bad config).
 * The CLI prints them as one line with a hint and exits with code 2; anything else is an
 * internal error (exit 3).
 */
export type UserErrorKind = 'usage' | 'connection' | 'config' | 'migration' | 'introspection' | 'cancelled';

export class UserError extends Error {
  constructor(
    readonly kind: UserErrorKind,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UserError';
  }
}

/**
 * The longest delay a Node timer holds (2^31 - 1 ms, about 24.8 days): a longer one fires after
 * 1 ms. It is also the largest statement_timeout and lock_timeout Postgres takes.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
