import { defineCheck } from '../src/model/check.ts';
import { qualified, quoteIdent, sqlComment } from '../src/model/ident.ts';
import type { CheckContext } from '../src/model/check.ts';
import type { Index, Relation } from '../src/model/snapshot.ts';
import { WIDE_ROW_BYTES } from '../src/score/realtime.ts';
import { relationObject } from './_shared.ts';
import { loadEvidence, userRealtimeTables } from './_realtime.ts';

export default defineCheck({
  meta: {
    id: 'realtime_replica_identity_full_wide',
    title: 'Realtime table with REPLICA IDENTITY FULL and wide rows',
    level: 'medium',
    category: 'performance',
    facing: 'internal',
    needs: ['columnStats'],
    description:
      'A table in the supabase_realtime publication has REPLICA IDENTITY FULL and wide rows, so every update and delete writes and decodes the whole old row.',
  },
  run(ctx) {
    return userRealtimeTables(ctx).flatMap(({ load, relation }) => {
      if (load.replicaIdentity !== 'full') return [];
      const wideRow = load.rowWidthBytes !== null && load.rowWidthBytes > WIDE_ROW_BYTES;
      if (!wideRow && load.wideColumns.length === 0) return [];
      const name = qualified(relation.schema, relation.name);
      const width =
        load.rowWidthBytes !== null ? `rows average ${bytes(load.rowWidthBytes)}` : 'row width unknown';
      const columns = load.wideColumns.map((c) => `${c.name} ${bytes(c.avgWidth)}`);
      const identity = replacementIdentity(ctx, relation);
      return [
        {
          message:
            `${name} is published to Realtime with REPLICA IDENTITY FULL and ${width}` +
            (columns.length > 0 ? ` (wide columns: ${columns.join(', ')})` : '') +
            ': every UPDATE and DELETE writes the whole old row to the WAL and Realtime decodes it, ' +
            (relation.rlsEnabled ? 'although with RLS on Supabase sends subscribers only the old primary key.' : 'and sends it to every subscriber.'),
          object: relationObject(relation),
          remediation: {
            text:
              'Go back to the primary key as replica identity unless clients need the old values (`payload.old`) or filter ' +
              'UPDATE/DELETE events on non-key columns; with RLS enabled Realtime only sends the old primary key anyway. ' +
              (identity.sql === null ? identity.why : ''),
            ...(identity.sql !== null ? { sql: identity.sql } : {}),
          },
          evidence: { ...loadEvidence(load), rowWidthBytes: load.rowWidthBytes, wideColumns: load.wideColumns, rlsEnabled: relation.rlsEnabled },
        },
      ];
    });
  },
});

function bytes(n: number): string {
  return n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${Math.round(n)} bytes`;
}

/**
 * The identity to go back to: DEFAULT needs a primary key (without one, UPDATE and DELETE on a
 * published table fail); otherwise a unique, non-partial index on NOT NULL columns will do.
 */
function replacementIdentity(ctx: CheckContext, relation: Relation): { sql: string | null; why: string } {
  const table = qualified(relation.schema, relation.name);
  const hasPrimaryKey = ctx.snapshot.constraints.some(
    (c) => c.schema === relation.schema && c.table === relation.name && c.type === 'primary_key',
  );
  const trade = sqlComment('old records then carry only the key columns (payload.old); filters on other columns no longer match deletes');
  if (hasPrimaryKey) return { sql: `${trade}\nALTER TABLE ${table} REPLICA IDENTITY DEFAULT;`, why: '' };
  const index = ctx.snapshot.indexes.find((i) => i.schema === relation.schema && i.table === relation.name && usableAsIdentity(i, relation));
  if (index) return { sql: `${trade}\nALTER TABLE ${table} REPLICA IDENTITY USING INDEX ${quoteIdent(index.name)};`, why: '' };
  return {
    sql: null,
    why: `The table has no primary key and no unique index on NOT NULL columns: add a primary key first, then ALTER TABLE ${table} REPLICA IDENTITY DEFAULT (with no key, updates and deletes on a published table fail).`,
  };
}

function usableAsIdentity(index: Index, relation: Relation): boolean {
  if (!index.unique || !index.valid || index.unreadable !== undefined || index.predicate !== null || index.expressions !== null || index.partitionedParent) return false;
  return index.columns.every((col) => col !== null && relation.columns.find((c) => c.name === col)?.notNull === true);
}
