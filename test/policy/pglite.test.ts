/**
 * End-to-end against a real Postgres (PGlite): policy texts come from `pg_get_expr`, the rewritten
 * policies are applied with `alterPolicySql`, and every caller must see exactly the same rows afterwards.
 */
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alterPolicySql, analyzeExpression, initPolicyParser, wrapPerRowCalls } from '../../src/policy/index.ts';
import { fn, relation, snapshot } from './fixtures.ts';

const A = '00000000-0000-0000-0000-00000000000a';
const B = '00000000-0000-0000-0000-00000000000b';

const SCHEMA = 'My App';
const cases: { table: string; policy: string; using: string }[] = [
  { table: 'own', policy: 'read own', using: 'auth.uid() = owner_id' },
  { table: 'Team Docs', policy: 'Team "members" read', using: 'exists (select 1 from public.team_members tm where tm.team_id = "Team Docs".team_id and tm.user_id = auth.uid())' },
  { table: 'in_sub', policy: 'in sub', using: 'team_id in (select team_id from public.team_members where user_id = auth.uid())' },
  { table: 'jwt_role', policy: 'jwt role', using: "(auth.jwt() -> 'app_metadata' ->> 'role') = 'admin' or is_public" },
  { table: 'claims_sub', policy: 'claims sub', using: "current_setting('request.jwt.claims', true)::json ->> 'sub' = owner_id::text" },
  { table: 'helper', policy: 'helper', using: "public.has_role('admin') or owner_id = auth.uid()" },
  { table: 'anon_or', policy: 'anon or', using: 'auth.uid() is null or owner_id = auth.uid()' },
  { table: 'email', policy: 'email', using: "lower(auth.email()) = lower(owner_email)" },
];

// PostgREST sets claims for the anon key too (`{"role":"anon"}`).
const callers: { name: string; claims: Record<string, unknown> }[] = [
  { name: 'anon', claims: { role: 'anon' } },
  { name: 'A', claims: { sub: A, role: 'authenticated', email: 'A@x.io' } },
  { name: 'B admin', claims: { sub: B, role: 'authenticated', email: 'b@x.io', app_metadata: { role: 'admin' } } },
];

let db: PGlite;

beforeAll(async () => {
  await initPolicyParser();
  db = new PGlite();
  await db.exec(`
    create role anon nologin; create role authenticated nologin;
    create schema auth; grant usage on schema auth to anon, authenticated;
    create function auth.uid() returns uuid language sql stable as $$
      select nullif(coalesce(current_setting('request.jwt.claim.sub', true), current_setting('request.jwt.claims', true)::jsonb ->> 'sub'), '')::uuid $$;
    create function auth.jwt() returns jsonb language sql stable as $$
      select coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb $$;
    create function auth.email() returns text language sql stable as $$
      select current_setting('request.jwt.claims', true)::jsonb ->> 'email' $$;
    create table public.team_members(team_id int, user_id uuid);
    insert into public.team_members values (1, '${A}'), (2, '${B}');
    grant select on public.team_members to anon, authenticated;
    create function public.has_role(r text) returns boolean language sql stable security definer as $$
      select coalesce(auth.jwt() -> 'app_metadata' ->> 'role' = r, false) $$;
    create schema "${SCHEMA}"; grant usage on schema "${SCHEMA}" to anon, authenticated;
  `);
  for (const c of cases) {
    const t = `"${SCHEMA}"."${c.table}"`;
    await db.exec(`
      create table ${t}(id int, owner_id uuid, owner_email text, team_id int, is_public bool);
      insert into ${t} values (1, '${A}', 'a@x.io', 1, false), (2, '${B}', 'b@x.io', 2, false), (3, null, null, 3, true), (4, '${A}', 'A@X.IO', 2, false);
      alter table ${t} enable row level security;
      grant select on ${t} to anon, authenticated;
      create policy "${c.policy.replaceAll('"', '""')}" on ${t} for select using (${c.using});
    `);
  }
}, 60_000);

afterAll(async () => {
  await db?.close();
});

async function visible(table: string): Promise<string[]> {
  const out: string[] = [];
  for (const caller of callers) {
    await db.exec(`begin; set local role ${caller.claims['role'] === 'anon' ? 'anon' : 'authenticated'};`);
    await db.query(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify(caller.claims)]);
    const r = await db.query<{ id: number }>(`select id from "${SCHEMA}"."${table}" order by id`);
    await db.exec('rollback');
    out.push(`${caller.name}:${r.rows.map((x) => x.id).join(',')}`);
  }
  return out;
}

async function policyTexts(): Promise<Map<string, { name: string; using: string }>> {
  const r = await db.query<{ tbl: string; polname: string; qual: string }>(
    `select c.relname as tbl, p.polname, pg_get_expr(p.polqual, p.polrelid) as qual
       from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = $1`,
    [SCHEMA],
  );
  return new Map(r.rows.map((row) => [row.tbl, { name: row.polname, using: row.qual }]));
}

describe('rewriting real policies', () => {
  it('keeps every caller’s visible rows identical and leaves no per-row call behind', async () => {
    const snap = snapshot({
      relations: [
        relation('public', 'team_members', ['team_id', 'user_id']),
        ...cases.map((c) => relation(SCHEMA, c.table, ['id', 'owner_id', 'owner_email', 'team_id', 'is_public'])),
      ],
      functions: [
        fn('auth', 'uid', { volatility: 'stable' }),
        fn('auth', 'jwt', { volatility: 'stable' }),
        fn('auth', 'email', { volatility: 'stable' }),
        fn('public', 'has_role', { volatility: 'stable', securityDefiner: true, argCount: 1 }),
      ],
    });
    const before = new Map<string, string[]>();
    for (const c of cases) before.set(c.table, await visible(c.table));
    // Sanity: the policies do discriminate between callers.
    expect(before.get('own')).toEqual(['anon:', 'A:1,4', 'B admin:2']);
    expect(before.get('anon_or')).toEqual(['anon:1,2,3,4', 'A:1,4', 'B admin:2']);

    const texts = await policyTexts();
    for (const c of cases) {
      const p = texts.get(c.table)!;
      const ctx = { schema: SCHEMA, table: c.table };
      const analysis = analyzeExpression(p.using, ctx, snap);
      expect(analysis.parseError, p.using).toBeNull();
      expect(analysis.authCalls.some((x) => x.perRow), p.using).toBe(true);
      const rewritten = wrapPerRowCalls(p.using, { snapshot: snap, ...ctx });
      expect(rewritten, p.using).not.toBeNull();
      await db.exec(alterPolicySql({ schema: SCHEMA, table: c.table, name: p.name, command: 'SELECT' }, { using: rewritten }));
    }

    const after = await policyTexts();
    for (const c of cases) {
      expect(await visible(c.table), c.table).toEqual(before.get(c.table));
      const p = after.get(c.table)!;
      const analysis = analyzeExpression(p.using, { schema: SCHEMA, table: c.table }, snap);
      expect(analysis.authCalls.filter((x) => x.wrappable), p.using).toEqual([]);
      expect(wrapPerRowCalls(p.using, { snapshot: snap, schema: SCHEMA, table: c.table }), p.using).toBeNull();
    }
    // What Postgres stores after the rewrite, e.g. for the simplest policy:
    expect(after.get('own')?.using).toBe('(( SELECT auth.uid() AS uid) = owner_id)');
  }, 60_000);
});
