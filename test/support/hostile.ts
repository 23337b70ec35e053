/** Hostile identifiers shared by the safety, reporter and TUI tests. */
import { quoteIdent } from '../../src/model/ident.ts';

export const HOSTILE_NAMES = [
  'Robert"); DROP TABLE students;--',
  'name with spaces',
  'Ünïcødé_表',
  'line\nbreak',
  'ansi\u001b[31mred\u001b[0m',
  '<script>alert(1)</script>',
  '| md | table |',
  '`code` **bold**',
  "it's",
  'x'.repeat(63),
  'Mixed"Quote"s',
  'select',
];

/** A table, a column and a function named after each hostile name; none has RLS. */
export function hostileFixture(): string {
  return HOSTILE_NAMES.map(
    (name, i) => `create table public.${quoteIdent(name)} (id int primary key, ${quoteIdent(`pass word ${i}`)} text, ${quoteIdent(`${name}_col`.slice(0, 63))} text);
create function public.${quoteIdent(`${name}`.slice(0, 60) + '_f')}() returns int language sql as 'select ${i}';`,
  ).join('\n');
}
