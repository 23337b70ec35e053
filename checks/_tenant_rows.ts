/**
 * Rows that belong to a tenant: a table that hangs off a tenant root of the lab (through its
 * foreign keys, up to three steps, or a column named after the root), whose rows the tenant's users
 * write and no policy publishes by a flag of their own. Read by someone of no tenant, they leak,
 * whatever they hold: a project's messages, an organisation's members.
 */
import { keyedByAccount } from '../src/model/accounts.ts';
import type { Snapshot } from '../src/model/snapshot.ts';

/** A row's own publication flag in a policy (`public.is_member(…)` names a schema, not a flag). */
const PUBLISHED = /\b(is_|show_|)(active|public|published|visible|listed|shared|open|enabled|live|approved)\b(?!"?\s*\.)|\bstatus\b\s*(=|in)\s*\(?\s*'(published|public|active|live|approved|open)'/i;

/** The tenant root (`schema.name`) a table's rows belong to, not the root itself; undefined: none. */
export function tenantRootOf(snapshot: Snapshot, rel: { schema: string; name: string }): string | undefined {
  const roots = new Set((snapshot.labTenants ?? []).map((t) => t.root));
  const start = `${rel.schema}.${rel.name}`;
  if (roots.has(start)) return undefined;
  // A key to the root with no foreign key declared: a column named after it (`project_id` for `projects`).
  const table = snapshot.relations.find((r) => r.schema === rel.schema && r.name === rel.name);
  for (const root of roots) {
    const base = root.slice(root.indexOf('.') + 1);
    const names = new Set([`${base}_id`, `${base.replace(/ies$/, 'y').replace(/s$/, '')}_id`]);
    if (table?.columns.some((c) => names.has(c.name))) return root;
  }
  let level = [start];
  const seen = new Set(level);
  for (let depth = 0; depth < 3 && level.length > 0; depth++) {
    const next: string[] = [];
    for (const from of level) {
      for (const c of snapshot.constraints) {
        if (c.type !== 'foreign_key' || `${c.schema}.${c.table}` !== from || !c.refSchema || !c.refTable) continue;
        const to = `${c.refSchema}.${c.refTable}`;
        if (roots.has(to)) return to;
        // Not through an account (a profile's current organisation is not its posts' tenant).
        if ((c.refSchema === 'auth' && c.refTable === 'users') || keyedByAccount(snapshot, c.refSchema, c.refTable)) continue;
        if (!seen.has(to)) {
          seen.add(to);
          next.push(to);
        }
      }
    }
    level = next;
  }
  return undefined;
}

/**
 * The tenant root whose private rows a table holds, or undefined: not a tenant's, published by a
 * flag of its own (`active = true`, `is_public`, `status = 'published'`: a store's items, a club's
 * public events), or written by nobody through the API (reference data the project curates).
 */
export function privateTenantRows(snapshot: Snapshot, rel: { schema: string; name: string }): string | undefined {
  const mine = snapshot.policies.filter((p) => p.schema === rel.schema && p.table === rel.name && p.permissive);
  const published = mine.some((p) => (p.command === 'SELECT' || p.command === 'ALL') && PUBLISHED.test(p.using ?? ''));
  const written = mine.some((p) => p.command !== 'SELECT' && p.command !== 'DELETE');
  return !published && written ? tenantRootOf(snapshot, rel) : undefined;
}
