import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import type { Index } from '../src/model/snapshot.ts';
import { relationObject, userTables } from './_shared.ts';
import { dropIndexSql, formatBytes, indexesOf } from './_indexes.ts';

/** Leftovers of a failed `REINDEX CONCURRENTLY`: the new copy (`_ccnew`) or the old one (`_ccold`); the original is fine. */
const REINDEX_LEFTOVER = /_cc(new|old)\d*$/;

function fixSql(index: Index): string {
  if (REINDEX_LEFTOVER.test(index.name)) return dropIndexSql(index);
  return `REINDEX INDEX CONCURRENTLY ${qualified(index.schema, index.name)};`;
}

export default defineCheck({
  meta: {
    id: 'invalid_index',
    title: 'Invalid index',
    level: 'medium',
    category: 'performance',
    facing: 'internal',
    description:
      'An index marked invalid: a CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY that failed or is still running. Queries cannot use it, yet writes may still maintain it.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    for (const table of userTables(ctx)) {
      for (const index of indexesOf(ctx, table)) {
        // A partitioned index is invalid until every partition has one attached: a different problem, and no build to repair.
        if (index.valid || index.partitionedParent) continue;
        const name = qualified(table.schema, table.name);
        const leftover = REINDEX_LEFTOVER.test(index.name);
        out.push({
          message:
            `Index ${quoteIdent(index.name)} on ${name} is invalid: a concurrent index build failed (or is still running). ` +
            `Queries cannot use it${index.ready ? `, yet every write still maintains it (${formatBytes(index.sizeBytes)})` : ''}` +
            `${index.unique && index.ready ? ', and as a unique index it still rejects duplicates in new rows' : ''}.`,
          object: relationObject(table),
          detail: index.name,
          remediation: {
            text: leftover
              ? `${quoteIdent(index.name)} is a leftover of a failed REINDEX CONCURRENTLY; the original index is intact. Drop the leftover.`
              : 'First make sure no build is still running (pg_stat_progress_create_index). Then rebuild it with REINDEX INDEX CONCURRENTLY, ' +
                'or drop it with DROP INDEX CONCURRENTLY and create it again. A unique index usually failed on duplicate values: remove them first, or the rebuild fails again.',
            sql: fixSql(index),
          },
          evidence: { definition: index.definition, ready: index.ready, unique: index.unique },
        });
      }
    }
    return out;
  },
});
