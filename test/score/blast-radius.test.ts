import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { allChecks } from '../../checks/index.ts';
import { createContext } from '../../src/engine/context.ts';
import { introspect } from '../../src/introspect/index.ts';
import { probeTargets, runProbes } from '../../src/introspect/probe.ts';
import type { Session } from '../../src/introspect/session.ts';
import { isSystemSchema } from '../../src/model/schemas.ts';
import type { Snapshot } from '../../src/model/snapshot.ts';
import { initPolicyParser } from '../../src/policy/index.ts';
import { blastRadius } from '../../src/score/blast-radius.ts';
import { compareProbes } from '../../src/score/probe-compare.ts';
import { auditSession, loadOn, testEngines } from '../support/audit.ts';

const DEMO = join(import.meta.dirname, '..', '..', 'supabase');
const demoSql = [
  ...readdirSync(join(DEMO, 'migrations'))
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => readFileSync(join(DEMO, 'migrations', f), 'utf8')),
  readFileSync(join(DEMO, 'seed.sql'), 'utf8'),
];

/** A checksum of every row of every user table, and the write counters: what "nothing changed" means. */
async function fingerprintData(session: Session, snapshot: Snapshot): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  await session.exec('BEGIN READ ONLY');
  for (const rel of snapshot.relations) {
    if (rel.kind !== 'table' || isSystemSchema(rel.schema)) continue;
    const q = `"${rel.schema.replaceAll('"', '""')}"."${rel.name.replaceAll('"', '""')}"`;
    const [row] = await session.query<{ n: number; h: string | null }>(
      `select count(*)::float8 as n, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as h from ${q} t`,
    );
    out[`${rel.schema}.${rel.name}`] = `${row?.n}:${row?.h}`;
  }
  await session.exec('ROLLBACK');
  return out;
}

