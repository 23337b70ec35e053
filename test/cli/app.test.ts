/**
 * The app beside supabase/, through the real CLI: a project with migrations and a little
 * TypeScript app, audited with --migrations; the JSON report's `app`, a finding's `usedBy`, the
 * text and Markdown sections, and --no-app / --app.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Report } from '../../src/model/report.ts';
import { runCli, type CliRun } from '../support/cli.ts';

const MIGRATION = `
create table public.notes (id bigint generated always as identity primary key, owner uuid not null default auth.uid(), title text);
alter table public.notes enable row level security;
create policy "anyone updates" on public.notes for update to authenticated using (true);
create policy "anyone reads" on public.notes for select to authenticated using (true);
create table public.old_stuff (id int primary key, v text);
alter table public.old_stuff enable row level security;
create policy "read all" on public.old_stuff for select to anon, authenticated using (true);
create function public.do_thing() returns int language sql security definer set search_path = '' as $$ select 1 $$;
create function public.unused_fn() returns int language sql security definer set search_path = '' as $$ select 2 $$;
`;

const NOTES_TS = `import { createClient } from '@supabase/supabase-js';
const supabase = createClient(import.meta.env.VITE_SUPABASE_URL, import.meta.env.VITE_SUPABASE_ANON_KEY);

export async function rename(id: number, title: string) {
  // supabase.from('old_stuff').select() is gone
  const { error } = await supabase
    .from('notes')
    .update({ title })
    .eq('id', id);
  if (error) throw error;
  return supabase.rpc('do_thing');
}
`;

const dir = mkdtempSync(join(tmpdir(), 'supaudit-app-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(file: string, text: string): void {
  mkdirSync(dirname(join(dir, file)), { recursive: true });
  writeFileSync(join(dir, file), text);
}

describe('supaudit --migrations on a project with an app', () => {
  let run: CliRun;
  let report: Report;
  let markdown: string;
  beforeAll(async () => {
    write('supabase/migrations/20240101000000_init.sql', MIGRATION);
    write('src/notes.ts', NOTES_TS);
    write('node_modules/lib/index.js', "supabase.from('old_stuff').select()");
    const out = join(dir, 'reports');
    run = await runCli(['--migrations', join(dir, 'supabase', 'migrations'), '--no-tui', '-f', 'text,json,md', '-o', out], { env: { CI: 'true' }, cwd: dir });
    report = JSON.parse(readFileSync(join(out, 'supaudit.json'), 'utf8')) as Report;
    markdown = readFileSync(join(out, 'supaudit.md'), 'utf8');
  }, 180_000);

  test('report.app: the calls with file and line, and each exposed table and function', () => {
    expect(run.code, run.stderr).toBe(0);
    const app = report.app!;
    expect(app).toMatchObject({ root: '.', files: 1, languages: { js: 1 }, complete: true, dynamic: [], unknown: [] });
    expect(app.calls).toEqual([
      { kind: 'table', name: 'notes', operations: ['update'], file: 'src/notes.ts', line: 7, side: 'client', serviceRole: false, language: 'js' },
      { kind: 'rpc', name: 'do_thing', operations: ['call'], file: 'src/notes.ts', line: 11, side: 'client', serviceRole: false, language: 'js' },
    ]);
    const objects = Object.fromEntries(app.objects.map((o) => [`${o.type} ${o.schema}.${o.name}`, [o.status, o.roles]]));
    expect(objects).toEqual({
      'table public.notes': ['used', ['authenticated']],
      'table public.old_stuff': ['unused', ['anon', 'authenticated']],
      'function public.do_thing': ['used', ['anon', 'authenticated']],
      'function public.unused_fn': ['unused', ['anon', 'authenticated']],
    });
  });

  test("a finding on a table the app updates carries evidence.usedBy and says where", () => {
    const always = report.findings.find((f) => f.check === 'rls_policy_always_true' && f.object.name === 'notes')!;
    expect(always.evidence!['usedBy']).toEqual([{ file: 'src/notes.ts', line: 7, side: 'client', serviceRole: false, operations: ['update'] }]);
    expect(always.message).toMatch(/ Used by the app at src\/notes\.ts:7 \(update\)\.$/);
    const unused = report.findings.find((f) => f.check === 'anon_security_definer_function_executable' && f.object.name === 'unused_fn')!;
    expect(unused.message).toMatch(/ Not used by the app \(no call in 1 file read\)\.$/);
  });

  test('text and Markdown have an App usage section naming what the app does not use', () => {
    expect(run.stdout).toContain('App usage (.) — 1 file read (js 1); 2 calls (1 table, 1 rpc), 0 dynamic, 0 with the service role');
    expect(run.stdout).toContain('  - not used by the app, open to the API (candidates to close): public.old_stuff (anon, authenticated), public.unused_fn() (anon, authenticated)');
    expect(markdown).toContain('## App usage');
    expect(markdown).toContain('- **not used by the app, open to the API (candidates to close):** public.old\\_stuff (anon, authenticated), public.unused\\_fn() (anon, authenticated)');
  });

  test('--no-app leaves the app out; --app reads another folder', async () => {
    const off = await runCli(['--migrations', join(dir, 'supabase', 'migrations'), '--no-app', '--no-tui', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' }, cwd: dir });
    expect(off.code, off.stderr).toBe(0);
    const plain = JSON.parse(off.stdout) as Report;
    expect(plain.app).toBeUndefined();
    expect(plain.findings.some((f) => f.message.includes('by the app'))).toBe(false);
    const missing = await runCli(['--migrations', join(dir, 'supabase', 'migrations'), '--app', 'nowhere', '--no-tui', '-q'], { env: { CI: 'true' }, cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('supaudit: error: --app nowhere is not a folder');
  }, 180_000);
});

test('an app whose client is made for a schema the audit does not take as exposed: a note with the flag that audits it', async () => {
  const root = mkdtempSync(join(tmpdir(), 'supaudit-app-schema-'));
  try {
    const put = (file: string, text: string) => {
      mkdirSync(dirname(join(root, file)), { recursive: true });
      writeFileSync(join(root, file), text);
    };
    put('supabase/migrations/20240101000000_init.sql', `
create schema api;
grant usage on schema api to anon, authenticated;
create function api.rename_group(_id uuid, _name text) returns void language sql security definer set search_path = '' as $$ select $$;
create schema realtime_only;
create table realtime_only.counters (id int primary key);
`);
    put('src/client.ts', `import { createClient } from '@supabase/supabase-js';
export const supabase = createClient(import.meta.env.VITE_URL, import.meta.env.VITE_KEY, {
  db: { schema: 'api' },
});
export const rename = (id: string, name: string) => supabase.rpc('rename_group', { _id: id, _name: name });
// Realtime names a schema too, but needs no API exposure: no note for it.
export const live = supabase.channel('c').on('postgres_changes', { event: 'UPDATE', schema: 'realtime_only', table: 'counters' }, () => {}).subscribe();
`);
    const run = await runCli(['--migrations', join(root, 'supabase', 'migrations'), '--no-tui', '--no-lab', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' }, cwd: root });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    const note = report.notes.find((n) => n.area === 'app' && n.message.includes('schema api'));
    expect(report.notes.filter((n) => n.area === 'app' && n.message.includes('realtime_only'))).toEqual([]);
    expect(note?.message).toMatch(/^the app uses schema api \(src\/client\.ts:3\), which this audit does not take as exposed \(.*\), yet the database has it: .* run again with --schemas .*,api$/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}, 180_000);
