/**
 * Tables of the platform that no stranger may write: Vault's secrets (credentials that functions and
 * cron jobs read) and cron's jobs. A function that lets anon or an account that owns nothing write
 * them is reported whatever its arguments were (lab_function_cross_owner, the lab's verdicts).
 */
import type { Level } from './level.ts';
import type { LabCall } from './report.ts';

const PLATFORM: Readonly<Record<string, { level: Level; what: string; ownInserts?: true }>> = {
  'vault.secrets': { level: 'critical', what: 'Vault secrets (credentials other functions and cron jobs read)', ownInserts: true },
  'cron.job': { level: 'high', what: 'scheduled cron jobs' },
};

/** What a call by anon or the outsider that ran wrote in the platform's tables (`changed`, per `schema.name`), or null (another caller: no stranger). */
export function platformWrites(persona: string, call: Pick<LabCall, 'result' | 'changed'>): { level: Level; text: string } | null {
  if (call.result !== 'ok' || (persona !== 'anon' && persona !== 'outsider')) return null;
  // A signed-in account storing a secret of its own (its API key) is what Vault is for: only anon's
  // inserts, and anyone's updates and deletes of secrets that were there, count.
  const counted = (table: string, c: { inserted: number; updated: number; deleted: number }) => (PLATFORM[table]!.ownInserts && persona !== 'anon' ? 0 : c.inserted) + c.updated + c.deleted;
  const hits = Object.entries(call.changed).filter(([table, c]) => PLATFORM[table] !== undefined && counted(table, c) > 0);
  if (hits.length === 0) return null;
  const level: Level = hits.some(([t]) => PLATFORM[t]!.level === 'critical') ? 'critical' : 'high';
  const counts = (c: { inserted: number; updated: number; deleted: number }) =>
    [c.inserted > 0 ? `${c.inserted} inserted` : '', c.updated > 0 ? `${c.updated} updated` : '', c.deleted > 0 ? `${c.deleted} deleted` : ''].filter(Boolean).join(', ');
  return { level, text: hits.map(([t, c]) => `wrote ${PLATFORM[t]!.what} (${counts(c)} in ${t})`).join('; ') };
}
