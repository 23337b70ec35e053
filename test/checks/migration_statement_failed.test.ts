/**
 * A real project's history fails on a fresh database here and there: the audit goes on past each
 * failed statement and reports it at its file and line; --strict stops at the first.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Report } from '../../src/model/report.ts';
import { runCli } from '../support/cli.ts';

const FIRST = `create table public.tasks (id bigint primary key, done_at timestamptz);
create function public.set_done_at() returns trigger language plpgsql as $$ begin new.done_at := now(); return new; end $$;
create trigger tasks_done before update on public.tasks for each row execute function public.set_done_at();
`;
// Line 2 creates the trigger again; line 4 is a psql meta-command; the table after them must still load.
const SECOND = `-- a fix applied by hand
create trigger tasks_done before update on public.tasks for each row execute function public.set_done_at();
-- look at the table
\\d+ public.tasks
create table public.notes (id bigint primary key, body text);
`;
// A syntax error: the statements before it load, the rest of the file does not.
const THIRD = `create table public.tags (id bigint primary key); create table public.labels (id bigint primary key);
create policy if not exists "read tags" on public.tags for select using (true);
create table public.never (id bigint primary key);
`;

// A dollar quote nested in a string of another (what Postgres reads as the outer quote's end): the
// error is reported past the statement that opened it, so the text is cut again before that one.
const FOURTH = `create table public.plans (id bigint primary key);
do $$
begin
  if true then
    execute 'select 1';
    execute 'do $$ begin
      perform 1;
    end $$;';
  end if;
end $$;
create table public.after_nested (id bigint primary key);
`;
// A file after them loads as usual.
const FIFTH = `create table public.later (id bigint primary key);
`;

describe('migration_statement_failed', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'supaudit-failing-'));
    mkdirSync(join(dir, 'supabase', 'migrations'), { recursive: true });
    writeFileSync(join(dir, 'supabase', 'migrations', '20260101000000_first.sql'), FIRST);
    writeFileSync(join(dir, 'supabase', 'migrations', '20260102000000_second.sql'), SECOND);
    writeFileSync(join(dir, 'supabase', 'migrations', '20260103000000_third.sql'), THIRD);
    writeFileSync(join(dir, 'supabase', 'migrations', '20260104000000_fourth.sql'), FOURTH);
    writeFileSync(join(dir, 'supabase', 'migrations', '20260105000000_fifth.sql'), FIFTH);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('each failed statement is a finding at its file and line; the rest loads', async () => {
    const run = await runCli(['--migrations', join(dir, 'supabase', 'migrations'), '--no-tui', '-f', 'json', '-o', '-', '-q', '--fail-on', 'medium'], { env: { CI: 'true' } });
    // Exit status as with --fail-on: the failed statements are medium findings.
    expect(run.code, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    const failed = report.findings.filter((f) => f.check === 'migration_statement_failed');
    expect(failed.map((f) => [f.level, `${f.location!.file.split('/').pop()}:${f.location!.line}`, f.evidence?.['sqlstate']])).toEqual([
      ['medium', '20260102000000_second.sql:2', '42710'],
      ['medium', '20260102000000_second.sql:4', '42601'],
      ['medium', '20260103000000_third.sql:2', '42601'],
      ['medium', '20260104000000_fourth.sql:2', '42601'],
    ]);
    expect(failed[0]!.message).toMatch(/^supabase\/migrations\/20260102000000_second\.sql:2 fails on a fresh database: trigger "tasks_done" for relation "tasks" already exists \(SQLSTATE 42710\)\./);
    expect(failed[1]!.message).toContain('a psql meta-command (\\d+), not SQL');
    expect(failed[2]!.message).toContain('(the rest of the file was not loaded)');
    // What loaded around them is audited: notes (after the meta-command) and tags (before the syntax error); never is not there.
    const tables = report.blastRadius.flatMap((b) => b.tables.map((t) => t.name));
    expect(tables).toContain('notes');
    expect(tables).toContain('tags');
    // Two statements on one line both load, also when the file is parsed again up to its syntax error.
    expect(tables).toContain('labels');
    expect(tables).not.toContain('never');
    // Before the nested dollar quote, and the next file: loaded; after it: not.
    expect(tables).toContain('plans');
    expect(tables).toContain('later');
    expect(tables).not.toContain('after_nested');
    expect(failed[3]!.message).toContain('(the rest of the file was not loaded)');
  });

  test('--strict stops at the first one, with its file and line', async () => {
    const run = await runCli(['--migrations', join(dir, 'supabase', 'migrations'), '--strict', '--no-tui', '-q'], { env: { CI: 'true' } });
    expect(run.code).toBe(2);
    // The file is parsed before it runs: its psql meta-command is the first thing that stops it.
    expect(run.stderr).toMatch(/^supaudit: error: supabase\/migrations\/20260102000000_second\.sql:4: syntax error at or near "\\"/);
  });
});
