import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { Report } from '../../src/model/report.ts';
import { runCli } from '../support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'supaudit-realtime-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('realtime load in the reports', () => {
  test('the demo shows its three published tables in the text and the JSON report', async () => {
    const out = join(dir, 'demo');
    const run = await runCli(['--demo', '--format', 'text,json', '--out', out]);
    expect(run.code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'supaudit.json'), 'utf8')) as Report;
    expect(report.realtime?.subscribersSource).toBe('realtime.subscription');
    expect(report.realtime?.tables.map((t) => [`${t.schema}.${t.name}`, t.replicaIdentity, t.rls, t.policyCost, t.subscribers])).toEqual([
      ['public.activity_feed', 'default', false, null, 30],
      ['public.notifications', 'full', true, 'cheap', 400],
      ['public.tasks', 'default', true, 'subquery_join', 800],
    ]);
    const tasks = report.realtime!.tables.find((t) => t.name === 'tasks')!;
    expect(tasks.changesPerSecond).toBeGreaterThan(0);
    expect(tasks.checksPerSecond).toBeCloseTo(tasks.changesPerSecond! * 800, 0);
    expect(run.stdout).toContain('Realtime load (supabase_realtime) — subscribers from realtime.subscription');
    expect(run.stdout).toMatch(/table\s+changes\/s\s+replica identity\s+row bytes\s+RLS\s+policy cost\s+subscribers\s+checks\/s\s+load/);
    expect(run.stdout).toMatch(/public\.tasks\s+[\d.]+\s+default\s+\d+\s+on\s+subquery_join\s+800\s+\d+\s+\d+%/);
    expect(run.stdout).toMatch(/public\.activity_feed\s+[\d.]+\s+default\s+\d+\s+off\s+-\s+30\s+-/);
  }, 180_000);

  test('--realtime-subscribers sets the assumption when realtime.subscription is empty', async () => {
    const migrations = join(dir, 'migrations');
    mkdirSync(migrations, { recursive: true });
    writeFileSync(
      join(migrations, '0001_chat.sql'),
      `create table public.chat (id bigint primary key, body text);
       alter table public.chat enable row level security;
       create policy "chat readable" on public.chat for select to authenticated using (true);
       alter publication supabase_realtime add table public.chat;`,
    );
    const run = await runCli(['--migrations', migrations, '--project', dir, '--realtime-subscribers', '2500', '--format', 'json', '--out', '-', '--quiet']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.realtime).toMatchObject({ subscribersSource: 'assumed', assumedSubscribers: 2500 });
    expect(report.realtime?.tables).toEqual([expect.objectContaining({ schema: 'public', name: 'chat', subscribers: 2500, rls: true, policyCost: 'cheap' })]);

    const bad = await runCli(['--migrations', migrations, '--project', dir, '--realtime-subscribers', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--realtime-subscribers must be a whole number');
  }, 180_000);
});
