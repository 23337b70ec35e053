import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import { relationObject, rowsText } from './_shared.ts';
import { columnListSql, constraintsOf, definingTables, indexesOf, nameAllocator, servesForeignKey } from './_indexes.ts';

/** Above this many rows a missing FK index costs real time on every parent delete or key update. */
const LARGE_TABLE_ROWS = 10_000;

export default defineCheck({
  meta: {
    id: 'unindexed_foreign_keys',
    title: 'Foreign key without a covering index',
    level: 'info',
    category: 'performance',
    facing: 'internal',
    splinter: 'unindexed_foreign_keys',
    description:
      'A foreign key whose columns do not lead any valid, non-partial index of the referencing table, so deletes and key updates on the referenced table scan it.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    const freshName = nameAllocator(ctx);
    // Partitions get their foreign keys from the parent: the parent's (partitioned) indexes are what count.
    for (const table of definingTables(ctx)) {
      const fkeys = constraintsOf(ctx, table).filter((c) => c.type === 'foreign_key' && c.columns.length > 0);
      if (fkeys.length === 0) continue;
      const indexes = indexesOf(ctx, table);
      for (const fk of fkeys) {
        if (indexes.some((i) => servesForeignKey(i, fk.columns))) continue;
        const name = qualified(table.schema, table.name);
        const target = fk.refSchema !== null && fk.refTable !== null ? qualified(fk.refSchema, fk.refTable) : 'the referenced table';
        const large = table.rowEstimate > LARGE_TABLE_ROWS;
        const indexName = freshName(table.schema, [table.name, ...fk.columns], 'idx');
        const partitioned = table.kind === 'partitioned_table';
        const create = partitioned ? 'CREATE INDEX' : 'CREATE INDEX CONCURRENTLY';
        out.push({
          level: large ? 'low' : 'info',
          message:
            `Foreign key ${quoteIdent(fk.name)} on ${name} (${columnListSql(fk.columns)}) has no index leading with its columns, ` +
            `so every delete or key update on ${target} scans ${name} (${rowsText(table)}) and locks it longer.`,
          object: relationObject(table),
          detail: fk.name,
          remediation: {
            text: partitioned
              ? 'Add an index on the foreign key columns. On a partitioned table CREATE INDEX locks every partition; on a busy table create it ON ONLY the parent, build each partition\'s index CONCURRENTLY and ATTACH them.'
              : 'Add an index whose leading columns are the foreign key columns. CONCURRENTLY avoids blocking writes (it cannot run inside a transaction block).',
            sql: `${create} ${quoteIdent(indexName)} ON ${name} (${columnListSql(fk.columns)});`,
          },
          evidence: { constraint: fk.name, columns: fk.columns, references: target, rowEstimate: table.rowEstimate },
        });
      }
    }
    return out;
  },
});
