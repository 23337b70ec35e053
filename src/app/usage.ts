/**
 * What the application does with the database: its supabase client calls, read from its code
 * beside `supabase/` (TypeScript/JavaScript and their single-file components, Dart, Python,
 * Swift, Kotlin), each with its file and line, the side it runs on and whether it holds the
 * service role. The only I/O is reading the files src/app/walk.ts lists.
 */
import { readFileSync } from 'node:fs';
import type { AppCall, AppCallSite, AppDynamicCall, AppLanguage, AppUsage } from '../model/app.ts';
import { findCalls, type FoundCall } from './calls.ts';
import { tokenize, type Token } from './lexer.ts';
import { codeOf, serverPath } from './sources.ts';
import { DEFAULT_WALK_LIMITS, listSources, type WalkLimits } from './walk.ts';

export type ScanOptions = Partial<WalkLimits>;

/** Cheap test before lexing: a file without any of these has no call to find. */
const MAYBE_CALLS = /\.\s*(?:from_?|table|rpc)\b|postgrest|postgres_changes|ostgresChange|PostgresChanges|postgres_changes|ostgres(?:List|Single)DataFlow/;

/** Names of the service role key in code: the env variable (`SUPABASE_SERVICE_ROLE_KEY`, often `SUPABASE_SERVICE_KEY`), the role, the new secret keys. */
const SERVICE_ROLE = /service[_-]?role|supabase[_-]?service[_-]?key|SUPABASE_SECRET_KEY|sb_secret_/i;

/** supabase-js client options that set the client's schema: `db: { schema: 'api' }`. */
const CLIENT_SCHEMA = /\bdb\s*:\s*\{\s*schema\s*:\s*(['"`])([A-Za-z_][\w$]*)\1/g;

/** A client variable named for the service role (`supabaseAdmin`, `serviceClient`), created in another file. */
const ADMIN_CLIENT = /admin|service/i;

export function scanApp(root: string, options: ScanOptions = {}): AppUsage {
  const walk = listSources(root, { ...DEFAULT_WALK_LIMITS, ...options });
  const calls: AppCall[] = [];
  const dynamic: AppDynamicCall[] = [];
  const languages: Partial<Record<AppLanguage, number>> = {};
  const notes = [...walk.notes];
  const clientSchemas: { schema: string; file: string; line: number }[] = [];
  let unreadable = 0;
  for (const source of walk.files) {
    languages[source.language] = (languages[source.language] ?? 0) + 1;
    let text: string;
    try {
      text = readFileSync(source.path, 'utf8');
    } catch {
      unreadable++;
      continue;
    }
    if (source.language === 'js') {
      // A client made for another schema (`createClient(url, key, { db: { schema: 'api' } })`): its calls name that schema's objects.
      for (const m of text.matchAll(CLIENT_SCHEMA)) clientSchemas.push({ schema: m[2]!, file: source.file, line: text.slice(0, m.index).split('\n').length });
    }
    if (!MAYBE_CALLS.test(text)) continue;
    const found = fileCalls(source.file, source.language, text);
    calls.push(...found.calls);
    dynamic.push(...found.dynamic);
  }
  if (unreadable > 0) notes.push(`${unreadable} file${unreadable === 1 ? '' : 's'} could not be read`);
  return { files: walk.files.length, bytes: walk.bytes, languages, complete: walk.complete && unreadable === 0, calls, dynamic, notes, ...(clientSchemas.length > 0 ? { clientSchemas } : {}) };
}

/** The calls in one file's text, placed (side, service role). Pure: the scanner's tests start here too. */
export function fileCalls(file: string, language: AppLanguage, text: string): { calls: AppCall[]; dynamic: AppDynamicCall[] } {
  const tokens = tokenize(codeOf(file, text), language);
  const mentionsSupabase = tokens.some((t) => (t.type === 'id' || t.type === 'str') && /supabase|postgrest/i.test(t.value));
  const found = findCalls(tokens, { language, mentionsSupabase });
  if (found.length === 0) return { calls: [], dynamic: [] };
  const serviceRole = tokens.some((t) => (t.type === 'id' || t.type === 'str') && SERVICE_ROLE.test(t.value));
  const server = serverPath(file) || language === 'python' || useServer(tokens);
  const site = (call: FoundCall): AppCallSite => {
    const admin = serviceRole || call.receiver.some((n) => ADMIN_CLIENT.test(n));
    return { file, line: call.line, side: server || admin ? 'server' : 'client', serviceRole: admin };
  };
  const calls: AppCall[] = [];
  const dynamic: AppDynamicCall[] = [];
  for (const call of found) {
    if (call.name === null) {
      dynamic.push({ kind: call.kind, expression: call.expression, ...site(call), language });
      continue;
    }
    calls.push({
      kind: call.kind,
      name: call.name,
      ...(call.schema !== undefined ? { schema: call.schema } : {}),
      operations: call.operations,
      ...(call.channel !== undefined ? { channel: call.channel } : {}),
      ...site(call),
      language,
    });
  }
  return { calls, dynamic };
}

/** A `'use server'` directive (Next.js server actions) before any other statement. */
function useServer(tokens: readonly Token[]): boolean {
  for (const t of tokens.slice(0, 4)) {
    if (t.type === 'str' && t.value === 'use server') return true;
    if (t.type !== 'str' && !(t.type === 'punct' && t.value === ';')) return false;
  }
  return false;
}
