/**
 * The application beside `supabase/`: the supabase client calls found in its code (src/app/), and
 * what they say about the exposed tables, functions and buckets (src/engine/app-usage.ts).
 */

/** Languages whose supabase client idioms are read. `js` covers .ts/.tsx/.js/.jsx/.mjs/.cjs and the script blocks of .vue/.svelte/.astro. */
export type AppLanguage = 'js' | 'dart' | 'python' | 'swift' | 'kotlin';

/** `table`: `.from('t')` (tables and views); `rpc`: `.rpc('fn')`; `bucket`: `.storage.from('b')`; `channel`: Realtime postgres_changes on a table. */
export type AppCallKind = 'table' | 'rpc' | 'bucket' | 'channel';

/** Where a call runs: the role it runs with decides which grants it needs. */
export interface AppCallSite {
  /** Relative to the app's root, forward slashes. */
  readonly file: string;
  readonly line: number;
  /** `server`: a server/api/functions folder, a `.server.*` file, `'use server'`, Python, or a service-role client; else `client` (browser or device). */
  readonly side: 'server' | 'client';
  /** The file names the service role key (`SUPABASE_SERVICE_ROLE_KEY`, `service_role`, a secret key) or the client is named `…admin…`/`…service…`: the call bypasses RLS and grants. */
  readonly serviceRole: boolean;
}

/** A supabase client call with a literal name. */
export interface AppCall extends AppCallSite {
  readonly kind: AppCallKind;
  /** Table, function or bucket id; for `channel`, the table (`*`: every table of the schema). */
  readonly name: string;
  /** `.schema('s')` before the call, or `schema:` of a Realtime filter. Absent when not given: then the name is matched in every exposed schema (a client can be made with another default schema). */
  readonly schema?: string;
  /** `select`, `insert`, `update`, `upsert`, `delete`, `stream` (tables); the storage method (buckets); `call` (rpc); the event (`insert`, `update`, `delete`, `all`) for channels. Empty when the chain does not say. */
  readonly operations: readonly string[];
  /** The channel's topic (`.channel('room')`), for `channel` calls when given. */
  readonly channel?: string;
  readonly language: AppLanguage;
}

/** A call whose name is not a literal (`.from(table)`, a template with a placeholder): it could reach anything. */
export interface AppDynamicCall extends AppCallSite {
  readonly kind: AppCallKind;
  /** The argument as written, shortened: `from(tableName)`. */
  readonly expression: string;
  readonly language: AppLanguage;
}

/** What scanning the app's code found (src/app/usage.ts). */
export interface AppUsage {
  /** Source files read (after the skipped folders, sizes and caps). */
  readonly files: number;
  readonly bytes: number;
  readonly languages: Readonly<Partial<Record<AppLanguage, number>>>;
  /** False when a cap stopped the walk or files could not be read: then nothing is "unused", only "not seen". */
  readonly complete: boolean;
  readonly calls: readonly AppCall[];
  readonly dynamic: readonly AppDynamicCall[];
  readonly notes: readonly string[];
  /** Clients created for a schema of their own (`db: { schema: 'api' }`), where. */
  readonly clientSchemas?: readonly { readonly schema: string; readonly file: string; readonly line: number }[];
}

/** One place an object is used, for findings and the report. */
export interface AppUseRef extends AppCallSite {
  readonly operations: readonly string[];
}

/**
 * An exposed object and what the app does with it. `used`: a call names it; `database`: no call,
 * but a policy, view or function uses it (API roles may need access for those to work); `unused`:
 * nothing names it and the scan was complete with no dynamic call of its kind, so closing it to the
 * API should not break this app; `not_seen`: nothing names it, but dynamic calls (or an incomplete
 * scan) mean that is no proof.
 */
export interface AppObject {
  readonly type: 'table' | 'function' | 'bucket';
  readonly schema: string;
  readonly name: string;
  /** API roles (anon, authenticated) that reach it, from the blast radius. */
  readonly roles: readonly string[];
  readonly status: 'used' | 'database' | 'unused' | 'not_seen';
  readonly usedBy: readonly AppUseRef[];
  /** Database objects that use it (status `database`): `policy public.notes.owner_read`, `view public.v`, `function public.f`. */
  readonly referencedBy?: readonly string[];
}

/** `report.app`: the scan, and per exposed object whether the app uses it. */
export interface AppReport extends AppUsage {
  /** The folder scanned, as the command line showed it. */
  readonly root: string;
  readonly objects: readonly AppObject[];
  /** Names the app calls that are not in the exposed schemas (a typo, a table not yet migrated, another schema). */
  readonly unknown: readonly { readonly kind: AppCallKind; readonly schema?: string; readonly name: string; readonly usedBy: readonly AppUseRef[] }[];
}
