/** Helpers shared by the realtime_* checks: the load model, computed once per audit, and wording. */
import type { CheckContext } from '../src/model/check.ts';
import type { Relation } from '../src/model/snapshot.ts';
import { formatRate, realtimeLoads, userRealtimeLoads, type RealtimeTableLoad } from '../src/score/realtime.ts';

export { realtimeLoads };

/** Published tables in user schemas, with their relation: system tables are Supabase's to tune. */
export function userRealtimeTables(ctx: CheckContext): { load: RealtimeTableLoad; relation: Relation }[] {
  return userRealtimeLoads(ctx).map((load) => ({ load, relation: ctx.relation(load.schema, load.name)! }));
}

/** `≈0.5 changes/s × 100 subscribers (assumed)`: the inputs of an estimate, for messages. */
export function loadInputs(load: RealtimeTableLoad): string {
  const rate = load.changesPerSecond === null ? 'unknown change rate' : `≈${formatRate(load.changesPerSecond)} changes/s`;
  const subs = `${load.subscribers.toLocaleString('en-US')} subscriber${load.subscribers === 1 ? '' : 's'}${load.subscribersSource === 'assumed' ? ' (assumed)' : ''}`;
  return `${rate} × ${subs}`;
}

/** The evidence every realtime finding carries: the estimate's inputs and assumptions. */
export function loadEvidence(load: RealtimeTableLoad): Record<string, unknown> {
  return {
    changesPerSecond: load.changesPerSecond,
    subscribers: load.subscribers,
    subscribersSource: load.subscribersSource,
    authorizationChecksPerSecond: load.authorizationChecksPerSecond,
    messagesPerSecond: load.messagesPerSecond,
    windowSeconds: load.window.seconds,
    windowSource: load.window.source,
    assumptions: load.assumptions,
  };
}
