import { beforeAll, describe, expect, it } from 'vitest';
import {
  analyzeExpression,
  analyzePolicies,
  analyzePolicy,
  initPolicyParser,
  type ExpressionAnalysis,
} from '../../src/policy/index.ts';
import { fn, policy, relation, snapshot, supabaseSnapshot } from './fixtures.ts';

beforeAll(async () => {
  await initPolicyParser();
});

const snap = supabaseSnapshot();

function analyze(text: string, table = 'projects', schema = 'public'): ExpressionAnalysis {
  const a = analyzeExpression(text, { schema, table }, snap);
  expect(a.parseError, `parse error for ${text}`).toBeNull();
  return a;
}

/** `column:kind[(claim)]`, with `~` when the predicate is not conjunctive. */
const preds = (a: ExpressionAnalysis): string[] =>
  a.columnPredicates.map((p) => `${p.column}:${p.kind}${p.claim ? `(${p.claim})` : ''}${p.conjunctive ? '' : '~'}`);
const calls = (a: ExpressionAnalysis): string[] =>
  a.authCalls.map((c) => `${c.kind}${c.kind === 'function' ? `:${c.schema}.${c.name}` : ''}@${c.location}${c.perRow ? ' perRow' : ''}${c.wrappable ? ' wrap' : ''}`);
const subs = (a: ExpressionAnalysis): string[] =>
  a.subqueries.map(
    (s) =>
      `${s.schema}.${s.name}${s.alias ? ` ${s.alias}` : ''} [${s.via} d${s.depth}${s.keyedOnCaller ? ' keyed' : ''}] ` +
      `where(${s.predicates.map((p) => `${p.column}:${p.kind}`).join(',')}) select(${s.targetColumns.join(',')})`,
  );
const ties = (a: ExpressionAnalysis): string[] => a.ownerTie.map((t) => `${t.column}:${t.via}${t.conjunctive ? '' : '~'}`);

