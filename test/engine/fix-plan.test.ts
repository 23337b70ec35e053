/**
 * Fixes written together are one coherent change: the collisions the fixes of single findings
 * make when concatenated (the same index twice, an initplan rewrite undoing an owner check,
 * CONCURRENTLY inside a migration) are merged away, and on the demo project every fix, applied
 * at once through the migrations loader, removes its finding.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { planFixes } from '../../src/engine/fix-plan.ts';
import type { Finding } from '../../src/model/finding.ts';
import type { Report } from '../../src/model/report.ts';
import { quoteIdent } from '../../src/model/ident.ts';
import { initPolicyParser } from '../../src/policy/index.ts';
import { freshDatabase, realEnginesOrFail, runSql, withClient } from '../harness/db.ts';
import { runCli } from '../support/cli.ts';

const finding = (check: string, level: Finding['level'], sql: string, name = 't'): Finding =>
  ({ check, level, fingerprint: `${check}:public.${name}`, title: check, message: '', object: { schema: 'public', name, type: 'table' }, roles: [], remediation: { text: '', sql }, docs: '' }) as unknown as Finding;
const categoryOf = (check: string) => (check === 'auth_rls_initplan' || check.includes('index') ? 'performance' : 'security');

beforeAll(async () => {
  await initPolicyParser();
});

describe('planFixes', () => {
  test('the same statement once, indexes with IF [NOT] EXISTS, CONCURRENTLY apart', () => {
    const plan = planFixes(
      [
        finding('unindexed_foreign_keys', 'low', 'CREATE INDEX CONCURRENTLY t_user_id_idx ON public.t (user_id);', 'a'),
        finding('unindexed_policy_column', 'medium', 'CREATE INDEX CONCURRENTLY t_user_id_idx ON public.t (user_id);', 'b'),
        finding('redundant_index', 'low', 'DROP INDEX CONCURRENTLY public.t_old_idx;', 'c'),
        finding('rls_disabled_in_public', 'critical', 'ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;', 'd'),
        finding('realtime_table_without_rls', 'high', 'ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;', 'e'),
        finding('missing_index', 'low', 'CREATE INDEX t_x_idx ON public.t (x);', 'f'),
      ],
      { header: ['test'], categoryOf },
    );
    expect(plan.migration).not.toMatch(/CONCURRENTLY/);
    expect(plan.migration.match(/^ALTER TABLE public\.t ENABLE ROW LEVEL SECURITY;$/gm)).toHaveLength(1);
    expect(plan.migration).toContain('-- (also in the fix of rls_disabled_in_public:public.d: ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;)');
    expect(plan.migration).toContain('CREATE INDEX IF NOT EXISTS t_x_idx ON public.t (x);');
    expect(plan.concurrent!.match(/CREATE INDEX CONCURRENTLY IF NOT EXISTS t_user_id_idx ON public\.t \(user_id\);/g)).toHaveLength(1);
    expect(plan.concurrent).toContain('DROP INDEX CONCURRENTLY IF EXISTS public.t_old_idx;');
    expect(plan.included).toHaveLength(6);
  });

  test('two rewrites of one policy merge: the owner check survives, and its auth calls are wrapped', () => {
    const plan = planFixes(
      [
        // performance fix first in the input: the order must not matter
        finding('auth_rls_initplan', 'medium', `ALTER POLICY "p" ON public.t WITH CHECK ((SELECT auth.role()) = 'authenticated');`),
        finding('insert_without_owner_check', 'high', `ALTER POLICY "p" ON public.t WITH CHECK (auth.role() = 'authenticated' AND auth.uid() = author_id);`),
      ],
      { header: ['test'], categoryOf },
    );
    const alters = plan.migration.split('\n').filter((l) => l.startsWith('ALTER POLICY'));
    expect(alters).toEqual([`ALTER POLICY p ON public.t WITH CHECK (((SELECT auth.role())) = 'authenticated' AND ((SELECT auth.uid())) = author_id);`]);
    expect(plan.notes).toHaveLength(1);
  });

  test('a policy another fix drops is not altered', () => {
    const plan = planFixes(
      [finding('auth_rls_initplan', 'medium', `ALTER POLICY "p" ON public.t USING ((SELECT auth.uid()) = user_id);`), finding('policy_role_unrestricted', 'high', `DROP POLICY "p" ON public.t;`)],
      { header: ['test'], categoryOf },
    );
    expect(plan.migration).not.toMatch(/^ALTER POLICY/m);
    expect(plan.migration).toContain('DROP POLICY "p" ON public.t;');
  });
});

/**
 * A name that hides itself: a right-to-left override, a zero-width space, SOH, an ANSI colour and a
 * newline (which would end a `--` comment and make the rest of the name SQL).
 */
const INVISIBLE = 'inv\u202eisible\u200b\u0001\u001b[31m\nline';
const INVISIBLE_SPELLED = 'inv\\u202eisible\\u200b\\u0001\\u001b[31m\\nline';
const RAW_INVISIBLE = /(?!\n)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

