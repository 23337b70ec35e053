/**
 * Parsing of policy expressions (`pg_get_expr(polqual|polwithcheck, polrelid)` output) with the real
 * Postgres parser (libpg-query, WASM).
 *
 * The expression is parsed as `SELECT 1 WHERE <text>`; the result is accepted only when it is exactly one
 * plain SELECT with nothing but that WHERE clause (so `true UNION SELECT …`, `true; DROP …`, `true ORDER BY 1`
 * and friends are rejected instead of being half-analysed).
 *
 * Locations in the returned AST are the parser's: byte offsets into the wrapped statement. Use
 * `sourceOffset(location)` to turn one into a character (UTF-16) offset into the original text.
 */
import { loadModule, parseSync } from 'libpg-query';
import type { Node } from 'libpg-query';

const PREFIX = 'SELECT 1 WHERE ';
const PREFIX_BYTES = PREFIX.length; // ASCII

let loading: Promise<void> | null = null;
let ready = false;

/** Loads the WASM parser once. Safe to call any number of times, concurrently too. */
export function initPolicyParser(): Promise<void> {
  if (ready) return Promise.resolve();
  if (!loading) {
    loading = loadModule().then(
      () => {
        ready = true;
      },
      (err: unknown) => {
        loading = null; // allow a retry
        throw err;
      },
    );
  }
  return loading;
}

/** Whether `initPolicyParser()` has completed. */
export function isPolicyParserReady(): boolean {
  return ready;
}

export interface ParsedExpression {
  readonly ok: true;
  /** The expression node, e.g. `{ A_Expr: { … } }`. */
  readonly ast: Node;
  readonly text: string;
  /** Character offset in `text` of a parser location (`-1` stays `-1`). */
  readonly sourceOffset: (location: number) => number;
}

export interface ParseFailure {
  readonly ok: false;
  /** The parser's message, e.g. `syntax error at or near ")"`. */
  readonly error: string;
  /** Character offset in the text the error points at, when the parser reported one. */
  readonly position: number | null;
}

export type ParseExpressionResult = ParsedExpression | ParseFailure;

/** Maps parser byte offsets (relative to the wrapped statement) to character offsets in `text`. */
export function makeOffsetMapper(text: string): (location: number) => number {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) {
    return (location) => (location < 0 ? -1 : Math.max(0, location - PREFIX_BYTES));
  }
  let table: Int32Array | null = null;
  return (location) => {
    if (location < 0) return -1;
    if (!table) {
      // table[byteOffset] = UTF-16 offset of the character starting at (or containing) that byte.
      const bytes = Buffer.byteLength(text, 'utf8');
      table = new Int32Array(bytes + 1);
      let b = 0;
      let u = 0;
      for (const ch of text) {
        const cp = ch.codePointAt(0) ?? 0;
        const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        for (let i = 0; i < n; i++) table[b + i] = u;
        b += n;
        u += ch.length;
      }
      table[bytes] = u;
    }
    const rel = location - PREFIX_BYTES;
    if (rel <= 0) return 0;
    if (rel >= table.length) return text.length;
    return table[rel] ?? text.length;
  };
}

const REJECT_KEYS = [
  'fromClause',
  'groupClause',
  'havingClause',
  'sortClause',
  'limitCount',
  'limitOffset',
  'withClause',
  'distinctClause',
  'lockingClause',
  'windowClause',
  'intoClause',
  'valuesLists',
] as const;

/**
 * Parses a policy expression. Never throws: an unparseable text (or one that is not a single expression)
 * gives `{ ok: false, error }` with the parser's message.
 */
export function parseExpression(text: string): ParseExpressionResult {
  if (typeof text !== 'string' || text.trim() === '') {
    return { ok: false, error: 'empty expression', position: null };
  }
  if (!ready) {
    return { ok: false, error: 'policy parser not initialised: await initPolicyParser() first', position: null };
  }
  const map = makeOffsetMapper(text);
  let result: ReturnType<typeof parseSync>;
  try {
    result = parseSync(PREFIX + text);
  } catch (err) {
    const e = err as { message?: unknown; sqlDetails?: { cursorPosition?: number } };
    const message = typeof e?.message === 'string' ? e.message : String(err);
    const cursor = e?.sqlDetails?.cursorPosition;
    // libpg-query's cursorPosition is a 0-based byte offset into the wrapped statement.
    const position = typeof cursor === 'number' && cursor >= 0 ? map(cursor) : null;
    return { ok: false, error: message, position };
  }
  const stmts = (result as { stmts?: unknown[] }).stmts ?? [];
  if (stmts.length !== 1) {
    return { ok: false, error: 'not a single expression (several statements)', position: null };
  }
  const stmt = (stmts[0] as { stmt?: Record<string, unknown> }).stmt;
  const select = stmt?.['SelectStmt'] as Record<string, unknown> | undefined;
  if (!select) return { ok: false, error: 'not a single expression', position: null };
  if (select['op'] !== undefined && select['op'] !== 'SETOP_NONE') {
    return { ok: false, error: 'not a single expression (set operation)', position: null };
  }
  for (const key of REJECT_KEYS) {
    const v = select[key];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)) {
      return { ok: false, error: `not a single expression (unexpected ${key})`, position: null };
    }
  }
  const where = select['whereClause'] as Node | undefined;
  const targets = select['targetList'] as unknown[] | undefined;
  if (!where || !targets || targets.length !== 1) {
    return { ok: false, error: 'not a single expression', position: null };
  }
  return { ok: true, ast: where, text, sourceOffset: map };
}
