// Runs in its own module graph (vitest isolates test files): the WASM parser is never loaded here.
import { describe, expect, it } from 'vitest';
import { analyzePolicies, analyzePolicy, isPolicyParserReady, parseExpression } from '../../src/policy/index.ts';
import { policy, supabaseSnapshot } from './fixtures.ts';

describe('before initPolicyParser()', () => {
  // Skipped if another file already loaded the parser in this worker (test isolation turned off).
  it.skipIf(isPolicyParserReady())('reports a parse error instead of throwing, and caches nothing', () => {
    expect(parseExpression('true')).toEqual({
      ok: false,
      error: 'policy parser not initialised: await initPolicyParser() first',
      position: null,
    });
    const p = policy('projects', 'p', { using: 'true' });
    const snap = supabaseSnapshot([p]);
    const a = analyzePolicy(p, snap);
    expect(a.using?.parseError).toMatch(/not initialised/);
    expect(a.using?.alwaysTrue).toBe('no');
    expect(analyzePolicy(p, snap)).not.toBe(a);
    expect(analyzePolicies(snap)).not.toBe(analyzePolicies(snap));
  });
});
