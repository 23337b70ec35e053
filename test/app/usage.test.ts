/**
 * The app scanner: supabase client calls in each language's idiom, with what must not count
 * (comments, strings, other libraries' `.from()`), dynamic names, the side and role of each call,
 * and the walk's skips and caps. Fixtures are written to a temporary folder.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { appRoot } from '../../src/app/root.ts';
import { fileCalls, scanApp } from '../../src/app/usage.ts';
import type { AppCall, AppUsage } from '../../src/model/app.ts';
import { UserError } from '../../src/model/errors.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function project(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'supaudit-app-'));
  dirs.push(root);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  }
  return root;
}

/** `kind name [schema] ops @file:line`, sorted: what a test compares. */
function calls(usage: Pick<AppUsage, 'calls'>): string[] {
  return usage.calls.map(show).sort();
}

function show(c: AppCall): string {
  return `${c.kind} ${c.schema ? `${c.schema}.` : ''}${c.name} [${c.operations.join(',')}] @${c.file}:${c.line}`;
}

/** The line of the first occurrence of `needle` in `text`. */
function lineOf(text: string, needle: string): number {
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`not in fixture: ${needle}`);
  return text.slice(0, at).split('\n').length;
}

const TS = `import { createClient } from '@supabase/supabase-js';
// supabase.from('in_line_comment').select()
/* supabase.from('in_block_comment').delete()
   supabase.rpc('in_block_comment_fn') */
const docs = "supabase.from('in_string').select()";
const quote = /'\\.from\\('in_regex'\\)/g;
export async function rename(id: string, table: string, file: File) {
  const { data } = await supabase
    // a comment inside the chain
    .from('notes') /* and another */
    .update({ title: 'x' })
    .eq('id', id)
    .select();
  await supabase.schema('app').from('x').select('*', { count: 'exact', head: true });
  await supabase.from(table).select();
  await supabase.from(\`t_\${table}\`).insert({});
  await supabase.from(\`plain\`).upsert({ id });
  await supabase.rpc<number>('do_thing', { a: 1 });
  await supabase.schema('app').rpc('app_fn');
  const ids = Array.from(new Set([1])), bytes = Buffer.from('abc');
  db.select().from(users);
  knex.from('knex_table');
  const when = dayjs(date).from(now);
  await supabase.storage.from('avatars').upload('a.png', file);
  const { data: url } = supabase.storage.from('avatars').getPublicUrl('a.png');
  supabase
    .channel('room')
    .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'messages' }, (p) => console.log(p.table))
    .on('postgres_changes', { event: '*', schema: 'public' }, () => {})
    .on('broadcast', { event: 'typing' }, () => {})
    .subscribe();
  return <p>Don't call .from('jsx_text') here</p>;
}
`;

describe('JavaScript and TypeScript', () => {
  const found = fileCalls('src/notes.tsx', 'js', TS);

  test('chains over lines with comments inside, schema(), rpc with type arguments, storage and realtime; nothing from comments, strings, regexes or JSX text', () => {
    expect(calls(found)).toEqual(
      [
        `table notes [update,select] @src/notes.tsx:${lineOf(TS, ".from('notes')")}`,
        `table app.x [select] @src/notes.tsx:${lineOf(TS, ".from('x')")}`,
        `table plain [upsert] @src/notes.tsx:${lineOf(TS, '.from(`plain`)')}`,
        `rpc do_thing [call] @src/notes.tsx:${lineOf(TS, "rpc<number>('do_thing'")}`,
        `rpc app.app_fn [call] @src/notes.tsx:${lineOf(TS, "rpc('app_fn')")}`,
        `bucket avatars [upload] @src/notes.tsx:${lineOf(TS, "from('avatars').upload")}`,
        `bucket avatars [getPublicUrl] @src/notes.tsx:${lineOf(TS, "from('avatars').getPublicUrl")}`,
        `channel public.messages [insert] @src/notes.tsx:${lineOf(TS, "{ event: 'INSERT'")}`,
        `channel public.* [all] @src/notes.tsx:${lineOf(TS, "{ event: '*'")}`,
      ].sort(),
    );
    const realtime = found.calls.find((c) => c.kind === 'channel' && c.name === 'messages')!;
    expect(realtime.channel).toBe('room');
  });

  test('a name that is not a literal is a dynamic call, with its place; Array.from, Buffer.from, drizzle, knex and dayjs are not calls', () => {
    expect(found.dynamic.map((d) => `${d.kind} ${d.expression} @${d.line}`)).toEqual([
      `table from(table) @${lineOf(TS, '.from(table)')}`,
      `table from(\`t_…\`) @${lineOf(TS, '.from(`t_')}`,
    ]);
  });

  test('a browser file: client side, no service role', () => {
    expect(new Set(found.calls.map((c) => `${c.side} ${c.serviceRole}`))).toEqual(new Set(['client false']));
  });

  test('a .from() without a PostgREST verb counts in a file that names supabase, not in one that does not', () => {
    const bare = "export const q = (client) => client.from('orders');\n";
    expect(fileCalls('src/q.js', 'js', bare).calls).toEqual([]);
    expect(calls(fileCalls('src/q.js', 'js', `import { supabase } from './supabase';\n${bare}`))).toEqual(['table orders [] @src/q.js:2']);
    // With a verb after it, the chain is PostgREST's whatever the client is called.
    expect(calls(fileCalls('src/q.js', 'js', "export const q = (db) => db.from('orders').delete().eq('id', 1);\n"))).toEqual(['table orders [delete] @src/q.js:1']);
  });
});