describe.each(realEnginesOrFail())('--fix-out with invisible characters in names (%s)', (engine) => {
  test('comment lines spell them out as the SQL does; the migration applies and fixes the table', async () => {
    const url = await freshDatabase(engine);
    await runSql(url, readFileSync(new URL('../../src/introspect/targets/supabase-base.sql', import.meta.url), 'utf8'));
    const table = `public.${quoteIdent(INVISIBLE)}`;
    await runSql(
      url,
      `create table ${table} (id int primary key, user_id uuid, note text);
       create index ${quoteIdent(`${INVISIBLE}_a`)} on ${table} (note);
       create index ${quoteIdent(`${INVISIBLE}_b`)} on ${table} (note);
       create table public.notes (id int primary key, user_id uuid);
       alter table public.notes enable row level security;
       create policy ${quoteIdent(`${INVISIBLE} own`)} on public.notes for select to authenticated using (auth.uid() = user_id);
       grant select, insert, update, delete on ${table}, public.notes to anon, authenticated;`,
    );
    const dir = mkdtempSync(join(tmpdir(), 'supaudit-fixout-invisible-'));
    try {
      const run = await runCli(['--db-url', url, '--schemas', 'public', '-f', 'json', '-o', 'out', '-q', '--fix-out', 'fix.sql'], { cwd: dir, env: { CI: 'true' } });
      expect(run.code, run.stderr).toBe(0);
      const migration = readFileSync(join(dir, 'fix.sql'), 'utf8');
      expect(existsSync(join(dir, 'fix.concurrently.sql'))).toBe(true);
      const concurrent = readFileSync(join(dir, 'fix.concurrently.sql'), 'utf8');
      const files = [migration, concurrent];
      for (const text of files) expect(text).not.toMatch(RAW_INVISIBLE);
      const comments = files.flatMap((t) => t.split('\n')).filter((l) => l.startsWith('--'));
      expect(comments).toContain(`-- rls_disabled_in_public:public.${INVISIBLE_SPELLED} (critical)`);
      expect(comments.filter((l) => l.includes(INVISIBLE_SPELLED)).length).toBeGreaterThanOrEqual(3);
      // The names stay exact in the SQL (U&"…" escapes): the migration applies and the table gets RLS.
      expect(migration).toContain(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;`);
      await runSql(url, migration);
      const rls = await withClient(url, async (c) => (await c.query(`select relrowsecurity from pg_class where relnamespace = 'public'::regnamespace and relname = $1`, [INVISIBLE])).rows[0].relrowsecurity as boolean);
      expect(rls).toBe(true);
      // The deparsed DROP INDEX statements name the indexes exactly too: run one by one, both are gone.
      for (const statement of concurrent.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('--'))) await runSql(url, statement);
      const left = await withClient(url, async (c) => (await c.query(`select count(*)::int as n from pg_class where relkind = 'i' and relname = any($1)`, [[`${INVISIBLE}_a`, `${INVISIBLE}_b`]])).rows[0].n as number);
      expect(left).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('every fix of the demo, written with --fix-out and applied together', () => {
  const dir = mkdtempSync(join(tmpdir(), 'supaudit-fixplan-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('loads through the migrations loader, and each finding it fixes is gone', async () => {
    // The demo's migrations without its seed (the seed's rows break a UNIQUE a fix adds, as real data may).
    cpSync(new URL('../../supabase/migrations', import.meta.url), join(dir, 'supabase', 'migrations'), { recursive: true });
    cpSync(new URL('../../supabase/config.toml', import.meta.url), join(dir, 'supabase', 'config.toml'));
    const first = await runCli(['--migrations', 'supabase/migrations', '-f', 'json', '-o', 'before', '-q', '--fix-out', 'fix.sql'], { cwd: dir });
    expect(first.code).toBe(0);
    const before = JSON.parse(readFileSync(join(dir, 'before', 'supaudit.json'), 'utf8')) as Report;
    const fixable = before.findings.filter((f) => f.remediation.sql);
    expect(fixable.length).toBeGreaterThan(30);
    const fix = readFileSync(join(dir, 'fix.sql'), 'utf8');
    expect(fix).not.toMatch(/CONCURRENTLY/);
    expect(fix).toMatch(/^-- merged: /m);
    // Applied the way a project would: the migration, then the CONCURRENTLY file on its own.
    cpSync(join(dir, 'fix.sql'), join(dir, 'supabase', 'migrations', '29990101000000_supaudit_fixes.sql'));
    cpSync(join(dir, 'fix.concurrently.sql'), join(dir, 'supabase', 'migrations', '29990101000001_supaudit_concurrently.sql'));
    const second = await runCli(['--migrations', 'supabase/migrations', '-f', 'json', '-o', 'after', '-q'], { cwd: dir });
    expect(second.stderr).toBe('');
    expect(second.code).toBe(0);
    const after = JSON.parse(readFileSync(join(dir, 'after', 'supaudit.json'), 'utf8')) as Report;
    const still = new Set(after.findings.map((f) => f.fingerprint));
    expect(fixable.map((f) => f.fingerprint).filter((fp) => still.has(fp))).toEqual([]);
    // what is left at critical/high was there before and has no SQL fix (a policy to redesign by hand)
    const serious = after.findings.filter((f) => f.level === 'critical' || f.level === 'high');
    for (const f of serious) expect(before.findings.find((b) => b.fingerprint === f.fingerprint)?.remediation.sql).toBeUndefined();
  }, 300_000);
});