describe('auth calls and per-row evaluation', () => {
  it('bare auth.uid() is per row; the deparsed (SELECT auth.uid() AS uid) is an initplan', () => {
    const a = analyze('(auth.uid() = user_id)', 'documents');
    expect(a.authCalls).toEqual([
      {
        kind: 'auth.uid',
        schema: 'auth',
        name: 'uid',
        text: 'auth.uid()',
        location: 1,
        length: 10,
        path: 'A_Expr.lexpr.FuncCall',
        perRow: true,
        wrappable: true,
        volatility: 'stable',
        securityDefiner: false,
        known: true,
        depth: 0,
        setting: null,
      },
    ]);
    const b = analyze('(( SELECT auth.uid() AS uid) = user_id)', 'documents');
    expect(calls(b)).toEqual(['auth.uid@10']);
    expect(b.authCalls[0]?.path).toBe('A_Expr.lexpr.SubLink.subselect.SelectStmt.targetList[0].ResTarget.val.FuncCall');
    expect(b.authCalls[0]?.depth).toBe(1);
  });

  it('calls inside EXISTS / IN subqueries are per row, unless wrapped', () => {
    const exists = analyze(
      '(EXISTS ( SELECT 1\n   FROM team_members tm\n  WHERE ((tm.team_id = projects.team_id) AND (tm.user_id = auth.uid()))))',
    );
    expect(calls(exists)).toEqual(['auth.uid@102 perRow wrap']);
    expect(exists.authCalls[0]?.depth).toBe(1);
    const inWrapped = analyze(
      '(team_id IN ( SELECT team_members.team_id\n   FROM team_members\n  WHERE (team_members.user_id = ( SELECT auth.uid() AS uid))))',
    );
    expect(calls(inWrapped)).toEqual(['auth.uid@104']);
    expect(inWrapped.authCalls[0]?.depth).toBe(2);
  });

  it('a FROM-less sub-select that references the row is not an initplan', () => {
    expect(calls(analyze('(SELECT auth.uid() = owner_id)'))).toEqual(['auth.uid@8 perRow wrap']);
    expect(calls(analyze('owner_id = (SELECT auth.uid() WHERE projects.is_public)'))).toEqual(['auth.uid@19 perRow wrap']);
  });

  it('current_setting, auth.jwt/role/email and their settings', () => {
    const a = analyze(
      "(((current_setting('request.jwt.claims'::text, true))::json ->> 'sub'::text) = (owner_id)::text) AND auth.role() = 'authenticated' AND auth.email() IS NOT NULL AND (auth.jwt() ->> 'aal') = 'aal2'",
    );
    expect(a.authCalls.map((c) => [c.kind, c.text, c.setting, c.perRow])).toEqual([
      ['current_setting', "current_setting('request.jwt.claims'::text, true)", 'request.jwt.claims', true],
      ['auth.role', 'auth.role()', null, true],
      ['auth.email', 'auth.email()', null, true],
      ['auth.jwt', 'auth.jwt()', null, true],
    ]);
  });

  it('STABLE and VOLATILE user helpers are auth calls; IMMUTABLE ones and built-ins are not', () => {
    const a = analyze(
      "(is_team_member(team_id) AND private.has_role('admin'::text) AND is_admin_volatile() AND (slugify(name) = 'x'::text) AND (lower(name) = 'y'::text))",
    );
    expect(calls(a)).toEqual([
      'function:public.is_team_member@1 perRow',
      "function:private.has_role@29 perRow wrap",
      'function:public.is_admin_volatile@65 perRow',
    ]);
    expect(a.authCalls.map((c) => [c.name, c.volatility, c.securityDefiner])).toEqual([
      ['is_team_member', 'stable', false],
      ['has_role', 'stable', true],
      ['is_admin_volatile', 'volatile', false],
    ]);
  });

  it('unqualified uid() is not auth.uid(); unknown functions stay unresolved', () => {
    const a = analyze('uid() = owner_id AND mystery(owner_id)');
    expect(a.authCalls).toEqual([]);
    expect(a.usesAuthUid).toBe(false);
    expect(a.functionCalls.map((f) => [f.schema, f.name, f.known])).toEqual([
      [null, 'uid', false],
      [null, 'mystery', false],
    ]);
  });

  it('auth functions missing from the snapshot get Supabase defaults (known: false)', () => {
    const a = analyzeExpression('auth.uid() = owner_id', { schema: 'public', table: 'projects' }, snapshot());
    expect(a.authCalls[0]).toMatchObject({ kind: 'auth.uid', volatility: 'stable', securityDefiner: false, known: false });
  });
});

