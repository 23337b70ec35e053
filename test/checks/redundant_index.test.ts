import { describe, expect, it } from 'vitest';
import check from '../../checks/redundant_index.ts';
import { auditOn, auditSession, loadOn, objectsOf, testEngines } from '../support/audit.ts';

const ID = 'redundant_index';
const options = { checks: [check] };

const SCHEMA = `
-- near misses: the narrow index does something the wide one can't, or must stay
create table public.near (id bigint primary key, a int, b int, c int, t text);
create unique index near_a_unique on public.near (a);
create index near_a_b on public.near (a, b);
create index near_b on public.near (b, c);
create index near_c_partial on public.near (c) where c > 0;
create index near_c_b on public.near (c, b);
create index near_t_pattern on public.near (t text_pattern_ops);
create index near_t_id on public.near (t, id);
create index near_lower_t on public.near (lower(t));
create index near_lower_t_a on public.near (lower(t), a);
create table public.near_partial_wide (id bigint primary key, a int, b int);
create index near_partial_wide_a on public.near_partial_wide (a);
create index near_partial_wide_a_b on public.near_partial_wide (a, b) where b > 0;
create table public.near_include (id bigint primary key, a int, b int, c int);
create index near_include_a on public.near_include (a) include (c);
create index near_include_a_b on public.near_include (a, b);
create table public.near_desc (id bigint primary key, a int, b int);
create index near_desc_a on public.near_desc (a desc);
create index near_desc_a_b on public.near_desc (a, b);
create table public.near_constraint (a int, b int, constraint near_constraint_a_key unique (a));
create index near_constraint_a_b on public.near_constraint (a, b);
create table auth.redundant_things (a int, b int);
create index redundant_things_a on auth.redundant_things (a);
create index redundant_things_a_b on auth.redundant_things (a, b);

-- positives
create table public.tasks (id bigint primary key, project_id int, status text);
create index tasks_project_id_idx on public.tasks (project_id);
create index tasks_project_id_status_idx on public.tasks (project_id, status);
create table public.uniq (id bigint primary key, code text);
create index uniq_code_idx on public.uniq (code);
create unique index uniq_code_key on public.uniq (code);
create table public."My Table" (id bigint primary key, "Col A" int, "Col B" int, c int);
create index "My A" on public."My Table" ("Col A") include (c);
create index "My A B" on public."My Table" ("Col A", "Col B") include (c);
create index "My A B C" on public."My Table" ("Col A", "Col B", c);
`;

describe.each(testEngines())('redundant_index on %s', (engine) => {
  it('finds nothing in an empty schema', async () => {
    const { findings } = await auditOn(engine, 'select 1;', options);
    expect(objectsOf(findings, ID)).toEqual([]);
  });

  it('reports prefixes of wider indexes only, and its fix SQL clears them', async () => {
    const { findings } = await auditOn(engine, SCHEMA, options);
    const mine = findings.filter((f) => f.check === ID);
    expect(mine.map((f) => f.fingerprint).sort()).toEqual(
      ['public.My Table:My A', 'public.My Table:My A B', 'public.tasks:tasks_project_id_idx', 'public.uniq:uniq_code_idx'].map((f) => `${ID}:${f}`),
    );
    expect(mine.every((f) => f.level === 'low')).toBe(true);
    const quoted = mine.find((f) => f.fingerprint.endsWith(':My A'))!;
    expect(quoted.remediation.sql).toBe('DROP INDEX CONCURRENTLY public."My A";');
    // The narrowest cover is named.
    expect(quoted.message).toContain('"My A B"');
    expect(mine.find((f) => f.object.name === 'uniq')?.message).toContain('uniq_code_key');

    const session = await loadOn(engine, SCHEMA, ...mine.map((f) => f.remediation.sql!));
    try {
      const after = await auditSession(session, options);
      expect(objectsOf(after.findings, ID)).toEqual([]);
    } finally {
      await session.close();
    }
  });
});
