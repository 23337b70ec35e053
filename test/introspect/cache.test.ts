/**
 * The embedded database's cache: the base (initdb and the Supabase base) is stored once and restored
 * afterwards with the same catalog; an entry that is not a data directory is dropped and rebuilt,
 * never handed to PGlite; `off` and `--no-cache` write nothing; and an audit reports the same from a
 * restored base as from a fresh one.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { configureCache, readEntry } from '../../src/introspect/targets/cache.ts';
import { createBaseDatabase } from '../../src/introspect/targets/embedded.ts';
import type { Report } from '../../src/model/report.ts';
import { runCli } from '../support/cli.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'supaudit-cache-test-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
// The test workers share modules: the run's own cache folder comes back for the next file.
afterAll(() => configureCache(process.env));

const entries = (dir: string) => (readdirSync(dir, { withFileTypes: true }).some((e) => e.isFile()) ? readdirSync(dir).filter((f) => f.endsWith('.tar.gz')) : []);

/** What the base holds: every relation, function and role by name, and the auth schema's columns. */
async function catalogOf(db: PGlite): Promise<string> {
  const { rows } = await db.query<{ line: string }>(`
    select n.nspname || '.' || c.relname || ':' || c.relkind::text as line from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname not like 'pg\\_%'
    union all select n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname not in ('pg_catalog', 'information_schema')
    union all select 'role ' || rolname from pg_roles
    union all select 'column ' || table_name || '.' || column_name from information_schema.columns where table_schema = 'auth'
    order by 1`);
  return rows.map((r) => r.line).join('\n');
}

describe('the embedded database cache', () => {
  it('stores the base once, then restores it with the same catalog (the entry read, not rewritten)', async () => {
    const dir = tempDir();
    configureCache({ SUPAUDIT_CACHE_DIR: dir });
    const fresh = await createBaseDatabase();
    const built = await catalogOf(fresh);
    await fresh.close();
    const [entry, ...others] = entries(dir);
    expect(others).toEqual([]);
    expect(entry).toMatch(/^base-[0-9a-f]{32}\.tar\.gz$/);
    const inode = statSync(join(dir, entry!)).ino;

    const restored = await createBaseDatabase();
    try {
      expect(await catalogOf(restored)).toBe(built);
      expect(built).toContain('auth.users:r');
      expect(built).toContain('role authenticated');
      // It works as a base: a table, a row, a read as a signed-in user.
      await restored.exec(`create table public.notes (id int primary key, body text); insert into public.notes values (1, 'x');
        grant select on public.notes to authenticated; set role authenticated`);
      expect((await restored.query('select body from public.notes')).rows).toEqual([{ body: 'x' }]);
    } finally {
      await restored.close();
    }
    expect(statSync(join(dir, entry!)).ino).toBe(inode);
    expect(entries(dir)).toEqual([entry]);
  });

  it('an entry that is not a data directory is dropped and rebuilt, never given to PGlite', async () => {
    const dir = tempDir();
    configureCache({ SUPAUDIT_CACHE_DIR: dir });
    await (await createBaseDatabase()).close();
    const [entry] = entries(dir);
    const path = join(dir, entry!);
    const reference = readEntry(entry!.replace(/\.tar\.gz$/, ''));
    expect(reference?.length).toBeGreaterThan(1_000_000);
    // Not gzip; gzip of bytes that are no data directory (PGlite, given them, fails outside any promise).
    for (const bad of [Buffer.from('garbage'), gzipSync(Buffer.alloc(20_000, 1))]) {
      writeFileSync(path, bad);
      const db = await createBaseDatabase();
      try {
        expect((await db.query<{ n: number }>('select count(*)::int as n from auth.users')).rows).toEqual([{ n: 0 }]);
      } finally {
        await db.close();
      }
      expect(statSync(path).size).toBeGreaterThan(1_000_000);
      expect(readEntry(entry!.replace(/\.tar\.gz$/, ''))?.length).toBe(reference?.length);
    }
  });

  it('off writes nothing', async () => {
    const dir = tempDir();
    configureCache({ SUPAUDIT_CACHE_DIR: 'off', HOME: dir, XDG_CACHE_HOME: dir });
    await (await createBaseDatabase()).close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('--no-cache writes nothing; an audit from the restored base reports what a fresh one does', async () => {
    const cache = tempDir();
    const project = tempDir();
    mkdirSync(join(project, 'supabase', 'migrations'), { recursive: true });
    writeFileSync(
      join(project, 'supabase', 'migrations', '20260101000000_app.sql'),
      `create table public.profiles (id uuid primary key references auth.users (id), email text, is_admin boolean not null default false);
       alter table public.profiles enable row level security;
       create policy "read all" on public.profiles for select to authenticated using (true);
       create policy "edit own" on public.profiles for update to authenticated using (id = auth.uid());
       create table public.secrets (id int primary key, value text);`,
    );
    const audit = async (...flags: string[]) => {
      const run = await runCli(['--migrations', join(project, 'supabase', 'migrations'), '-f', 'json', '-o', '-', '-q', '--fail-on', 'none', ...flags], { env: { CI: 'true', SUPAUDIT_CACHE_DIR: cache } });
      expect(run.code, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout) as Report & { stats?: unknown; target?: unknown };
      return JSON.stringify({ ...report, stats: undefined, target: undefined });
    };
    const fresh = await audit('--no-cache');
    expect(readdirSync(cache)).toEqual([]);
    expect(await audit()).toBe(fresh);
    const [entry] = entries(cache);
    expect(entry).toMatch(/^base-/);
    const inode = statSync(join(cache, entry!)).ino;
    const restored = await audit();
    expect(statSync(join(cache, entry!)).ino).toBe(inode);
    expect(restored).toBe(fresh);
    expect(fresh).toContain('"rls_disabled_in_public"');
    expect(fresh).toContain('public.secrets');
  });
});
