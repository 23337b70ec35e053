/** What a SECURITY DEFINER function does, read from its body: the level "role can call it" deserves. */
import type { Level } from '../src/model/level.ts';
import type { FunctionInfo } from '../src/model/snapshot.ts';
import { uncommented } from '../src/model/sql-text.ts';
import { calledFunctions } from '../src/model/function-calls.ts';

export { calledFunctions };

const WRITES = /\b(insert\s+into|update\s+[\w."]+\s+(?:as\s+\w+\s+)?set|delete\s+from|truncate|merge\s+into|alter\s+(?:table|role|user|policy|function)|drop\s+\w+|create\s+(?:table|role|user|policy|function|or)|grant\s|revoke\s|copy\s)/i;
const DYNAMIC = /\bexecute\s+(?!procedure\b|function\b)|\b(?:net\.http_\w+|http_(?:get|post|put|patch|delete)|extensions\.http|dblink\w*)\s*\(/i;
const SECRETS = /\b(auth\.(users|identities|sessions|refresh_tokens|mfa_factors|one_time_tokens)|vault\.|decrypted_secrets|pgsodium\.)/i;
const CALLER = /\bauth\.(uid|jwt|role|email)\s*\(|request\.jwt\.claim|\bcurrent_setting\s*\(\s*'(?:request\.jwt|role')/i;

/**
 * The caller's role as a body reads it: the `role` setting (PostgREST runs each request under SET
 * LOCAL ROLE, and SECURITY DEFINER does not change it), auth.role(), or the JWT's role claim.
 */
const ROLE = String.raw`(?:current_setting\s*\(\s*'(?:role|request\.jwt\.claim\.role)'(?:\s*,\s*\w+)?\s*\)|auth\.role\s*\(\s*\)|auth\.jwt\s*\(\s*\)\s*->>\s*'role'|\(?\s*current_setting\s*\(\s*'request\.jwt\.claims'(?:\s*,\s*\w+)?\s*\)\s*::\s*jsonb?\s*\)?\s*->>\s*'role')(?:\s*::\s*text)?`;
const ROLE_IN_PARENS = String.raw`\(*\s*${ROLE}\s*\)*`;
const SERVICE_GUARD = new RegExp(
  String.raw`\bif\s+(?:${ROLE_IN_PARENS}\s*(?:!=|<>)\s*'service_role'|'service_role'\s*(?:!=|<>)\s*${ROLE_IN_PARENS}|not\s*\(*\s*(?:${ROLE_IN_PARENS}\s*=\s*'service_role'|'service_role'\s*=\s*${ROLE_IN_PARENS}))[^;]*?\bthen\s+raise\b`,
  'i',
);

/** Secret names that designate an address, which clients already know: a project URL, an API endpoint, a host. */
const CONFIG_NAME = /(?:^|_)(?:url|uri|endpoint|host|hostname|domain|base_url|origin)$/i;
/** …unless it may carry credentials (a database or broker connection string). */
const CONNECTION_NAME = /(?:db|database|postgres|pg|conn|connection|dsn|redis|mongo|amqp|smtp|webhook)/i;

/**
 * The Vault secret names a body reads, when it reads Vault only through `decrypted_secrets` by
 * constant names that all look like configuration; null otherwise (any other secret, any name
 * from a parameter, any other auth/vault table).
 */
function configVaultNames(source: string): string[] | null {
  const text = uncommented(source);
  if (/\bauth\.(users|identities|sessions|refresh_tokens|mfa_factors|one_time_tokens)\b|pgsodium\.|vault\.(?!decrypted_secrets\b)/i.test(text)) return null;
  const reads = [...text.matchAll(/\bdecrypted_secrets\b[^;]*?\bname\s*=\s*('(?:[^']|'')*'|[^\s;)]+)/gi)];
  if (reads.length === 0 || reads.length !== (text.match(/\bdecrypted_secrets\b/gi) ?? []).length) return null;
  const names = reads.map((m) => m[1]!);
  if (names.some((n) => !n.startsWith("'"))) return null;
  const plain = names.map((n) => n.slice(1, -1).replaceAll("''", "'"));
  return plain.every((n) => CONFIG_NAME.test(n) && !CONNECTION_NAME.test(n)) ? [...new Set(plain)] : null;
}

/** The body raises unless the caller is service_role (`if current_setting('role') != 'service_role' then raise …`). */
export function serviceRoleGuard(source: string): boolean {
  return SERVICE_GUARD.test(uncommented(source));
}

/** fn, or a helper it calls, raises unless the caller is service_role: other roles get only the error. */
export function serviceOnly(fn: FunctionInfo, functions: readonly FunctionInfo[]): boolean {
  return calledFunctions(fn, functions).some((f) => serviceRoleGuard(f.source ?? ''));
}

const SCALAR = /^(boolean|integer|bigint|smallint|numeric|text|character varying|uuid|date|timestamp with time zone|double precision|real|void)$/;

/** Comments and string literals out of a body, so keywords inside them do not count. */
function code(source: string): string {
  return uncommented(source).replace(/'(?:[^']|'')*'/g, "''");
}

/**
 * What a definer function does, from its body (SQL and PL/pgSQL): writes, dynamic SQL or HTTP
 * calls, reads of auth/vault, whether it looks at its caller, whether it returns rows. The level
 * of "role can call it" follows: an unguarded writer or secret reader is high; a read-only function
 * that returns one value (an existence check, a count) is low; one that checks its caller is
 * medium (low for anon, whom such a check refuses); others stay at the check's level.
 */
export function gradeDefiner(fn: FunctionInfo, role: 'anon' | 'authenticated', base: Level, functions: readonly FunctionInfo[] = []): { level: Level; why: string } {
  if (fn.source === null || !/^(sql|plpgsql)$/i.test(fn.language)) return { level: base, why: '' };
  const body = code(fn.source);
  const writes = WRITES.test(body);
  const dynamic = DYNAMIC.test(fn.source);
  const secrets = SECRETS.test(body);
  // A guard in a helper it calls counts (`perform public.current_user_account_role(account_id)` raising for non-members).
  const called = calledFunctions(fn, functions);
  const caller = called.some((f) => CALLER.test(uncommented(f.source ?? '')));
  const scalar = !fn.returnsSet && SCALAR.test(fn.returnType);
  if (called.some((f) => serviceRoleGuard(f.source ?? ''))) {
    return { level: 'low', why: ' Its body raises an error unless the caller is service_role, so the anon and user keys get no further than that check.' };
  }
  // A Vault read by constant names that all say "configuration" (supabase_url, api_endpoint) and
  // nothing else of auth/vault: it hands out a value the app treats as public. Still reported,
  // since whatever is stored under that name is readable by anyone, but not as a credential leak.
  const config = !writes && !dynamic && secrets ? configVaultNames(fn.source) : null;
  if (config && !caller) {
    return {
      level: 'medium',
      why: ` Its body returns the Vault secret${config.length > 1 ? 's' : ''} ${config.map((n) => `'${n}'`).join(', ')}, which by ${config.length > 1 ? 'their names hold' : 'its name holds'} configuration (an address), not a credential; whatever is stored under ${config.length > 1 ? 'those names' : 'that name'} is readable by anyone who can call it.`,
    };
  }
  if ((writes || dynamic || secrets) && !caller) {
    const what = [writes ? 'writes tables' : '', dynamic ? 'runs dynamic SQL or HTTP calls' : '', secrets ? 'reads auth/vault tables' : ''].filter(Boolean).join(', ');
    return { level: 'high', why: ` Its body ${what} and never looks at who calls it.` };
  }
  if (caller) return { level: role === 'anon' ? 'low' : 'medium', why: ` Its body checks its caller (auth.uid()/auth.jwt()${role === 'anon' ? ', which anon does not have' : ''}); make sure every path does.` };
  if (!writes && !dynamic && !secrets && scalar) return { level: 'low', why: ` Its body only reads and returns one ${fn.returnType} value.` };
  return { level: base, why: '' };
}

/**
 * SECURITY DEFINER functions in exposed schemas that `role` may call over /rest/v1/rpc (EXECUTE,
 * directly, through PUBLIC or a parent role, plus USAGE on the schema).
 */

