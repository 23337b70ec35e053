/**
 * Hostile identifiers: names with quotes, spaces, unicode, newlines, ANSI escapes, Markdown and
 * HTML and SQL fragments. Every reporter must escape them; every fix SQL must quote them so that
 * applying it works; nothing crashes.
 */
import { loadModule, parseSync } from 'libpg-query';
import { describe, expect, test } from 'vitest';
import { allChecks } from '../../checks/index.ts';
import { reporters } from '../../reports/index.ts';
import { quoteIdent } from '../../src/model/ident.ts';
import { auditSession, loadOn, testEngines } from '../support/audit.ts';
import { HOSTILE_NAMES, hostileFixture as fixture } from '../support/hostile.ts';

describe.each(testEngines().filter((e) => e !== 'embedded'))('hostile identifiers (%s)', (engine) => {
  test('findings name them exactly, reports escape them, and the fix SQL applied clears every finding', async () => {
    await loadModule();
    const first = await loadOn(engine, fixture());
    let before;
    try {
      before = await auditSession(first, { checks: allChecks });
    } finally {
      await first.close();
    }
    const rls = before.findings.filter((f) => f.check === 'rls_disabled_in_public').map((f) => f.object.name).sort();
    expect(rls).toEqual([...HOSTILE_NAMES].sort());
    const fns = before.findings.filter((f) => f.check === 'function_search_path_mutable');
    expect(fns).toHaveLength(HOSTILE_NAMES.length);

    for (const [name, reporter] of Object.entries(reporters)) {
      const out = reporter.render(before.report, { color: false });
      // No raw control character from a name reaches any output (JSON escapes them as \u001b text).
      expect(out, name).not.toContain('\u001b');
      if (name === 'json' || name === 'sarif') {
        expect(() => JSON.parse(out), name).not.toThrow();
        expect(out, name).toContain(JSON.stringify('<script>alert(1)</script>').slice(1, -1));
      }
      if (name === 'text') {
        expect(out).toContain('public.line\\nbreak');
        expect(out).toContain('public.ansi\\u001b[31mred\\u001b[0m');
      }
      if (name === 'html' || name === 'junit') expect(out, name).not.toContain('<script>alert(1)</script>');
      if (name === 'md') {
        // Markdown shows code spans and fenced blocks literally (the fix SQL must stay copyable there);
        // everywhere else a name must be escaped.
        const prose = out.replace(/^(`{3,})sql\n[\s\S]*?\n\1$/gm, '').replace(/(`+)[^`]*?\1/g, '');
        expect(prose, name).not.toMatch(/<script|<\/script/i);
        expect(out, name).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      }
    }

    const fixes = before.findings
      .filter((f) => f.check === 'rls_disabled_in_public' || f.check === 'function_search_path_mutable')
      .map((f) => f.remediation.sql!);
    for (const sql of fixes) expect(() => parseSync(sql)).not.toThrow();
    const second = await loadOn(engine, fixture(), fixes.join('\n'));
    try {
      const after = await auditSession(second, { checks: allChecks });
      expect(after.findings.filter((f) => f.check === 'rls_disabled_in_public' || f.check === 'function_search_path_mutable')).toEqual([]);
    } finally {
      await second.close();
    }
  });
});

describe.each(testEngines().filter((e) => e !== 'embedded'))('hostile policies (%s)', (engine) => {
  test('hostile table and policy names: the rewritten policy SQL applies and clears auth_rls_initplan', async () => {
    const names = HOSTILE_NAMES.filter((n) => n.length < 40);
    const sql = names
      .map(
        (name, i) => `create table public.${quoteIdent(`p ${name}`)} (id int primary key, user_id uuid);
alter table public.${quoteIdent(`p ${name}`)} enable row level security;
create policy ${quoteIdent(name)} on public.${quoteIdent(`p ${name}`)} for select to authenticated using (auth.uid() = user_id or ${i} = 0);`,
      )
      .join('\n');
    const initplan = allChecks.filter((c) => c.meta.id === 'auth_rls_initplan');
    const first = await loadOn(engine, sql);
    let before;
    try {
      before = await auditSession(first, { checks: initplan });
    } finally {
      await first.close();
    }
    expect(before.findings.map((f) => f.object.policy).sort()).toEqual([...names].sort());
    const fixes = before.findings.map((f) => f.remediation.sql!);
    const second = await loadOn(engine, sql, fixes.join('\n'));
    try {
      expect((await auditSession(second, { checks: initplan })).findings).toEqual([]);
    } finally {
      await second.close();
    }
  });

  test('a deeply nested policy and 10,000 policies on one table: the audit completes and stays honest', async () => {
    const depth = 200;
    const nested = `${'('.repeat(depth)}auth.uid() = user_id${' or false)'.repeat(depth)}`;
    // Postgres rebuilds a table's policy cache on every CREATE POLICY while RLS is enabled (quadratic: 10,000 take
    // ~100 s), so the policies are created first and RLS is enabled after them (well under a second).
    const count = 10_000;
    const many = `do $$ begin for i in 0..${count - 1} loop execute format('create policy %I on public.crowded for select to authenticated using (kind = %s)', 'p' || i, i); end loop; end $$;`;
    const session = await loadOn(
      engine,
      `create table public.deep (id int primary key, user_id uuid);
alter table public.deep enable row level security;
create policy deep on public.deep for select to authenticated using (${nested});
create table public.crowded (id int primary key, kind int);
${many}
alter table public.crowded enable row level security;`,
    );
    try {
      const outcome = await auditSession(session, { checks: allChecks });
      expect(outcome.report.checkErrors).toEqual([]);
      expect(outcome.snapshot.policies.filter((p) => p.table === 'crowded')).toHaveLength(count);
      // The nested policy is analysed (per-row auth.uid() found at depth) or reported as unparseable: never silent.
      const deep = outcome.findings.filter((f) => f.object.schema === 'public' && f.object.name === 'deep' && (f.check === 'auth_rls_initplan' || f.check === 'policy_unparseable'));
      expect(deep.length).toBeGreaterThan(0);
      // 10,000 permissive SELECT policies for authenticated: one finding naming them all, not 2,500.
      const crowded = outcome.findings.filter((f) => f.check === 'multiple_permissive_policies' && f.object.name === 'crowded');
      expect(crowded).toHaveLength(1);
      expect((crowded[0]!.evidence?.['policies'] as string[]).length).toBe(count);
    } finally {
      await session.close();
    }
  }, 120_000);
});
