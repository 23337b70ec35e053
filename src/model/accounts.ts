/** Tables that stand for an account, read from the catalog. */
import type { Snapshot } from './snapshot.ts';

/** A table whose primary key is itself a key to auth.users: one row per account (a profile, `public.users`). */
export function keyedByAccount(snapshot: Snapshot, schema: string, table: string): boolean {
  const pk = snapshot.constraints.find((c) => c.schema === schema && c.table === table && c.type === 'primary_key');
  return (
    pk !== undefined &&
    snapshot.constraints.some((c) => c.schema === schema && c.table === table && c.type === 'foreign_key' && c.refSchema === 'auth' && c.refTable === 'users' && c.columns.join() === pk.columns.join())
  );
}
