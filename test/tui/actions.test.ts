import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { interactive } from '../../src/cli/main.ts';
import { loadSuppressions } from '../../src/config/load.ts';
import { appendIgnore, fixesDir, fixesMigration, fixesPath, migrationTimestamp } from '../../src/tui/actions.ts';
import type { Finding } from '../../src/model/finding.ts';

const dir = mkdtempSync(join(tmpdir(), 'supaudit-actions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('when the review runs', () => {
  const tty = { isTTY: true, env: {} };
  const plain = { format: [] as string[] };
  test('a terminal with no machine output asked for gets the review', () => {
    expect(interactive(plain, tty, true)).toBe(true);
    expect(interactive({ ...plain, tui: true, out: 'reports' }, tty, true)).toBe(true);
  });
  test('never with --format, --out -, --quiet, --no-tui, CI, or when stdout or stdin is not a terminal', () => {
    expect(interactive({ format: ['json'] }, tty, true)).toBe(false);
    expect(interactive({ ...plain, out: '-' }, tty, true)).toBe(false);
    expect(interactive({ ...plain, quiet: true }, tty, true)).toBe(false);
    expect(interactive({ ...plain, tui: false }, tty, true)).toBe(false);
    expect(interactive(plain, { isTTY: true, env: { CI: 'true' } }, true)).toBe(false);
    expect(interactive({ ...plain, tui: true }, { isTTY: false, env: {} }, true)).toBe(false);
    expect(interactive(plain, tty, false)).toBe(false);
  });
});

describe('review actions', () => {
  test('fixes go to the project migrations, but never into the bundled demo', () => {
    expect(fixesDir({ kind: 'demo', projectDir: '/repo/supabase' }, '/home/me')).toBe('/home/me/supaudit-fixes');
    expect(fixesDir({ kind: 'migrations', projectDir: '/app/supabase' }, '/home/me')).toBe('/app/supabase/migrations');
    expect(fixesDir({ kind: 'url', projectDir: undefined }, '/home/me')).toBe('/home/me/supabase/migrations');
    expect(migrationTimestamp(new Date('2026-03-04T05:06:07.890Z'))).toBe('20260304050607');
    expect(fixesPath('/m', new Date('2026-03-04T05:06:07Z'))).toBe('/m/20260304050607_supaudit_fixes.sql');
  });

  test('the migration keeps names from the database on their comment line', () => {
    const f = {
      fingerprint: 'rls_disabled_in_public:public.evil\nDROP TABLE x;',
      level: 'critical',
      title: 'RLS disabled',
      remediation: { text: 'enable', sql: 'ALTER TABLE public."evil\nDROP TABLE x;" ENABLE ROW LEVEL SECURITY;' },
    } as unknown as Finding;
    const sql = fixesMigration([f], new Date(0)).migration;
    // The newline is spelled out, so the name stays on its comment line.
    expect(sql).toContain('-- rls_disabled_in_public:public.evil\\nDROP TABLE x; (critical)\n');
    expect(sql.split('\n').filter((l) => l.startsWith('DROP'))).toEqual(['DROP TABLE x;" ENABLE ROW LEVEL SECURITY;']);
  });

  test('accepting needs a reason, keeps existing entries, and refuses to overwrite a broken file', () => {
    const path = join(dir, 'supaudit.ignore.json');
    expect(() => appendIgnore(path, 'a:b.c', '   ', {})).toThrow('a reason is required');
    appendIgnore(path, 'a:b.c', ' staging only ', {});
    appendIgnore(path, 'd:e.f', 'accepted risk', {});
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual([
      { fingerprint: 'a:b.c', reason: 'staging only', by: expect.any(String) },
      { fingerprint: 'd:e.f', reason: 'accepted risk', by: expect.any(String) },
    ]);
    // The file the review writes is the one CI runs read: the same loader and validation.
    expect(loadSuppressions(path, dir, []).map((s) => [s.fingerprint, s.reason])).toEqual([
      ['a:b.c', 'staging only'],
      ['d:e.f', 'accepted risk'],
    ]);
    writeFileSync(path, '{"not": "an array"}');
    expect(() => appendIgnore(path, 'g:h.i', 'x', {})).toThrow(/not a JSON array of suppressions.*left unchanged/);
    expect(readFileSync(path, 'utf8')).toBe('{"not": "an array"}');
  });
});
