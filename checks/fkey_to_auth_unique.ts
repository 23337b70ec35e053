import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import type { Index } from '../src/model/snapshot.ts';
import { relationObject } from './_shared.ts';
import { columnListSql, constraintsOf, definingTables } from './_indexes.ts';

const AUTH_SCHEMA = 'auth';

export default defineCheck({
  meta: {
    id: 'fkey_to_auth_unique',
    title: 'Foreign key to a non-primary unique key of an auth table',
    level: 'high',
    category: 'schema',
    facing: 'internal',
    splinter: 'fkey_to_auth_unique',
    description:
      'A foreign key references a table in the auth schema through a unique index or constraint that is not its primary key, which Supabase Auth may change or drop in an upgrade.',
  },
  run(ctx) {
    const authIndexes = new Map<string, Index>();
    for (const index of ctx.snapshot.indexes) {
      if (index.schema === AUTH_SCHEMA) authIndexes.set(index.name, index);
    }
    const out: FindingDraft[] = [];
    for (const table of definingTables(ctx)) {
      for (const fk of constraintsOf(ctx, table)) {
        if (fk.type !== 'foreign_key' || fk.refSchema !== AUTH_SCHEMA || fk.refIndex === null || fk.refTable === null) continue;
        const index = authIndexes.get(fk.refIndex);
        if (!index || index.primary) continue;
        const target = qualified(fk.refSchema, fk.refTable);
        out.push({
          message:
            `Foreign key ${quoteIdent(fk.name)} on ${qualified(table.schema, table.name)} references ${target} (${columnListSql(fk.refColumns)}) ` +
            `through the unique index ${quoteIdent(index.name)}, not the primary key; Supabase Auth owns that index and may change or drop it in an upgrade, which this key would block or break.`,
          object: relationObject(table),
          detail: fk.name,
          remediation: {
            text:
              `Reference the primary key instead (${target === 'auth.users' ? 'auth.users (id)' : `${target}'s primary key`}): add a column holding the id, ` +
              `fill it from ${target}, add a foreign key on it (NOT VALID, then VALIDATE CONSTRAINT), and drop ${quoteIdent(fk.name)}. ` +
              'Read other attributes (email, phone) through a join or a view instead of keying on them.',
          },
          evidence: { constraint: fk.definition, referencedIndex: index.name },
        });
      }
    }
    return out;
  },
});
