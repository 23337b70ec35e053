import { defineCheck } from '../src/model/check.ts';
import { qualified } from '../src/model/ident.ts';
import { apiRolesWith, enableRlsSql, relationObject, roleList } from './_shared.ts';

/**
 * pgmq keeps each queue's messages in `pgmq.q_<name>` (archives in `pgmq.a_<name>` are only
 * written through the queue functions, never read by them). The queue tables are recognised by
 * schema and name, as splinter does: pgmq.create() makes them at run time.
 */
const QUEUE_TABLE = /^q_/;

export default defineCheck({
  meta: {
    id: 'insecure_queue_exposed_in_api',
    title: 'Queue table without RLS behind the queue API',
    level: 'critical',
    category: 'security',
    facing: 'external',
    splinter: 'insecure_queue_exposed_in_api',
    description:
      'With pgmq_public exposed, a pgmq queue table without Row Level Security is readable and writable by anon or authenticated through the queue functions.',
  },
  run(ctx) {
    if (!ctx.isExposed('pgmq_public')) return [];
    return ctx.snapshot.relations
      .filter((r) => r.schema === 'pgmq' && (r.kind === 'table' || r.kind === 'partitioned_table') && !r.isPartition && QUEUE_TABLE.test(r.name) && !r.rlsEnabled)
      .flatMap((table) => {
        const roles = apiRolesWith(ctx, table, ['SELECT', 'INSERT', 'UPDATE', 'DELETE']);
        if (roles.length === 0) return [];
        const name = qualified(table.schema, table.name);
        const queue = table.name.slice(2);
        return [
          {
            message:
              `Queue table ${name} has Row Level Security disabled and ${roleList(roles)} hold privileges on it: through the pgmq_public ` +
              `functions (/rest/v1/rpc/send, /read, /pop…) they can read, send and delete every message of queue ${queue}.`,
            object: relationObject(table),
            roles,
            remediation: {
              text: 'Enable RLS on the queue and archive tables and add policies for the roles that may use the queue (or revoke their privileges).',
              sql: enableRlsSql(table),
            },
            evidence: { queue },
          },
        ];
      });
  },
});
