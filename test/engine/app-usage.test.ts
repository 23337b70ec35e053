/**
 * The app's calls set against the audited schema (a pure post-step): which exposed objects the app
 * uses, which only the database uses, which are unused or merely not seen, and what a finding on
 * one of them says about it.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { withAppUsage } from '../../src/engine/app-usage.ts';
import type { AppCall, AppUsage } from '../../src/model/app.ts';
import type { Report } from '../../src/model/report.ts';
import type { Snapshot } from '../../src/model/snapshot.ts';
import { auditPglite } from '../support/audit.ts';

const SCHEMA = `
create table public.notes (id bigint primary key, owner uuid not null default auth.uid(), team bigint, title text);
alter table public.notes enable row level security;
create policy "anyone updates" on public.notes for update to authenticated using (true);
create table public.members (team bigint, user_id uuid);
alter table public.members enable row level security;
create policy "own" on public.members for select to authenticated using (user_id = auth.uid());
create function public.is_member(t bigint) returns boolean language sql stable security definer set search_path = '' as $$ select true $$;
create policy "team reads" on public.notes for select to authenticated using (public.is_member(team) and exists (select 1 from public.members m where m.team = notes.team));
create table public.old_stuff (id int primary key, v text);
grant select on public.old_stuff to anon, authenticated;
create function public.do_thing() returns int language sql security definer as $$ select 1 $$;
create function public.unused_fn() returns int language sql security definer as $$ select 2 $$;
insert into storage.buckets (id, name, public) values ('avatars', 'avatars', true);
create policy "list avatars" on storage.objects for select to anon using (bucket_id = 'avatars');
`;

function call(partial: Partial<AppCall> & Pick<AppCall, 'kind' | 'name' | 'file' | 'line'>): AppCall {
  return { operations: [], side: 'client', serviceRole: false, language: 'js', ...partial };
}

const CALLS: AppCall[] = [
  call({ kind: 'table', name: 'notes', operations: ['delete'], file: 'app/api/wipe/route.ts', line: 3, side: 'server', serviceRole: true }),
  call({ kind: 'table', name: 'notes', operations: ['update'], file: 'src/notes.ts', line: 12 }),
  call({ kind: 'table', name: 'notes', operations: ['select'], file: 'src/notes.ts', line: 4 }),
  call({ kind: 'rpc', name: 'do_thing', operations: ['call'], file: 'src/notes.ts', line: 20 }),
  call({ kind: 'bucket', name: 'avatars', operations: ['upload'], file: 'src/avatar.ts', line: 7 }),
  call({ kind: 'table', name: 'nots', schema: 'public', operations: ['select'], file: 'src/typo.ts', line: 2 }),
];

function usage(extra: Partial<AppUsage> = {}): AppUsage {
  return { files: 4, bytes: 1000, languages: { js: 4 }, complete: true, calls: CALLS, dynamic: [], notes: [], ...extra };
}

describe('withAppUsage', () => {
  let report: Report;
  let snapshot: Snapshot;
  beforeAll(async () => {
    ({ report, snapshot } = await auditPglite(SCHEMA));
  });

  test('each exposed table, function and bucket: used (browser calls first), used inside the database, or unused; unknown names apart', () => {
    const app = withAppUsage(report, snapshot, usage(), '.').app!;
    const status = Object.fromEntries(app.objects.map((o) => [`${o.type} ${o.schema}.${o.name}`, o.status]));
    expect(status).toEqual({
      'table public.notes': 'used',
      'table public.members': 'database',
      'table public.old_stuff': 'unused',
      'function public.is_member': 'database',
      'function public.do_thing': 'used',
      'function public.unused_fn': 'unused',
      'bucket storage.avatars': 'used',
    });
    const notes = app.objects.find((o) => o.name === 'notes')!;
    expect(notes.usedBy.map((u) => `${u.file}:${u.line} ${u.operations.join(',')} ${u.serviceRole}`)).toEqual([
      'src/notes.ts:4 select false',
      'src/notes.ts:12 update false',
      'app/api/wipe/route.ts:3 delete true',
    ]);
    expect(app.objects.find((o) => o.name === 'members')!.referencedBy).toEqual(['policy public.notes.team reads']);
    expect(app.objects.find((o) => o.name === 'is_member')!.referencedBy).toEqual(['policy public.notes.team reads']);
    expect(app.objects.find((o) => o.name === 'old_stuff')!.roles).toEqual(['anon', 'authenticated']);
    expect(app.unknown).toEqual([{ kind: 'table', schema: 'public', name: 'nots', usedBy: [{ file: 'src/typo.ts', line: 2, side: 'client', serviceRole: false, operations: ['select'] }] }]);
    expect(app.root).toBe('.');
  });

  test('a finding on a used object names the places (evidence.usedBy); on an unused one it says so; blast radius findings are left alone', () => {
    const findings = withAppUsage(report, snapshot, usage(), '.').findings;
    const always = findings.find((f) => f.check === 'rls_policy_always_true' && f.object.name === 'notes')!;
    expect(always.message).toMatch(/ Used by the app at src\/notes\.ts:4 \(select\), src\/notes\.ts:12 \(update\) and 1 more place\.$/);
    expect(always.evidence!['usedBy']).toEqual([
      { file: 'src/notes.ts', line: 4, side: 'client', serviceRole: false, operations: ['select'] },
      { file: 'src/notes.ts', line: 12, side: 'client', serviceRole: false, operations: ['update'] },
      { file: 'app/api/wipe/route.ts', line: 3, side: 'server', serviceRole: true, operations: ['delete'] },
    ]);
    const called = findings.find((f) => f.check === 'anon_security_definer_function_executable' && f.object.name === 'do_thing')!;
    expect(called.message).toMatch(/ Used by the app at src\/notes\.ts:20\.$/);
    const unused = findings.find((f) => f.check === 'anon_security_definer_function_executable' && f.object.name === 'unused_fn')!;
    expect(unused.message).toMatch(/ Not used by the app \(no call in 4 files read\)\.$/);
    expect(unused.evidence!['usedBy']).toEqual([]);
    // On the bucket, or on a storage.objects policy about it (evidence.bucket).
    const bucket = findings.find((f) => f.check === 'public_bucket_allows_listing')!;
    expect(bucket.evidence!['usedBy']).toEqual([{ file: 'src/avatar.ts', line: 7, side: 'client', serviceRole: false, operations: ['upload'] }]);
    for (const f of findings.filter((x) => x.check.startsWith('blast_radius_'))) expect(f.evidence?.['usedBy']).toBeUndefined();
  });

  test('a dynamic call of a kind, or an incomplete scan, turns "unused" into "not seen"; without any call nothing is claimed', () => {
    const dynamic = withAppUsage(report, snapshot, usage({ dynamic: [{ kind: 'table', expression: 'from(name)', file: 'src/x.ts', line: 1, side: 'client', serviceRole: false, language: 'js' }] }), '.').app!;
    expect(dynamic.objects.find((o) => o.name === 'old_stuff')!.status).toBe('not_seen');
    // A dynamic table name says nothing about functions.
    expect(dynamic.objects.find((o) => o.name === 'unused_fn')!.status).toBe('unused');
    const partial = withAppUsage(report, snapshot, usage({ complete: false }), '.');
    expect(partial.app!.objects.find((o) => o.name === 'unused_fn')!.status).toBe('not_seen');
    expect(partial.findings.find((f) => f.object.name === 'unused_fn')!.message).not.toMatch(/Not used by the app/);
    const none = withAppUsage(report, snapshot, usage({ calls: [] }), '.').app!;
    expect(new Set(none.objects.filter((o) => o.status !== 'database').map((o) => o.status))).toEqual(new Set(['not_seen']));
  });

  test('no scan, no change', () => {
    expect(withAppUsage(report, snapshot, undefined, '.')).toBe(report);
  });
});
