/** SQL identifier and literal quoting, as `quote_ident` / `quote_literal` do. */

const SAFE_IDENT = /^[a-z_][a-z0-9_$]*$/;

/** Keywords that must be quoted as identifiers (reserved and type-function names); kept conservative. */
const RESERVED = new Set(
  (
    'all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate collation column ' +
    'concurrently constraint create cross current_catalog current_date current_role current_schema current_time ' +
    'current_timestamp current_user default deferrable desc distinct do else end except false fetch for foreign freeze from ' +
    'full grant group having ilike in initially inner intersect into is isnull join lateral leading left like limit localtime ' +
    'localtimestamp natural not notnull null offset on only or order outer overlaps placing primary references returning right ' +
    'select session_user similar some symmetric system_user table tablesample then to trailing true union unique user using ' +
    'variadic verbose when where window with'
  ).split(' '),
);

export function quoteIdent(name: string): string {
  if (SAFE_IDENT.test(name) && !RESERVED.has(name)) return name;
  return `"${name.replaceAll('"', '""')}"`;
}

export function qualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

export function quoteLiteral(value: string): string {
  const escaped = value.replaceAll("'", "''");
  return value.includes('\\') ? `E'${escaped.replaceAll('\\', '\\\\')}'` : `'${escaped}'`;
}

/** `schema.name` for display (not SQL): quotes only when needed so it stays readable. */
export function displayName(schema: string, name: string): string {
  return qualified(schema, name);
}

/**
 * A `-- comment` line that stays one line: names inside it may hold newlines, which would end
 * the comment and turn the rest into SQL.
 */
export function sqlComment(text: string): string {
  return `-- ${text.replace(/[\r\n\u2028\u2029]+/g, ' ')}`;
}
