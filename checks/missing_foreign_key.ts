import type { CheckContext } from '../src/model/check.ts';
import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft, Remediation } from '../src/model/finding.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import type { Column, Relation } from '../src/model/snapshot.ts';
import { relationObject } from './_shared.ts';
import {
  columnOf,
  constraintsOf,
  definingTables,
  nameAllocator,
  namesAuthUser,
  ownerColumnKind,
  policyTiesOf,
  type NameAllocator,
} from './_indexes.ts';

/** Table names a tenant column's stem may point at, most likely first (`org` → organizations). */
const STEM_ALIASES: Readonly<Record<string, readonly string[]>> = {
  org: ['organization', 'org'],
  organisation: ['organisation', 'organization'],
  company: ['company'],
};

function plural(word: string): string[] {
  if (word.endsWith('y') && !/[aeiou]y$/.test(word)) return [`${word.slice(0, -1)}ies`];
  if (/(s|x|z|ch|sh)$/.test(word)) return [`${word}es`];
  return [`${word}s`];
}

/** Candidate tables for `team_id`: teams, team. */
function candidateTables(column: string): string[] {
  const stem = column.toLowerCase().replace(/_id$/, '');
  if (stem === column.toLowerCase()) return [];
  const stems = STEM_ALIASES[stem] ?? [stem];
  return stems.flatMap((s) => [...plural(s), s]);
}

interface Target {
  readonly schema: string;
  readonly table: string;
  readonly column: string;
}

/** The single-column primary key of a table, when its type matches the referencing column. */
function primaryKeyMatching(ctx: CheckContext, table: Relation, column: Column): string | null {
  const pk = constraintsOf(ctx, table).find((c) => c.type === 'primary_key');
  if (!pk || pk.columns.length !== 1) return null;
  const pkColumn = columnOf(table, pk.columns[0]!);
  return pkColumn && pkColumn.typeName === column.typeName ? pkColumn.name : null;
}

/** Where the column most likely points: auth.users(id) for a user uuid, else a same-named table with a matching key. */
function guessTarget(ctx: CheckContext, table: Relation, column: Column): Target | null {
  if (namesAuthUser(column)) {
    const users = ctx.relation('auth', 'users');
    if (column.typeName === 'pg_catalog.uuid' && users && columnOf(users, 'id')?.typeName === 'pg_catalog.uuid') {
      return { schema: 'auth', table: 'users', column: 'id' };
    }
  }
  const schemas = table.schema === 'public' ? ['public'] : [table.schema, 'public'];
  for (const schema of schemas) {
    for (const name of candidateTables(column.name)) {
      const target = ctx.relation(schema, name);
      if (!target || (target.kind !== 'table' && target.kind !== 'partitioned_table') || target === table) continue;
      const key = primaryKeyMatching(ctx, target, column);
      if (key) return { schema, table: name, column: key };
    }
  }
  return null;
}

function remediation(ctx: CheckContext, freshName: NameAllocator, table: Relation, column: Column, target: Target | null): Remediation {
  const name = qualified(table.schema, table.name);
  if (!target) {
    return {
      text:
        `Add a foreign key from ${quoteIdent(column.name)} to the table it identifies: ALTER TABLE ${name} ADD CONSTRAINT … ` +
        `FOREIGN KEY (${quoteIdent(column.name)}) REFERENCES … NOT VALID; then VALIDATE CONSTRAINT once orphan rows are fixed.`,
    };
  }
  const taken = new Set(constraintsOf(ctx, table).map((c) => c.name));
  const constraint = quoteIdent(freshName(table.schema, [table.name, column.name], 'fkey', taken));
  const ref = `${qualified(target.schema, target.table)} (${quoteIdent(target.column)})`;
  return {
    text:
      `Reference ${ref}. NOT VALID adds the key without scanning the table (new rows are checked at once); ` +
      'VALIDATE then checks existing rows without blocking writes, and fails on orphans: delete or fix them first. ' +
      'Choose ON DELETE CASCADE or SET NULL if rows should follow their owner.',
    sql:
      `ALTER TABLE ${name} ADD CONSTRAINT ${constraint} FOREIGN KEY (${quoteIdent(column.name)}) REFERENCES ${ref} NOT VALID;\n` +
      `ALTER TABLE ${name} VALIDATE CONSTRAINT ${constraint};`,
  };
}

export default defineCheck({
  meta: {
    id: 'missing_foreign_key',
    title: 'Owner or tenant column without a foreign key',
    level: 'medium',
    category: 'schema',
    facing: 'internal',
    labClaim: 'escalation',
    description:
      'A column named like an owner or tenant key (user_id, created_by, team_id, organization_id…) has no foreign key, so it can hold ids of users or tenants that do not exist.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    const freshName = nameAllocator(ctx);
    // Partitions inherit the parent's foreign keys (not listed on them): the parent is checked.
    for (const table of definingTables(ctx)) {
      const withKey = new Set(constraintsOf(ctx, table).flatMap((c) => (c.type === 'foreign_key' ? c.columns : [])));
      const ties = policyTiesOf(ctx, table);
      for (const column of table.columns) {
        if (withKey.has(column.name)) continue;
        const kind = ownerColumnKind(column);
        if (!kind) continue;
        const uidPolicies = [...new Set(ties.filter((t) => t.column === column.name && t.comparedWithUid).map((t) => t.policy))].sort();
        const target = guessTarget(ctx, table, column);
        const name = qualified(table.schema, table.name);
        out.push({
          // Integrity, not access: a random uuid cannot be guessed or reused, and the policies that
          // compare the column with auth.uid() hold without the key. Said, not raised.
          level: 'medium',
          message:
            `${name}.${quoteIdent(column.name)} looks like ${kind === 'user' ? 'a user' : 'a tenant'} key but has no foreign key, ` +
            `so it accepts ids that match no ${kind === 'user' ? 'user' : 'row'} and keeps rows of deleted ones` +
            (uidPolicies.length > 0
              ? `; the polic${uidPolicies.length === 1 ? 'y' : 'ies'} ${uidPolicies.map((p) => quoteIdent(p)).join(', ')} grant access by comparing it with auth.uid().`
              : '.'),
          object: relationObject(table, { column: column.name }),
          remediation: remediation(ctx, freshName, table, column, target),
          evidence: {
            type: column.type,
            ...(target ? { suggestedReference: `${target.schema}.${target.table}(${target.column})` } : {}),
            policies: uidPolicies,
          },
        });
      }
    }
    return out;
  },
});
