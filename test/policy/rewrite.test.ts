import { loadModule, parseSync } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  alterPolicySql,
  analyzeExpression,
  initPolicyParser,
  parseExpression,
  rewritePerRowCalls,
  wrapPerRowCalls,
} from '../../src/policy/index.ts';
import { supabaseSnapshot } from './fixtures.ts';

beforeAll(async () => {
  await initPolicyParser();
  await loadModule();
});

const snap = supabaseSnapshot();
const opts = { snapshot: snap, schema: 'public', table: 'projects' };

describe('wrapPerRowCalls', () => {
  const cases: [string, string | null, string | null][] = [
    // [input, with snapshot, without snapshot]
    ['(auth.uid() = user_id)', '((SELECT auth.uid())) = user_id', '((SELECT auth.uid())) = user_id'],
    ['(( SELECT auth.uid() AS uid) = user_id)', null, null],
    [
      '(EXISTS ( SELECT 1\n   FROM team_members tm\n  WHERE ((tm.team_id = projects.team_id) AND (tm.user_id = auth.uid()))))',
      'EXISTS (SELECT 1 FROM team_members AS tm WHERE tm.team_id = projects.team_id AND tm.user_id = ((SELECT auth.uid())))',
      'EXISTS (SELECT 1 FROM team_members AS tm WHERE tm.team_id = projects.team_id AND tm.user_id = ((SELECT auth.uid())))',
    ],
    [
      "(((auth.jwt() -> 'app_metadata'::text) ->> 'role'::text) = 'admin'::text)",
      "((((SELECT auth.jwt())) -> 'app_metadata'::text) ->> 'role'::text) = 'admin'::text",
      "((((SELECT auth.jwt())) -> 'app_metadata'::text) ->> 'role'::text) = 'admin'::text",
    ],
    [
      "(((current_setting('request.jwt.claims'::text, true))::json ->> 'sub'::text) = (owner_id)::text)",
      "(CAST((SELECT current_setting('request.jwt.claims'::text, true)) AS pg_catalog.json) ->> 'sub'::text) = owner_id::text",
      "(CAST((SELECT current_setting('request.jwt.claims'::text, true)) AS pg_catalog.json) ->> 'sub'::text) = owner_id::text",
    ],
    // STABLE helper without column arguments: wrapped (only when the snapshot says it is STABLE).
    [
      "(is_team_member(team_id) AND private.has_role('admin'::text))",
      "is_team_member(team_id) AND (SELECT private.has_role('admin'::text))",
      null,
    ],
    // The outermost wrappable call is wrapped as a whole.
    [
      "private.has_role((auth.jwt() ->> 'role'))",
      "(SELECT private.has_role(auth.jwt() ->> 'role'))",
      "private.has_role(((SELECT auth.jwt())) ->> 'role')",
    ],
    // VOLATILE helper, set-returning helper already in ARRAY(SELECT …), aggregates: left alone.
    ['is_admin_volatile()', null, null],
    ['team_id = ANY (ARRAY( SELECT user_teams() AS user_teams))', null, null],
    ['team_id = ANY (user_team_ids())', null, null],
    ['team_id IN (user_team_ids())', null, null],
    ['count(*) > 0', null, null],
    ['private.log_access(owner_id::text)', null, null],
    [
      "(\"Owner Id\" = auth.uid()) OR (auth.role() = 'service_role'::text)",
      "\"Owner Id\" = ((SELECT auth.uid())) OR ((SELECT auth.role())) = 'service_role'::text",
      "\"Owner Id\" = ((SELECT auth.uid())) OR ((SELECT auth.role())) = 'service_role'::text",
    ],
    ['lower(auth.email()) = lower(name)', 'lower((SELECT auth.email())) = lower(name)', 'lower((SELECT auth.email())) = lower(name)'],
    ['auth.uid() = ANY (member_ids)', '(SELECT auth.uid()) = ANY (member_ids)', '(SELECT auth.uid()) = ANY (member_ids)'],
    ['(SELECT auth.uid() = owner_id)', '(SELECT ((SELECT auth.uid())) = owner_id)', '(SELECT ((SELECT auth.uid())) = owner_id)'],
    ['owner_id = auth.uid() -- mine', 'owner_id = ((SELECT auth.uid()))', 'owner_id = ((SELECT auth.uid()))'],
    ['true', null, null],
  ];
  for (const [input, expected, withoutSnapshot] of cases) {
    it(input.replace(/\s+/g, ' '), () => {
      const out = wrapPerRowCalls(input, opts);
      expect(out).toBe(expected);
      expect(wrapPerRowCalls(input)).toBe(withoutSnapshot);
      if (out !== null) {
        expect(parseExpression(out).ok).toBe(true);
        // Idempotent: nothing left to wrap.
        expect(wrapPerRowCalls(out, opts)).toBeNull();
        expect(analyzeExpression(out, { schema: 'public', table: 'projects' }, snap).authCalls.filter((c) => c.wrappable)).toEqual([]);
      }
    });
  }

  it('reports what was wrapped and why nothing was returned', () => {
    expect(rewritePerRowCalls('(auth.uid() = owner_id) AND (auth.jwt() ->> \'role\') = \'x\'', opts)).toEqual({
      status: 'rewritten',
      text: "((SELECT auth.uid())) = owner_id AND (((SELECT auth.jwt())) ->> 'role') = 'x'",
      wrapped: ['auth.uid()', 'auth.jwt()'],
      error: null,
    });
    expect(rewritePerRowCalls('true', opts)).toEqual({ status: 'unchanged', text: null, wrapped: [], error: null });
    expect(rewritePerRowCalls('owner_id = (', opts)).toEqual({
      status: 'failed',
      text: null,
      wrapped: [],
      error: 'syntax error at end of input',
    });
    expect(wrapPerRowCalls('owner_id = (')).toBeNull();
  });

  it('rewrites a 1,000-deep expression', () => {
    let and = 'owner_id = auth.uid()';
    for (let i = 0; i < 1000; i++) and = `(team_id = ${i} AND ${and})`;
    const out = wrapPerRowCalls(and, opts);
    expect(out).not.toBeNull();
    expect(out).toContain('owner_id = ((SELECT auth.uid()))');
    expect(wrapPerRowCalls(out!, opts)).toBeNull();
  });
});

