import { describe, expect, test } from 'vitest';
import { introspect } from '../../src/introspect/index.ts';
import { loadOn, testEngines } from '../support/audit.ts';

const SQL = `
create table public."Odd Table" (id int primary key, "Name" text, b int, c int, d text);
create index plain on public."Odd Table" (b);
create unique index "Uniq Idx" on public."Odd Table" (c desc, b nulls first) include (d);
create index mixed on public."Odd Table" (b desc nulls last, c asc nulls first);
create index expr on public."Odd Table" (lower("Name"));
create index part on public."Odd Table" (c) where b > 0;
create index hashy on public."Odd Table" using hash (d);
`;

describe.each(testEngines())('index definitions (%s)', (engine) => {
  test('the reconstructed CREATE INDEX text equals pg_get_indexdef for plain indexes', async () => {
    const session = await loadOn(engine, SQL);
    try {
      const snapshot = await introspect(session, { exposedSchemas: ['public'] });
      const actual = await session.query<{ name: string; def: string }>(
        `select c.relname as name, pg_get_indexdef(c.oid) as def from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'i' order by 1`,
      );
      const ours = Object.fromEntries(snapshot.indexes.filter((i) => i.schema === 'public').map((i) => [i.name, i.definition]));
      expect(ours).toEqual(Object.fromEntries(actual.map((r) => [r.name, r.def])));
      const uniq = snapshot.indexes.find((i) => i.name === 'Uniq Idx')!;
      expect(uniq).toMatchObject({ columns: ['c', 'b'], includeColumns: ['d'], unique: true, options: [3, 2] });
      expect(snapshot.indexes.find((i) => i.name === 'expr')).toMatchObject({ columns: [null], expressions: 'lower("Name")' });
    } finally {
      await session.close();
    }
  });
});
