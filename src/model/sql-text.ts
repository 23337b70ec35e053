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

/** The arguments of a call whose text starts at `from` (just after its opening parenthesis), split at top-level commas. */
export function callArguments(text: string, from: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let current = '';
  let quoted = false;
  for (let i = from; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "'") quoted = !quoted;
    if (!quoted) {
      if (ch === '(' || ch === '[') depth++;
      if (ch === ')' || ch === ']') {
        if (depth === 0) {
          args.push(current);
          return args;
        }
        depth--;
      }
      if (ch === ',' && depth === 0) {
        args.push(current);
        current = '';
        continue;
      }
    }
    current += ch;
  }
  return args;
}

/** `p_team_id uuid, p_note text DEFAULT NULL` as names and types (IN, INOUT and VARIADIC arguments). */
export function argumentsOf(identityArgs: string): { name: string; type: string }[] {
  if (identityArgs.trim() === '') return [];
  return callArguments(`${identityArgs})`, 0).map((p) => {
    const words = p.trim().replace(/\s+DEFAULT\s+.*$/i, '').replace(/^(IN|INOUT|VARIADIC)\s+/i, '').split(/\s+/);
    return words.length > 1 ? { name: words[0]!.replace(/"/g, ''), type: words.slice(1).join(' ') } : { name: '', type: words[0]! };
  });
}

/** The string literals in `text` (`'owner'`, `'it''s'`), unquoted, in order. */
export function quotedLiterals(text: string): string[] {
  return [...text.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!.replaceAll("''", "'"));
}

/** `text` as a regular expression that matches it literally (a column name inside a pattern). */
export function literalPattern(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The tables a function body reads or writes (`from`, `join`, `update`, `into` and a name), in the
 * order it names them: unquoted names folded to lower case as Postgres does, quoted ones as written.
 */
export function namedTables(body: string): { schema: string | null; name: string }[] {
  const out: { schema: string | null; name: string }[] = [];
  for (const m of body.matchAll(/\b(?:from|update|into|join)\s+(?:only\s+)?((?:"[^"]+"|[a-z_][\w$]*)(?:\s*\.\s*(?:"[^"]+"|[a-z_][\w$]*))?)/gi)) {
    const parts = m[1]!.split(/\s*\.\s*/).map((p) => (p.startsWith('"') ? p.slice(1, -1) : p.toLowerCase()));
    out.push(parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : { schema: null, name: parts[0]! });
  }
  return out;
}

/** Whether a table's name is `name` or its plural (`team` → teams, `box` → boxes, `company` → companies). */
export function namedAfter(table: string, name: string): boolean {
  return table === name || table === `${name}s` || table === `${name}es` || table.replace(/ies$/, 'y') === name;
}
