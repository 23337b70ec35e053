import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified } from '../src/model/ident.ts';
import { formatRate, REALTIME_CAPACITY, REALTIME_PUBLICATION, realtimeTotals } from '../src/score/realtime.ts';
import { relationObject } from './_shared.ts';
import { loadEvidence, loadInputs, realtimeLoads, userRealtimeTables } from './_realtime.ts';

const ADVICE =
  'Cut the fan-out: send high-volume changes over Broadcast (from the database with realtime.broadcast_changes(), authorized once per channel join) ' +
  'instead of Postgres Changes, subscribe with filters and fewer clients per table, keep SELECT policies on published tables cheap, ' +
  `or take tables nobody needs live out of the publication (ALTER PUBLICATION ${REALTIME_PUBLICATION} DROP TABLE …).`;

export default defineCheck({
  meta: {
    id: 'realtime_over_capacity',
    title: 'Realtime load above published capacity',
    level: 'high',
    category: 'performance',
    facing: 'external',
    description:
      'The estimated Realtime authorization checks or messages per second of a published table exceed the throughput Supabase has measured for Postgres Changes.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    for (const { load, relation } of userRealtimeTables(ctx)) {
      if (!load.capacity.over) continue;
      out.push({
        message:
          `Realtime on ${qualified(relation.schema, relation.name)} is estimated above capacity: ${loadInputs(load)}; ` +
          `${load.capacity.reasons.join('; ')}. Changes queue up and subscribers see them late or not at all.`,
        object: relationObject(relation),
        remediation: { text: ADVICE },
        evidence: { ...loadEvidence(load), utilisation: load.capacity.utilisation, limitPerSecond: load.capacity.limitPerSecond, reasons: load.capacity.reasons },
      });
    }
    // Realtime handles every published table on one thread: the sum matters even when no table alone is over.
    const loads = realtimeLoads(ctx);
    const totals = realtimeTotals(loads);
    if (out.length === 0 && totals.utilisation !== null && totals.utilisation > 1) {
      out.push({
        message:
          `Realtime load over the ${loads.length} tables of ${REALTIME_PUBLICATION} is estimated at ${Math.round(totals.utilisation * 100)}% of capacity ` +
          `(≈${formatRate(totals.changesPerSecond ?? 0)} changes/s, ≈${formatRate(totals.authorizationChecksPerSecond ?? 0)} authorization checks/s, ` +
          `≈${formatRate(totals.messagesPerSecond ?? 0)} messages/s against ≈${formatRate(REALTIME_CAPACITY.withRlsSmall)}/s with RLS and ${formatRate(REALTIME_CAPACITY.withoutRlsLow)}/s without): ` +
          'Postgres Changes are processed on one thread, so the tables add up.',
        object: { schema: '', name: REALTIME_PUBLICATION, type: 'publication' },
        detail: 'total',
        remediation: { text: ADVICE },
        evidence: { ...totals, assumptions: [...new Set(loads.flatMap((l) => l.assumptions))] },
      });
    }
    return out;
  },
});
