import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import { relationObject } from './_shared.ts';

/**
 * reg* types whose values are OIDs of objects pg_upgrade does not preserve, so it refuses tables
 * storing them (its check_for_reg_data_type_usage). regclass, regtype and regrole are allowed:
 * pg_upgrade keeps relation, type and role OIDs.
 */
const BLOCKING: ReadonlySet<string> = new Set([
  'regcollation',
  'regconfig',
  'regdictionary',
  'regnamespace',
  'regoper',
  'regoperator',
  'regproc',
  'regprocedure',
]);

/** `pg_catalog.regproc` → `regproc`; arrays (`pg_catalog._regproc`) too; anything else → null. */
function blockingType(typeName: string): { type: string; array: boolean } | null {
  if (!typeName.startsWith('pg_catalog.')) return null;
  const name = typeName.slice('pg_catalog.'.length);
  if (BLOCKING.has(name)) return { type: name, array: false };
  if (name.startsWith('_') && BLOCKING.has(name.slice(1))) return { type: name.slice(1), array: true };
  return null;
}

export default defineCheck({
  meta: {
    id: 'unsupported_reg_types',
    title: 'Column type blocks pg_upgrade',
    level: 'medium',
    category: 'schema',
    facing: 'internal',
    splinter: 'unsupported_reg_types',
    description:
      'A table column has a reg* type (regproc, regprocedure, regoper, regoperator, regconfig, regdictionary, regnamespace, regcollation) that pg_upgrade refuses, blocking major version upgrades.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    for (const relation of ctx.snapshot.relations) {
      const stored = relation.kind === 'table' || relation.kind === 'partitioned_table' || relation.kind === 'materialized_view';
      // Partitions follow their parent's column types: report the parent only.
      if (!stored || relation.isPartition || !ctx.isUserObject(relation.schema, relation.extension)) continue;
      for (const column of relation.columns) {
        const found = blockingType(column.typeName);
        if (!found) continue;
        const target = found.array ? 'text[]' : 'text';
        const table = qualified(relation.schema, relation.name);
        const col = quoteIdent(column.name);
        out.push({
          message:
            `Column ${column.name} of ${table} has type ${column.type}, which stores OIDs pg_upgrade does not preserve: ` +
            'pg_upgrade refuses the database, so the project cannot move to a new major Postgres version while it exists.',
          object: relationObject(relation, { column: column.name }),
          remediation:
            relation.kind === 'materialized_view'
              ? { text: `Recreate the materialized view with the column cast to ${target} (${col}::${target}), and cast back to ${found.type} where it is used.` }
              : {
                  text: `Store the name instead of the OID: ${target} keeps the same text form, and ${col}::${found.array ? `${found.type}[]` : found.type} turns it back into the reg* value where needed.`,
                  sql: `ALTER TABLE ${table} ALTER COLUMN ${col} TYPE ${target} USING ${col}::${target};`,
                },
          evidence: { type: column.type },
        });
      }
    }
    return out;
  },
});
