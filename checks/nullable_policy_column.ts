import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import { relationObject } from './_shared.ts';
import { constraintsOf, definingTables, nameAllocator, policyTiesOf } from './_indexes.ts';

/**
 * Columns whose NULL means "not assigned yet", by design: a task without assignee, a root comment
 * without parent. A policy keyed on them lets other policies handle the NULL rows.
 */
const OPTIONAL_ROLE = /(^|_)(assignee|assigned_to|reviewer|approver|approved_by|parent|manager|delegate|recipient|invited_by|referr?er|referred_by)(_|$)/i;

export default defineCheck({
  meta: {
    id: 'nullable_policy_column',
    title: 'Nullable column scopes rows in a policy',
    level: 'low',
    category: 'schema',
    facing: 'internal',
    description:
      'A column that an RLS policy requires to match the caller (compared with auth.uid(), a JWT claim, or looked up in a membership subquery) allows NULL, and rows with NULL there match no such policy.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    const freshName = nameAllocator(ctx);
    for (const table of definingTables(ctx)) {
      const ties = policyTiesOf(ctx, table).filter((t) => t.conjunctive);
      if (ties.length === 0) continue;
      const byColumn = new Map<string, Set<string>>();
      for (const tie of ties) {
        const set = byColumn.get(tie.column) ?? new Set<string>();
        set.add(tie.policy);
        byColumn.set(tie.column, set);
      }
      for (const column of table.columns) {
        const policies = byColumn.get(column.name);
        if (!policies || column.notNull || OPTIONAL_ROLE.test(column.name)) continue;
        const name = qualified(table.schema, table.name);
        const col = quoteIdent(column.name);
        const listed = [...policies].sort();
        const check = quoteIdent(
          freshName(table.schema, [table.name, column.name, 'not', 'null'], 'check', new Set(constraintsOf(ctx, table).map((c) => c.name))),
        );
        out.push({
          message:
            `${name}.${col} allows NULL but the polic${listed.length === 1 ? 'y' : 'ies'} ${listed.map((p) => quoteIdent(p)).join(', ')} ` +
            `scope${listed.length === 1 ? 's' : ''} rows by it: ` +
            `a row with NULL there never matches, so through ${listed.length === 1 ? 'that policy' : 'those policies'} nobody (short of the service role) can reach it.`,
          object: relationObject(table, { column: column.name }),
          remediation: {
            // Identifiers stay out of SQL comments: a name with a line break would end the comment.
            text:
              `Fill or delete the rows where ${col} is NULL, then make it NOT NULL. SET NOT NULL scans the table under an ACCESS EXCLUSIVE lock; ` +
              `on a large table first run ALTER TABLE ${name} ADD CONSTRAINT ${check} CHECK (${col} IS NOT NULL) NOT VALID; ` +
              `then ALTER TABLE ${name} VALIDATE CONSTRAINT ${check}; (no write lock), then SET NOT NULL (which uses the check and skips the scan), ` +
              `then ALTER TABLE ${name} DROP CONSTRAINT ${check};`,
            sql: `ALTER TABLE ${name} ALTER COLUMN ${col} SET NOT NULL;`,
          },
          evidence: { policies: listed, type: column.type },
        });
      }
    }
    return out;
  },
});