describe('the side and the role a call runs with', () => {
  const call = "import { createClient } from '@supabase/supabase-js';\nexport const go = () => supabase.from('notes').select();\n";

  test('server folders, .server files, route handlers, Edge Functions and "use server" are server; a bare src/api/ of a single-page app is the browser', () => {
    const side = (file: string, text = call) => fileCalls(file, 'js', text).calls[0]!.side;
    expect(side('app/api/notes/route.ts')).toBe('server');
    expect(side('pages/api/notes.ts')).toBe('server');
    expect(side('src/lib/server/db.ts')).toBe('server');
    expect(side('src/routes/notes/+page.server.ts')).toBe('server');
    expect(side('src/routes/notes/+server.ts')).toBe('server');
    expect(side('supabase/functions/hello/index.ts')).toBe('server');
    expect(side('app/notes/actions.ts', `'use server';\n${call}`)).toBe('server');
    expect(side('src/api/notes.ts')).toBe('client');
    expect(side('src/components/Notes.tsx')).toBe('client');
  });

  test('the service role key in the file, or a client named admin, marks the call service role (and server)', () => {
    const admin = fileCalls('lib/admin.ts', 'js', `const supabase = createClient(url, process.env.SUPABASE_SERVICE_ROLE_KEY!);\nexport const wipe = () => supabase.from('notes').delete().neq('id', 0);\n`);
    expect(admin.calls.map((c) => [c.name, c.side, c.serviceRole])).toEqual([['notes', 'server', true]]);
    const named = fileCalls('src/jobs.ts', 'js', "import { supabaseAdmin } from './admin';\nexport const all = () => supabaseAdmin.from('notes').select();\n");
    expect(named.calls.map((c) => [c.side, c.serviceRole])).toEqual([['server', true]]);
    const python = fileCalls('api/main.py', 'python', 'supabase = create_client(os.environ["SUPABASE_URL"], os.environ["SUPABASE_SERVICE_KEY"])\nsupabase.table("notes").delete().execute()\n');
    expect(python.calls.map((c) => [c.side, c.serviceRole])).toEqual([['server', true]]);
    // Only in a comment: not the service role.
    const commented = fileCalls('src/a.ts', 'js', `// never use SUPABASE_SERVICE_ROLE_KEY here\n${call}`);
    expect(commented.calls.map((c) => c.serviceRole)).toEqual([false]);
  });
});

describe('single-file components', () => {
  const VUE = `<template>
  <!-- supabase.from('html_comment').select() -->
  <p>Don't forget: it's "quoted" and \`odd\`</p>
  <button @click="save">Save</button>
</template>

<script setup lang="ts">
import { useSupabaseClient } from '#imports'
const supabase = useSupabaseClient()
// supabase.from('script_comment').select()
const { data } = await supabase.from('todos').select('*')
</script>
`;
  const SVELTE = `<script lang="ts">
  import { supabase } from '$lib/supabase';
  async function add(title: string) {
    await supabase
      .from('posts')
      .insert({ title });
  }
</script>

<h1>Posts aren't "here" yet</h1>
<p>{supabase.from('in_markup')}</p>
`;
  const ASTRO = `---
import { supabase } from '../lib/supabase';
const { data } = await supabase.from('products').select();
---
<p>We're open</p>
<script>
  import { supabase } from '../lib/supabase';
  supabase.rpc('track_view');
</script>
`;

  test('only the script blocks (and Astro frontmatter) are code; lines stay where they were', () => {
    expect(calls(fileCalls('src/Todos.vue', 'js', VUE))).toEqual([`table todos [select] @src/Todos.vue:${lineOf(VUE, ".from('todos')")}`]);
    expect(calls(fileCalls('src/routes/Posts.svelte', 'js', SVELTE))).toEqual([`table posts [insert] @src/routes/Posts.svelte:${lineOf(SVELTE, ".from('posts')")}`]);
    expect(calls(fileCalls('src/pages/index.astro', 'js', ASTRO))).toEqual(
      [`table products [select] @src/pages/index.astro:3`, `rpc track_view [call] @src/pages/index.astro:${lineOf(ASTRO, "rpc('track_view')")}`].sort(),
    );
  });
});

