/** The functions a function's body calls, read by name from its text: shared by the checks and the lab. */
import type { FunctionInfo } from './snapshot.ts';
import { uncommented } from './sql-text.ts';

/** Comments and string literals out of a body, so names inside them do not count. */
function code(source: string): string {
  return uncommented(source).replace(/'(?:[^']|'')*'/g, "''");
}

const functionsByName = new WeakMap<readonly FunctionInfo[], Map<string, FunctionInfo[]>>();

/**
 * fn and the functions with a SQL/PL/pgSQL body it calls, transitively (by name, comments and
 * strings aside; at most 50). The name index is built once per function list.
 */
export function calledFunctions(fn: FunctionInfo, functions: readonly FunctionInfo[]): FunctionInfo[] {
  let byName = functionsByName.get(functions);
  if (!byName) {
    byName = new Map();
    for (const f of functions) if (f.source !== null && f.extension === null) byName.set(f.name.toLowerCase(), [...(byName.get(f.name.toLowerCase()) ?? []), f]);
    functionsByName.set(functions, byName);
  }
  const out: FunctionInfo[] = [];
  const seen = new Set<FunctionInfo>([fn]);
  const stack = [fn];
  while (stack.length > 0 && out.length < 50) {
    const f = stack.pop()!;
    out.push(f);
    for (const m of code(f.source ?? '').matchAll(/([A-Za-z_][\w$]*)"?\s*\(/g)) {
      for (const g of byName.get(m[1]!.toLowerCase()) ?? []) {
        if (!seen.has(g)) {
          seen.add(g);
          stack.push(g);
        }
      }
    }
  }
  return out;
}