describe('column predicates', () => {
  const cases: [string, string[], string?][] = [
    ['(auth.uid() = owner_id)', ['owner_id:eq_auth_uid']],
    ['(owner_id = auth.uid())', ['owner_id:eq_auth_uid']],
    ['(( SELECT auth.uid() AS uid) = owner_id)', ['owner_id:eq_auth_uid']],
    ['((auth.uid())::text = (owner_id)::text)', ['owner_id:eq_auth_uid']],
    ['("Owner Id" = auth.uid())', ['Owner Id:eq_auth_uid']],
    ['(projects.owner_id = auth.uid())', ['owner_id:eq_auth_uid']],
    ['(public.projects.owner_id = auth.uid())', ['owner_id:eq_auth_uid']],
    ['owner_id IN (SELECT auth.uid())', ['owner_id:eq_auth_uid']],
    ["((auth.jwt() ->> 'sub'::text) = (owner_id)::text)", ['owner_id:eq_jwt_claim(sub)']],
    ["(current_setting('request.jwt.claim.sub'::text, true))::uuid = owner_id", ['owner_id:eq_jwt_claim(sub)']],
    [
      "(org_id = (((auth.jwt() -> 'app_metadata'::text) ->> 'org_id'::text))::integer)",
      ['org_id:eq_jwt_claim(app_metadata.org_id)'],
    ],
    ["(org_id = ((auth.jwt() #>> '{app_metadata,org_id}'::text[]))::integer)", ['org_id:eq_jwt_claim(app_metadata.org_id)']],
    ['(name = auth.email())', ['name:eq_jwt_claim(email)']],
    ["(name = 'x'::text)", ['name:eq_constant']],
    ['(team_id = 42)', ['team_id:eq_constant']],
    ["(name = ANY (ARRAY['a'::text, 'b'::text]))", ['name:eq_constant']],
    ["(team_id = ANY ('{1,2}'::integer[]))", ['team_id:eq_constant']],
    ["name IN ('a', 'b')", ['name:eq_constant']],
    ['is_public', ['is_public:eq_constant']],
    ['(NOT is_public)', ['is_public:eq_constant~']],
    ['(is_public IS TRUE)', ['is_public:eq_constant']],
    ['(is_public = true)', ['is_public:eq_constant']],
    [
      '(team_id IN ( SELECT team_members.team_id\n   FROM team_members\n  WHERE (team_members.user_id = ( SELECT auth.uid() AS uid))))',
      ['team_id:in_subquery'],
    ],
    ['(team_id = ANY (ARRAY( SELECT user_teams() AS user_teams)))', ['team_id:in_subquery']],
    ['(team_id = ANY ( SELECT tm.team_id FROM team_members tm))', ['team_id:in_subquery']],
    ['(team_id = ( SELECT tm.team_id FROM team_members tm WHERE (tm.user_id = auth.uid()) LIMIT 1))', ['team_id:in_subquery']],
    ['((team_id, org_id) IN ( SELECT t.id, t.org_id FROM teams t))', ['team_id:in_subquery', 'org_id:in_subquery']],
    [
      '(EXISTS ( SELECT 1\n   FROM team_members tm\n  WHERE ((tm.team_id = projects.team_id) AND (tm.user_id = auth.uid()))))',
      ['team_id:exists_correlated'],
    ],
    ['(team_id > 5)', ['team_id:other']],
    ['(deleted_at IS NULL)', ['deleted_at:other']],
    ['is_team_member(team_id)', ['team_id:other']],
    ["((data ->> 'owner'::text) = (auth.uid())::text)", ['data:other']],
    ['(owner_id = team_id)', ['owner_id:other', 'team_id:other']],
    ['(auth.uid() = ANY (member_ids))', ['member_ids:other']],
    [
      "((owner_id = auth.uid()) OR (is_public AND (name <> 'secret'::text)))",
      ['owner_id:eq_auth_uid~', 'is_public:eq_constant~', 'name:other~'],
    ],
    ["(COALESCE(is_public, false) AND (owner_id = auth.uid()))", ['is_public:other~', 'owner_id:eq_auth_uid']],
  ];
  for (const [text, expected] of cases) {
    it(text.replace(/\s+/g, ' '), () => {
      expect(preds(analyze(text))).toEqual(expected);
    });
  }

  it('records exact locations', () => {
    const text = '(is_public AND ("Owner Id" = auth.uid()))';
    expect(analyze(text).columnPredicates).toEqual([
      { column: 'is_public', kind: 'eq_constant', claim: null, location: 1, conjunctive: true },
      { column: 'Owner Id', kind: 'eq_auth_uid', claim: null, location: text.indexOf('"Owner Id"'), conjunctive: true },
    ]);
  });
});

