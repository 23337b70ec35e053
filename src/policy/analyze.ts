/**
 * `analyzePolicy` / `analyzePolicies`: the parsed policy model checks share.
 *
 * Requires `await initPolicyParser()` once beforehand; without it every expression reports a `parseError`
 * (and nothing is cached).
 */
import { InconclusiveError } from '../model/check.ts';
import type { Policy, Snapshot } from '../model/snapshot.ts';
import { isPolicyParserReady, parseExpression } from './parse.ts';
import { snapshotIndex, type SnapshotIndex } from './resolve.ts';
import type { ExpressionAnalysis, PolicyAnalysis } from './types.ts';
import { ExpressionWalker } from './walk.ts';

export interface ExpressionContext {
  /** Schema of the policy's table (drives unqualified name resolution). */
  readonly schema: string;
  /** The policy's table; '' when unknown. */
  readonly table: string;
}

function failed(text: string, error: string, position: number | null): ExpressionAnalysis {
  return {
    text,
    parseError: error,
    parseErrorPosition: position,
    authCalls: [],
    columnPredicates: [],
    subqueries: [],
    functionCalls: [],
    readsUserMetadata: false,
    userMetadataLocations: [],
    alwaysTrue: 'no',
    orMixesSubquery: false,
    usesAuthUid: false,
    ownerTie: [],
    callerTied: false,
    maxDepth: 0,
  };
}

function analyzeWithIndex(text: string, context: ExpressionContext, index: SnapshotIndex): ExpressionAnalysis {
  const parsed = parseExpression(text);
  if (!parsed.ok) return failed(text, parsed.error, parsed.position);
  try {
    const walker = new ExpressionWalker({
      index,
      policySchema: context.schema,
      policyTable: context.table,
      text,
      sourceOffset: parsed.sourceOffset,
    }).run(parsed.ast);
    return walker.analysis(parsed.ast);
  } catch (err) {
    if (err instanceof InconclusiveError) throw err;
    // Defensive: an AST shape we did not anticipate must not take the whole audit down.
    return failed(text, `analysis failed: ${err instanceof Error ? err.message : String(err)}`, null);
  }
}

/** Analyses one expression text in the context of a table (`{ schema, table }`) of a snapshot. */
export function analyzeExpression(text: string, context: ExpressionContext, snapshot: Snapshot): ExpressionAnalysis {
  return analyzeWithIndex(text, context, snapshotIndex(snapshot));
}

const perSnapshot = new WeakMap<Snapshot, WeakMap<Policy, PolicyAnalysis>>();
const allPerSnapshot = new WeakMap<Snapshot, readonly PolicyAnalysis[]>();

export function analyzePolicy(policy: Policy, snapshot: Snapshot): PolicyAnalysis {
  let cache = perSnapshot.get(snapshot);
  const cached = cache?.get(policy);
  if (cached) return cached;
  const index = snapshotIndex(snapshot);
  const context: ExpressionContext = { schema: policy.schema, table: policy.table };
  const unread = policy.unreadable !== undefined ? failed('', `not read: ${policy.unreadable}`, null) : null;
  const using = unread ?? (policy.using !== null ? analyzeWithIndex(policy.using, context, index) : null);
  const withCheck = unread ?? (policy.withCheck !== null ? analyzeWithIndex(policy.withCheck, context, index) : null);
  const usingAppliesToNewRows = (policy.command === 'UPDATE' || policy.command === 'ALL') && withCheck === null;
  const result: PolicyAnalysis = {
    policy,
    relation: index.relation(policy.schema, policy.table),
    using,
    withCheck,
    effectiveWithCheck: usingAppliesToNewRows ? using : withCheck,
  };
  if (isPolicyParserReady()) {
    if (!cache) {
      cache = new WeakMap();
      perSnapshot.set(snapshot, cache);
    }
    cache.set(policy, result);
  }
  return result;
}

/** Every policy of the snapshot, analysed once per snapshot (cached in a WeakMap). */
export function analyzePolicies(snapshot: Snapshot): readonly PolicyAnalysis[] {
  const cached = allPerSnapshot.get(snapshot);
  if (cached) return cached;
  const result = snapshot.policies.map((p) => analyzePolicy(p, snapshot));
  if (isPolicyParserReady()) allPerSnapshot.set(snapshot, result);
  return result;
}
