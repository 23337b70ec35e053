/** Items after what they depend on (depth first, in the order of `byKey`); a cycle is broken where it closes. */
export function dependencyOrder<T>(byKey: ReadonlyMap<string, T>, edges: Iterable<readonly [from: string, to: string]>): T[] {
  const deps = new Map<string, string[]>();
  for (const [from, to] of edges) if (from !== to && byKey.has(from) && byKey.has(to)) deps.set(from, [...(deps.get(from) ?? []), to]);
  const out: T[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (k: string) => {
    if (state.get(k)) return;
    state.set(k, 'visiting');
    for (const d of deps.get(k) ?? []) visit(d);
    state.set(k, 'done');
    out.push(byKey.get(k)!);
  };
  for (const k of byKey.keys()) visit(k);
  return out;
}