describe('column resolution in subqueries', () => {
  it('an unqualified column belongs to the subquery table that has it, else to the policy table', () => {
    // team_members has user_id but not owner_id: owner_id is the policy table's (a correlation).
    const a = analyze('(EXISTS ( SELECT 1 FROM team_members WHERE ((team_id = projects.team_id) AND (user_id = owner_id))))');
    expect(preds(a)).toEqual(['team_id:exists_correlated', 'owner_id:exists_correlated']);
    expect(subs(a)).toEqual(['public.team_members [exists d1] where(team_id:join,user_id:join) select()']);
  });

  it('honours aliases (the alias hides the table name) and schema-qualified names', () => {
    const a = analyze(
      'EXISTS (SELECT 1 FROM public.team_members m JOIN public.teams t ON t.id = m.team_id WHERE m.user_id = (select auth.uid()) AND t.org_id = public.projects.org_id)',
    );
    expect(preds(a)).toEqual(['org_id:exists_correlated']);
    expect(subs(a)).toEqual([
      'public.team_members m [exists d1 keyed] where(team_id:join,user_id:eq_auth_uid) select()',
      'public.teams t [exists d1 keyed] where(id:join,org_id:join) select()',
    ]);
    expect(a.subqueries[0]?.filterColumns).toEqual(['team_id', 'user_id']);
  });

  it('resolves unqualified tables in the policy schema first, then public', () => {
    const inApp = analyze('(team_id IN ( SELECT team_members.team_id FROM team_members WHERE (team_members.user_id = auth.uid())))', 'items', 'app');
    expect(inApp.subqueries.map((s) => `${s.schema}.${s.name}`)).toEqual(['app.team_members']);
    const fallback = analyze('(EXISTS ( SELECT 1 FROM profiles p WHERE ((p.id = items.owner) AND (p.is_admin))))', 'items', 'app');
    expect(fallback.subqueries.map((s) => `${s.schema}.${s.name} known=${s.known}`)).toEqual(['public.profiles known=true']);
    expect(preds(fallback)).toEqual(['owner:exists_correlated']);
    const unknown = analyze('(EXISTS ( SELECT 1 FROM nowhere n WHERE (n.x = projects.id)))');
    expect(unknown.subqueries.map((s) => `${s.schema}.${s.name} known=${s.known} rls=${s.rlsEnabled}`)).toEqual([
      'public.nowhere known=false rls=null',
    ]);
  });

  it('an inner table missing from the snapshot is assumed to own unqualified columns (innermost scope first)', () => {
    const a = analyze('(EXISTS ( SELECT 1 FROM unknown_table u WHERE ((u.x = projects.team_id) AND (owner_id = auth.uid()))))');
    expect(preds(a)).toEqual(['team_id:exists_correlated']);
    expect(subs(a)).toEqual(['public.unknown_table u [exists d1 keyed] where(x:join,owner_id:eq_auth_uid) select()']);
  });

  it('nested subqueries, self references, CTEs, UNION and derived tables', () => {
    const nested = analyze(
      'EXISTS (SELECT 1 FROM projects p WHERE p.id = project_id AND (p.owner_id = auth.uid() OR EXISTS (SELECT 1 FROM team_members tm WHERE tm.team_id = p.team_id AND tm.user_id = auth.uid())))',
      'documents',
    );
    expect(preds(nested)).toEqual(['project_id:exists_correlated']);
    expect(subs(nested)).toEqual([
      'public.projects p [exists d1 keyed] where(id:join,owner_id:eq_auth_uid,team_id:join) select()',
      'public.team_members tm [exists d2 keyed] where(team_id:join,user_id:eq_auth_uid) select()',
    ]);
    expect(nested.maxDepth).toBe(2);
    expect(calls(nested)).toEqual(['auth.uid@75 perRow wrap', 'auth.uid@173 perRow wrap']);

    const self = analyze('(EXISTS ( SELECT 1 FROM projects p2 WHERE ((p2.team_id = projects.team_id) AND (p2.owner_id = auth.uid()))))');
    expect(self.subqueries[0]).toMatchObject({ name: 'projects', alias: 'p2', isPolicyTable: true });

    const cte = analyze('project_id IN (WITH mine AS (SELECT id FROM projects WHERE owner_id = auth.uid()) SELECT id FROM mine)', 'documents');
    expect(subs(cte)).toEqual(['public.projects [cte d2 keyed] where(owner_id:eq_auth_uid) select(id)']);
    expect(ties(cte)).toEqual(['project_id:in_subquery']);

    const union = analyze(
      'project_id IN (SELECT id FROM projects WHERE owner_id = auth.uid() UNION SELECT p.id FROM projects p JOIN team_members tm ON tm.team_id = p.team_id WHERE tm.user_id = auth.uid())',
      'documents',
    );
    expect(preds(union)).toEqual(['project_id:in_subquery']);
    expect(subs(union)).toEqual([
      'public.projects [in d2 keyed] where(owner_id:eq_auth_uid) select(id)',
      'public.projects p [in d2 keyed] where(team_id:join) select(id)',
      'public.team_members tm [in d2 keyed] where(team_id:join,user_id:eq_auth_uid) select()',
    ]);

    const derived = analyze('project_id IN (SELECT s.id FROM (SELECT id FROM projects WHERE owner_id = auth.uid()) s)', 'documents');
    expect(subs(derived)).toEqual(['public.projects [from d2 keyed] where(owner_id:eq_auth_uid) select(id)']);
  });
});

