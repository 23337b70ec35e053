/**
 * The JWT claims the lab's personas act with, made the way Supabase Auth makes them: the user's
 * `app_metadata` and `user_metadata` from auth.users, then the project's custom access token hook
 * (a Postgres function Auth calls at every sign-in and refresh) when it has one. Policies that read
 * `auth.jwt()` then see what they see in production, and a user who edits what the hook reads
 * (its role in `user_roles`, its `current_org_id`) gets the claims a refreshed token would carry.
 */
import { qualified, quoteIdent } from '../model/ident.ts';
import type { FunctionInfo, Snapshot } from '../model/snapshot.ts';
import type { Session } from '../introspect/session.ts';

/** The lab's own schema in its copy: the function that makes claims. */
export const LAB_SCHEMA = 'supaudit_lab';

const HOOK_NAME = /access_token|token_hook|claims_hook|jwt_hook/i;

/**
 * The custom access token hook: the function `config.toml` names (`[auth.hook.custom_access_token]`,
 * `uri = "pg-functions://postgres/<schema>/<name>"`, enabled), else a function shaped like one
 * (one `jsonb` argument, returns `jsonb`, named like a token hook): hooks are often enabled in the
 * dashboard only, with the function in the migrations.
 */
export function tokenHook(snapshot: Snapshot): FunctionInfo | undefined {
  const shaped = (f: FunctionInfo) => f.kind === 'function' && f.argCount === 1 && /(^|\s)jsonb$/.test(f.identityArgs.trim()) && f.returnType === 'jsonb' && f.extension === null;
  const hook = ((snapshot.projectConfig?.values['auth'] as Record<string, unknown> | undefined)?.['hook'] as Record<string, unknown> | undefined)?.['custom_access_token'] as
    | Record<string, unknown>
    | undefined;
  if (hook && hook['enabled'] !== false && typeof hook['uri'] === 'string') {
    const m = /^pg-functions:\/\/[^/]+\/([^/]+)\/([^/?#]+)$/.exec(hook['uri']);
    const named = m ? snapshot.functions.find((f) => f.schema === m[1] && f.name === m[2] && shaped(f)) : undefined;
    if (named) return named;
  }
  return snapshot.functions
    .filter((f) => shaped(f) && HOOK_NAME.test(f.name) && f.schema !== 'auth')
    .sort((a, b) => Number(b.name === 'custom_access_token_hook') - Number(a.name === 'custom_access_token_hook') || (a.schema < b.schema ? -1 : a.schema > b.schema ? 1 : 0))[0];
}

/**
 * Installs `supaudit_lab.claims(sub, role, email)` in the lab's copy (never an audited database):
 * the claims as text. Without auth.users (a bare schema), the claims are the three given. A hook
 * that fails leaves the claims Auth made before it (Auth itself would refuse the sign-in). A hook
 * with no search_path of its own runs on `auth, public, extensions`: unqualified names in it
 * resolve as they must for the app to work (a hook that failed on every sign-in would be noticed).
 */
export async function installClaims(session: Session, snapshot: Snapshot): Promise<FunctionInfo | undefined> {
  const hasUsers = snapshot.relations.some((r) => r.schema === 'auth' && r.name === 'users');
  const hasMeta = hasUsers && snapshot.relations.some((r) => r.schema === 'auth' && r.name === 'users' && r.columns.some((c) => c.name === 'raw_app_meta_data'));
  const hook = hasUsers ? tokenHook(snapshot) : undefined;
  const schema = quoteIdent(LAB_SCHEMA);
  await session.exec(`create schema if not exists ${schema}; grant usage on schema ${schema} to public;`);
  await session.exec(`
create or replace function ${schema}.claims(sub text, role text, email text) returns text
language plpgsql security definer set search_path = auth, public, extensions as $lab$
declare
  c jsonb := jsonb_build_object('role', role);
  meta jsonb;
begin
  if sub is null or sub = '' then return c::text; end if;
  c := jsonb_build_object('sub', sub, 'role', role, 'aud', 'authenticated', 'email', email, 'is_anonymous', false);
  ${
    hasMeta
      ? `select jsonb_build_object('app_metadata', coalesce(u.raw_app_meta_data, '{}'::jsonb), 'user_metadata', coalesce(u.raw_user_meta_data, '{}'::jsonb)) into meta from auth.users u where u.id::text = sub;
  c := c || coalesce(meta, '{}'::jsonb);`
      : ''
  }
  ${
    hook
      ? `begin
    meta := ${qualified(hook.schema, hook.name)}(jsonb_build_object('user_id', sub, 'claims', c, 'authentication_method', 'password'));
    if jsonb_typeof(meta -> 'claims') = 'object' then c := meta -> 'claims'; end if;
  exception when others then null;
  end;`
      : ''
  }
  return c::text;
end
$lab$;
grant execute on function ${schema}.claims(text, text, text) to public;`);
  sessions.set(session, { hook: hook !== undefined, made: new Map() });
  return hook;
}

/** The SQL expression of the claims for `$sub`, `$role`, `$email` (parameter numbers). */
function claimsSql(sub: number, role: number, email: number): string {
  return `${quoteIdent(LAB_SCHEMA)}.claims($${sub}::text, $${role}::text, $${email}::text)`;
}

/**
 * Per lab session: whether a hook makes the claims (then they are made again at every act, as a
 * refreshed token's: what the hook reads may have changed), else the claims made once per account
 * and role (its metadata does not change in the lab), so acting costs one statement, not two.
 */
const sessions = new WeakMap<Session, { readonly hook: boolean; readonly made: Map<string, string> }>();

/**
 * The claims (JSON text) a persona acts with in this session: made once per account and role where
 * no hook makes them; null where a hook does (setClaims then makes them in SQL at each act). Before
 * installClaims ran (a bare session), the plain claims.
 */
async function claimsFor(session: Session, sub: string, role: string, email: string): Promise<string | null> {
  const known = sessions.get(session);
  if (!known) return JSON.stringify(sub ? { sub, role, aud: 'authenticated', email } : { role });
  if (known.hook) return null;
  const key = `${sub}\u0000${role}\u0000${email}`;
  const hit = known.made.get(key);
  if (hit !== undefined) return hit;
  const [row] = await session.query<{ c: string }>(`select ${claimsSql(1, 2, 3)} as c`, [sub, role, email]);
  known.made.set(key, row!.c);
  return row!.c;
}

/** Drops the claims made for `sub`: its account was made again (a sign-up with other metadata, in a savepoint since rolled back). */
export function forgetClaims(session: Session, sub: string): void {
  const known = sessions.get(session);
  if (!known) return;
  for (const key of [...known.made.keys()]) if (key.startsWith(`${sub}\u0000`)) known.made.delete(key);
}

/**
 * Sets the claims `sub` (empty: none, anon) acts with as `role`, and `request.jwt.claim.sub`, until
 * the transaction or savepoint ends; with `setRole`, the session's role too. One statement: where a
 * hook makes the claims, they come first, made as the session's user, then the role.
 */
export async function setClaims(session: Session, sub: string, role: string, email: string, setRole: boolean): Promise<void> {
  const made = await claimsFor(session, sub, role, email);
  if (made !== null) {
    await session.query(
      `select set_config('request.jwt.claims', $1, true), set_config('request.jwt.claim.sub', $2, true)${setRole ? `, set_config('role', $3, true)` : ''}`,
      setRole ? [made, sub, role] : [made, sub],
    );
    return;
  }
  await session.query(
    `select set_config('request.jwt.claims', ${claimsSql(1, 2, 3)}, true), set_config('request.jwt.claim.sub', $1, true)${setRole ? `, set_config('role', $2, true)` : ''}`,
    [sub, role, email],
  );
}
