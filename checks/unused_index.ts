import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import type { Constraint, Index } from '../src/model/snapshot.ts';
import { relationObject } from './_shared.ts';
import { constraintsOf, definingTables, dropIndexSql, formatBytes, indexesOf, servesForeignKey, statisticsAge } from './_indexes.ts';

function isUnused(index: Index): boolean {
  return index.scans === 0 && index.valid && !index.unique && !index.primary && index.constraint === null && !index.partitionedParent;
}

/**
 * An index behind a foreign key is there for deletes on the referenced table, which may be rare
 * and so leave it unscanned. When every index serving a key is unused, the narrowest is kept
 * (not reported) so that following the advice never leaves the key unindexed.
 */
function keptForForeignKeys(indexes: readonly Index[], constraints: readonly Constraint[]): Set<Index> {
  const kept = new Set<Index>();
  for (const fk of constraints) {
    if (fk.type !== 'foreign_key' || fk.columns.length === 0) continue;
    const serving = indexes.filter((i) => servesForeignKey(i, fk.columns));
    if (serving.length === 0 || !serving.every(isUnused)) continue;
    serving.sort((a, b) => a.columns.length - b.columns.length || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    kept.add(serving[0]!);
  }
  return kept;
}

export default defineCheck({
  meta: {
    id: 'unused_index',
    title: 'Index never scanned',
    level: 'info',
    category: 'performance',
    facing: 'internal',
    splinter: 'unused_index',
    description:
      'A valid, non-unique index that no query has scanned since statistics were last reset: it only costs writes, storage and cache.',
  },
  run(ctx) {
    // A database that ran no workload (migrations loaded into the embedded one) scanned nothing.
    if (ctx.snapshot.noWorkload) return [];
    const age = statisticsAge(ctx.snapshot);
    const out: FindingDraft[] = [];
    // Partitions' indexes mostly hang off a partitioned index and cannot be dropped alone.
    for (const table of definingTables(ctx)) {
      const indexes = indexesOf(ctx, table);
      const unused = indexes.filter(isUnused);
      if (unused.length === 0) continue;
      const kept = keptForForeignKeys(indexes, constraintsOf(ctx, table));
      for (const index of unused) {
        if (kept.has(index)) continue;
        const name = qualified(table.schema, table.name);
        out.push({
          message:
            `Index ${quoteIdent(index.name)} on ${name} (${formatBytes(index.sizeBytes)}) has no recorded scans (${age}); ` +
            'every insert and update still maintains it.',
          object: relationObject(table),
          detail: index.name,
          remediation: {
            text:
              'Drop the index if nothing needs it. The scan counters cover this server only since the last reset: check read replicas and rare workloads (month-end reports, cron jobs) first. Run DROP INDEX CONCURRENTLY on its own, outside a transaction block.',
            sql: `-- idx_scan counts this server only: check read replicas and rare workloads before dropping.\n${dropIndexSql(index)}`,
          },
          evidence: { definition: index.definition, sizeBytes: index.sizeBytes, scans: index.scans, statsReset: ctx.snapshot.statsReset },
        });
      }
    }
    return out;
  },
});
