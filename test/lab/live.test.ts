/**
 * The lab for a live database (--db-url): built in supaudit's own embedded copy — from the
 * project's migrations (--project), else from DDL generated from the live catalog — never in the
 * audited database, which is unchanged afterwards.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Report } from '../../src/model/report.ts';
import { freshDatabase, realEnginesOrFail, runSql, withClient } from '../harness/db.ts';
import { runCli } from '../support/cli.ts';

const BASE = readFileSync(new URL('../../src/introspect/targets/supabase-base.sql', import.meta.url), 'utf8');

/** A team app whose INSERT policy on members checks only who joins, not where: anyone joins any team. */
const APP = `
create table public.teams (id uuid primary key default gen_random_uuid(), name text not null);
create table public.members (
  team_id uuid not null references public.teams on delete cascade,
  user_id uuid not null references auth.users on delete cascade,
  role text not null default 'member' check (role in ('owner', 'member')),
  primary key (team_id, user_id)
);
create table public.documents (id uuid primary key default gen_random_uuid(), team_id uuid not null references public.teams on delete cascade, body text not null);
create function public.is_member(t uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.members m where m.team_id = t and m.user_id = (select auth.uid()))
$$;
alter table public.teams enable row level security;
alter table public.members enable row level security;
alter table public.documents enable row level security;
create policy "members read teams" on public.teams for select to authenticated using (public.is_member(id));
create policy "anyone creates a team" on public.teams for insert to authenticated with check (true);
create policy "members read members" on public.members for select to authenticated using (user_id = (select auth.uid()) or public.is_member(team_id));
create policy "join as yourself" on public.members for insert to authenticated with check (user_id = (select auth.uid()));
create policy "members read documents" on public.documents for select to authenticated using (public.is_member(team_id));
create policy "members write documents" on public.documents for insert to authenticated with check (public.is_member(team_id));
grant select, insert, update, delete on public.teams, public.members, public.documents to authenticated;
`;

/** Rows a real project has: the lab must neither see nor touch them. */
const DATA = `
insert into public.teams (id, name) values ('00000000-0000-0000-0000-0000000000a1', 'live team');
insert into public.documents (team_id, body) values ('00000000-0000-0000-0000-0000000000a1', 'live secret');
`;

/** Data and catalog of the audited database, as one checksum per part. */
async function checksum(url: string): Promise<Record<string, string>> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<Record<string, string>>(`
      select
        (select md5(coalesce(string_agg(t::text, '|' order by t.id), '')) from public.teams t) as teams,
        (select md5(coalesce(string_agg(m::text, '|' order by m.team_id, m.user_id), '')) from public.members m) as members,
        (select md5(coalesce(string_agg(d::text, '|' order by d.id), '')) from public.documents d) as documents,
        (select count(*)::text from auth.users) as users,
        (select md5(string_agg(c.oid::text || c.relname || coalesce(c.relacl::text, '') || c.relrowsecurity::text, '|' order by c.oid)) from pg_class c) as classes,
        (select md5(string_agg(p.oid::text || p.polname || coalesce(pg_get_expr(p.polqual, p.polrelid), '') || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), ''), '|' order by p.oid)) from pg_policy p) as policies,
        (select md5(string_agg(p.oid::text || p.proname || p.prosrc || coalesce(p.proacl::text, ''), '|' order by p.oid)) from pg_proc p) as functions,
        (select md5(string_agg(n.oid::text || n.nspname, '|' order by n.oid)) from pg_namespace n) as namespaces`);
    return rows[0]!;
  });
}

function projectWith(dir: string, sql: string): string {
  const project = join(dir, 'supabase');
  mkdirSync(join(project, 'migrations'), { recursive: true });
  writeFileSync(join(project, 'migrations', '20260101000000_app.sql'), sql);
  return project;
}

async function audit(url: string, cwd: string, ...extra: string[]): Promise<Report> {
  const run = await runCli(['--db-url', url, '--schemas', 'public', '--no-tui', '-f', 'json', '-o', '-', '-q', ...extra], { env: { CI: 'true' }, cwd });
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Report;
}

/** The takeover the lab confirmed: its own finding, or folded into the finding whose exploit proof (run in the copy too) confirmed it. */
const labConfirmed = (report: Report) =>
  report.findings.filter((f) => f.check === 'lab_confirmed_escalation' || (f.evidence?.['lab'] !== undefined && f.proof?.status === 'confirmed')).map((f) => [f.level, f.fingerprint, f.proof?.status]);
const labNote = (report: Report) => report.notes.filter((n) => n.area === 'lab').map((n) => n.message);

describe.each(realEnginesOrFail())('the lab of a live database (%s)', (engine) => {
  let url: string;
  let dir: string;
  beforeAll(async () => {
    url = await freshDatabase(engine);
    await runSql(url, BASE);
    await runSql(url, APP);
    await runSql(url, DATA);
    dir = mkdtempSync(join(tmpdir(), 'supaudit-live-lab-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('with --project: built from its migrations; the takeover confirmed; no drift; the live database unchanged', async () => {
    const project = projectWith(join(dir, 'same'), APP);
    const before = await checksum(url);
    const report = await audit(url, dir, '--project', project);
    expect(await checksum(url)).toEqual(before);
    expect(labNote(report)[0]).toBe(`lab built from the project's migrations (migrations in ${join(project, 'migrations')})`);
    expect(report.lab!.accounts).toEqual(['alice', 'bob', 'outsider', 't1_member', 't2_member']);
    expect(labConfirmed(report)).toEqual([['critical', 'tenant_self_join:public.members.join as yourself:team_id:INSERT', 'confirmed']]);
    // The live team's rows are not the lab's: the lab counts only its own world.
    expect(report.lab!.tables.find((t) => t.name === 'documents')!.rows).toBe(2);
    expect(report.findings.filter((f) => f.check === 'migration_drift')).toEqual([]);
  });

  test('without a project: built from DDL generated from the live catalog; the same takeover confirmed; the live database unchanged', async () => {
    const before = await checksum(url);
    const report = await audit(url, dir);
    expect(await checksum(url)).toEqual(before);
    expect(labNote(report)[0]).toMatch(/^lab built from DDL generated from the live catalog: \d+ statements, 0 failed$/);
    expect(labConfirmed(report)).toEqual([['critical', 'tenant_self_join:public.members.join as yourself:team_id:INSERT', 'confirmed']]);
  });

  test('--no-lab: no copy, no lab report, no lab finding', async () => {
    const report = await audit(url, dir, '--no-lab');
    expect(report.lab).toBeUndefined();
    expect(labNote(report)).toEqual([]);
    expect(labConfirmed(report)).toEqual([]);
  });
});
