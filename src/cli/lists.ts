/** `a, b,,c` → `['a', 'b', 'c']`: comma-separated flag values (repeatable flags collect them). */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}
