/**
 * A base schema beside the migrations: some projects keep the tables their migrations build on in
 * `supabase/schema.sql` (a dump run once in the SQL editor). When the migrations use tables that no
 * migration creates and that file creates, it is loaded first; when the migrations create
 * everything they use, a file beside them (a stale dump) is left alone.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { baseSchemaFile, createdTables, usedTables } from '../../src/introspect/targets/base-schema.ts';
import type { Report } from '../../src/model/report.ts';
import { runCli } from '../support/cli.ts';

const BASE = `create table if not exists public.tenants (id uuid primary key default gen_random_uuid(), name text not null);
create table if not exists public.orders (id uuid primary key default gen_random_uuid(), tenant_id uuid not null references public.tenants (id), total numeric not null default 0);
alter table public.orders enable row level security;
create policy orders_read on public.orders for select to authenticated using (false);
create table if not exists public.import_rows (id uuid primary key default gen_random_uuid(), tenant_id uuid references public.tenants (id), payload jsonb);
`;

const MIGRATION = `alter table public.orders add column if not exists note text;
create policy orders_read on public.orders for select to authenticated using (false);
alter table public.import_rows add column row_number integer;
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'supaudit-base-'));
  mkdirSync(join(dir, 'supabase', 'migrations'), { recursive: true });
  writeFileSync(join(dir, 'supabase', 'migrations', '20260301000000_orders.sql'), MIGRATION);
  writeFileSync(join(dir, 'supabase', 'schema.sql'), BASE);
  writeFileSync(join(dir, 'supabase', 'seed.sql'), `insert into public.tenants (name) values ('seeded');\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('tables created and used, by the text: CTE names and set-returning functions are not tables', () => {
  expect([...createdTables(BASE)].sort()).toEqual(['import_rows', 'orders', 'tenants']);
  const used = usedTables(`with recent as (select * from public.orders) select * from recent join jsonb_array_elements('[]') e on true;
    create policy p on "public"."Invoices" using (exists (select 1 from members m where m.id = auth.uid()));`);
  expect([...used].sort()).toEqual(['invoices', 'members', 'orders']);
});

test('tables of other schemas are not public tables: a dump beside the migrations that creates auth.* is no base for migrations that only use auth.users', () => {
  const dump = `CREATE TABLE IF NOT EXISTS "auth"."users" (id uuid primary key);\nCREATE TABLE IF NOT EXISTS "storage"."objects" (id uuid primary key);\nCREATE MATERIALIZED VIEW "public"."roster" AS SELECT 1 AS n WITH NO DATA;\n`;
  expect([...createdTables(dump)]).toEqual(['roster']);
  const migration = `create table public.teams (id uuid primary key, created_by uuid references "auth"."users" (id));
create policy p on storage.objects for select using (bucket_id = 'avatars');
create trigger t after insert on "auth"."users" for each row execute function public.f();
insert into auth.users (id) values (gen_random_uuid());`;
  expect([...usedTables(migration)]).toEqual([]);
  const project = mkdtempSync(join(tmpdir(), 'supaudit-base-dump-'));
  try {
    writeFileSync(join(project, 'backup.sql'), dump);
    expect(baseSchemaFile(project, [migration], [])).toBeUndefined();
  } finally {
    rmSync(project, { recursive: true, force: true });
  }
});

test('the file that creates what the migrations use and never create is chosen; none when they create everything', () => {
  const project = join(dir, 'supabase');
  expect(baseSchemaFile(project, [MIGRATION], [join(project, 'seed.sql')])).toEqual({ file: join(project, 'schema.sql'), tables: ['import_rows', 'orders'] });
  expect(baseSchemaFile(project, [BASE, MIGRATION], [join(project, 'seed.sql')])).toBeUndefined();
});

test('audited with the base loaded first: its table with RLS off is found, the policy the migration makes again is passed over and said', async () => {
  const run = await runCli(['--migrations', join(dir, 'supabase', 'migrations'), '--project', join(dir, 'supabase'), '--no-tui', '--no-lab', '-f', 'json', '-o', '-', '-q'], { env: { CI: 'true' } });
  const report = JSON.parse(run.stdout) as Report;
  expect(report.findings.filter((f) => f.check === 'migration_statement_failed')).toEqual([]);
  expect(report.notes.find((n) => n.message.startsWith('supabase/schema.sql'))?.message).toBe(
    'supabase/schema.sql loaded before the migrations: they use tables it creates and none of them creates (import_rows, orders), so it is the base they were written on; 1 statement that adds what the base schema already has passed over',
  );
  expect(report.findings.find((f) => f.check === 'rls_disabled_in_public' && f.object.name === 'import_rows')?.level).toBe('critical');
  // The migration's column landed on the base's table.
  expect(report.findings.some((f) => f.check === 'migration_statement_failed' && /row_number/.test(f.message))).toBe(false);
});
