/**
 * A small lexer for the languages whose supabase client calls are read: identifiers, punctuation
 * and string literals with their line, comments dropped. It knows each language's comments and
 * strings (templates and interpolation, raw and triple-quoted strings, JavaScript regex literals),
 * which is all the call finder needs: a `.from('notes')` in a comment or inside a string is not a
 * call, and a chain split over lines with comments in between still is.
 *
 * It is not a parser and does not have to be right about everything: a quote it misreads (an
 * apostrophe in JSX text) costs at most the rest of that line, because one-line strings end there.
 */
import type { AppLanguage } from '../model/app.ts';

export interface Token {
  readonly type: 'id' | 'str' | 'punct' | 'other';
  readonly value: string;
  readonly line: number;
  /** Strings only: the literal has a placeholder (`${x}`, `$x`, `\(x)`, an f-string field). */
  readonly dynamic?: boolean;
}

/** Keywords after which a JavaScript `/` starts a regex literal rather than a division. */
const REGEX_AFTER_KEYWORD = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);

/** Where a placeholder stood in a dynamic string's value. */
export const PLACEHOLDER = '…';

const ID_START = /[A-Za-z_$\u00c0-\uffff]/;
const ID_PART = /[\w$\u00c0-\uffff]/;

export function tokenize(text: string, language: AppLanguage): Token[] {
  return new Lexer(text, language).run();
}

class Lexer {
  private i = 0;
  private line = 1;
  private readonly out: Token[] = [];
  /** Inside an interpolation: tokens are skipped, only the end of the placeholder matters. */
  private emit = true;
  /** The last token read, emitted or not (a `/` after it may start a regex). */
  private last: Token | undefined;

  constructor(
    private readonly text: string,
    private readonly language: AppLanguage,
  ) {}

  run(): Token[] {
    if (this.text.startsWith('#!')) this.skipLine();
    this.lex(null);
    return this.out;
  }

