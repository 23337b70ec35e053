import { describe, expect, it } from 'vitest';
import check from '../../checks/duplicate_index.ts';
import type { Finding } from '../../src/model/finding.ts';
import { auditOn, auditSession, loadOn, objectsOf, testEngines } from '../support/audit.ts';

const ID = 'duplicate_index';
const options = { checks: [check] };

const SCHEMA = `
-- near misses: each pair differs in one thing that matters
create table public.near (id bigint primary key, a int, b int, c int, t text, e text);
create index near_a_idx on public.near (a);
create index near_a_partial_idx on public.near (a) where a > 0;
create index near_a_desc_idx on public.near (a desc);
create unique index near_a_unique_idx on public.near (a);
create index near_a_include_idx on public.near (a) include (b);
create index near_a_hash_idx on public.near using hash (a);
create index near_t_idx on public.near (t);
create index near_t_pattern_idx on public.near (t text_pattern_ops);
create index near_t_collate_idx on public.near (t collate "C");
create index near_lower_t_idx on public.near (lower(t));
create index near_upper_t_idx on public.near (upper(t));
create index near_ab_idx on public.near (a, b);
create index near_ba_idx on public.near (b, a);
create index near_b_invalid_1 on public.near (c);
create index near_b_invalid_2 on public.near (c);
update pg_index set indisvalid = false where indexrelid = 'public.near_b_invalid_2'::regclass;
create table auth.dup_things (a int);
create index dup_things_a1 on auth.dup_things (a);
create index dup_things_a2 on auth.dup_things (a);

-- positives
create table public.plain (id bigint primary key, status text);
create index plain_status_idx on public.plain (status);
create index idx_plain_status on public.plain (status);
create index plain_status_again on public.plain (status);
create table public.keyed (id bigint primary key, email text);
create unique index keyed_id_idx on public.keyed (id);
create table public.constrained (id bigint primary key);
alter table public.constrained add constraint constrained_id_key unique (id);
create table public.exprs (id bigint primary key, email text);
create index exprs_email_a on public.exprs (lower(email)) where email is not null;
create index exprs_email_b on public.exprs (lower(email)) where email is not null;
create table public."My Table" (id bigint primary key, "Col A" int);
create index "My Index" on public."My Table" ("Col A") include (id);
create index "my index 2" on public."My Table" ("Col A") include (id);
create table public.parted (id bigint not null, k int) partition by range (id);
create table public.parted_1 partition of public.parted for values from (0) to (100);
create index parted_k_a on public.parted (k);
create index parted_k_b on public.parted (k);
`;

const fingerprints = (findings: readonly Finding[]) =>
  findings
    .filter((f) => f.check === ID)
    .map((f) => f.fingerprint)
    .sort();

describe.each(testEngines())('duplicate_index on %s', (engine) => {
  it('finds nothing in an empty schema', async () => {
    const { findings } = await auditOn(engine, 'select 1;', options);
    expect(objectsOf(findings, ID)).toEqual([]);
  });

  it('reports each group once, keeps the right index, and its fix SQL clears them', async () => {
    const { findings } = await auditOn(engine, SCHEMA, options);
    expect(fingerprints(findings)).toEqual(
      [
        'public.My Table:My Index,my index 2',
        'public.constrained:constrained_id_key,constrained_pkey',
        'public.exprs:exprs_email_a,exprs_email_b',
        'public.keyed:keyed_id_idx,keyed_pkey',
        'public.parted:parted_k_a,parted_k_b',
        'public.plain:idx_plain_status,plain_status_again,plain_status_idx',
      ].map((f) => `${ID}:${f}`),
    );
    const mine = findings.filter((f) => f.check === ID);
    expect(mine.every((f) => f.level === 'medium')).toBe(true);
    const sqlOf = (table: string) => mine.find((f) => f.object.name === table)?.remediation.sql;
    expect(sqlOf('plain')).toBe('DROP INDEX CONCURRENTLY public.plain_status_again;\nDROP INDEX CONCURRENTLY public.plain_status_idx;');
    expect(sqlOf('keyed')).toBe('DROP INDEX CONCURRENTLY public.keyed_id_idx;');
    expect(sqlOf('constrained')).toBe('ALTER TABLE public.constrained DROP CONSTRAINT constrained_id_key;');
    expect(sqlOf('My Table')).toBe('DROP INDEX CONCURRENTLY public."my index 2";');
    expect(sqlOf('parted')).toBe('DROP INDEX public.parted_k_b;');

    // One statement per load: DROP INDEX CONCURRENTLY cannot share a transaction block.
    const fixes = mine.flatMap((f) => f.remediation.sql!.split('\n'));
    const session = await loadOn(engine, SCHEMA, ...fixes);
    try {
      const after = await auditSession(session, options);
      expect(objectsOf(after.findings, ID)).toEqual([]);
    } finally {
      await session.close();
    }
  });

  it('leaves an index a foreign key depends on out of the fix SQL', async () => {
    const sql = `
      create table public.refd (id bigint not null);
      create unique index refd_id_idx on public.refd (id);
      create table public.child (refd_id bigint references public.refd (id));
      alter table public.refd add primary key (id);`;
    const { findings } = await auditOn(engine, sql, options);
    const [finding, ...rest] = findings.filter((f) => f.check === ID);
    expect(rest).toEqual([]);
    expect(finding?.fingerprint).toBe(`${ID}:public.refd:refd_id_idx,refd_pkey`);
    expect(finding?.evidence).toMatchObject({ keep: 'refd_pkey', drop: ['refd_id_idx'] });
    expect(finding?.remediation.sql).toBeUndefined();
    expect(finding?.remediation.text).toContain('A foreign key depends on refd_id_idx');
  });
});