describe('blast radius on the demo project (PGlite)', () => {
  let session: Session;
  let snapshot: Snapshot;
  beforeAll(async () => {
    session = await loadOn('pglite', ...demoSql);
    snapshot = await introspect(session, { exposedSchemas: ['public', 'graphql_public'] });
    await initPolicyParser();
  }, 180_000);
  afterAll(async () => {
    await session?.close();
  });

  test('anon scores near the top and each worst path is named with its grant', () => {
    const radii = blastRadius(createContext(snapshot));
    const anon = radii.find((r) => r.role === 'anon')!;
    expect(anon.score).toBeGreaterThanOrEqual(90);
    const payments = anon.tables.find((t) => t.name === 'payment_methods')!;
    expect(payments.reach).toEqual({ select: 'all', insert: 'all', update: 'all', delete: 'all' });
    expect(payments.sensitiveColumns).toEqual(expect.arrayContaining(['iban', 'phone']));
    expect(payments.via[0]).toBe('GRANT SELECT ON public.payment_methods TO anon; RLS disabled');
    expect(anon.breakdown[0]!.reason).toMatch(/^read all of public\.payment_methods incl\./);
    // The owner-rights view is a path to auth.users, with the view's own columns only.
    const users = anon.tables.find((t) => t.schema === 'auth' && t.name === 'users')!;
    expect(users.via).toContain('view public.member_directory runs as its owner postgres, bypassing RLS');
    expect(users.sensitiveColumns).toEqual(['email']);
    // saved_filters is the done-right table: anon reaches nothing there.
    expect(anon.tables.find((t) => t.name === 'saved_filters')).toBeUndefined();
    const service = radii.find((r) => r.role === 'service_role')!;
    expect(service.bypassesRls).toBe(true);
    expect(service.score).toBe(0);
    expect(service.breakdown[0]!.reason).toMatch(/^bypasses RLS by design/);
  });

  test('probes (reads and writes) agree with the static model and leave every row unchanged', async () => {
    const before = await fingerprintData(session, snapshot);
    const tables = probeTargets(snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
    const { roles: probes } = await runProbes(session, { roles: ['anon', 'authenticated', 'service_role'], tables, writes: true, writesOnTriggerTables: true, constraints: snapshot.constraints });
    const after = await fingerprintData(session, snapshot);
    expect(after).toEqual(before);
    expect(Object.keys(before).length).toBeGreaterThan(10);
    const summaries = compareProbes(blastRadius(createContext(snapshot)), probes);
    expect(summaries.flatMap((s) => s.disagreements)).toEqual([]);
    // The probes did see real answers, not just errors.
    const anonPayments = probes.find((p) => p.role === 'anon')!.tables.find((t) => t.name === 'payment_methods')!;
    expect(anonPayments.outcomes.find((o) => o.command === 'select')).toEqual({ command: 'select', result: 'allowed', rows: anonPayments.totalRows });
    expect(anonPayments.outcomes.find((o) => o.command === 'delete')).toMatchObject({ result: 'allowed', rows: 1 });
    const anonSaved = probes.find((p) => p.role === 'anon')!.tables.find((t) => t.name === 'saved_filters')!;
    expect(anonSaved.outcomes.find((o) => o.command === 'select')?.rows ?? 0).toBe(0);
  });
});

const FIXTURE = `
create table public.accounts (
  id bigint generated always as identity primary key,
  user_id uuid not null default auth.uid(),
  email text not null,
  api_token text
);
insert into public.accounts (user_id, email, api_token)
select gen_random_uuid(), 'u' || g || '@example.com', md5(g::text) from generate_series(1, 3000) g;
create table public.notes (
  id bigint generated always as identity primary key,
  user_id uuid not null default auth.uid(),
  body text
);
alter table public.notes enable row level security;
create policy "notes: anyone edits" on public.notes for update using (true);
create policy "notes: own rows" on public.notes for select using ((select auth.uid()) = user_id);
insert into public.notes (user_id, body) select gen_random_uuid(), 'n' from generate_series(1, 500);
create function public.lookup_account(p_email text) returns bigint language sql security definer set search_path = '' as
  $$ select id from public.accounts where email = p_email $$;
analyze;
`;

describe.each(testEngines())('blast radius fix SQL lowers the score (%s)', (engine) => {
  test('applying the blast_radius_anon fix SQL closes the paths and the score falls', async () => {
    const checks = allChecks.filter((c) => c.meta.id.startsWith('blast_radius_'));
    const first = await loadOn(engine, FIXTURE);
    let before;
    try {
      before = await auditSession(first, { checks });
    } finally {
      await first.close();
    }
    const anonBefore = before.report.blastRadius.find((b) => b.role === 'anon')!;
    expect(anonBefore.score).toBeGreaterThanOrEqual(70);
    const finding = before.findings.find((f) => f.check === 'blast_radius_anon')!;
    expect(finding.level).toBe('critical');
    expect(finding.object).toEqual({ schema: 'public', name: 'accounts', type: 'table' });
    expect(finding.remediation.sql).toContain('ALTER TABLE public.accounts ENABLE ROW LEVEL SECURITY;');
    expect(finding.remediation.sql).toContain('REVOKE EXECUTE ON FUNCTION public.lookup_account(p_email text) FROM PUBLIC, anon;');

    const second = await loadOn(engine, FIXTURE, finding.remediation.sql!);
    let after;
    try {
      after = await auditSession(second, { checks });
    } finally {
      await second.close();
    }
    const anonAfter = after.report.blastRadius.find((b) => b.role === 'anon')!;
    expect(anonAfter.score).toBeLessThan(anonBefore.score);
    expect(anonAfter.tables.find((t) => t.name === 'accounts')).toBeUndefined();
    expect(anonAfter.functions.find((f) => f.name === 'lookup_account')).toBeUndefined();
    expect(after.findings.filter((f) => f.check === 'blast_radius_anon')).toEqual([]);
  });
});

describe('score is monotonic', () => {
  test('removing any single grant never raises any role score', async () => {
    const session = await loadOn('pglite', FIXTURE);
    let snapshot: Snapshot;
    try {
      snapshot = await introspect(session, { exposedSchemas: ['public'] });
    } finally {
      await session.close();
    }
    await initPolicyParser();
    const score = (s: Snapshot) => Object.fromEntries(blastRadius(createContext(s)).map((r) => [r.role, r.score]));
    const base = score(snapshot);
    for (const rel of snapshot.relations.filter((r) => r.schema === 'public')) {
      for (let i = 0; i < rel.acl.length; i++) {
        const reduced: Snapshot = {
          ...snapshot,
          relations: snapshot.relations.map((r) => (r === rel ? { ...r, acl: r.acl.filter((_, j) => j !== i) } : r)),
        };
        const scores = score(reduced);
        for (const role of Object.keys(base)) expect(scores[role]!, `${role} after removing ${JSON.stringify(rel.acl[i])}`).toBeLessThanOrEqual(base[role]!);
      }
    }
  });

  test('the report carries blastRadius in the contract shape', async () => {
    const session = await loadOn('pglite', FIXTURE);
    try {
      const { report } = await auditSession(session);
      const anon = report.blastRadius.find((b) => b.role === 'anon')!;
      expect(Object.keys(anon).sort()).toEqual(['breakdown', 'bypassesRls', 'functions', 'role', 'score', 'tables']);
      expect(Object.keys(anon.tables[0]!).sort()).toEqual(['delete', 'insert', 'name', 'rows', 'schema', 'select', 'sensitiveColumns', 'update', 'via']);
      expect(anon.tables.find((t) => t.name === 'accounts')).toMatchObject({ select: true, insert: true, rows: 3000, sensitiveColumns: ['email', 'api_token'] });
    } finally {
      await session.close();
    }
  });
});

describe.each(testEngines())('blast radius reads what a path really gives (%s)', (engine) => {
  test('anon gets nothing from policies that compare with auth.uid(); definer points follow the body; an escalation counts as every row', async () => {
    const session = await loadOn(
      engine,
      `
insert into storage.buckets (id, name, public) values ('docs', 'docs', false);
create policy "own folder" on storage.objects for update using (bucket_id = 'docs' and (storage.foldername(name))[1] = auth.uid()::text);
create policy "own or shared" on storage.objects for select using (bucket_id = 'docs' and ((storage.foldername(name))[1] = auth.uid()::text or owner_id = (select auth.uid())::text));
create table public.accounts (id uuid primary key, kind text not null default 'customer');
create table public.reports (id bigint primary key, title text);
alter table public.accounts enable row level security;
alter table public.reports enable row level security;
create policy "own account" on public.accounts for all to authenticated using (id = (select auth.uid())) with check (id = (select auth.uid()));
create policy "staff read reports" on public.reports for select to authenticated
  using (exists (select 1 from public.accounts a where a.id = (select auth.uid()) and a.kind = 'staff'));
create function public.kind_exists(k text) returns boolean language sql stable security definer set search_path = '' as $$ select exists (select 1 from public.accounts where kind = k) $$;
create function public.make_staff(p uuid) returns void language sql security definer set search_path = '' as $$ update public.accounts set kind = 'staff' where id = p $$;
`,
    );
    try {
      const { report } = await auditSession(session, { checks: [] });
      const anon = report.blastRadius.find((b) => b.role === 'anon')!;
      const objects = anon.tables.find((t) => t.schema === 'storage' && t.name === 'objects');
      expect([objects?.select ?? false, objects?.update ?? false]).toEqual([false, false]);
      const reasons = Object.fromEntries((anon.breakdown ?? []).map((b) => [b.reason, b.points]));
      expect(reasons['call SECURITY DEFINER public.kind_exists(k text) reading RLS tables public.accounts (read-only, one value)']).toBe(4);
      expect(reasons['call SECURITY DEFINER public.make_staff(p uuid) reading RLS tables public.accounts (writes or reads secrets without checking its caller)']).toBe(30);
      const authenticated = report.blastRadius.find((b) => b.role === 'authenticated')!;
      const reports = authenticated.tables.find((t) => t.name === 'reports')!;
      expect(reports.select).toBe(true);
      expect(reports.via).toContain('escalation: authenticated writes public.accounts.kind of its own row, which policy "staff read reports" trusts');
    } finally {
      await session.close();
    }
  });
});

describe('blast radius decided by the lab where the policies prove nothing', () => {
  test('rows no persona of the role reached in the lab are no reach; rows they did reach stay "not proven"', async () => {
    const { auditMigration } = await import('../support/cli.ts');
    const report = await auditMigration(`
create table public.closed_box (id uuid primary key default gen_random_uuid(), owner_id uuid references auth.users, body text);
create table public.open_box (id uuid primary key default gen_random_uuid(), owner_id uuid references auth.users, body text);
alter table public.closed_box enable row level security;
alter table public.open_box enable row level security;
-- Neither clause is tied to the caller or always true: the policies alone prove nothing.
create policy "maintenance only" on public.closed_box for select to anon, authenticated using (current_setting('app.mode', true) = 'maintenance');
create policy "unless maintenance" on public.open_box for select to anon, authenticated using (coalesce(current_setting('app.mode', true), '') <> 'maintenance');
-- Only the service role touches it: a policy that admits nothing, for every command.
create table public.sealed (id uuid primary key default gen_random_uuid(), payload text);
alter table public.sealed enable row level security;
create policy "no client access" on public.sealed for all using (false) with check (false);
`);
    const tableOf = (role: string, name: string) => report.blastRadius.find((b) => b.role === role)!.tables.find((t) => t.name === name);
    expect(report.lab!.tables.filter((t) => t.name.endsWith('_box')).map((t) => [t.name, t.rows])).toEqual([
      ['closed_box', 2],
      ['open_box', 2],
    ]);
    for (const role of ['anon', 'authenticated']) {
      expect(tableOf(role, 'closed_box')?.select ?? false).toBe(false);
      expect(tableOf(role, 'sealed')).toBeUndefined();
      const open = tableOf(role, 'open_box')!;
      expect(open.select).toBe(true);
      expect(open.via.join(' ')).toContain('policies limit rows in ways not proven');
    }
  });
});
