import { describe, expect, it } from 'vitest';
import check from '../../checks/no_primary_key.ts';
import { auditOn, auditSession, loadOn, objectsOf, testEngines } from '../support/audit.ts';

const ID = 'no_primary_key';
const options = { checks: [check] };

const SCHEMA = `
-- near misses
create table public.keyed (id bigint primary key);
create table public.parted_keyed (id bigint not null, primary key (id)) partition by range (id);
create table public.parted_keyed_1 partition of public.parted_keyed for values from (0) to (100);
create view public.keyed_view as select id from public.keyed;
create table auth.keyless_things (a int);

-- positives
create table public.audit_log (occurred_at timestamptz not null default now(), action text not null);
create table public.with_unique_id (id uuid not null, body text);
create unique index with_unique_id_id_idx on public.with_unique_id (id);
create table public."My Table" ("id" bigint not null, "Col A" text);
create unique index "My Table id" on public."My Table" (id);
create table public.nullable_id (id bigint, body text);
create unique index nullable_id_id_idx on public.nullable_id (id);
create table public.parted_keyless (id bigint not null, k int) partition by range (id);
create table public.parted_keyless_1 partition of public.parted_keyless for values from (0) to (100);
`;

describe.each(testEngines())('no_primary_key on %s', (engine) => {
  it('finds nothing in an empty schema', async () => {
    const { findings } = await auditOn(engine, 'select 1;', options);
    expect(objectsOf(findings, ID)).toEqual([]);
  });

  it('reports keyless tables once (parents, not partitions), and the fixes clear them', async () => {
    const { findings } = await auditOn(engine, SCHEMA, options);
    const mine = findings.filter((f) => f.check === ID);
    expect(mine.map((f) => f.fingerprint).sort()).toEqual(
      ['public.My Table', 'public.audit_log', 'public.nullable_id', 'public.parted_keyless', 'public.with_unique_id'].map((f) => `${ID}:${f}`),
    );
    expect(mine.every((f) => f.level === 'info')).toBe(true);
    const fixOf = (table: string) => mine.find((f) => f.object.name === table)!.remediation;
    expect(fixOf('with_unique_id').sql).toBe('ALTER TABLE public.with_unique_id ADD PRIMARY KEY USING INDEX with_unique_id_id_idx;');
    expect(fixOf('My Table').sql).toBe('ALTER TABLE public."My Table" ADD PRIMARY KEY USING INDEX "My Table id";');
    expect(fixOf('audit_log').sql).toBeUndefined();
    expect(fixOf('audit_log').text).toContain('ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY');
    expect(fixOf('nullable_id').sql).toBeUndefined();
    expect(fixOf('parted_keyless').sql).toBeUndefined();

    // The fix SQL where there is one; the advice by hand elsewhere.
    const byHand = [
      'alter table public.audit_log add column id bigint generated always as identity primary key;',
      'alter table public.nullable_id alter column id set not null, add primary key (id);',
      'alter table public.parted_keyless add primary key (id);',
    ];
    const sql = mine.flatMap((f) => (f.remediation.sql ? [f.remediation.sql] : []));
    const session = await loadOn(engine, SCHEMA, ...sql, ...byHand);
    try {
      const after = await auditSession(session, options);
      expect(objectsOf(after.findings, ID)).toEqual([]);
    } finally {
      await session.close();
    }
  });
});