describe('subqueries', () => {
  it('lists filter/join columns per table with RLS status', () => {
    const text =
      "((team_id IN ( SELECT team_members.team_id\n   FROM team_members\n  WHERE ((team_members.user_id = auth.uid()) AND (team_members.role = 'admin'::text)))) OR is_public)";
    const a = analyze(text);
    expect(a.subqueries).toEqual([
      {
        schema: 'public',
        name: 'team_members',
        alias: null,
        known: true,
        kind: 'table',
        rlsEnabled: true,
        isPolicyTable: false,
        via: 'in',
        depth: 1,
        location: text.indexOf('team_members\n'),
        filterColumns: ['user_id', 'role'],
        predicates: [
          { column: 'user_id', kind: 'eq_auth_uid', claim: null, location: text.indexOf('team_members.user_id') },
          { column: 'role', kind: 'eq_constant', claim: null, location: text.indexOf('team_members.role') },
        ],
        targetColumns: ['team_id'],
        keyedOnCaller: true,
      },
    ]);
  });

  it('reads auth.users through a scalar subquery', () => {
    const a = analyze("(( SELECT (users.raw_user_meta_data ->> 'role'::text) FROM auth.users WHERE (users.id = auth.uid())) = 'admin'::text)");
    expect(subs(a)).toEqual(['auth.users [scalar d1 keyed] where(id:eq_auth_uid) select(raw_user_meta_data)']);
    expect(a.subqueries[0]?.rlsEnabled).toBe(false);
    expect(a.readsUserMetadata).toBe(true);
  });
});

describe('function calls', () => {
  it('resolves schema, volatility, security definer and what the body reads', () => {
    const a = analyze("(is_admin() OR private.has_role('admin'::text) OR (team_id = ANY (user_team_ids())) OR private.log_access(name))");
    expect(
      a.functionCalls.map((f) => ({
        fn: `${f.schema}.${f.name}`,
        volatility: f.volatility,
        definer: f.securityDefiner,
        reads: f.readsTables,
        rls: f.readsRlsTables,
        caller: f.bodyReferencesCaller,
        colArgs: f.argsReferenceColumns,
      })),
    ).toEqual([
      { fn: 'public.is_admin', volatility: 'stable', definer: true, reads: ['public.profiles'], rls: ['public.profiles'], caller: true, colArgs: false },
      {
        fn: 'private.has_role',
        volatility: 'stable',
        definer: true,
        reads: ['private.memberships'],
        rls: ['private.memberships'],
        caller: true,
        colArgs: false,
      },
      {
        fn: 'public.user_team_ids',
        volatility: 'stable',
        definer: true,
        reads: ['public.team_members'],
        rls: ['public.team_members'],
        caller: true,
        colArgs: false,
      },
      { fn: 'private.log_access', volatility: 'volatile', definer: false, reads: ['public.audit_log'], rls: [], caller: false, colArgs: true },
    ]);
  });

  it('lists built-ins with their schema', () => {
    const a = analyze("(jsonb_extract_path_text(auth.jwt(), VARIADIC ARRAY['app_metadata'::text, 'role'::text]) = 'a'::text)");
    expect(a.functionCalls.map((f) => [f.schema, f.name, f.builtin, f.volatility])).toEqual([
      ['pg_catalog', 'jsonb_extract_path_text', true, 'immutable'],
      ['auth', 'jwt', false, 'stable'],
    ]);
  });
});