describe('alterPolicySql', () => {
  const names = [
    'simple',
    'Mixed Case',
    'with "quotes"',
    '"',
    'Tëam ñame',
    'a.b',
    '1st',
    'has space',
    '$x',
    // reserved, type/function-name and column-name keywords
    ...'select user order table all check current_schema authorization binary collation concurrently cross freeze full ilike inner is isnull join left like natural notnull outer overlaps right similar tablesample verbose between bigint boolean char coalesce exists extract float greatest int integer interval least none nullif numeric out position real row setof substring time timestamp trim values varchar json policy'.split(
      ' ',
    ),
  ];

  it('quotes identifiers so the statement parses back to the same names', () => {
    for (const name of names) {
      const sql = alterPolicySql({ schema: name, table: name, name }, { using: '(auth.uid() = owner_id)', withCheck: 'true' });
      const stmt = parseSync(sql).stmts?.[0]?.stmt as unknown as {
        AlterPolicyStmt: { policy_name: string; table: { schemaname: string; relname: string }; qual: unknown; with_check: unknown };
      };
      expect(stmt.AlterPolicyStmt.policy_name, sql).toBe(name);
      expect(stmt.AlterPolicyStmt.table.schemaname, sql).toBe(name);
      expect(stmt.AlterPolicyStmt.table.relname, sql).toBe(name);
      expect(stmt.AlterPolicyStmt.qual).toBeDefined();
      expect(stmt.AlterPolicyStmt.with_check).toBeDefined();
    }
  });

  it('builds exact statements', () => {
    expect(alterPolicySql({ schema: 'public', table: 'projects', name: 'Users read "own"' }, { using: '((SELECT auth.uid())) = owner_id' })).toBe(
      'ALTER POLICY "Users read ""own""" ON public.projects USING (((SELECT auth.uid())) = owner_id);',
    );
    expect(alterPolicySql({ schema: 'My Schema', table: 'Projects', name: 'p', command: 'INSERT' }, { withCheck: 'true' })).toBe(
      'ALTER POLICY p ON "My Schema"."Projects" WITH CHECK (true);',
    );
    expect(alterPolicySql({ schema: 'public', table: 't', name: 'p' }, { using: 'a = 1 -- note' })).toBe(
      'ALTER POLICY p ON public.t USING (a = 1 -- note\n);',
    );
    expect(parseSync(alterPolicySql({ schema: 'public', table: 't', name: 'p' }, { using: 'a = 1 -- note' })).stmts).toHaveLength(1);
  });

  it('refuses meaningless statements', () => {
    expect(() => alterPolicySql({ schema: 'public', table: 't', name: 'p' }, {})).toThrow(/nothing to change/);
    expect(() => alterPolicySql({ schema: 'public', table: 't', name: 'p', command: 'INSERT' }, { using: 'true' })).toThrow(/INSERT/);
    expect(() => alterPolicySql({ schema: 'public', table: 't', name: 'p', command: 'SELECT' }, { withCheck: 'true' })).toThrow(/SELECT/);
  });
});
