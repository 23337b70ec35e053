/**
 * Splitting SQL files a chunk at a time (targets/sql-files.ts): the statements and their lines are
 * those of parsing the whole file at once, also where a chunk's first cut falls inside a dollar-quoted
 * body, a string or a BEGIN ATOMIC body, and a syntax error names its real line.
 */
import { loadModule, parseSync } from 'libpg-query';
import { beforeAll, describe, expect, test } from 'vitest';
import { splitStatements } from '../../src/introspect/targets/sql-files.ts';

beforeAll(async () => {
  await loadModule();
});

/** The statements as one parse of the whole text gives them (what the splitter did before chunks). */
function wholeFile(text: string): { sql: string; line: number }[] {
  const bytes = Buffer.from(text, 'utf8');
  const newlines: number[] = [];
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) newlines.push(i);
  /** 1 + the newlines before the byte offset. */
  const lineAt = (offset: number) => {
    let lo = 0;
    let hi = newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (newlines[mid]! < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
  return (parseSync(text).stmts ?? []).map((s) => {
    const start = s.stmt_location ?? 0;
    const sql = bytes.subarray(start, s.stmt_len ? start + s.stmt_len : bytes.length).toString('utf8');
    const leading = sql.length - sql.trimStart().length;
    return { sql, line: lineAt(start) + sql.slice(0, leading).split('\n').length - 1 };
  });
}

/** Filler statements until the text is `bytes` long (about), one per line. */
function filler(from: number, bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  for (let i = from; size < bytes; i++) {
    const line = `insert into public.t (id, note) values (${i}, 'é ${'x'.repeat(60)}');\n`;
    lines.push(line);
    size += Buffer.byteLength(line);
  }
  return lines.join('');
}

const MB = 1024 * 1024;

describe('splitting a large SQL file a chunk at a time', () => {
  // Each statement starts just before the 1 MB mark, where the first cut is tried, and has `;` line ends inside.
  test.each([
    ['a dollar-quoted body', `create function public.f() returns void language plpgsql as $$\nbegin\n${Array.from({ length: 8_000 }, (_, i) => `  perform ${i};\n`).join('')}end;\n$$;\n`, /^\s*perform \d/],
    ['a string', `insert into public.t (id, note) values (-1, '${Array.from({ length: 8_000 }, (_, i) => `line ${i};`).join('\n')}');\n`, /^\s*line \d/],
    ['a BEGIN ATOMIC body', `create function public.g() returns int language sql begin atomic\n${Array.from({ length: 8_000 }, () => '  select 1;\n').join('')}end;\n`, /^\s*(select 1|end)\s*$/],
    ['a block comment', `/* ${Array.from({ length: 8_000 }, (_, i) => `drop table t${i};`).join('\n')} */ select 1;\n`, /^\s*drop table/],
  ] as const)('a statement the first cut falls inside (%s) comes out whole, every statement on its line', (_what, statement, fragment) => {
    const text = filler(0, MB - 50_000) + statement + filler(100_000, 200_000) + '-- the end;\n';
    const split = splitStatements({ path: 'seed.sql', text }, 'seed.sql');
    expect(split.map(({ sql, line }) => ({ sql, line }))).toEqual(wholeFile(text));
    // Not cut into pieces at the 1 MB mark.
    expect(split.filter((s) => fragment.test(s.sql))).toEqual([]);
  });

  test('a syntax error far into a large file names its own line', () => {
    const head = filler(0, 2 * MB);
    const line = head.split('\n').length;
    const text = `${head}insert into public.t values (1, 'a') oops;\n${filler(500_000, 100_000)}`;
    expect(() => splitStatements({ path: 'seed.sql', text }, 'seed.sql')).toThrow(new RegExp(`^seed\\.sql:${line}: syntax error at or near "oops"$`));
  });
});
