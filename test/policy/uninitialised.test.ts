// The parser module is loaded afresh (vi.resetModules), so its WASM parser is not loaded in this
// module instance even when another test file in the same worker initialised its own.
import { describe, expect, it, vi } from 'vitest';

describe('before initPolicyParser()', () => {
  it('reports a parse error instead of throwing, and caches nothing', async () => {
    vi.resetModules();
    const { analyzePolicies, analyzePolicy, isPolicyParserReady, parseExpression } = await import('../../src/policy/index.ts');
    const { policy, supabaseSnapshot } = await import('./fixtures.ts');
    expect(isPolicyParserReady()).toBe(false);
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
