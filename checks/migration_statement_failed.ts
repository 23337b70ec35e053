import { defineCheck } from '../src/model/check.ts';

/**
 * Statements of the migrations (or seed) that failed on a fresh database and were passed over: the
 * audit describes the schema without them, and `supabase db reset` would stop there.
 */
export default defineCheck({
  meta: {
    id: 'migration_statement_failed',
    title: 'A migration statement fails on a fresh database',
    level: 'medium',
    category: 'schema',
    facing: 'internal',
    description: 'A statement of the project’s migrations or seed failed when loaded, in order, on a fresh Supabase database; the audit went on without it.',
  },
  run(ctx) {
    return (ctx.snapshot.failedStatements ?? []).map((f) => ({
      message:
        `${f.file}:${f.line} fails on a fresh database: ${f.message}. The audit describes the schema without this statement; ` +
        '`supabase db reset` (and a new environment built from these migrations) would stop here.',
      object: { schema: f.file, name: `line ${f.line}`, type: 'migration' as const },
      remediation: {
        text: 'Make the migration replayable from an empty database: drop or guard the duplicate (`drop trigger if exists …` before `create trigger`, `create … if not exists`), fix the syntax, or squash the history. Run with --strict to stop at the first such statement.',
      },
      evidence: { sqlstate: f.code },
    }));
  },
});