describe('user_metadata', () => {
  const yes = [
    "(((auth.jwt() -> 'user_metadata'::text) ->> 'role'::text) = 'admin'::text)",
    "((auth.jwt() #>> '{user_metadata,role}'::text[]) = 'admin'::text)",
    "((auth.jwt() #> ARRAY['user_metadata'::text, 'role'::text]) = '\"admin\"'::jsonb)",
    "(jsonb_extract_path_text(auth.jwt(), VARIADIC ARRAY['user_metadata'::text, 'role'::text]) = 'a'::text)",
    "(jsonb_extract_path(auth.jwt(), 'user_metadata') ->> 'role') = 'a'",
    "(((current_setting('request.jwt.claims'::text, true))::jsonb -> 'user_metadata'::text) ->> 'role'::text) = 'admin'::text",
    "(((( SELECT auth.jwt() AS jwt) -> 'user_metadata'::text) ->> 'role'::text) = 'admin'::text)",
    "((((auth.jwt() ->> 'user_metadata'::text))::jsonb ->> 'role'::text) = 'admin'::text)",
    "(( SELECT (users.raw_user_meta_data ->> 'role'::text) FROM auth.users WHERE (users.id = auth.uid())) = 'admin'::text)",
    "(current_setting('request.jwt.claim.user_metadata'::text, true) IS NOT NULL)",
  ];
  for (const text of yes) {
    it(`flags ${text}`, () => {
      const a = analyze(text);
      expect(a.readsUserMetadata).toBe(true);
      expect(a.userMetadataLocations.length).toBeGreaterThan(0);
    });
  }
  const no = [
    "(((auth.jwt() -> 'app_metadata'::text) ->> 'role'::text) = 'admin'::text)",
    "((((auth.jwt() -> 'app_metadata'::text) -> 'user_metadata'::text) ->> 'x'::text) = 'y'::text)",
    "(((data -> 'user_metadata'::text) ->> 'role'::text) = 'x'::text)",
    "(name = 'user_metadata'::text)",
  ];
  for (const text of no) {
    it(`does not flag ${text}`, () => {
      expect(analyze(text).readsUserMetadata).toBe(false);
    });
  }
  it('points at the accessor', () => {
    expect(analyze("(((auth.jwt() -> 'user_metadata'::text) ->> 'role'::text) = 'admin'::text)").userMetadataLocations).toEqual([14]);
  });
});

describe('alwaysTrue', () => {
  const cases: [string, 'always' | 'anonymous' | 'no'][] = [
    ['true', 'always'],
    ['(1 = 1)', 'always'],
    ["('a'::text = 'a'::text)", 'always'],
    ["('a' = 'a')", 'always'],
    ['(owner_id = auth.uid()) OR true', 'always'],
    ['COALESCE(is_public, true)', 'always'],
    ['COALESCE((owner_id = auth.uid()), true)', 'always'],
    ['(NOT false)', 'always'],
    ['(true AND true)', 'always'],
    ["'t'::boolean", 'always'],
    ['(1 IN (1, 2))', 'always'],
    ['(NULL::text IS NULL)', 'always'],
    ['(true IS NOT FALSE)', 'always'],
    ['CASE WHEN is_public THEN true ELSE true END', 'always'],
    ['(1 IS NOT DISTINCT FROM 1)', 'always'],
    ['((auth.uid() IS NULL) OR (owner_id = auth.uid()))', 'anonymous'],
    ["((auth.role() = 'anon'::text) OR (owner_id = auth.uid()))", 'anonymous'],
    ["((auth.jwt() ->> 'role'::text) = 'anon'::text)", 'anonymous'],
    ["(auth.role() <> 'authenticated'::text)", 'anonymous'],
    ["(auth.role() NOT IN ('authenticated', 'service_role'))", 'anonymous'],
    ['(( SELECT auth.uid() AS uid) IS NULL)', 'anonymous'],
    ["(CURRENT_USER = 'anon'::name)", 'anonymous'],
    ['(NOT (auth.uid() IS NOT NULL))', 'anonymous'],
    ["((current_setting('request.jwt.claim.sub'::text, true) IS NULL) OR is_public)", 'anonymous'],
    ['((deleted_at IS NULL) OR (owner_id = auth.uid()))', 'no'],
    ['((x IS NULL) OR (owner_id = auth.uid()))', 'no'],
    ['(owner_id = auth.uid())', 'no'],
    ['(1 = 2)', 'no'],
    ['false', 'no'],
    ['NULL::boolean', 'no'],
    ['(auth.uid() IS NOT NULL)', 'no'],
    ["(auth.role() = 'authenticated'::text)", 'no'],
    ['(true AND is_public)', 'no'],
    ['COALESCE(is_public, false)', 'no'],
    ['(auth.uid() = auth.uid())', 'no'],
  ];
  for (const [text, expected] of cases) {
    it(`${text} → ${expected}`, () => {
      expect(analyze(text).alwaysTrue).toBe(expected);
    });
  }
});