describe('Dart (supabase_flutter)', () => {
  const DART = `import 'package:supabase_flutter/supabase_flutter.dart';
final supabase = Supabase.instance.client;
// supabase.from('commented').select();
/* outer /* nested */ supabase.from('nested_comment').select(); */
Future<void> load(String table) async {
  final rows = await supabase
      .from('countries')
      .select('id, name');
  await Supabase.instance.client.rpc('get_count', params: {'a': 1});
  await supabase.storage.from('avatars').upload('a.png', file);
  await supabase.from('$table').select();
  await supabase.from(r'raw_$name').delete();
  supabase.from('messages').stream(primaryKey: ['id']).listen((rows) {});
  supabase.channel('public:todos').onPostgresChanges(
      event: PostgresChangeEvent.insert, schema: 'public', table: 'todos', callback: (payload) {}).subscribe();
}
`;
  test('from/select over lines, rpc through Supabase.instance.client, storage, stream, realtime; interpolation is dynamic, a raw string is not', () => {
    const found = fileCalls('lib/data.dart', 'dart', DART);
    expect(calls(found)).toEqual(
      [
        `table countries [select] @lib/data.dart:${lineOf(DART, ".from('countries')")}`,
        `rpc get_count [call] @lib/data.dart:${lineOf(DART, "rpc('get_count'")}`,
        `bucket avatars [upload] @lib/data.dart:${lineOf(DART, "from('avatars')")}`,
        `table raw_$name [delete] @lib/data.dart:${lineOf(DART, "from(r'raw_")}`,
        `table messages [stream] @lib/data.dart:${lineOf(DART, "from('messages')")}`,
        `channel public.todos [insert] @lib/data.dart:${lineOf(DART, 'onPostgresChanges')}`,
      ].sort(),
    );
    expect(found.dynamic.map((d) => `${d.expression} @${d.line}`)).toEqual([`from(\`$table\`) @${lineOf(DART, "from('$table')")}`]);
    expect(found.calls.every((c) => c.side === 'client' && c.language === 'dart')).toBe(true);
  });
});

describe('Python (supabase-py)', () => {
  const PY = `from supabase import create_client
import os

supabase = create_client(os.environ["SUPABASE_URL"], os.environ["SUPABASE_KEY"])
# supabase.table("commented").select("*").execute()

def load(name: str):
    """Example: supabase.table("in_docstring").select("*").execute()"""
    response = (
        supabase.table("countries")
        .select("*")
        .eq("id", 1)
        .execute()
    )
    supabase.from_("cities").insert({"name": "x"}).execute()
    supabase.schema("app").table("jobs").upsert({}).execute()
    supabase.rpc("hello_world", {"a": 1}).execute()
    supabase.storage.from_("avatars").download("a.png")
    supabase.table(f"log_{name}").insert({}).execute()
    supabase.table(f"{{literal}}").select("*").execute()
    channel.on_postgres_changes("INSERT", schema="public", table="messages", callback=print).subscribe()
`;
  test('table() and from_() chains in parentheses, schema(), rpc, storage, realtime; an f-string with a field is dynamic; comments and docstrings are not calls', () => {
    const found = fileCalls('worker/jobs.py', 'python', PY);
    expect(calls(found)).toEqual(
      [
        `table countries [select] @worker/jobs.py:${lineOf(PY, 'table("countries")')}`,
        `table cities [insert] @worker/jobs.py:${lineOf(PY, 'from_("cities")')}`,
        `table app.jobs [upsert] @worker/jobs.py:${lineOf(PY, 'table("jobs")')}`,
        `rpc hello_world [call] @worker/jobs.py:${lineOf(PY, 'rpc("hello_world"')}`,
        `bucket avatars [download] @worker/jobs.py:${lineOf(PY, 'from_("avatars")')}`,
        `table {literal} [select] @worker/jobs.py:${lineOf(PY, 'table(f"{{literal}}")')}`,
        `channel public.messages [insert] @worker/jobs.py:${lineOf(PY, 'on_postgres_changes')}`,
      ].sort(),
    );
    expect(found.dynamic.map((d) => `${d.expression} @${d.line}`)).toEqual([`table(\`log_…\`) @${lineOf(PY, 'table(f"log_')}`]);
    // Python is not a browser: server side, with the key it was given (not the service role here).
    expect(new Set(found.calls.map((c) => `${c.side} ${c.serviceRole}`))).toEqual(new Set(['server false']));
  });
});

