import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified } from '../src/model/ident.ts';
import { functionObject, functionSignature } from './_shared.ts';

export default defineCheck({
  meta: {
    id: 'function_search_path_mutable',
    title: 'Function with a mutable search_path',
    level: 'medium',
    category: 'security',
    facing: 'internal',
    splinter: 'function_search_path_mutable',
    description:
      'A function does not pin search_path, so unqualified names resolve through the caller\'s search_path; for SECURITY DEFINER functions that lets a caller substitute objects.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    for (const fn of ctx.snapshot.functions) {
      if (fn.kind !== 'function' && fn.kind !== 'procedure') continue;
      if (!ctx.isUserObject(fn.schema, fn.extension)) continue;
      if (fn.config.some((c) => c.toLowerCase().startsWith('search_path='))) continue;
      const keyword = fn.kind === 'procedure' ? 'PROCEDURE' : 'FUNCTION';
      out.push({
        level: fn.securityDefiner ? 'high' : 'medium',
        message:
          `${fn.securityDefiner ? 'SECURITY DEFINER ' : ''}${fn.kind} ${qualified(fn.schema, fn.name)}(${fn.identityArgs}) has no fixed search_path` +
          (fn.securityDefiner ? `: it runs as ${fn.owner}, and a caller who controls search_path can make it use their own objects.` : '.'),
        object: functionObject(fn),
        remediation: {
          text: 'Pin search_path to an empty string and schema-qualify every name in the body.',
          sql: `ALTER ${keyword} ${functionSignature(fn)} SET search_path = '';`,
        },
        evidence: { securityDefiner: fn.securityDefiner, owner: fn.owner, language: fn.language },
      });
    }
    return out;
  },
});