describe('orMixesSubquery', () => {
  it('flags an OR mixing a subquery arm with a plain arm', () => {
    expect(
      analyze('((owner_id = auth.uid()) OR (EXISTS ( SELECT 1 FROM team_members tm WHERE ((tm.team_id = projects.team_id) AND (tm.user_id = auth.uid())))))')
        .orMixesSubquery,
    ).toBe(true);
    expect(analyze('((team_id IN ( SELECT tm.team_id FROM team_members tm WHERE (tm.user_id = auth.uid()))) OR is_public)').orMixesSubquery).toBe(true);
  });
  it('does not count initplan wrappers or ORs without subqueries', () => {
    expect(analyze('((owner_id = ( SELECT auth.uid() AS uid)) OR is_public)').orMixesSubquery).toBe(false);
    expect(analyze('((owner_id = auth.uid()) OR is_public)').orMixesSubquery).toBe(false);
    expect(
      analyze('((team_id IN ( SELECT tm.team_id FROM team_members tm)) OR (org_id IN ( SELECT t.org_id FROM teams t)))').orMixesSubquery,
    ).toBe(false);
    expect(analyze('(is_public AND (team_id IN ( SELECT tm.team_id FROM team_members tm)))').orMixesSubquery).toBe(false);
  });
});

describe('usesAuthUid, ownerTie and callerTied', () => {
  const cases: [string, boolean, string[], boolean][] = [
    ['(auth.uid() = owner_id)', true, ['owner_id:eq_auth_uid'], true],
    ["((auth.jwt() ->> 'sub'::text) = (owner_id)::text)", true, ['owner_id:eq_jwt_claim'], true],
    ["((current_setting('request.jwt.claims'::text, true))::json ->> 'sub'::text) = (owner_id)::text", true, ['owner_id:eq_jwt_claim'], true],
    ['(name = auth.email())', false, ['name:eq_jwt_claim'], true],
    [
      '(team_id IN ( SELECT team_members.team_id\n   FROM team_members\n  WHERE (team_members.user_id = ( SELECT auth.uid() AS uid))))',
      true,
      ['team_id:in_subquery'],
      true,
    ],
    ['(team_id IN ( SELECT tm.team_id FROM team_members tm))', false, [], false],
    ['(team_id = ANY (ARRAY( SELECT user_teams() AS user_teams)))', false, ['team_id:in_subquery'], true],
    [
      '(EXISTS ( SELECT 1 FROM team_members tm WHERE ((tm.team_id = projects.team_id) AND (tm.user_id = auth.uid()))))',
      true,
      ['team_id:exists_correlated'],
      true,
    ],
    ['is_team_member(team_id)', false, ['team_id:function'], true],
    ['((owner_id = auth.uid()) OR is_public)', true, ['owner_id:eq_auth_uid~'], false],
    [
      '((owner_id = auth.uid()) OR (team_id IN ( SELECT tm.team_id FROM team_members tm WHERE (tm.user_id = auth.uid()))))',
      true,
      ['owner_id:eq_auth_uid~', 'team_id:in_subquery~'],
      true,
    ],
    ['((owner_id = auth.uid()) AND (team_id = 3))', true, ['owner_id:eq_auth_uid'], true],
    ["((auth.jwt() ->> 'role'::text) = 'admin'::text)", false, [], false],
    ["(org_id = (((auth.jwt() -> 'app_metadata'::text) ->> 'org_id'::text))::integer)", false, [], false],
    ['(auth.uid() IS NOT NULL)', true, [], false],
    ['is_admin()', false, [], false],
    ['true', false, [], false],
  ];
  for (const [text, uid, tie, tied] of cases) {
    it(text.replace(/\s+/g, ' '), () => {
      const a = analyze(text);
      expect(a.usesAuthUid).toBe(uid);
      expect(ties(a)).toEqual(tie);
      expect(a.callerTied).toBe(tied);
    });
  }
});

