import { describe, expect, it } from 'vitest';
import check from '../../checks/unindexed_foreign_keys.ts';
import { auditOn, auditSession, loadOn, objectsOf, testEngines } from '../support/audit.ts';

const ID = 'unindexed_foreign_keys';
const options = { checks: [check] };

const LONG = 'table_name_long_enough_to_push_generated_index_names_over_ñ_ñ'; // 63 bytes

const SCHEMA = `
create table public.parents (id bigint primary key, a int not null, b int not null, unique (a, b));
create table public."Parent Two" ("Id" bigint primary key);

-- near misses
create table public.covered (id bigint primary key, parent_id bigint references public.parents (id));
create index covered_parent_id_id_idx on public.covered (parent_id, id);
create table public.pk_other_order (a int, b int, note text, primary key (b, a), foreign key (a, b) references public.parents (a, b));
create table public.hashed (id bigint primary key, parent_id bigint references public.parents (id));
create index hashed_parent_id_idx on public.hashed using hash (parent_id);
create table public.parted (id bigint not null, parent_id bigint references public.parents (id)) partition by range (id);
create table public.parted_1 partition of public.parted for values from (0) to (100);
create index parted_parent_id_idx on public.parted (parent_id);
create table auth.audit_things (user_id uuid references auth.users (id));

-- positives
create table public.partial_only (id bigint primary key, parent_id bigint references public.parents (id));
create index partial_only_parent_id_idx on public.partial_only (parent_id) where parent_id is not null;
create table public.second_column (id bigint primary key, parent_id bigint references public.parents (id));
create index second_column_id_parent_id_idx on public.second_column (id, parent_id);
create table public.expression_only (id bigint primary key, parent_id bigint references public.parents (id));
create index expression_only_expr_idx on public.expression_only ((parent_id + 0));
create table public.half_covered (id bigint primary key, a int, b int, foreign key (a, b) references public.parents (a, b));
create index half_covered_a_idx on public.half_covered (a);
create table public."My Table" (id bigint primary key, "Parent Id" bigint references public."Parent Two" ("Id"));
create table public.parted_unindexed (id bigint not null, parent_id bigint references public.parents (id)) partition by range (id);
create table public.parted_unindexed_1 partition of public.parted_unindexed for values from (0) to (100);
create index parted_unindexed_1_parent_id_idx on public.parted_unindexed_1 (parent_id);
create table public.${LONG} (id bigint primary key, parent_id bigint references public.parents (id));
create table public.big (id bigint primary key, parent_id bigint references public.parents (id));
insert into public.parents (id, a, b) values (1, 1, 1);
insert into public.big select i, 1 from generate_series(1, 12000) i;
`;

describe.each(testEngines())('unindexed_foreign_keys on %s', (engine) => {
  it('finds nothing in an empty schema', async () => {
    const { findings } = await auditOn(engine, 'select 1;', options);
    expect(objectsOf(findings, ID)).toEqual([]);
  });

  it('reports uncovered keys only, and its fix SQL clears them', async () => {
    const { findings } = await auditOn(engine, SCHEMA, options);
    const mine = findings.filter((f) => f.check === ID);
    expect(objectsOf(findings, ID)).toEqual(
      [
        'public.My Table',
        `public.${LONG}`,
        'public.big',
        'public.expression_only',
        'public.half_covered',
        'public.parted_unindexed',
        'public.partial_only',
        'public.second_column',
      ].sort(),
    );
    expect(mine.find((f) => f.object.name === 'My Table')?.fingerprint).toBe(`${ID}:public.My Table:My Table_Parent Id_fkey`);
    expect(mine.find((f) => f.object.name === 'half_covered')?.fingerprint).toBe(`${ID}:public.half_covered:half_covered_a_b_fkey`);
    expect(objectsOf(findings, ID)).not.toContain('auth.audit_things');
    expect(mine.find((f) => f.object.name === 'big')?.level).toBe('low');
    expect(mine.find((f) => f.object.name === 'partial_only')?.level).toBe('info');

    const quoted = mine.find((f) => f.object.name === 'My Table')!;
    expect(quoted.remediation.sql).toBe('CREATE INDEX CONCURRENTLY "My Table_Parent Id_idx" ON public."My Table" ("Parent Id");');
    expect(mine.find((f) => f.object.name === 'parted_unindexed')?.remediation.sql).toBe(
      'CREATE INDEX parted_unindexed_parent_id_idx ON public.parted_unindexed (parent_id);',
    );
    for (const f of mine) {
      const name = /^CREATE INDEX (?:CONCURRENTLY )?("(?:[^"]|"")+"|\S+) ON /.exec(f.remediation.sql!)![1]!.replace(/^"|"$/g, '');
      expect(Buffer.byteLength(name, 'utf8'), name).toBeLessThanOrEqual(63);
    }

    // One statement per load: CREATE INDEX CONCURRENTLY cannot share a transaction block.
    const session = await loadOn(engine, SCHEMA, ...mine.map((f) => f.remediation.sql!));
    try {
      const after = await auditSession(session, options);
      expect(objectsOf(after.findings, ID)).toEqual([]);
    } finally {
      await session.close();
    }
  });
});
