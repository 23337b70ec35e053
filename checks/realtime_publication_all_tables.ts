import { defineCheck } from '../src/model/check.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import type { Publication } from '../src/model/snapshot.ts';
import { realtimePublication } from '../src/score/realtime.ts';

export default defineCheck({
  meta: {
    id: 'realtime_publication_all_tables',
    title: 'Realtime publication covers every table',
    level: 'medium',
    category: 'security',
    facing: 'external',
    description:
      'The supabase_realtime publication is FOR ALL TABLES, so every table, including each one created later, streams its changes to Realtime.',
  },
  run(ctx) {
    const publication = realtimePublication(ctx.snapshot);
    if (!publication?.allTables) return [];
    // The tables clients subscribe to right now, when realtime.subscription could be read.
    const subscribed = (ctx.snapshot.realtimeSubscriptions ?? [])
      .filter((s) => s.subscribers > 0 && ctx.relation(s.schema, s.table) !== undefined)
      .map((s) => qualified(s.schema, s.table))
      .sort();
    const name = quoteIdent(publication.name);
    return [
      {
        message:
          `Publication ${publication.name} is FOR ALL TABLES: all ${publication.tables.length} tables, and every table created later, ` +
          'send their changes to Realtime, including tables without RLS and tables no client listens to (each change still has to be decoded and checked).',
        object: { schema: '', name: publication.name, type: 'publication' },
        remediation: {
          text:
            'Recreate the publication with an explicit list of the tables clients subscribe to, and add new ones deliberately ' +
            `(ALTER PUBLICATION ${name} ADD TABLE …)` +
            (subscribed.length > 0
              ? '. The SQL lists the tables that have subscribers now; add any that are only subscribed to at other times.'
              : '. realtime.subscription showed no subscribers, so the tables to list are for you to choose.'),
          ...(subscribed.length > 0
            ? {
                sql: [
                  'BEGIN;',
                  `DROP PUBLICATION ${name};`,
                  `CREATE PUBLICATION ${name} FOR TABLE ${subscribed.join(', ')}${publishOption(publication)};`,
                  'COMMIT;',
                ].join('\n'),
              }
            : {}),
        },
        evidence: { tables: publication.tables.length, subscribedTables: subscribed },
      },
    ];
  },
});

/** `WITH (publish = …)` when the publication does not send all four operations (the default). */
function publishOption(p: Publication): string {
  const ops = (['insert', 'update', 'delete', 'truncate'] as const).filter((op) => p[op]);
  return ops.length === 4 ? '' : ` WITH (publish = '${ops.join(', ')}')`;
}
