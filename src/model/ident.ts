/** SQL identifier and literal quoting, as `quote_ident` / `quote_literal` do. */
import { PUBLIC_ROLE, type Policy } from './snapshot.ts';

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

/**
 * Characters that change how text looks without being seen: controls, bidi overrides and
 * isolates, zero-width and other format characters, line/paragraph separators. A name holding
 * one is written with Unicode escapes, so the SQL is byte-exact and reads the same on any screen.
 */
export const INVISIBLE_CLASS = '[\\p{Cc}\\p{Cf}\\p{Zl}\\p{Zp}\\p{Co}\\p{Cn}]';
const INVISIBLE = new RegExp(INVISIBLE_CLASS, 'u');

function unicodeEscaped(text: string, quote: '"' | "'"): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += quote + quote;
    else if (INVISIBLE.test(ch) || code > 0xffff) out += code > 0xffff ? `\\+${code.toString(16).toUpperCase().padStart(6, '0')}` : `\\${code.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += ch;
  }
  return out;
}

export function quoteIdent(name: string): string {
  if (SAFE_IDENT.test(name) && !RESERVED.has(name)) return name;
  // U&"…" names the same identifier, with the invisible characters spelled out.
  if (INVISIBLE.test(name)) return `U&"${unicodeEscaped(name, '"')}"`;
  return `"${name.replaceAll('"', '""')}"`;
}

export function qualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

export function quoteLiteral(value: string): string {
  if (INVISIBLE.test(value)) {
    // E'…' understands \uXXXX and \UXXXXXXXX whatever standard_conforming_strings says.
    let out = '';
    for (const ch of value) {
      const code = ch.codePointAt(0)!;
      if (ch === '\\') out += '\\\\';
      else if (ch === "'") out += "''";
      else if (INVISIBLE.test(ch)) out += code > 0xffff ? `\\U${code.toString(16).toUpperCase().padStart(8, '0')}` : `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
      else out += ch;
    }
    return `E'${out}'`;
  }
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

/**
 * SQL text (e.g. from the deparser) with every quoted identifier or string literal that holds an
 * invisible character rewritten to its Unicode-escape form (`U&"…"`, `E'…\u…'`): the same SQL,
 * byte for byte in meaning, that cannot display as something else. Text without such characters
 * is returned unchanged.
 */
export function visibleSql(sql: string): string {
  if (!INVISIBLE.test(sql.replace(/[\n\t\r]/g, ''))) return sql;
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (ch === '"' || ch === "'") {
      const before = sql.slice(Math.max(0, i - 2), i);
      // U&"…" / U&'…' and E'…' are already escape forms: copied as they are (E'' takes backslash escapes).
      const unicode = /^[uU]&$/.test(before);
      const escaped = ch === "'" && /(^|[^A-Za-z0-9_$])[eE]$/.test(before);
      let j = i + 1;
      let body = '';
      for (; j < sql.length; j++) {
        const c = sql[j]!;
        if (escaped && c === '\\') {
          body += c + (sql[j + 1] ?? '');
          j++;
          continue;
        }
        if (c === ch) {
          if (sql[j + 1] === ch) {
            body += ch;
            j++;
            continue;
          }
          break;
        }
        body += c;
      }
      if (j >= sql.length) return out + sql.slice(i); // unterminated: leave as is
      if (unicode || escaped || !INVISIBLE.test(body)) out += sql.slice(i, j + 1);
      else out += ch === '"' ? quoteIdent(body) : quoteLiteral(body);
      i = j + 1;
      continue;
    }
    if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const line = end < 0 ? sql.slice(i) : sql.slice(i, end);
      // A comment that holds invisible characters: spell them out (comments carry no meaning).
      out += line.replace(new RegExp(INVISIBLE.source, 'gu'), (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
      i = end < 0 ? sql.length : end;
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

/** `CREATE POLICY` for a policy as read from the catalog (its expressions as pg_get_expr printed them), without the semicolon. */
export function createPolicySql(p: Pick<Policy, 'schema' | 'table' | 'name' | 'command' | 'permissive' | 'roles' | 'using' | 'withCheck'>): string {
  return (
    `CREATE POLICY ${quoteIdent(p.name)} ON ${qualified(p.schema, p.table)} AS ${p.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'} FOR ${p.command}` +
    ` TO ${p.roles.map((r) => (r === PUBLIC_ROLE ? 'PUBLIC' : quoteIdent(r))).join(', ')}` +
    (p.using !== null ? ` USING (${p.using})` : '') +
    (p.withCheck !== null ? ` WITH CHECK (${p.withCheck})` : '')
  );
}