describe('Swift (supabase-swift)', () => {
  const SWIFT = `import Supabase
// try await supabase.from("commented").select().execute()
/* outer /* nested */ supabase.from("nested").select() */
func load(table: String) async throws {
  let countries: [Country] = try await supabase
    .from("countries")
    .select()
    .execute()
    .value
  try await supabase.rpc("hello_world").execute()
  try await supabase.storage.from("avatars").upload("a.png", data: data)
  try await supabase.from("\\(table)_log").insert(row).execute()
  let raw = #"supabase.from("in_raw_string")"#
  let changes = channel.postgresChange(InsertAction.self, schema: "public", table: "messages")
}
`;
  test('from/select chains, rpc, storage, realtime; an interpolated name is dynamic; comments (nested) and raw strings are not calls', () => {
    const found = fileCalls('App/Data.swift', 'swift', SWIFT);
    expect(calls(found)).toEqual(
      [
        `table countries [select] @App/Data.swift:${lineOf(SWIFT, 'from("countries")')}`,
        `rpc hello_world [call] @App/Data.swift:${lineOf(SWIFT, 'rpc("hello_world")')}`,
        `bucket avatars [upload] @App/Data.swift:${lineOf(SWIFT, 'from("avatars")')}`,
        `channel public.messages [insert] @App/Data.swift:${lineOf(SWIFT, 'postgresChange(')}`,
      ].sort(),
    );
    expect(found.dynamic.map((d) => `${d.kind} @${d.line}`)).toEqual([`table @${lineOf(SWIFT, 'from("\\(table)')}`]);
  });
});

describe('Kotlin (supabase-kt)', () => {
  const KT = `import io.github.jan.supabase.postgrest.from
// supabase.from("commented").select()
suspend fun load(table: String) {
    val cities = supabase.from("cities").select {
        filter { eq("country_id", 1) }
    }.decodeList<City>()
    supabase.postgrest["countries"].insert(country)
    supabase.postgrest.rpc("hello_world")
    supabase.storage.from("avatars").upload("a.png", bytes)
    supabase.from("\${table}_log").delete { filter { eq("id", 1) } }
    val c = 'x'
    val flow = channel.postgresChangeFlow<PostgresAction.Update>(schema = "public") {
        table = "messages"
    }
}
`;
  test('from with a trailing lambda, postgrest["t"], rpc, storage, realtime filter in a lambda; a template is dynamic', () => {
    const found = fileCalls('app/src/main/kotlin/Data.kt', 'kotlin', KT);
    expect(calls(found)).toEqual(
      [
        `table cities [select] @app/src/main/kotlin/Data.kt:${lineOf(KT, 'from("cities")')}`,
        `table countries [insert] @app/src/main/kotlin/Data.kt:${lineOf(KT, 'postgrest["countries"]')}`,
        `rpc hello_world [call] @app/src/main/kotlin/Data.kt:${lineOf(KT, 'rpc("hello_world")')}`,
        `bucket avatars [upload] @app/src/main/kotlin/Data.kt:${lineOf(KT, 'from("avatars")')}`,
        `channel public.messages [update] @app/src/main/kotlin/Data.kt:${lineOf(KT, 'postgresChangeFlow')}`,
      ].sort(),
    );
    expect(found.dynamic.map((d) => `${d.kind} ${d.expression} @${d.line}`)).toEqual([`table from(\`…_log\`) @${lineOf(KT, 'from("${table}')}`]);
  });
});

