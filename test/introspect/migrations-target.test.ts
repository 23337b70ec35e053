/**
 * The migrations target as a user's project meets it: the project is the folder above the
 * migrations (not the folder supaudit runs in), seeds come from config.toml, extension functions
 * resolve unqualified as on a hosted project, extensions it lacks load as stand-ins, and what it
 * cannot load is skipped with a note instead of stopping the audit, inside BEGIN … COMMIT too.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveTarget } from '../../src/introspect/targets/index.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A Supabase project folder with the given files (paths relative to `supabase/`). */
function project(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'supaudit-project-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    const full = join(root, 'supabase', path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, text);
  }
  return root;
}

async function open(root: string, cwd: string = process.cwd()) {
  const target = resolveTarget({ migrations: join(root, 'supabase', 'migrations'), cwd, env: {} });
  const opened = await target.open();
  return { target, opened, query: <T extends Record<string, unknown>>(sql: string) => opened.session.query<T>(sql) };
}

describe('--migrations target', () => {
  it("takes config.toml and the seed files from the migrations' project, not from the current folder", async () => {
    const root = project({
      'config.toml': '[api]\nschemas = ["public", "api"]\n[db.seed]\nenabled = true\nsql_paths = ["./seeds/*.sql", "./missing/*.sql"]\n',
      'migrations/20240101000000_init.sql': 'create table public.things (id int primary key, token text);',
      'seeds/02_more.sql': 'insert into public.things values (2);',
      'seeds/01_first.sql': 'insert into public.things values (1);',
      'seed.sql': 'insert into public.things values (99);',
    });
    // Run from this repository, whose own supabase/ holds the demo project and its seed.
    const { target, opened, query } = await open(root, process.cwd());
    try {
      expect(target.projectDir).toBe(join(root, 'supabase'));
      expect(target.configTomlSchemas).toEqual(['public', 'api']);
      expect(await query<{ id: number }>('select id from public.things order by id')).toEqual([{ id: 1 }, { id: 2 }]);
      expect(opened.notes).toEqual([{ area: 'migrations', message: 'seed pattern ./missing/*.sql of config.toml matched no file' }]);
      expect(await query("select to_regclass('public.organizations') as demo")).toEqual([{ demo: null }]);
      expect(opened.noWorkload).toBe(true);
    } finally {
      await opened.session.close();
    }
  });

  it("a pg_dump migration's session settings (an empty search_path) do not carry over into the next file, as the Supabase CLI resets between migrations", async () => {
    const root = project({
      'migrations/1_dump.sql': "SELECT pg_catalog.set_config('search_path', '', false);\nSET check_function_bodies = true;\nCREATE TABLE public.teams (id uuid PRIMARY KEY);\n",
      'migrations/2_roles.sql':
        "create type public.app_role as enum ('admin', 'user');\ncreate table public.user_roles (user_id uuid not null, role app_role not null);\n" +
        'create function public.f() returns int language sql as $$ select count(*)::int from missing_table $$;\n',
    });
    const { opened, query } = await open(root);
    try {
      expect(opened.notes.filter((n) => /fail/.test(n.message))).toEqual([]);
      expect(await query("select to_regclass('public.user_roles')::text as t, to_regprocedure('public.f()')::text as f")).toEqual([{ t: 'user_roles', f: 'f()' }]);
    } finally {
      await opened.session.close();
    }
  });

  it('without config.toml the seed is seed.sql beside the migrations; enabled = false loads none', async () => {
    const plain = project({ 'migrations/1_init.sql': 'create table public.t (id int);', 'seed.sql': 'insert into public.t values (7);' });
    const a = await open(plain);
    try {
      expect(await a.query('select id from public.t')).toEqual([{ id: 7 }]);
    } finally {
      await a.opened.session.close();
    }
    const off = project({ 'config.toml': '[db.seed]\nenabled = false\n', 'migrations/1_init.sql': 'create table public.t (id int);', 'seed.sql': 'insert into public.t values (7);' });
    const b = await open(off);
    try {
      expect(await b.query('select count(*)::int as n from public.t')).toEqual([{ n: 0 }]);
    } finally {
      await b.opened.session.close();
    }
  });

  it('extension functions resolve without a schema, pgvector loads, pg_cron loads as a stand-in, and a missing extension skips what needs it, with notes', async () => {
    const root = project({
      'migrations/1_init.sql': `
create table public.invites (token text not null default encode(gen_random_bytes(12), 'hex'), id uuid default uuid_generate_v4());
create extension if not exists vector with schema extensions;
create table public.documents (id bigint primary key, embedding vector(3));
create index on public.documents using hnsw (embedding vector_l2_ops);
create extension if not exists plv8;
create function public.hook(event jsonb) returns jsonb language plv8 as $$ return event; $$;
grant execute on function public.hook(jsonb) to supabase_auth_admin;
begin;
create extension if not exists pg_cron;
select cron.schedule('nightly', '0 3 * * *', 'select 1');
create table public.after_cron (id int);
commit;
alter table public.documents enable row level security;
`,
    });
    const { opened, query } = await open(root);
    try {
      // Show names as a session without the migrations' search_path sees them.
      await opened.session.begin({ access: 'read only', statementTimeoutMs: 30_000, lockTimeoutMs: 3_000, searchPath: 'pg_catalog' });
      expect(await query("select pg_get_expr(adbin, adrelid) as d from pg_attrdef where adrelid = 'public.invites'::regclass order by adnum")).toEqual([
        { d: "encode(extensions.gen_random_bytes(12), 'hex'::text)" },
        { d: 'extensions.uuid_generate_v4()' },
      ]);
      expect(await query("select format_type(atttypid, atttypmod) as t from pg_attribute where attrelid = 'public.documents'::regclass and attname = 'embedding'")).toEqual([{ t: 'extensions.vector(3)' }]);
      expect(await query("select to_regclass('public.after_cron') is not null as created, relrowsecurity as rls from pg_class where oid = 'public.documents'::regclass")).toEqual([{ created: true, rls: true }]);
      expect(await query("select to_regprocedure('public.hook(jsonb)') as hook")).toEqual([{ hook: null }]);
      // Inside the file's BEGIN … COMMIT: the stand-in loads in a savepoint, and the job is recorded.
      expect(await query('select jobname, command from cron.job')).toEqual([{ jobname: 'nightly', command: 'select 1' }]);
      expect(opened.notes.map((n) => n.message.replace(/^skipped supabase\/migrations\//, ''))).toEqual([
        'pg_cron loaded as a stand-in: jobs are recorded in cron.job, never run (supabase/migrations/1_init.sql:10)',
        '1_init.sql:6: extension plv8 is not available in the embedded database',
        '1_init.sql:7: language "plv8" does not exist (SQLSTATE 42704) (probably needs plv8)',
        '1_init.sql:8: function public.hook(jsonb) does not exist (SQLSTATE 42883) (probably needs plv8)',
      ]);
    } finally {
      await opened.session.close();
    }
  });

  it('without a skipped extension, a statement that names a missing object is a failed statement with file and line (--strict: it stops the load)', async () => {
    const root = project({ 'migrations/1_init.sql': 'create table public.a (id int);\n\ncreate index on public.nope (id);\ncreate table public.b (id int);\n' });
    const target = resolveTarget({ migrations: join(root, 'supabase', 'migrations'), cwd: root, env: {} });
    const opened = await target.open();
    try {
      expect(opened.failedStatements).toEqual([{ file: 'supabase/migrations/1_init.sql', line: 3, code: '42P01', message: 'relation "public.nope" does not exist (SQLSTATE 42P01)' }]);
      // The statement after it loaded.
      expect(await opened.session.query<{ n: number }>("select count(*)::int as n from pg_class where relname = 'b'")).toEqual([{ n: 1 }]);
    } finally {
      await opened.session.close();
    }
    await expect(target.open({ strict: true })).rejects.toThrow(/^supabase\/migrations\/1_init\.sql:3: relation "public\.nope" does not exist \(SQLSTATE 42P01\)$/);
  });

  it('loads what real projects hold: an empty seed, files the CLI skips, users with identities, bodies that name a missing extension', async () => {
    const root = project({
      'migrations/20240101000000_init.sql': `
create table public.profiles (id uuid primary key references auth.users on delete cascade, name text);
-- pgmq is not in the embedded database: a SQL function naming its table still loads (bodies are not checked at CREATE).
create function public.queue_length() returns bigint language sql as $$ select count(*) from pgmq.q_jobs $$;`,
      // The Supabase CLI runs only <version>_<name>.sql files: this one is not a migration.
      'migrations/seed.sql': 'insert into public.profiles values (gen_random_uuid(), \'never\');',
      // Lovable names the migrations it applies <version>-<uuid>.sql: the database has them, so they load, in version order.
      'migrations/20240102000000-3f1c2d4e-0000-4000-8000-000000000001.sql': 'alter table public.profiles add column bio text;',
      'migrations/20240103000000_after.sql': 'alter table public.profiles add column website text;',
      'seed.sql': `
insert into auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at, confirmation_token, email_change, email_change_token_new, recovery_token)
values ('00000000-0000-0000-0000-000000000000', '11111111-1111-1111-1111-111111111111', 'authenticated', 'authenticated', 'a@example.com',
  extensions.crypt('pw', extensions.gen_salt('bf')), now(), '{"provider":"email"}', '{}', now(), now(), '', '', '', '');
insert into auth.identities (id, user_id, provider_id, identity_data, provider, last_sign_in_at, created_at, updated_at)
values (gen_random_uuid(), '11111111-1111-1111-1111-111111111111', '11111111-1111-1111-1111-111111111111',
  '{"sub":"11111111-1111-1111-1111-111111111111","email":"a@example.com"}', 'email', now(), now(), now());
insert into auth.sessions (id, user_id, created_at, aal) values (gen_random_uuid(), '11111111-1111-1111-1111-111111111111', now(), 'aal1');
insert into auth.mfa_factors (id, user_id, factor_type, status, created_at, updated_at) values (gen_random_uuid(), '11111111-1111-1111-1111-111111111111', 'totp', 'verified', now(), now());
insert into public.profiles values ('11111111-1111-1111-1111-111111111111', 'A');`,
    });
    const { opened, query } = await open(root);
    try {
      expect(await query('select name from public.profiles')).toEqual([{ name: 'A' }]);
      expect(await query("select email from auth.identities")).toEqual([{ email: 'a@example.com' }]);
      expect(await query("select to_regprocedure('public.queue_length()') is not null as loaded")).toEqual([{ loaded: true }]);
      expect(await query("select string_agg(column_name::text, ',' order by ordinal_position) as c from information_schema.columns where table_name = 'profiles'")).toEqual([{ c: 'id,name,bio,website' }]);
      expect(opened.notes).toEqual([
        { area: 'migrations', message: 'not loaded: seed.sql in the migrations folder (the Supabase CLI runs only files named <version>_<name>.sql)' },
        {
          area: 'migrations',
          message:
            'loaded 1 file named <version>-<name>.sql in version order (20240102000000-3f1c2d4e-0000-4000-8000-000000000001.sql), as Lovable and some other tools write migrations they apply themselves; `supabase db reset` and `db push` skip them: rename them <version>_<name>.sql',
        },
      ]);
    } finally {
      await opened.session.close();
    }
    // Migrations kept in feature folders (copied flat before `db push`): loaded by file name, and said;
    // beside top-level ones, left out as the CLI leaves them; none at all, said too.
    const nested = project({
      'migrations/02_policies/20_001_policies.sql': 'alter table public.t enable row level security;',
      'migrations/01_tables/10_001_t.sql': 'create table public.t (id int primary key);',
      'migrations/00_schemas/00_001_schema.sql': 'create schema app;',
    });
    const n = await open(nested);
    try {
      expect(await n.query("select relrowsecurity as rls from pg_class where oid = 'public.t'::regclass")).toEqual([{ rls: true }]);
      expect(n.opened.notes.filter((x) => x.area === 'migrations')).toEqual([
        {
          area: 'migrations',
          message:
            'loaded 3 migrations from sub-folders of the migrations folder, in file-name order as if copied flat (00_schemas/00_001_schema.sql, …); the Supabase CLI reads only files at the top of supabase/migrations, so this project must copy them there before `supabase db push`',
        },
      ]);
    } finally {
      await n.opened.session.close();
    }
    // A stray .sql at the top that is no migration (seed.sql) does not change where they came from.
    const strayTop = project({ 'migrations/seed.sql': 'select 1;', 'migrations/01_tables/10_001_t.sql': 'create table public.t (id int primary key);' });
    const st = await open(strayTop);
    try {
      expect(await st.query("select to_regclass('public.t') is not null as loaded")).toEqual([{ loaded: true }]);
      expect(st.opened.notes.filter((x) => x.area === 'migrations').map((x) => x.message)[0]).toMatch(/^loaded 1 migration from sub-folders of the migrations folder/);
    } finally {
      await st.opened.session.close();
    }
    const mixed = project({ 'migrations/20240101000000_init.sql': 'create table public.t (id int primary key);', 'migrations/old/20230101000000_old.sql': 'create table public.old (id int);' });
    const m = await open(mixed);
    try {
      expect(await m.query("select to_regclass('public.old') is null as absent")).toEqual([{ absent: true }]);
      expect(m.opened.notes.filter((x) => x.area === 'migrations').map((x) => x.message)).toEqual([
        'not loaded: 1 migration file in sub-folders of the migrations folder (old/20230101000000_old.sql); the Supabase CLI reads only files at its top',
      ]);
    } finally {
      await m.opened.session.close();
    }
    const empty = project({ 'migrations/README.md': 'nothing here' });
    const e = await open(empty);
    try {
      expect(e.opened.notes.filter((x) => x.area === 'migrations').map((x) => x.message)[0]).toMatch(/^no migration file in .*migrations \(files named <version>_<name>\.sql, there or in its sub-folders\): only the platform's own schemas were audited$/);
    } finally {
      await e.opened.session.close();
    }
    // A project whose seed.sql is empty (or comments only), as `supabase init` leaves it.
    for (const seed of ['', '-- seed data goes here\n/* nothing yet */\n']) {
      const fresh = project({ 'migrations/20240101000000_init.sql': 'create table public.t (id int primary key);', 'seed.sql': seed });
      const { opened: o2, query: q2 } = await open(fresh);
      try {
        expect(await q2('select count(*)::int as n from public.t')).toEqual([{ n: 0 }]);
      } finally {
        await o2.session.close();
      }
    }
  });
});
