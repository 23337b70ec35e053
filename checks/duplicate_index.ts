import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import type { Constraint, Index, Relation } from '../src/model/snapshot.ts';
import { relationObject, userTables } from './_shared.ts';
import { constraintsOf, dropIndexSql, formatBytes, indexesOf, isUsable, nameKey } from './_indexes.ts';

/**
 * Everything that decides what an index can do, compared structurally (catalog fields, not the
 * `CREATE INDEX` text, which carries the name). INCLUDE columns are compared as a set.
 */
function signature(index: Index): string {
  return JSON.stringify([
    index.method,
    index.columns,
    index.expressions,
    index.predicate,
    index.opclasses,
    index.collations,
    index.options,
    index.unique,
    [...index.includeColumns].sort(),
  ]);
}

/** Keep the primary key, then a constraint's index, then one a foreign key references, then the first name alphabetically. */
function keepOrder(referenced: ReadonlySet<string>): (a: Index, b: Index) => number {
  const isReferenced = (i: Index) => Number(referenced.has(nameKey(i.schema, i.name)));
  return (a, b) =>
    Number(b.primary) - Number(a.primary) ||
    Number(b.constraint !== null) - Number(a.constraint !== null) ||
    isReferenced(b) - isReferenced(a) ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/**
 * SQL removing one surplus index: DROP INDEX, or DROP CONSTRAINT when a constraint owns it; null
 * when a foreign key (on another table) depends on it and would have to be moved first.
 */
function removalSql(table: Relation, index: Index, constraints: readonly Constraint[], referenced: ReadonlySet<string>): string | null {
  if (referenced.has(nameKey(index.schema, index.name))) return null;
  if (index.constraint === null) return dropIndexSql(index);
  const owner = constraints.find((c) => c.name === index.constraint);
  return owner ? `ALTER TABLE ${qualified(table.schema, table.name)} DROP CONSTRAINT ${quoteIdent(owner.name)};` : null;
}

export default defineCheck({
  meta: {
    id: 'duplicate_index',
    title: 'Duplicate indexes',
    level: 'medium',
    category: 'performance',
    facing: 'internal',
    splinter: 'duplicate_index',
    description:
      'Two or more valid indexes on the same table have the same definition (method, keys, expressions, predicate, operator classes, collations, sort options, uniqueness and INCLUDE columns).',
  },
  run(ctx) {
    // Indexes referenced by foreign keys (on the referenced side) cannot be dropped without the key.
    const referenced = new Set<string>();
    for (const c of ctx.snapshot.constraints) {
      if (c.type === 'foreign_key' && c.refIndex !== null && c.refSchema !== null) referenced.add(nameKey(c.refSchema, c.refIndex));
    }
    const byPreference = keepOrder(referenced);
    const out: FindingDraft[] = [];
    // Partitions' indexes mirror the parent's partitioned indexes (and cannot be dropped alone): the parent is reported.
    for (const table of userTables(ctx)) {
      if (table.isPartition) continue;
      const indexes = indexesOf(ctx, table);
      if (indexes.length < 2) continue;
      // Cheap first cut on the leading column; full signatures only where two indexes share it.
      const byLead = new Map<string | null | undefined, Index[]>();
      for (const index of indexes) {
        if (!isUsable(index)) continue;
        const list = byLead.get(index.columns[0]);
        if (list) list.push(index);
        else byLead.set(index.columns[0], [index]);
      }
      const groups = new Map<string, Index[]>();
      for (const candidates of byLead.values()) {
        if (candidates.length < 2) continue;
        for (const index of candidates) {
          const key = signature(index);
          const group = groups.get(key);
          if (group) group.push(index);
          else groups.set(key, [index]);
        }
      }
      const constraints = constraintsOf(ctx, table);
      for (const group of groups.values()) {
        if (group.length < 2) continue;
        const [keep, ...surplus] = [...group].sort(byPreference);
        const name = qualified(table.schema, table.name);
        const statements = surplus.map((i) => removalSql(table, i, constraints, referenced));
        const blocked = surplus.filter((_, n) => statements[n] === null).map((i) => quoteIdent(i.name));
        const wasted = surplus.reduce((sum, i) => sum + i.sizeBytes, 0);
        out.push({
          message:
            `${name} has ${group.length} identical indexes: ${surplus.map((i) => quoteIdent(i.name)).join(', ')} ` +
            `duplicate${surplus.length === 1 ? 's' : ''} ${quoteIdent(keep!.name)}, so every write updates ${group.length} copies ` +
            `and ${formatBytes(wasted)} of storage and cache is spent for nothing.`,
          object: relationObject(table),
          detail: group.map((i) => i.name).sort().join(','),
          remediation: {
            text:
              `Keep ${quoteIdent(keep!.name)} and drop the others. DROP INDEX CONCURRENTLY does not block writes; run each statement on its own, outside a transaction block.` +
              (blocked.length > 0
                ? ` A foreign key depends on ${blocked.join(', ')}: drop that key, drop the index and re-add the key (NOT VALID, then VALIDATE CONSTRAINT) in one transaction.`
                : ''),
            sql: statements.filter((s): s is string => s !== null).join('\n') || undefined,
          },
          evidence: { keep: keep!.name, drop: surplus.map((i) => i.name), definition: keep!.definition, wastedBytes: wasted },
        });
      }
    }
    return out;
  },
});
