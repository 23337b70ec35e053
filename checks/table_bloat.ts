import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified, sqlComment } from '../src/model/ident.ts';
import type { Relation } from '../src/model/snapshot.ts';
import { relationObject } from './_shared.ts';

/** splinter's thresholds, read as a share of the table: more than 70% of its pages are waste, and over 20 MiB. */
export const BLOAT_RATIO = 0.7;
export const BLOAT_MIN_WASTE_BYTES = 20 * 1024 * 1024;

const TUPLE_HEADER = 24; // heap tuple header (23) aligned
const LINE_POINTER = 4;
const PAGE_HEADER = 24;
const MAXALIGN = 8;

export interface BloatEstimate {
  readonly blockSize: number;
  readonly fillfactor: number;
  readonly tupleBytes: number;
  readonly expectedPages: number;
  readonly wastedBytes: number;
  /** Wasted share of the table's pages, 0–1. */
  readonly ratio: number;
}

/**
 * Expected pages = ceil(rows × tuple / usable page), with tuple = MAXALIGN(24 + Σ avg_width) + 4-byte
 * line pointer and usable page = (block − 24) × fillfactor. Null when a column's width, the row count
 * or the pages are unknown, or the table has no storage of its own.
 */
export function estimateBloat(relation: Relation): BloatEstimate | null {
  if (relation.kind !== 'table' || relation.rowEstimate < 0 || relation.pages <= 0 || relation.columns.length === 0) return null;
  let width = 0;
  for (const column of relation.columns) {
    if (column.avgWidth === null) return null;
    width += column.avgWidth;
  }
  const blockSize = relation.sizeBytes > 0 ? relation.sizeBytes / relation.pages : 8192;
  const fillfactor = fillfactorOf(relation);
  const tupleBytes = Math.ceil((TUPLE_HEADER + width) / MAXALIGN) * MAXALIGN + LINE_POINTER;
  const usable = (blockSize - PAGE_HEADER) * (fillfactor / 100);
  const expectedPages = Math.ceil((relation.rowEstimate * tupleBytes) / usable);
  const wastedPages = Math.max(0, relation.pages - expectedPages);
  return { blockSize, fillfactor, tupleBytes, expectedPages, wastedBytes: wastedPages * blockSize, ratio: wastedPages / relation.pages };
}

function fillfactorOf(relation: Relation): number {
  const value = Number(relation.options['fillfactor']);
  return Number.isFinite(value) && value >= 10 && value <= 100 ? value : 100;
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

export default defineCheck({
  meta: {
    id: 'table_bloat',
    title: 'Table mostly empty space',
    level: 'info',
    category: 'performance',
    facing: 'internal',
    needs: ['columnStats'],
    splinter: 'table_bloat',
    description:
      'Estimated from row count, column widths and pages, most of a table\'s pages are dead or free space (over 70% and over 20 MiB), which every sequential scan still reads.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    for (const relation of ctx.snapshot.relations) {
      if (!ctx.isUserObject(relation.schema, relation.extension)) continue;
      const estimate = estimateBloat(relation);
      if (!estimate || estimate.ratio <= BLOAT_RATIO || estimate.wastedBytes <= BLOAT_MIN_WASTE_BYTES) continue;
      const table = qualified(relation.schema, relation.name);
      out.push({
        message:
          `${table} takes ${mib(relation.pages * estimate.blockSize)} but its ${Math.round(relation.rowEstimate).toLocaleString('en-US')} rows ` +
          `need about ${mib(estimate.expectedPages * estimate.blockSize)}: an estimated ${mib(estimate.wastedBytes)} (${Math.round(estimate.ratio * 100)}%) is ` +
          'dead or free space that sequential scans, backups and the buffer cache still carry.',
        object: relationObject(relation),
        remediation: {
          text:
            'Rewrite the table to give the space back: VACUUM FULL locks it against reads and writes for the whole rewrite, so on a busy table ' +
            'use pg_repack (extension on Supabase) instead. Then find what produced the waste (mass deletes or updates, autovacuum falling behind) ' +
            'and tune autovacuum for the table.',
          sql: `${sqlComment('ACCESS EXCLUSIVE lock for the whole rewrite; runs outside a transaction block')}\nVACUUM (FULL, ANALYZE) ${table};`,
        },
        evidence: { ...estimate, pages: relation.pages, rowEstimate: relation.rowEstimate },
      });
    }
    return out;
  },
});