describe('scanApp: the walk', () => {
  const call = (name: string) => `import { supabase } from './supabase';\nexport const f = () => supabase.from('${name}').select();\n`;

  test('reads the app and its Edge Functions; skips dependencies, build output, dot-folders, the migrations, virtualenvs, large files and links out of the root', () => {
    const outside = project({ 'secret.ts': call('outside_link') });
    const root = project({
      'src/app.ts': call('app_table'),
      'src/lib/supabase/client.ts': call('lib_supabase_folder'),
      'supabase/config.toml': '',
      'supabase/migrations/20240101000000_init.ts': call('in_migrations'),
      'supabase/functions/hello/index.ts': call('edge_function'),
      'node_modules/@supabase/postgrest-js/dist/index.js': call('node_modules'),
      'dist/bundle.js': call('dist'),
      '.next/server/page.js': call('next'),
      '.venv/lib/site.py': 'supabase.table("venv").select("*").execute()\n',
      'env/pyvenv.cfg': '',
      'env/lib/site.py': 'supabase.table("virtualenv").select("*").execute()\n',
      'ios/Pods/Supabase/Client.swift': 'supabase.from("pods").select()\n',
      'src/types.d.ts': call('declaration'),
      'src/big.ts': call('big') + '//'.padEnd(2000, 'x'),
      'README.md': call('markdown'),
    });
    symlinkSync(join(outside, 'secret.ts'), join(root, 'src', 'linked.ts'));
    symlinkSync(outside, join(root, 'linked-dir'));
    const usage = scanApp(root, { maxFileBytes: 1000 });
    expect(usage.calls.map((c) => `${c.name} ${c.file}`).sort()).toEqual(
      ['app_table src/app.ts', 'edge_function supabase/functions/hello/index.ts', 'lib_supabase_folder src/lib/supabase/client.ts'].sort(),
    );
    expect(usage.calls.find((c) => c.name === 'edge_function')!.side).toBe('server');
    expect(usage.files).toBe(3);
    expect(usage.languages).toEqual({ js: 3 });
    expect(usage.complete).toBe(true);
    expect(usage.notes).toEqual(['1 source file over 1 KB not read (generated or bundled code)']);
  });

  test('a cap stops the walk and says so: the scan is incomplete', () => {
    const root = project({ 'a.ts': call('a'), 'b.ts': call('b'), 'c.ts': call('c') });
    const capped = scanApp(root, { maxFiles: 2 });
    expect(capped.calls.map((c) => c.name)).toEqual(['a', 'b']);
    expect(capped.complete).toBe(false);
    expect(capped.notes).toEqual(['scan stopped at its cap of 2 files: files after that were not read, so nothing is called unused']);
    const bytes = scanApp(root, { maxBytes: 150 });
    expect(bytes.complete).toBe(false);
    expect(bytes.notes[0]).toMatch(/^scan stopped at its cap of/);
  });
});

describe('appRoot: which folder is the app', () => {
  const cwd = project({ 'supabase/migrations/.keep': '', 'db/migrations/.keep': '' });

  test('the folder above supabase/ for migrations; none for the demo, a project folder by another name, or a live database without --project', () => {
    expect(appRoot({ app: undefined, kind: 'migrations', projectDir: join(cwd, 'supabase'), projectGiven: false, cwd })).toEqual({ root: cwd, display: '.' });
    expect(appRoot({ app: undefined, kind: 'migrations', projectDir: join(cwd, 'db'), projectGiven: false, cwd })).toBeNull();
    expect(appRoot({ app: undefined, kind: 'demo', projectDir: join(cwd, 'supabase'), projectGiven: false, cwd })).toBeNull();
    expect(appRoot({ app: undefined, kind: 'url', projectDir: join(cwd, 'supabase'), projectGiven: false, cwd })).toBeNull();
    expect(appRoot({ app: undefined, kind: 'url', projectDir: join(cwd, 'supabase'), projectGiven: true, cwd })).toEqual({ root: cwd, display: '.' });
  });

  test('--app wins, --no-app turns it off, and a missing folder is a usage error', () => {
    expect(appRoot({ app: 'db', kind: 'demo', projectDir: undefined, projectGiven: false, cwd })).toEqual({ root: join(cwd, 'db'), display: 'db' });
    expect(appRoot({ app: false, kind: 'migrations', projectDir: join(cwd, 'supabase'), projectGiven: false, cwd })).toBeNull();
    expect(() => appRoot({ app: 'nope', kind: 'migrations', projectDir: undefined, projectGiven: false, cwd })).toThrow(UserError);
  });
});
