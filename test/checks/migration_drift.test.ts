/**
 * migration_drift: the live catalog against the migrations' (snapshot.migrationCatalog). Pure cases
 * on snapshots (nothing → nothing, the same → nothing, each kind of drift at its level, fixed →
 * nothing), then a real live database audited with --project whose policy was loosened by hand.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import check, { conjuncts } from '../../checks/migration_drift.ts';
import { evaluate } from '../../src/engine/evaluate.ts';
import { migrationCatalogOf } from '../../src/lab/copy.ts';
import type { AclItem, Snapshot } from '../../src/model/snapshot.ts';
import type { Report } from '../../src/model/report.ts';
import { freshDatabase, realEnginesOrFail, runSql } from '../harness/db.ts';
import { fn, policy, relation, snapshot } from '../policy/fixtures.ts';
import { runCli } from '../support/cli.ts';

const grant = (grantee: string, ...privileges: AclItem['privilege'][]): AclItem[] => privileges.map((privilege) => ({ grantee, grantor: 'postgres', privilege, grantable: false }));

const TIGHT = '((user_id = ( SELECT auth.uid() AS uid)) AND (EXISTS ( SELECT 1 FROM public.invitations i WHERE (i.team_id = members.team_id))))';
const SELF = '(user_id = ( SELECT auth.uid() AS uid))';

function world(parts: { tight?: string; rls?: boolean; acl?: AclItem[]; definer?: boolean } = {}): Snapshot {
  return snapshot({
    relations: [{ ...relation('public', 'members', ['team_id', 'user_id'], { rlsEnabled: parts.rls ?? true }), acl: parts.acl ?? grant('authenticated', 'SELECT', 'INSERT') }],
    policies: [policy('members', 'join', { command: 'INSERT', roles: ['authenticated'], withCheck: parts.tight ?? TIGHT })],
    functions: [fn('public', 'is_member', { identityArgs: 't uuid', source: 'select true', securityDefiner: parts.definer ?? true, config: ['search_path=""'] })],
  });
}

/** The live snapshot with the migrations' catalog taken from another snapshot. */
const live = (liveSide: Snapshot, migrations: Snapshot): Snapshot => ({ ...liveSide, migrationCatalog: migrationCatalogOf(migrations) });
const run = (s: Snapshot) => evaluate(s, [check]).findings.map((f) => [f.level, f.fingerprint]);

