/**
 * ACLs are read as aclitem text and parsed in JS (cheaper than aclexplode per row on thousands of
 * relations and columns): on every engine the parse equals what aclexplode says, quoted and odd
 * role names, grant options, PUBLIC and column grants included.
 */
import { describe, expect, it } from 'vitest';
import { parseAcl } from '../../src/introspect/sql.ts';
import { loadOn, testEngines } from '../support/audit.ts';

const EXPLODE = `(select coalesce(json_agg(json_build_object('grantee', case when e.grantee = 0 then 'PUBLIC' else pg_get_userbyid(e.grantee)::text end,
  'grantor', pg_get_userbyid(e.grantor)::text, 'privilege', e.privilege_type, 'grantable', e.is_grantable)), '[]'::json) from aclexplode(ACL) e)`;

describe.each(testEngines())('ACL text parsing on %s', (engine) => {
  it('matches aclexplode for table, column, schema and function ACLs', async () => {
    const session = await loadOn(
      engine,
      `do $$ begin
         if not exists (select 1 from pg_roles where rolname = 'we"ird, role={}/x') then create role "we""ird, role={}/x"; end if;
         if not exists (select 1 from pg_roles where rolname = 'a b') then create role "a b"; end if;
         if not exists (select 1 from pg_roles where rolname = 'Ünï') then create role "Ünï"; end if;
       end $$;
       create schema "odd schema";
       create table "odd schema".t (x int, y text);
       grant select, update on "odd schema".t to "we""ird, role={}/x" with grant option;
       grant insert on "odd schema".t to "a b", public, "Ünï";
       grant references (x), select (y) on "odd schema".t to "a b";
       grant usage on schema "odd schema" to "we""ird, role={}/x";
       create function "odd schema".f() returns int language sql as 'select 1';
       revoke execute on function "odd schema".f() from public;
       grant execute on function "odd schema".f() to "Ünï" with grant option;`,
    );
    try {
      const rows = await session.query<{ what: string; exploded: unknown; text: string[] | null }>(`
        select 'table' as what, ${EXPLODE.replace('ACL', 'c.relacl')} as exploded, c.relacl::text[] as text from pg_class c where c.oid = '"odd schema".t'::regclass
        union all select 'column ' || a.attname, ${EXPLODE.replace('ACL', 'a.attacl')}, a.attacl::text[] from pg_attribute a where a.attrelid = '"odd schema".t'::regclass and a.attnum > 0
        union all select 'schema', ${EXPLODE.replace('ACL', 'n.nspacl')}, n.nspacl::text[] from pg_namespace n where n.nspname = 'odd schema'
        union all select 'function', ${EXPLODE.replace('ACL', 'p.proacl')}, p.proacl::text[] from pg_proc p where p.proname = 'f' and p.pronamespace = '"odd schema"'::regnamespace`);
      expect(rows).toHaveLength(5);
      for (const r of rows) expect(parseAcl(r.text), r.what).toEqual(r.exploded);
      const table = parseAcl(rows.find((r) => r.what === 'table')!.text);
      expect(table).toContainEqual({ grantee: 'we"ird, role={}/x', grantor: expect.any(String), privilege: 'UPDATE', grantable: true });
      expect(table).toContainEqual({ grantee: 'PUBLIC', grantor: expect.any(String), privilege: 'INSERT', grantable: false });
      expect(parseAcl(null)).toEqual([]);
    } finally {
      await session.close();
    }
  });
});
