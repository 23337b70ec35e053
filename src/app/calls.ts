/**
 * Finds supabase client calls in a token stream (src/app/lexer.ts): `.from('t')` and what the
 * chain does with it, `.schema('s').from('t')`, `.rpc('fn')`, `.storage.from('b')`, Realtime
 * postgres_changes filters, and Kotlin's `postgrest["t"]`, in each language's client idiom. Pure.
 *
 * `.from(` is a common method name (Array.from, Buffer.from, a query builder's `select().from()`,
 * dayjs's relative time), so a call counts only when it looks like a supabase client's: the
 * receiver is not a class or a known library, the chain goes on with a PostgREST verb or the
 * receiver names supabase; a literal name in a file that mentions supabase is enough too.
 */
import type { AppCallKind, AppLanguage } from '../model/app.ts';
import type { Token } from './lexer.ts';

/** A call as written, before the file's side and role are known (src/app/usage.ts adds them). */
export interface FoundCall {
  readonly kind: AppCallKind;
  /** The literal name; null when it is not a literal (then `expression` says what it was). */
  readonly name: string | null;
  readonly expression: string;
  readonly schema?: string;
  readonly operations: readonly string[];
  readonly channel?: string;
  readonly line: number;
  /** The receiver chain, nearest first (`supabaseAdmin`, `schema`, …): its names tell the client. */
  readonly receiver: readonly string[];
}

export interface CallContext {
  readonly language: AppLanguage;
  /** The file names supabase or PostgREST outside comments (an import, a client factory, a type). */
  readonly mentionsSupabase: boolean;
}

/** Methods that open a table: `.from()` everywhere but Python, whose client has `.table()` and `.from_()`. */
const TABLE_METHODS: Readonly<Record<AppLanguage, ReadonlySet<string>>> = {
  js: new Set(['from']),
  dart: new Set(['from']),
  swift: new Set(['from']),
  kotlin: new Set(['from']),
  python: new Set(['table', 'from_']),
};

/** What a chain on a table does, by its method names. */
const TABLE_OPERATIONS = new Map([
  ['select', 'select'],
  ['insert', 'insert'],
  ['update', 'update'],
  ['upsert', 'upsert'],
  ['delete', 'delete'],
  ['stream', 'stream'],
  ['selectAsFlow', 'stream'],
  ['selectSingleValueAsFlow', 'stream'],
]);

/** Realtime postgres_changes listeners: supabase-js `.on('postgres_changes', {…})` and the other clients' methods. */
const REALTIME_METHODS = new Set(['onPostgresChanges', 'on_postgres_changes', 'postgresChange', 'postgresChangeFlow', 'postgresListDataFlow', 'postgresSingleDataFlow']);

/** Receivers whose `.from()` is never a supabase client's. */
const NOT_CLIENTS = new Set(['knex', 'trx', 'dayjs', 'moment', 'luxon', 'rx', 'rxjs', 'lodash', '_', 'R', 'it', 'itertools', 'np', 'pd', 'df', 'stream', 'iter', 'Iterator']);

/** A `.from()` right after one of these is a SQL query builder's (knex, drizzle, kysely), not PostgREST's. */
const BUILDER_VERBS = new Set(['select', 'selectDistinct', 'distinct', 'selectFrom', 'insert', 'insertInto', 'update', 'delete', 'deleteFrom', 'where', 'join', 'with', 'query', 'raw', 'createQueryBuilder', 'from', 'count', 'countDistinct']);

const KEYWORDS = new Set(['if', 'for', 'while', 'switch', 'catch', 'return', 'typeof', 'await', 'new', 'function', 'elif', 'and', 'or', 'not', 'in', 'is', 'guard', 'when', 'try']);

interface Segment {
  readonly name: string;
  /** `(` and `)` of a call's arguments or of a parenthesized expression. */
  readonly open?: number;
  readonly close?: number;
  readonly paren?: boolean;
}

export function findCalls(tokens: readonly Token[], context: CallContext): FoundCall[] {
  return new Finder(tokens, context).run();
}

class Finder {
  private readonly match = new Map<number, number>();
  private readonly found: FoundCall[] = [];

  constructor(
    private readonly tokens: readonly Token[],
    private readonly context: CallContext,
  ) {
    this.pairBrackets();
  }

