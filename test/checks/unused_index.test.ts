import { describe, expect, it } from 'vitest';
import check from '../../checks/unused_index.ts';
import { evaluate } from '../../src/engine/evaluate.ts';
import type { Snapshot } from '../../src/model/snapshot.ts';
import { auditOn, auditSession, loadOn, objectsOf, testEngines } from '../support/audit.ts';

const ID = 'unused_index';
const options = { checks: [check] };

const SCHEMA = `
create table public.parents (id bigint primary key);

-- near misses
create table public.near (id bigint primary key, a int, b int, code text, parent_id bigint references public.parents (id));
create unique index near_code_key on public.near (code);
create index near_parent_id_idx on public.near (parent_id);
create index near_a_idx on public.near (a);
create index near_b_invalid on public.near (b);
update pg_index set indisvalid = false where indexrelid = 'public.near_b_invalid'::regclass;
insert into public.near (id, a) select i, i from generate_series(1, 1000) i;
analyze public.near;
set enable_seqscan = off;
select count(*) from public.near where a = 5;
reset enable_seqscan;
select pg_stat_force_next_flush();
create table public.parted (id bigint not null, k int) partition by range (id);
create table public.parted_1 partition of public.parted for values from (0) to (100);
create index parted_k_idx on public.parted (k);
create table auth.unused_things (a int);
create index unused_things_a on auth.unused_things (a);

-- positives
create table public.orgs (id bigint primary key, created_at timestamptz, parent_id bigint references public.parents (id));
create index orgs_created_at_idx on public.orgs (created_at);
create index orgs_parent_id_idx on public.orgs (parent_id);
create index orgs_parent_id_created_at_idx on public.orgs (parent_id, created_at);
create table public."My Table" (id bigint primary key, "Col A" int);
create index "My Index" on public."My Table" ("Col A");
`;

describe.each(testEngines())('unused_index on %s', (engine) => {
  it('finds nothing in an empty schema', async () => {
    const { findings } = await auditOn(engine, 'select 1;', options);
    expect(objectsOf(findings, ID)).toEqual([]);
  });

  it('reports never-scanned plain indexes only, and its fix SQL clears them', async () => {
    const { findings, snapshot } = await auditOn(engine, SCHEMA, options);
    const mine = findings.filter((f) => f.check === ID);
    expect(mine.map((f) => f.fingerprint).sort()).toEqual(
      [
        'public.My Table:My Index',
        'public.orgs:orgs_created_at_idx',
        // Both serve the foreign key and neither is scanned: the narrower one is kept for it.
        'public.orgs:orgs_parent_id_created_at_idx',
      ].map((f) => `${ID}:${f}`),
    );
    expect(mine.every((f) => f.level === 'info')).toBe(true);
    const quoted = mine.find((f) => f.object.name === 'My Table')!;
    expect(quoted.message).toMatch(/^Index "My Index" on public\."My Table" \(\d+ (bytes|kB)\) has no recorded scans \(statistics (never reset|reset .*)\)/);
    if (snapshot.statsReset === null) expect(quoted.message).toContain('statistics never reset');
    expect(quoted.remediation.sql).toMatch(/^-- .*replicas.*\nDROP INDEX CONCURRENTLY public\."My Index";$/);

    const session = await loadOn(engine, SCHEMA, ...mine.map((f) => f.remediation.sql!));
    try {
      const after = await auditSession(session, options);
      expect(objectsOf(after.findings, ID)).toEqual([]);
    } finally {
      await session.close();
    }
  });

  it('stays silent when scan counts are unreadable, and says how old the counters are', async () => {
    const { snapshot } = await auditOn(engine, 'create table public.t (id bigint primary key, a int); create index t_a_idx on public.t (a);', options);
    const unreadable: Snapshot = { ...snapshot, indexes: snapshot.indexes.map((i) => ({ ...i, scans: null })) };
    expect(evaluate(unreadable, [check]).findings).toEqual([]);

    const aged: Snapshot = { ...snapshot, statsReset: '2025-01-01T00:00:00Z', takenAt: '2025-02-12T08:00:00Z' };
    const [finding] = evaluate(aged, [check]).findings;
    expect(finding?.message).toContain('statistics reset 42 days ago, on 2025-01-01');
  });
});
