import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import type { Index } from '../src/model/snapshot.ts';
import { relationObject, userTables } from './_shared.ts';
import { dropIndexSql, formatBytes, indexesOf, isUsable } from './_indexes.ts';

/** A plain btree over columns only: no expression, no predicate. */
function plainBtree(index: Index): boolean {
  return (
    index.method === 'btree' &&
    isUsable(index) &&
    index.predicate === null &&
    index.expressions === null &&
    index.columns.every((c) => c !== null)
  );
}

/**
 * `wider` serves every scan `narrow` serves: the same key columns first, with the same operator
 * classes, collations and sort options, every column `narrow` could return from an index-only
 * scan, and either more key columns or, on the same keys, uniqueness or more INCLUDE columns.
 */
function covers(wider: Index, narrow: Index): boolean {
  const n = narrow.columns.length;
  if (wider === narrow || wider.columns.length < n) return false;
  const stored = new Set([...wider.columns, ...wider.includeColumns]);
  if (!narrow.includeColumns.every((c) => stored.has(c))) return false;
  if (wider.columns.length === n) {
    const moreIncluded = wider.includeColumns.length > narrow.includeColumns.length;
    if (!(wider.unique && !narrow.unique) && !moreIncluded) return false;
  }
  for (let k = 0; k < n; k++) {
    if (
      wider.columns[k] !== narrow.columns[k] ||
      wider.opclasses[k] !== narrow.opclasses[k] ||
      wider.collations[k] !== narrow.collations[k] ||
      wider.options[k] !== narrow.options[k]
    ) {
      return false;
    }
  }
  return true;
}

/** The narrowest covering index, then by name: deterministic. */
function preferred(a: Index, b: Index): number {
  return a.columns.length - b.columns.length || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

export default defineCheck({
  meta: {
    id: 'redundant_index',
    title: 'Index made redundant by a wider one',
    level: 'low',
    category: 'performance',
    facing: 'internal',
    description:
      'A non-unique btree index whose key columns lead another valid btree index on the same table (a strict prefix of its keys, or the same keys on a unique or wider-INCLUDE index), so the other one serves every query it does.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    // Partitions' indexes mirror the parent's partitioned indexes (and cannot be dropped alone): the parent is reported.
    for (const table of userTables(ctx)) {
      if (table.isPartition) continue;
      const candidates = indexesOf(ctx, table).filter(plainBtree);
      if (candidates.length < 2) continue;
      // Group by the first key column: only indexes that start alike can cover each other.
      const byLead = new Map<string, Index[]>();
      for (const index of candidates) {
        const lead = index.columns[0]!;
        const list = byLead.get(lead);
        if (list) list.push(index);
        else byLead.set(lead, [index]);
      }
      for (const group of byLead.values()) {
        if (group.length < 2) continue;
        const wider = [...group].sort(preferred);
        for (const narrow of group) {
          if (narrow.unique || narrow.primary || narrow.constraint !== null) continue;
          const cover = wider.find((w) => covers(w, narrow));
          if (!cover) continue;
          const name = qualified(table.schema, table.name);
          const keys = (i: Index) => i.columns.map((c) => quoteIdent(c!)).join(', ');
          out.push({
            message:
              `Index ${quoteIdent(narrow.name)} on ${name} (${keys(narrow)}) is redundant: ${quoteIdent(cover.name)} (${keys(cover)}) ` +
              `starts with the same columns and serves the same lookups, so ${quoteIdent(narrow.name)} only costs writes and ${formatBytes(narrow.sizeBytes)}.`,
            object: relationObject(table),
            detail: narrow.name,
            remediation: {
              text: `Drop ${quoteIdent(narrow.name)}; ${quoteIdent(cover.name)} serves its queries. Run DROP INDEX CONCURRENTLY on its own, outside a transaction block.`,
              sql: dropIndexSql(narrow),
            },
            evidence: { index: narrow.definition, coveredBy: cover.definition, sizeBytes: narrow.sizeBytes },
          });
        }
      }
    }
    return out;
  },
});
