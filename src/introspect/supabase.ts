import type { RealtimeSubscriptionCount, StorageBucket } from '../model/snapshot.ts';
import type { Session } from './session.ts';

/**
 * Supabase-specific tables (storage buckets, realtime subscribers), read only when they exist and
 * are readable (decided by the settings query), in one round trip.
 */
export async function readSupabaseTables(
  session: Session,
  want: { buckets: boolean; subscriptions: boolean },
): Promise<{ buckets: StorageBucket[] | null; subscriptions: RealtimeSubscriptionCount[] | null }> {
  if (!want.buckets && !want.subscriptions) return { buckets: null, subscriptions: null };
  const parts: string[] = [];
  if (want.buckets) {
    parts.push(`(select coalesce(json_agg(json_build_object('id', b.id::text, 'name', b.name::text, 'public', coalesce(b.public, false)) order by b.id), '[]'::json)
       from storage.buckets b) as buckets`);
  }
  if (want.subscriptions) {
    parts.push(`(select coalesce(json_agg(json_build_object('schema', x.schema, 'table', x.table, 'subscribers', x.subscribers) order by x.schema, x.table), '[]'::json)
       from (select n.nspname::text as schema, c.relname::text as table, count(*)::int as subscribers
               from realtime.subscription s
               join pg_class c on c.oid = s.entity
               join pg_namespace n on n.oid = c.relnamespace
              group by 1, 2) x) as subscriptions`);
  }
  const [row] = await session.query<{ buckets?: StorageBucket[]; subscriptions?: RealtimeSubscriptionCount[] }>(
    `select ${parts.join(',\n')}`,
  );
  return { buckets: row?.buckets ?? null, subscriptions: row?.subscriptions ?? null };
}
