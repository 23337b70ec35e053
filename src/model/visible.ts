/**
 * Text from the database (names, definitions, messages) made safe to show: every invisible
 * character (controls and ANSI escapes, bidi overrides and isolates, zero-width and other format
 * characters, separators, private and unassigned code points) is spelled out, so a name cannot
 * colour a terminal, start a new log line or display as another name. Reporters, the CLI's own
 * stderr lines and the comments of generated SQL all use these.
 */
import { INVISIBLE_CLASS } from './ident.ts';

const INVISIBLE_ALL = new RegExp(INVISIBLE_CLASS, 'gu');
const INVISIBLE_BUT_BREAKS = new RegExp(`(?![\\n\\t])${INVISIBLE_CLASS}`, 'gu');

function escapeChar(ch: string): string {
  const code = ch.codePointAt(0)!;
  return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Makes any database-provided string safe to print in a terminal or a plain-text file, on one
 * line: control characters (ANSI escapes, newlines, carriage returns, bidi overrides) are shown escaped.
 */
export function terminalSafe(text: string): string {
  return text.replace(INVISIBLE_ALL, (ch) => {
    switch (ch) {
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      default:
        return escapeChar(ch);
    }
  });
}

/**
 * For report formats read in other tools (SARIF viewers, JUnit dashboards): invisible characters
 * spelled out as `\uXXXX`, line breaks and tabs kept. A name cannot display as another name.
 */
export function visibleText(text: string): string {
  return text.replace(INVISIBLE_BUT_BREAKS, escapeChar);
}

/** Like `terminalSafe`, but keeps line breaks (for multi-line SQL we generated ourselves). */
export function terminalSafeMultiline(text: string): string {
  return text.split('\n').map(terminalSafe).join('\n');
}
