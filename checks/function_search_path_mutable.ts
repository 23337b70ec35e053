import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import { scanFunctionBody, snapshotIndex, unqualifiedSchemas } from '../src/policy/index.ts';
import type { CheckContext } from '../src/model/check.ts';
import type { FunctionInfo } from '../src/model/snapshot.ts';
import { functionObject, functionSignature } from './_shared.ts';
import { isPlatformRole } from '../src/model/schemas.ts';

const NOT_USER_TYPES = new Set(['pg_catalog', 'information_schema', 'pg_toast']);

/** Schemas of the non-built-in types the function takes, returns, or reads from the tables its body names. */
function typeSchemas(ctx: CheckContext, fn: FunctionInfo): string[] {
  const out = new Set<string>();
  for (const m of `${fn.identityArgs} ${fn.returnType}`.matchAll(/(?:^|[\s(,])("?[A-Za-z_][\w$]*"?)\.("?[A-Za-z_][\w$]*"?)/g)) {
    const schema = m[1]!.replaceAll('"', '');
    if (!NOT_USER_TYPES.has(schema)) out.add(schema);
  }
  for (const name of scanFunctionBody(fn, snapshotIndex(ctx.snapshot)).readsTables) {
    const dot = name.indexOf('.');
    const rel = ctx.relation(name.slice(0, dot), name.slice(dot + 1));
    for (const c of rel?.columns ?? []) {
      const schema = c.typeName.slice(0, Math.max(0, c.typeName.lastIndexOf('.')));
      if (schema !== '' && !NOT_USER_TYPES.has(schema) && ctx.snapshot.extensions.some((e) => e.schema === schema)) out.add(schema);
    }
  }
  return [...out].sort();
}

export default defineCheck({
  meta: {
    id: 'function_search_path_mutable',
    title: 'Function with a mutable search_path',
    level: 'medium',
    category: 'security',
    facing: 'internal',
    labClaim: 'escalation',
    splinter: 'function_search_path_mutable',
    description:
      'A function does not pin search_path, so unqualified names resolve through the caller\'s search_path; for SECURITY DEFINER functions that lets a caller substitute objects.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    // Only a SQL session sets its own search_path (PostgREST does not let an API caller): the roles that can open one.
    const sqlLogins = ctx.snapshot.roles.filter((r) => r.canLogin && !r.superuser && !isPlatformRole(r.name) && r.name !== 'authenticator').map((r) => r.name);
    for (const fn of ctx.snapshot.functions) {
      if (fn.kind !== 'function' && fn.kind !== 'procedure') continue;
      if (!ctx.isUserObject(fn.schema, fn.extension)) continue;
      if (fn.config.some((c) => c.toLowerCase().startsWith('search_path='))) continue;
      const keyword = fn.kind === 'procedure' ? 'PROCEDURE' : 'FUNCTION';
      // An empty search_path would break a body that names objects without their schema: pin the
      // schemas it uses instead, with pg_temp last so temporary objects cannot shadow them.
      const bare = unqualifiedSchemas(fn, ctx.snapshot);
      // Operators and functions of a type live in the type's schema (pgvector's <#> in extensions): keep the schemas of
      // the types the function takes, returns or reads, or `a <#> b` stops resolving once search_path is pinned.
      const typed = typeSchemas(ctx, fn).filter((x) => !bare.includes(x));
      const kept = [...bare, ...typed];
      const path = kept.length === 0 ? "''" : [...kept.map(quoteIdent), 'pg_temp'].join(', ');
      // A trigger function is not callable through the API: it runs in the session of whoever writes
      // the table (for a trigger on auth.users, the Auth server), whose search_path an API caller does not set.
      const trigger = fn.returnType === 'trigger' || fn.returnType === 'event_trigger';
      const callers = fn.securityDefiner && !trigger ? sqlLogins.filter((r) => ctx.privileges.has(fn.acl, r, 'EXECUTE')) : [];
      out.push({
        level: callers.length > 0 ? 'high' : 'medium',
        message:
          `${fn.securityDefiner ? 'SECURITY DEFINER ' : ''}${trigger ? 'trigger ' : ''}${fn.kind} ${qualified(fn.schema, fn.name)}(${fn.identityArgs}) has no fixed search_path` +
          (fn.securityDefiner && !trigger
            ? `: it runs as ${fn.owner}, and a caller who controls search_path can make it use their own objects` +
              (callers.length > 0
                ? ` (login role${callers.length === 1 ? '' : 's'} ${callers.join(', ')} can call it from a SQL session).`
                : ' (only a SQL session can set it, not an API request, and no login role of the project besides the platform\'s can call it today).')
            : '') +
          (fn.securityDefiner && trigger ? `: it runs as ${fn.owner} in the session of whoever writes its table; pin it so that session's search_path cannot decide what it uses.` : '') +
          (fn.securityDefiner ? '' : '.'),
        object: functionObject(fn),
        remediation: {
          text:
            (bare.length === 0
              ? 'Pin search_path to an empty string: the body already names every object with its schema.'
              : `The body names objects of ${bare.join(', ')} without their schema, so an empty search_path would break it: the fix pins those schemas (pg_temp last). Better still, schema-qualify every name and pin search_path = ''.`) +
            (typed.length > 0 ? ` It also keeps ${typed.join(', ')}, the schema of types it uses, whose operators (like pgvector's <#>) are found through search_path.` : ''),
          sql: `ALTER ${keyword} ${functionSignature(fn)} SET search_path = ${path};`,
        },
        evidence: { securityDefiner: fn.securityDefiner, owner: fn.owner, language: fn.language, unqualifiedSchemas: bare },
      });
    }
    return out;
  },
});