  /** Lexes until the end, or (inside an interpolation) until the unmatched `close` that ends it. */
  private lex(close: '}' | ')' | null): void {
    const { text, language } = this;
    let depth = 0;
    while (this.i < text.length) {
      const c = text[this.i]!;
      const next = text[this.i + 1];
      if (c === '\n') {
        this.line++;
        this.i++;
        continue;
      }
      if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\ufeff') {
        this.i++;
        continue;
      }
      if (language === 'python' ? c === '#' : c === '/' && next === '/') {
        this.skipLine();
        continue;
      }
      if (language !== 'python' && c === '/' && next === '*') {
        this.blockComment();
        continue;
      }
      if (close !== null) {
        if (c === '(' || c === '{' || c === '[') depth++;
        else if (c === ')' || c === '}' || c === ']') {
          if (depth === 0 && c === close) {
            this.i++;
            return;
          }
          depth--;
        }
      }
      if (this.string()) continue;
      if (ID_START.test(c)) {
        const start = this.i;
        while (this.i < text.length && ID_PART.test(text[this.i]!)) this.i++;
        const word = text.slice(start, this.i);
        // Python string prefixes (f'…', rb"…") and Dart raw strings (r'…') are part of the literal.
        if ((language === 'python' && /^[rRbBuUfF]{1,2}$/.test(word)) || (language === 'dart' && word === 'r')) {
          const quote = text[this.i];
          if (quote === '"' || quote === "'") {
            this.quoted(quote, word.toLowerCase());
            continue;
          }
        }
        this.push('id', word);
        continue;
      }
      if (/[0-9]/.test(c)) {
        const start = this.i;
        while (this.i < text.length && /[\w.]/.test(text[this.i]!) && !(text[this.i] === '.' && !/[0-9]/.test(text[this.i + 1] ?? ''))) this.i++;
        this.push('other', text.slice(start, this.i));
        continue;
      }
      if (language === 'js' && c === '/' && this.regexAllowed()) {
        if (this.regex()) continue;
      }
      if (c === '?' && next === '.' && !/[0-9]/.test(text[this.i + 2] ?? '')) {
        this.i += 2;
        this.push('punct', '?.');
        continue;
      }
      this.i++;
      this.push('punct', c);
    }
  }

  private push(type: Token['type'], value: string, dynamic?: boolean): void {
    const token: Token = dynamic === undefined ? { type, value, line: this.line } : { type, value, line: this.line, dynamic };
    this.last = token;
    if (this.emit) this.out.push(token);
  }

  /** A string token carries the line it starts on, however many lines it spans. */
  private pushString(value: string, dynamic: boolean, startLine: number): void {
    const line = this.line;
    this.line = startLine;
    this.push('str', value, dynamic);
    this.line = line;
  }

  private skipLine(): void {
    const end = this.text.indexOf('\n', this.i);
    this.i = end < 0 ? this.text.length : end;
  }

  /** `/* … *\/`; Dart, Swift and Kotlin nest them. */
  private blockComment(): void {
    const nests = this.language !== 'js';
    let depth = 0;
    while (this.i < this.text.length) {
      const c = this.text[this.i]!;
      if (c === '\n') this.line++;
      if (c === '/' && this.text[this.i + 1] === '*') {
        depth++;
        this.i += 2;
        if (!nests && depth > 1) depth = 1;
        continue;
      }
      if (c === '*' && this.text[this.i + 1] === '/') {
        depth--;
        this.i += 2;
        if (depth === 0) return;
        continue;
      }
      this.i++;
    }
  }

  /** A string literal of the language at the current position, if one starts here. */
  private string(): boolean {
    const c = this.text[this.i]!;
    switch (this.language) {
      case 'js':
        if (c === '`') return this.template(), true;
        if (c === '"' || c === "'") return this.quoted(c, ''), true;
        return false;
      case 'python':
      case 'dart':
        if (c === '"' || c === "'") return this.quoted(c, ''), true;
        return false;
      case 'swift':
        if (c === '"') return this.quoted(c, ''), true;
        if (c === '#' && /^#+"/.test(this.text.slice(this.i, this.i + 8))) return this.swiftRaw(), true;
        return false;
      case 'kotlin':
        if (c === '"') return this.quoted(c, ''), true;
        if (c === "'") return this.kotlinChar(), true;
        return false;
    }
  }

  /**
   * A quoted string (the prefix letters already read): triple-quoted ones span lines, others end at
   * their line's end so that a stray quote costs one line. Placeholders make it dynamic.
   */
  private quoted(quote: '"' | "'", prefix: string): void {
    const { text, language } = this;
    const startLine = this.line;
    const triple = text.startsWith(quote.repeat(3), this.i);
    this.i += triple ? 3 : 1;
    const raw = prefix.includes('r');
    let value = '';
    let dynamic = false;
    while (this.i < text.length) {
      const c = text[this.i]!;
      if (triple ? text.startsWith(quote.repeat(3), this.i) : c === quote) {
        this.i += triple ? 3 : 1;
        break;
      }
      if (c === '\n') {
        if (!triple) break;
        this.line++;
      }
      if (c === '\\') {
        // Raw strings keep the backslash, but an escaped quote still does not end them (Python).
        if (language === 'swift' && text[this.i + 1] === '(') {
          dynamic = true;
          value += PLACEHOLDER;
          this.i += 2;
          this.interpolation(')');
          continue;
        }
        const escaped = text[this.i + 1] ?? '';
        if (escaped === '\n') this.line++;
        value += raw ? c + escaped : escaped;
        this.i += 2;
        continue;
      }
      if (!raw && (language === 'dart' || language === 'kotlin') && c === '$') {
        if (text[this.i + 1] === '{') {
          dynamic = true;
          value += PLACEHOLDER;
          this.i += 2;
          this.interpolation('}');
          continue;
        }
        if (ID_START.test(text[this.i + 1] ?? '') && text[this.i + 1] !== '$') {
          dynamic = true;
          value += c;
          this.i++;
          continue;
        }
      }
      if (language === 'python' && prefix.includes('f') && (c === '{' || c === '}')) {
        // `{{` and `}}` are the braces themselves; a single `{` opens a field.
        if (text[this.i + 1] === c || c === '}') {
          value += c;
          this.i += text[this.i + 1] === c ? 2 : 1;
          continue;
        }
        dynamic = true;
        value += PLACEHOLDER;
        this.i++;
        this.interpolation('}');
        continue;
      }
      value += c;
      this.i++;
    }
    this.pushString(value, dynamic, startLine);
  }

  /** A JavaScript template literal: dynamic when it has a `${…}`. */
  private template(): void {
    const { text } = this;
    const startLine = this.line;
    this.i++;
    let value = '';
    let dynamic = false;
    while (this.i < text.length) {
      const c = text[this.i]!;
      if (c === '`') {
        this.i++;
        break;
      }
      if (c === '\n') this.line++;
      if (c === '\\') {
        value += text[this.i + 1] ?? '';
        if (text[this.i + 1] === '\n') this.line++;
        this.i += 2;
        continue;
      }
      if (c === '$' && text[this.i + 1] === '{') {
        dynamic = true;
        value += PLACEHOLDER;
        this.i += 2;
        this.interpolation('}');
        continue;
      }
      value += c;
      this.i++;
    }
    this.pushString(value, dynamic, startLine);
  }

  /** The code of a placeholder, lexed (its strings and braces nest) but not emitted. */
  private interpolation(close: '}' | ')'): void {
    const emit = this.emit;
    this.emit = false;
    this.lex(close);
    this.emit = emit;
  }

  /** Swift `#"…"#` (any number of `#`): no escapes, no interpolation we read. */
  private swiftRaw(): void {
    const hashes = /^#+/.exec(this.text.slice(this.i))![0];
    const startLine = this.line;
    const triple = this.text.startsWith('"""', this.i + hashes.length);
    const open = hashes + (triple ? '"""' : '"');
    const end = this.text.indexOf((triple ? '"""' : '"') + hashes, this.i + open.length);
    const stop = end < 0 ? this.text.length : end;
    const value = this.text.slice(this.i + open.length, stop);
    for (const ch of value) if (ch === '\n') this.line++;
    this.i = end < 0 ? this.text.length : end + open.length;
    this.pushString(value, false, startLine);
  }

  /** Kotlin `'a'`, `'\n'`, `'\u0041'`: a character, not a string. */
  private kotlinChar(): void {
    const m = /^'(?:\\u[0-9a-fA-F]{4}|\\.|[^'\\\n])'/.exec(this.text.slice(this.i, this.i + 10));
    this.i += m ? m[0].length : 1;
    this.push('other', m ? m[0] : "'");
  }

  /** After an operator, an opening bracket or a keyword, `/` starts a regex literal. */
  private regexAllowed(): boolean {
    const prev = this.last;
    if (!prev) return true;
    if (prev.type === 'punct') return prev.value !== ')' && prev.value !== ']' && prev.value !== '}';
    if (prev.type === 'id') return REGEX_AFTER_KEYWORD.has(prev.value);
    return false;
  }

  /** A regex literal; false (nothing read) when the line ends first: then it was a division. */
  private regex(): boolean {
    const { text } = this;
    let j = this.i + 1;
    let inClass = false;
    while (j < text.length) {
      const c = text[j]!;
      if (c === '\n') return false;
      if (c === '\\') {
        j += 2;
        continue;
      }
      if (c === '[') inClass = true;
      else if (c === ']') inClass = false;
      else if (c === '/' && !inClass) break;
      j++;
    }
    if (j >= text.length) return false;
    j++;
    while (j < text.length && /[a-z]/i.test(text[j]!)) j++;
    this.push('other', text.slice(this.i, j));
    this.i = j;
    return true;
  }
}
