/**
 * A database session as introspection sees it: parameterised single statements and
 * multi-statement `exec`. Two drivers implement it: `pg` (live databases) and PGlite (embedded).
 */
export interface Session {
  /** One statement, optional `$n` parameters, rows as plain objects. Counts as one round trip. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Several statements, no parameters, no results. Counts as one round trip. */
  exec(sql: string): Promise<void>;
  /** Round trips made so far. */
  readonly roundTrips: number;
  /** Cancel the statement in flight, if the driver can. */
  cancel?(): Promise<void>;
  close(): Promise<void>;
}

/** Wraps a raw driver function pair and counts round trips. */
export class CountingSession implements Session {
  private count = 0;
  constructor(
    private readonly run: (sql: string, params?: readonly unknown[]) => Promise<Record<string, unknown>[]>,
    private readonly runMany: (sql: string) => Promise<void>,
    private readonly closer: () => Promise<void>,
    readonly cancel?: () => Promise<void>,
  ) {}

  get roundTrips(): number {
    return this.count;
  }

  async query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    this.count++;
    return (await this.run(sql, params)) as T[];
  }

  async exec(sql: string): Promise<void> {
    this.count++;
    await this.runMany(sql);
  }

  close(): Promise<void> {
    return this.closer();
  }
}