describe('migration_drift on snapshots', () => {
  test('no migrations catalog (no --project, or an embedded target): nothing', () => {
    expect(run(world({ tight: SELF }))).toEqual([]);
  });

  test('near miss: the same catalog on both sides, expressions spaced differently: nothing', () => {
    expect(run(live(world(), world({ tight: TIGHT.replaceAll(' ', '  ') })))).toEqual([]);
  });

  test('a policy loosened live (an AND term dropped): high, with the migrations\' policy as the fix', () => {
    const findings = evaluate(live(world({ tight: SELF }), world()), [check]).findings;
    expect(findings.map((f) => [f.level, f.fingerprint])).toEqual([['high', 'migration_drift:public.members.join:changed']]);
    expect(findings[0]!.message).toMatch(/^policy "join" on public\.members differs between the live database and the migrations, and the live one lets more through: live FOR INSERT/);
    expect(findings[0]!.remediation.sql).toBe(`DROP POLICY "join" ON public.members;\nCREATE POLICY "join" ON public.members AS PERMISSIVE FOR INSERT TO authenticated WITH CHECK (${TIGHT});`);
  });

  test('tightened live: medium; RLS off live: high; a grant only live: high, only in the migrations: medium; a function made INVOKER: medium', () => {
    const migrations = world({ tight: SELF });
    const liveSide = world({ rls: false, acl: [...grant('authenticated', 'SELECT', 'INSERT', 'DELETE'), ...grant('anon', 'SELECT')], definer: false });
    expect(run(live(liveSide, { ...migrations, relations: [{ ...migrations.relations[0]!, acl: [...grant('authenticated', 'SELECT', 'INSERT'), ...grant('anon', 'SELECT', 'UPDATE')] }] })).sort()).toEqual(
      [
        ['medium', 'migration_drift:public.members.join:changed'],
        ['high', 'migration_drift:public.members:rls'],
        ['high', 'migration_drift:public.members:grant:authenticated:live_only'],
        ['medium', 'migration_drift:public.members:grant:anon:migrations_only'],
        ['medium', 'migration_drift:public.is_member.is_member(t uuid):changed'],
      ].sort(),
    );
  });

  test('a permissive policy only live: high; a restrictive one only in the migrations: high; a function only on one side: medium', () => {
    const base = world();
    const liveSide = { ...base, policies: [...base.policies, policy('members', 'anyone reads', { command: 'SELECT', using: 'true' })], functions: [] };
    const migrations = { ...base, policies: [...base.policies, policy('members', 'not banned', { command: 'ALL', permissive: false, using: '(NOT banned)' })] };
    expect(run(live(liveSide, migrations)).sort()).toEqual(
      [
        ['high', 'migration_drift:public.members.anyone reads:live_only'],
        ['high', 'migration_drift:public.members.not banned:migrations_only'],
        ['medium', 'migration_drift:public.is_member.is_member(t uuid):migrations_only'],
      ].sort(),
    );
  });

  test('conjuncts: top-level AND terms only, outer parentheses and quoted AND ignored', () => {
    expect(conjuncts("((a = 1) AND ((b = 2) OR (c = ' AND ')) AND (d IS NULL))")).toEqual(['a = 1', "(b = 2) OR (c = ' AND ')", 'd IS NULL']);
    expect(conjuncts('(x OR y)')).toEqual(['x OR y']);
  });
});

const BASE = readFileSync(new URL('../../src/introspect/targets/supabase-base.sql', import.meta.url), 'utf8');
const APP = (check: string) => `
create table public.teams (id uuid primary key default gen_random_uuid(), name text not null);
create table public.invitations (team_id uuid not null references public.teams, email text not null, primary key (team_id, email));
create table public.members (team_id uuid not null references public.teams, user_id uuid not null references auth.users, primary key (team_id, user_id));
alter table public.teams enable row level security;
alter table public.invitations enable row level security;
alter table public.members enable row level security;
create policy "join" on public.members for insert to authenticated with check (${check});
grant all on all tables in schema public to anon, authenticated;
`;
const INVITED = `user_id = (select auth.uid()) and exists (select 1 from public.invitations i where i.team_id = members.team_id and i.email = (select auth.jwt() ->> 'email'))`;

describe.each(realEnginesOrFail())('migration_drift on a live database with --project (%s)', (engine) => {
  const dir = mkdtempSync(join(tmpdir(), 'supaudit-drift-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function audit(liveCheck: string): Promise<Report> {
    const url = await freshDatabase(engine);
    await runSql(url, BASE);
    await runSql(url, APP(liveCheck));
    const project = join(dir, `p${Math.random().toString(36).slice(2)}`, 'supabase');
    mkdirSync(join(project, 'migrations'), { recursive: true });
    writeFileSync(join(project, 'migrations', '20260101000000_app.sql'), APP(INVITED));
    const cli = await runCli(['--db-url', url, '--project', project, '--schemas', 'public', '--no-tui', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' }, cwd: dir });
    expect(cli.code, cli.stderr).toBe(0);
    return JSON.parse(cli.stdout) as Report;
  }
  const drift = (r: Report) => r.findings.filter((f) => f.check === 'migration_drift').map((f) => [f.level, f.fingerprint]);

  test('the migrations require an invitation, the live policy was loosened by hand: high', async () => {
    const report = await audit('user_id = (select auth.uid())');
    expect(drift(report)).toEqual([['high', 'migration_drift:public.members.join:changed']]);
  });

  test('the same policy on both sides: nothing', async () => {
    const report = await audit(INVITED);
    expect(drift(report)).toEqual([]);
  });
});
