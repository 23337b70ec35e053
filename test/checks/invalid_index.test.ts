import { describe, expect, it } from 'vitest';
import check from '../../checks/invalid_index.ts';
import { auditOn, auditSession, loadOn, objectsOf, testEngines } from '../support/audit.ts';

const ID = 'invalid_index';
const options = { checks: [check] };

/** What a failed (or running) CREATE INDEX CONCURRENTLY leaves in pg_index, without having to make one fail. */
const invalidate = (index: string, ready = true) =>
  `update pg_index set indisvalid = false${ready ? '' : ', indisready = false'} where indexrelid = '${index}'::regclass;`;

const SCHEMA = `
-- near misses
create table public.near (id bigint primary key, a int);
create index near_a_idx on public.near (a);
create table public.parted (id bigint not null, k int) partition by range (id);
create table public.parted_1 partition of public.parted for values from (0) to (100);
create index parted_k_idx on only public.parted (k);
create table auth.invalid_things (a int);
create index invalid_things_a on auth.invalid_things (a);
${invalidate('auth.invalid_things_a')}

-- positives
create table public.tasks (id bigint primary key, status text, code text);
create index tasks_status_idx on public.tasks (status);
${invalidate('public.tasks_status_idx')}
create unique index tasks_code_key on public.tasks (code);
${invalidate('public.tasks_code_key', false)}
create index tasks_status_idx_ccnew on public.tasks (status);
${invalidate('public.tasks_status_idx_ccnew')}
create table public."My Table" (id bigint primary key, "Col A" int);
create index "My Index" on public."My Table" ("Col A");
${invalidate('public."My Index"')}
`;

describe.each(testEngines())('invalid_index on %s', (engine) => {
  it('finds nothing in an empty schema', async () => {
    const { findings } = await auditOn(engine, 'select 1;', options);
    expect(objectsOf(findings, ID)).toEqual([]);
  });

  it('reports invalid indexes but not partitioned ones, and its fix SQL clears them', async () => {
    const { findings } = await auditOn(engine, SCHEMA, options);
    const mine = findings.filter((f) => f.check === ID);
    expect(mine.map((f) => f.fingerprint).sort()).toEqual(
      ['public.My Table:My Index', 'public.tasks:tasks_code_key', 'public.tasks:tasks_status_idx', 'public.tasks:tasks_status_idx_ccnew'].map(
        (f) => `${ID}:${f}`,
      ),
    );
    expect(mine.every((f) => f.level === 'medium')).toBe(true);
    const sqlOf = (index: string) => mine.find((f) => f.fingerprint.endsWith(`:${index}`))?.remediation.sql;
    expect(sqlOf('My Index')).toBe('REINDEX INDEX CONCURRENTLY public."My Index";');
    expect(sqlOf('tasks_status_idx_ccnew')).toBe('DROP INDEX CONCURRENTLY public.tasks_status_idx_ccnew;');
    expect(mine.find((f) => f.fingerprint.endsWith(':tasks_status_idx'))?.message).toContain('every write still maintains it');
    // Not ready: a build still in its first phase, which writes do not maintain yet.
    expect(mine.find((f) => f.fingerprint.endsWith(':tasks_code_key'))?.message).not.toContain('maintains');

    const session = await loadOn(engine, SCHEMA, ...mine.map((f) => f.remediation.sql!));
    try {
      const after = await auditSession(session, options);
      expect(objectsOf(after.findings, ID)).toEqual([]);
    } finally {
      await session.close();
    }
  });
});