  run(): FoundCall[] {
    const { tokens } = this;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.type !== 'id') continue;
      if (this.context.language === 'kotlin' && (t.value === 'postgrest' || t.value === 'storage') && this.is(i + 1, '[')) {
        this.kotlinIndex(i);
        continue;
      }
      if (!this.is(i - 1, '.') && !this.is(i - 1, '?.')) continue;
      if (TABLE_METHODS[this.context.language].has(t.value)) this.tableOrBucket(i);
      else if (t.value === 'rpc') this.rpc(i);
      else if (REALTIME_METHODS.has(t.value) || (t.value === 'on' && this.context.language === 'js')) this.realtime(i);
    }
    return this.found;
  }

  /** `(`/`)`, `[`/`]`, `{`/`}` paired both ways; a stray closer (misread JSX) is skipped, not fatal. */
  private pairBrackets(): void {
    const stack: number[] = [];
    const opener: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
    this.tokens.forEach((t, i) => {
      if (t.type !== 'punct') return;
      if (t.value === '(' || t.value === '[' || t.value === '{') stack.push(i);
      else if (opener[t.value]) {
        const at = stack.findLastIndex((j) => this.tokens[j]!.value === opener[t.value]);
        if (at < 0) return;
        const open = stack[at]!;
        stack.length = at;
        this.match.set(open, i);
        this.match.set(i, open);
      }
    });
  }

  private is(i: number, punct: string): boolean {
    const t = this.tokens[i];
    return t !== undefined && t.type === 'punct' && t.value === punct;
  }

  /** The index of `(` after a method name, past type arguments (`from<Note>(…)`); null when no call follows. */
  private argsOpen(nameIndex: number): number | null {
    let j = nameIndex + 1;
    if (this.is(j, '<')) {
      let depth = 0;
      for (let k = j; k < Math.min(this.tokens.length, j + 40); k++) {
        if (this.is(k, '<')) depth++;
        else if (this.is(k, '>') && --depth === 0) {
          j = k + 1;
          break;
        } else if (this.is(k, ';') || this.is(k, '{') || this.is(k, ')')) return null;
      }
    }
    return this.is(j, '(') && this.match.has(j) ? j : null;
  }

  /** The first argument's tokens (up to a top-level comma). */
  private firstArg(open: number): Token[] {
    const close = this.match.get(open)!;
    const arg: Token[] = [];
    for (let k = open + 1; k < close; k++) {
      if (this.is(k, ',')) break;
      const m = this.match.get(k);
      if (m !== undefined && m > k) {
        arg.push(...this.tokens.slice(k, m + 1));
        k = m;
        continue;
      }
      arg.push(this.tokens[k]!);
    }
    return arg;
  }

  /** A literal name (`'notes'`, `'notes' as const`), or null with the argument as written. */
  private literal(arg: readonly Token[]): { name: string | null; expression: string } {
    const first = arg[0];
    const literal = first?.type === 'str' && !first.dynamic && (arg.length === 1 || (arg[1]?.type === 'id' && arg[1].value === 'as'));
    return { name: literal ? first.value : null, expression: written(arg) };
  }

  /** The receiver chain before the `.` at `dot`, nearest first: `a.b().c` gives c, b, a. */
  private receiver(dot: number): Segment[] {
    const segments: Segment[] = [];
    let j = dot - 1;
    while (j >= 0 && segments.length < 16) {
      const t = this.tokens[j]!;
      if (this.is(j, '!')) {
        j--;
        continue;
      }
      if (this.is(j, ']')) {
        const open = this.match.get(j);
        if (open === undefined) break;
        segments.push({ name: '[]', open, close: j });
        j = open - 1;
        continue;
      }
      if (this.is(j, ')')) {
        const open = this.match.get(j);
        if (open === undefined) break;
        let k = open - 1;
        if (this.is(k, '>')) k = this.typeArgsStart(k) - 1;
        const callee = this.tokens[k];
        if (callee?.type === 'id' && !KEYWORDS.has(callee.value)) {
          segments.push({ name: callee.value, open, close: j });
          j = k - 1;
        } else {
          segments.push({ name: '()', open, close: j, paren: true });
          break;
        }
      } else if (t.type === 'id') {
        segments.push({ name: t.value });
        j--;
      } else break;
      if (this.is(j, '.') || this.is(j, '?.')) {
        j--;
        continue;
      }
      break;
    }
    return segments;
  }

  /** The `<` that opens the type arguments ending at `>` (`rpc<Result>(…)`), or `end` + 1 when none. */
  private typeArgsStart(end: number): number {
    let depth = 0;
    for (let k = end; k >= Math.max(0, end - 40); k--) {
      if (this.is(k, '>')) depth++;
      else if (this.is(k, '<') && --depth === 0) return k;
    }
    return end + 1;
  }

  /** Names in the receiver chain, and the identifiers inside a parenthesized receiver (`(await createClient())`). */
  private receiverNames(segments: readonly Segment[]): string[] {
    const names: string[] = [];
    for (const s of segments) {
      if (!s.paren) names.push(s.name);
      else for (let k = s.open! + 1; k < s.close!; k++) if (this.tokens[k]!.type === 'id') names.push(this.tokens[k]!.value);
    }
    return names;
  }

  /** Method names of the chain after `end` (a `)` or `]`): `.select().eq()` gives select, eq. */
  private chainAfter(end: number): string[] {
    const names: string[] = [];
    const trailingLambda = this.context.language === 'kotlin' || this.context.language === 'swift';
    let j = end + 1;
    while (j < this.tokens.length && names.length < 40) {
      if (this.is(j, '!') || this.is(j, '?')) {
        j++;
        continue;
      }
      if (!(this.is(j, '.') || this.is(j, '?.')) || this.tokens[j + 1]?.type !== 'id') break;
      names.push(this.tokens[j + 1]!.value);
      j += 2;
      const open = this.argsOpen(j - 1);
      if (open !== null) j = this.match.get(open)! + 1;
      if (trailingLambda && this.is(j, '{') && this.match.has(j)) j = this.match.get(j)! + 1;
    }
    return names;
  }

  /** Is this the supabase client's method, not another library's? */
  private clientLike(segments: readonly Segment[], names: readonly string[], literal: boolean, continues: boolean): boolean {
    const nearest = segments[0];
    if (!nearest) return false;
    if (!nearest.paren && (/^[A-Z]/.test(nearest.name) || NOT_CLIENTS.has(nearest.name))) return false;
    if (nearest.open !== undefined && !nearest.paren && BUILDER_VERBS.has(nearest.name)) return false;
    if (names.some((n) => /supabase|postgrest/i.test(n))) return true;
    if (continues) return true;
    return literal && this.context.mentionsSupabase;
  }

  /** The string argument of a `schema(…)`/`channel(…)` call in the receiver chain. */
  private segmentString(segments: readonly Segment[], method: string): string | undefined {
    const s = segments.find((x) => x.name === method && x.open !== undefined && !x.paren);
    if (!s) return undefined;
    const arg = this.firstArg(s.open!);
    return arg.length === 1 && arg[0]!.type === 'str' && !arg[0]!.dynamic ? arg[0]!.value : undefined;
  }

  private record(call: Omit<FoundCall, 'receiver'>, names: readonly string[]): void {
    this.found.push({ ...call, receiver: names });
  }

  /** A method call with a first argument: where its arguments open, that argument, and the receiver chain. */
  private methodCall(i: number): { open: number; arg: Token[]; segments: Segment[]; names: string[] } | null {
    const open = this.argsOpen(i);
    if (open === null) return null;
    const arg = this.firstArg(open);
    if (arg.length === 0) return null;
    const segments = this.receiver(i - 1);
    return { open, arg, segments, names: this.receiverNames(segments) };
  }

  /** `.from('t')` (or Python's `.table('t')`/`.from_('t')`); after `.storage`, a bucket. */
  private tableOrBucket(i: number): void {
    const call = this.methodCall(i);
    if (!call) return;
    const { open, arg, segments, names } = call;
    const bucket = segments[0]?.name === 'storage';
    const chain = this.chainAfter(this.match.get(open)!);
    const operations = bucket ? chain.slice(0, 1) : tableOperations(chain);
    const { name, expression } = this.literal(arg);
    // A storage chain goes on with any of the storage methods; a table chain with a PostgREST verb.
    const continues = bucket ? chain.length > 0 || names.some((n) => /storage/i.test(n)) : operations.length > 0;
    if (!this.clientLike(segments, names, name !== null, continues)) return;
    const schema = bucket ? undefined : this.segmentString(segments, 'schema');
    this.record(
      {
        kind: bucket ? 'bucket' : 'table',
        name,
        expression: `${this.tokens[i]!.value}(${expression})`,
        ...(schema !== undefined ? { schema } : {}),
        operations,
        line: this.tokens[i]!.line,
      },
      names,
    );
  }

  /** `.rpc('fn', args)`, `.schema('s').rpc('fn')`. */
  private rpc(i: number): void {
    const call = this.methodCall(i);
    if (!call) return;
    const { arg, segments, names } = call;
    const { name, expression } = this.literal(arg);
    // Other libraries have an rpc() too (JSON-RPC providers): the receiver or the file must name supabase.
    if (!this.clientLike(segments, names, name !== null, false)) return;
    const schema = this.segmentString(segments, 'schema');
    this.record({ kind: 'rpc', name, expression: `rpc(${expression})`, ...(schema !== undefined ? { schema } : {}), operations: ['call'], line: this.tokens[i]!.line }, names);
  }

  /** Kotlin `postgrest["t"]` (a table) and `storage["b"]` (a bucket). */
  private kotlinIndex(i: number): void {
    const open = i + 1;
    const close = this.match.get(open);
    if (close === undefined) return;
    const arg = this.tokens.slice(open + 1, close);
    const { name, expression } = this.literal(arg);
    const segments = this.receiver(i + 1);
    const names = this.receiverNames(segments);
    const bucket = this.tokens[i]!.value === 'storage';
    const chain = this.chainAfter(close);
    const operations = bucket ? chain.slice(0, 1) : tableOperations(chain);
    this.record({ kind: bucket ? 'bucket' : 'table', name, expression: `${this.tokens[i]!.value}[${expression}]`, operations, line: this.tokens[i]!.line }, names);
  }

  /**
   * A Realtime postgres_changes listener: the table, schema and event of its filter, wherever the
   * client puts them (an object, named arguments, a Kotlin lambda); no table means every table.
   */
  private realtime(i: number): void {
    const method = this.tokens[i]!.value;
    const open = this.argsOpen(i);
    if (open === null) return;
    const close = this.match.get(open)!;
    if (method === 'on') {
      const first = this.firstArg(open);
      if (!(first.length === 1 && first[0]!.type === 'str' && first[0]!.value === 'postgres_changes')) return;
    }
    // The range read: type arguments (`<PostgresAction.Insert>`), the arguments, a trailing lambda.
    let end = close;
    if (this.context.language === 'kotlin' && this.is(close + 1, '{') && this.match.has(close + 1)) end = this.match.get(close + 1)!;
    const range = this.tokens.slice(i + 1, end + 1);
    const keyed = (key: string): Token | undefined => {
      const at = range.findIndex((t, k) => t.type === 'id' && t.value === key && (range[k + 1]?.value === ':' || range[k + 1]?.value === '=') && range[k + 1]?.type === 'punct');
      return at < 0 ? undefined : range[at + 2];
    };
    const table = keyed('table');
    const schemaToken = keyed('schema');
    const segments = this.receiver(i - 1);
    const names = this.receiverNames(segments);
    const channel = this.segmentString(segments, 'channel');
    const schema = schemaToken?.type === 'str' && !schemaToken.dynamic ? schemaToken.value : undefined;
    const event = realtimeEvent(range, keyed('event'), this.firstArg(open)[0]);
    const tableArg = table ? [table] : [];
    const literal = table === undefined ? { name: '*', expression: '*' } : this.literal(tableArg);
    this.record(
      {
        kind: 'channel',
        name: literal.name,
        expression: `${method}(table: ${literal.expression})`,
        ...(schema !== undefined ? { schema } : {}),
        operations: event ? [event] : [],
        ...(channel !== undefined ? { channel } : {}),
        line: this.tokens[i]!.line,
      },
      names,
    );
  }
}

