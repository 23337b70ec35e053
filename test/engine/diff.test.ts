import { describe, expect, test } from 'vitest';
import { baselineLine, compareWithBaseline, createBaseline } from '../../src/engine/baseline.ts';
import { diffReports, type DiffInput } from '../../src/engine/diff.ts';
import { renderDiffText } from '../../src/cli/diff.ts';
import type { BlastRadius } from '../../src/model/report.ts';
import { finding } from './findings.ts';

const a = finding('rls_disabled_in_public', { name: 'payment_methods' }, 'critical');
const b = finding('rls_enabled_no_policy', { name: 'stripe_events' }, 'info');
const c = finding('security_definer_view', { name: 'member_directory', type: 'view' }, 'high');
const d = finding('no_primary_key', { name: 'audit_log' }, 'low');

function radius(role: string, score: number): BlastRadius {
  return { role, score, bypassesRls: false, tables: [], functions: [] };
}

describe('baseline', () => {
  test('createBaseline: sorted, unique fingerprints of the unsuppressed findings', () => {
    const base = createBaseline({ findings: [c, a, b, a] }, '2026-01-01T00:00:00.000Z');
    expect(base).toEqual({ version: 1, createdAt: '2026-01-01T00:00:00.000Z', fingerprints: [b.fingerprint, a.fingerprint, c.fingerprint].sort() });
  });

  test('new and fixed; a baseline finding now suppressed is neither', () => {
    const base = createBaseline({ findings: [a, b, c] }, 'now');
    const cmp = compareWithBaseline({ findings: [a, d], suppressed: [{ finding: c, reason: 'accepted', source: 'file' }] }, base, 'supaudit.baseline.json');
    expect(cmp).toEqual({ file: 'supaudit.baseline.json', new: [d.fingerprint], fixed: [b.fingerprint] });
    expect(baselineLine(cmp)).toBe('1 new, 1 fixed since baseline');
  });
});

describe('diffReports', () => {
  const before: DiffInput = { findings: [a, b, c], blastRadius: [radius('anon', 62.5), radius('authenticated', 40), radius('old_role', 5)], suppressed: [] };
  const after: DiffInput = {
    findings: [{ ...a, message: 'public.payment_methods is open to anon (about 9,000 rows)' }, { ...c, level: 'critical' }, d],
    blastRadius: [radius('anon', 30), radius('authenticated', 40), radius('reporting', 12)],
    suppressed: [{ finding: b, reason: 'webhook table', source: 'comment' }],
  };
  const diff = diffReports(before, after);

  test('new, fixed, now suppressed, changed (level and message)', () => {
    expect(diff.new.map((f) => f.fingerprint)).toEqual([d.fingerprint]);
    expect(diff.fixed).toEqual([]);
    expect(diff.suppressed.map((f) => f.fingerprint)).toEqual([b.fingerprint]);
    expect(diff.changed.map((x) => [x.fingerprint, x.changed])).toEqual([
      [a.fingerprint, ['message']],
      [c.fingerprint, ['level']],
    ]);
    expect(diffReports(after, before).fixed.map((f) => f.fingerprint)).toEqual([d.fingerprint]);
  });

  test('score change per role, roles only in one report included', () => {
    expect(diff.scores).toEqual([
      { role: 'anon', before: 62.5, after: 30, delta: -32.5 },
      { role: 'authenticated', before: 40, after: 40, delta: 0 },
      { role: 'reporting', before: null, after: 12, delta: 12 },
      { role: 'old_role', before: 5, after: null, delta: -5 },
    ]);
  });

  test('identical reports: nothing new, fixed or changed', () => {
    const same = diffReports(before, before);
    expect([same.new, same.fixed, same.changed, same.suppressed]).toEqual([[], [], [], []]);
    expect(same.scores.every((s) => s.delta === 0)).toBe(true);
  });

  test('text rendering', () => {
    const text = renderDiffText(diff, { old: 'old.json', new: 'new.json' }, false);
    expect(text).toContain('supaudit diff old.json → new.json\n1 new, 0 fixed, 2 changed, 1 now suppressed\n');
    expect(text).toContain('New (1)\n  LOW      no_primary_key  public.audit_log');
    expect(text).toContain('level high → critical');
    expect(text).toContain('now: public.payment_methods is open to anon (about 9,000 rows)');
    expect(text).toMatch(/anon +62\.5 → 30 \(-32\.5\)/);
    expect(text).toMatch(/authenticated +40 → 40 \(±0\)/);
    expect(text).toMatch(/reporting +— → 12 \(\+12\)/);
  });
});
