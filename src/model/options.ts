/**
 * Reads a boolean reloption as Postgres does (`parse_bool`): true, yes, on, 1 and any unique
 * prefix of true/yes (t, tr, y, ye), case-insensitive. `security_invoker = t` is stored as `t`.
 */
export function isTrueOption(value: string | undefined): boolean {
  if (value === undefined) return false;
  const v = value.trim().toLowerCase();
  if (v === '1' || v === 'on') return true;
  return v.length > 0 && ('true'.startsWith(v) || 'yes'.startsWith(v));
}
