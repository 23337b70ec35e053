/**
 * A function decides every field of the errors it raises: message, detail, hint, and the schema,
 * table, column, constraint and data type fields a constraint error of the server carries, under
 * any SQLSTATE (a RAISE may claim 23505). Probes and `supaudit load` run such functions (triggers
 * on write probes, a policy's function on reads): none of those values may reach any output.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { Report } from '../../src/model/report.ts';
import { freshDatabase, realEnginesOrFail, runSql } from '../harness/db.ts';
import { runCli } from '../support/cli.ts';

const BASE = readFileSync(new URL('../../src/introspect/targets/supabase-base.sql', import.meta.url), 'utf8');
const out = mkdtempSync(join(tmpdir(), 'supaudit-raise-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** SQLSTATEs that read like the server's own errors (unique, check, privilege) and the default of RAISE. */
const CODES = ['23505', '23514', '42501', 'P0001'] as const;

const FIXTURE = `
create function public.leak(code text) returns void language plpgsql as $$
begin
  raise exception using errcode = code, column = 'secret-value-1', constraint = 'secret-value-2', table = 'secret-value-3',
    schema = 'secret-value-4', datatype = 'secret-value-5', detail = 'secret-value-6', hint = 'secret-value-7', message = 'secret-value-8';
end $$;
create function public.leak_on_write() returns trigger language plpgsql as $$
begin
  perform public.leak(tg_argv[0]);
  return new;
end $$;
create function public.leak_on_read(code text) returns boolean language plpgsql as $$
begin
  perform public.leak(code);
  return true;
end $$;
${CODES.map(
  (code) => `
create table public.w_${code.toLowerCase()} (id int primary key, note text);
insert into public.w_${code.toLowerCase()} values (1, 'a');
create trigger guard before insert or update or delete on public.w_${code.toLowerCase()} for each row execute function public.leak_on_write('${code}');
create table public.r_${code.toLowerCase()} (id int primary key, note text);
insert into public.r_${code.toLowerCase()} values (1, 'a');
alter table public.r_${code.toLowerCase()} enable row level security;
create policy reads on public.r_${code.toLowerCase()} for select to anon, authenticated using (public.leak_on_read('${code}'));
grant select, insert, update, delete on public.w_${code.toLowerCase()}, public.r_${code.toLowerCase()} to anon, authenticated;`,
).join('\n')}
`;

const CONDITION: Record<(typeof CODES)[number], string> = {
  '23505': 'unique violation, raised by a function or trigger (SQLSTATE 23505)',
  '23514': 'check violation, raised by a function or trigger (SQLSTATE 23514)',
  '42501': 'insufficient privilege, raised by a function or trigger (SQLSTATE 42501)',
  P0001: 'raised by a function or trigger (SQLSTATE P0001)',
};

type Outcome = { command: string; result: string; error?: string };

describe.each(realEnginesOrFail())('values a function raises (%s)', (engine) => {
  test('RAISE … USING COLUMN/CONSTRAINT/TABLE/SCHEMA/DATATYPE/DETAIL/HINT/MESSAGE: write probes, read probes and load keep only the SQLSTATE and its condition', async () => {
    const url = await freshDatabase(engine);
    await runSql(url, BASE);
    await runSql(url, FIXTURE);
    const dir = join(out, engine);
    const formats = ['json', 'text', 'md', 'html', 'sarif'].flatMap((f) => ['-f', f]);
    const run = await runCli(
      ['load', '--db-url', url, '--schemas', 'public', '--probe-writes', '--probe-triggers', '--samples', '3', '--duration', '0.05', '--concurrency', '1', ...formats, '-o', dir, '--no-tui'],
      { env: { CI: 'true' } },
    );
    expect(run.code, run.stderr).toBe(0);
    const files = readdirSync(dir);
    expect(files).toEqual(expect.arrayContaining(['supaudit.json', 'supaudit.txt', 'supaudit.md', 'supaudit.html', 'supaudit.sarif']));
    for (const [name, text] of [['stdout', run.stdout], ['stderr', run.stderr], ...files.map((f) => [f, readFileSync(join(dir, f), 'utf8')])] as const) {
      expect(text, name).not.toContain('secret-value');
    }

    const report = JSON.parse(readFileSync(join(dir, 'supaudit.json'), 'utf8')) as Report;
    const anon = report.blastRadius.find((b) => b.role === 'anon')!.probe as { tables: { name: string; outcomes: Outcome[] }[] };
    const outcome = (table: string, command: string) => anon.tables.find((t) => t.name === table)!.outcomes.find((o) => o.command === command);
    for (const code of CODES) {
      const expected = CONDITION[code];
      const result = code === '42501' ? 'denied' : 'inconclusive';
      // The trigger fires on each write probe; the policy's function on the read probe.
      for (const command of ['insert', 'update', 'delete']) expect(outcome(`w_${code.toLowerCase()}`, command), `${code} ${command}`).toEqual({ command, result, error: expected });
      expect(outcome(`r_${code.toLowerCase()}`, 'select'), `${code} select`).toEqual({ command: 'select', result, error: expected });
      // Each measured request of the table failed in the policy's function: the load note says how, not what.
      const note = report.notes.find((n) => n.area === 'load' && n.message.startsWith(`public.r_${code.toLowerCase()} list as anon: `));
      expect(note?.message, code).toMatch(new RegExp(`^public\\.r_${code.toLowerCase()} list as anon: \\d+ requests? failed \\(${expected.replace(/[()]/g, '\\$&')}\\)$`));
    }
  }, 180_000);
});
