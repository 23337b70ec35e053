/** Reading SQL and PL/pgSQL text without a parser: comments and string literals set aside. */

/** Comments out of a body (string literals kept: `current_setting('role')` is read through one). */
export function uncommented(source: string): string {
  return source.replace(/--[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ');
}

/** Comments and string literals (plain and dollar-quoted) out of a body, so keywords inside them do not count. */
export function codeOnly(source: string): string {
  return uncommented(source)
    .replace(/\$([A-Za-z_]\w*)?\$[\s\S]*?\$\1\$/g, "''")
    .replace(/'(?:[^']|'')*'/g, "''");
}

/** Names written as calls (`name(`, `schema.name(`, `"Name"(`), lower-cased unless quoted, without their schema. */
export function calledNames(code: string): string[] {
  const out = new Set<string>();
  for (const m of code.matchAll(/(?:"((?:[^"]|"")+)"|([A-Za-z_][\w$]*))\s*\(/g)) out.add(m[1] !== undefined ? m[1].replaceAll('""', '"') : m[2]!.toLowerCase());
  return [...out];
}