/** The event a listener asks for: `event: 'INSERT'`, `PostgresChangeEvent.insert`, `InsertAction.self`, `PostgresAction.Insert`, Python's first argument. */
function realtimeEvent(range: readonly Token[], keyed: Token | undefined, first: Token | undefined): string | undefined {
  const normal = (value: string): string | undefined => {
    const v = value.toLowerCase().replace(/action$/, '');
    if (v === '*' || v === 'all' || v === 'any') return 'all';
    return v === 'insert' || v === 'update' || v === 'delete' ? v : undefined;
  };
  if (keyed?.type === 'str') return normal(keyed.value);
  if (first?.type === 'str' && first.value !== 'postgres_changes') {
    const e = normal(first.value);
    if (e) return e;
  }
  for (let k = 0; k < range.length; k++) {
    const t = range[k]!;
    if (t.type !== 'id') continue;
    const qualified = range[k - 1]?.value === '.' && /^(PostgresChangeEvent|PostgresAction)$/.test(range[k - 2]?.value ?? '');
    if (qualified || /^(Insert|Update|Delete|Any)Action$/.test(t.value)) {
      const e = normal(t.value);
      if (e) return e;
    }
  }
  return undefined;
}

/** The PostgREST verbs of a chain on a table, each once. */
function tableOperations(chain: readonly string[]): string[] {
  return [...new Set(chain.map((n) => TABLE_OPERATIONS.get(n)).filter((n): n is string => n !== undefined))];
}

/** An argument as it was written, shortened for reports: identifiers spaced, punctuation tight. */
function written(arg: readonly Token[]): string {
  let text = '';
  for (const t of arg) {
    const piece = t.type !== 'str' ? t.value : t.dynamic ? `\`${t.value}\`` : JSON.stringify(t.value);
    const prev = text[text.length - 1];
    text += prev !== undefined && /[\w"$]/.test(prev) && /^[\w"$]/.test(piece) ? ` ${piece}` : piece;
    if (text.length > 60) return `${text.slice(0, 57)}…`;
  }
  return text;
}