describe('robustness', () => {
  it('unparseable text gives parseError and empty results', () => {
    const a = analyzeExpression('owner_id = = auth.uid(', { schema: 'public', table: 'projects' }, snap);
    expect(a).toEqual({
      text: 'owner_id = = auth.uid(',
      parseError: 'syntax error at or near "="',
      parseErrorPosition: 11,
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
    });
  });

  it('1,000 nested ANDs / ORs / mixed / function calls do not crash', () => {
    let and = 'owner_id = auth.uid()';
    for (let i = 0; i < 1000; i++) and = `(team_id = ${i} AND ${and})`;
    const a = analyze(and);
    expect(a.columnPredicates).toHaveLength(1001);
    expect(a.authCalls).toHaveLength(1);
    expect(a.ownerTie).toEqual([{ column: 'owner_id', via: 'eq_auth_uid', conjunctive: true }]);
    expect(a.callerTied).toBe(true);

    let trueAnd = 'true';
    for (let i = 0; i < 1000; i++) trueAnd = `(true AND ${trueAnd})`;
    expect(analyze(trueAnd).alwaysTrue).toBe('always');

    let or = 'owner_id = auth.uid()';
    for (let i = 0; i < 1000; i++) or = `(team_id = ${i} OR (${or}))`;
    expect(analyze(or).columnPredicates).toHaveLength(1001);

    let mixed = 'true';
    for (let i = 0; i < 1000; i++) mixed = i % 2 ? `(${mixed} AND a${i})` : `(${mixed} OR b${i})`;
    expect(analyze(mixed).alwaysTrue).toBe('no');

    let fnNest = 'auth.uid()';
    for (let i = 0; i < 1000; i++) fnNest = `coalesce(${fnNest}, NULL)`;
    expect(analyze(`${fnNest} = owner_id`).authCalls).toHaveLength(1);

    let subNest = 'owner_id = auth.uid()';
    for (let i = 0; i < 50; i++) subNest = `EXISTS (SELECT 1 FROM team_members t${i} WHERE t${i}.user_id = auth.uid() AND ${subNest})`;
    const s = analyze(subNest);
    expect(s.maxDepth).toBe(50);
    expect(s.subqueries).toHaveLength(50);
  });
});

describe('analyzePolicy / analyzePolicies', () => {
  const pSelect = policy('projects', 'read own', { command: 'SELECT', using: '(auth.uid() = owner_id)' });
  const pUpdate = policy('projects', 'update own', { command: 'UPDATE', using: '(auth.uid() = owner_id)' });
  const pInsert = policy('projects', 'insert', { command: 'INSERT', withCheck: '(owner_id = ( SELECT auth.uid() AS uid))' });
  const pBroken = policy('projects', 'broken', { command: 'SELECT', using: 'owner_id = (' });
  const s = supabaseSnapshot([pSelect, pUpdate, pInsert, pBroken]);

  it('analyses USING and WITH CHECK, with the effective check for UPDATE/ALL', () => {
    const all = analyzePolicies(s);
    expect(all).toHaveLength(4);
    const [sel, upd, ins, broken] = all;
    expect(sel?.relation?.name).toBe('projects');
    expect(sel?.withCheck).toBeNull();
    expect(sel?.effectiveWithCheck).toBeNull();
    expect(upd?.effectiveWithCheck).toBe(upd?.using);
    expect(ins?.using).toBeNull();
    expect(ins?.withCheck?.ownerTie).toEqual([{ column: 'owner_id', via: 'eq_auth_uid', conjunctive: true }]);
    expect(ins?.effectiveWithCheck).toBe(ins?.withCheck);
    expect(broken?.using?.parseError).toBe('syntax error at end of input');
  });

  it('caches per snapshot', () => {
    expect(analyzePolicies(s)).toBe(analyzePolicies(s));
    expect(analyzePolicy(pSelect, s)).toBe(analyzePolicies(s)[0]);
    const other = supabaseSnapshot([pSelect]);
    expect(analyzePolicy(pSelect, other)).not.toBe(analyzePolicy(pSelect, s));
  });

  it('works for policies on tables missing from the snapshot', () => {
    const p = policy('ghost', 'g', { using: '(EXISTS ( SELECT 1 FROM team_members tm WHERE ((tm.team_id = ghost.team_id) AND (tm.user_id = auth.uid()))))' });
    const a = analyzePolicy(p, snapshot({ relations: [relation('public', 'team_members', ['team_id', 'user_id'])], functions: [fn('auth', 'uid', { volatility: 'stable' })] }));
    expect(a.relation).toBeNull();
    expect(preds(a.using!)).toEqual(['team_id:exists_correlated']);
  });
});
