import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft, Remediation } from '../src/model/finding.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import type { Relation } from '../src/model/snapshot.ts';
import type { CheckContext } from '../src/model/check.ts';
import { relationObject, rowsText } from './_shared.ts';
import { columnOf, definingTables, hasPrimaryKey, indexesOf, isUsable } from './_indexes.ts';

/**
 * With a NOT NULL `id` that a plain unique index already covers, that index becomes the key with
 * no rebuild and no second copy; otherwise the fix needs a decision the catalog can't make.
 */
function remediation(ctx: CheckContext, table: Relation): Remediation {
  const name = qualified(table.schema, table.name);
  const id = columnOf(table, 'id');
  const uniqueOnId = indexesOf(ctx, table).find(
    (i) =>
      i.unique &&
      i.constraint === null &&
      isUsable(i) &&
      i.method === 'btree' &&
      i.predicate === null &&
      i.expressions === null &&
      i.columns.length === 1 &&
      i.columns[0] === 'id' &&
      i.includeColumns.length === 0 &&
      i.options.every((o) => o === 0),
  );
  if (id?.notNull && uniqueOnId && table.kind === 'table') {
    return {
      text: `Promote the unique index on "id" to the primary key: ADD PRIMARY KEY USING INDEX reuses ${quoteIdent(uniqueOnId.name)} instead of building a second index.`,
      sql: `ALTER TABLE ${name} ADD PRIMARY KEY USING INDEX ${quoteIdent(uniqueOnId.name)};`,
    };
  }
  if (id?.notNull) {
    return {
      text:
        `Make "id" the primary key once it is known to be unique: ALTER TABLE ${name} ADD PRIMARY KEY (id); ` +
        (table.kind === 'partitioned_table'
          ? 'on a partitioned table the key must include the partition key columns.'
          : 'on a large table build the index first with CREATE UNIQUE INDEX CONCURRENTLY, then ADD PRIMARY KEY USING INDEX, to avoid a long lock.'),
    };
  }
  return {
    text:
      `Add a primary key: an existing unique, NOT NULL column (or set of columns), or a new one, e.g. ` +
      `ALTER TABLE ${name} ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY; (this rewrites the table).`,
  };
}

export default defineCheck({
  meta: {
    id: 'no_primary_key',
    title: 'Table without a primary key',
    level: 'info',
    category: 'schema',
    facing: 'internal',
    splinter: 'no_primary_key',
    description: 'A user table has no primary key, so its rows have no stable identity.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    // Partitions take their key from the parent; a parent without one is reported once, not per partition.
    for (const table of definingTables(ctx)) {
      if (hasPrimaryKey(ctx, table)) continue;
      out.push({
        message:
          `${qualified(table.schema, table.name)} (${rowsText(table)}) has no primary key: ` +
          'rows cannot be addressed one by one (API updates and deletes, Realtime and logical replication of UPDATE/DELETE need a row identity), and duplicates go unnoticed.',
        object: relationObject(table),
        remediation: remediation(ctx, table),
      });
    }
    return out;
  },
});
