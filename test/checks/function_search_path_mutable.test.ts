/**
 * function_search_path_mutable's fix must keep the function working: an empty search_path only
 * when the body qualifies every name, else the schemas the body uses, with pg_temp last.
 */
import { describe, expect, it } from 'vitest';
import check from '../../checks/function_search_path_mutable.ts';
import { auditSession, loadOn, outcomeAs, queryAs, testEngines, TEST_USER } from '../support/audit.ts';

const FIXTURE = `
create schema app;
create table public.posts (id bigint primary key, author_id uuid not null);
create table app.settings (key text primary key, value text);
insert into public.posts values (1, '${TEST_USER}');
insert into app.settings values ('theme', 'dark');
grant usage on schema app to authenticated;
grant select on public.posts, app.settings to authenticated;
create function app.setting(k text) returns text language sql stable as $$ select value from app.settings where key = k $$;
-- bare table of public
create function public.is_author(post_id bigint) returns boolean language sql stable security definer
  as $$ select exists (select 1 from posts where id = post_id and author_id = auth.uid()) $$;
-- bare call of a function of another schema, and a bare %ROWTYPE
create function app.theme() returns text language plpgsql stable
  as $$ declare p posts%rowtype; begin return setting('theme'); end $$;
-- everything qualified
create function public.post_count() returns bigint language sql stable
  as $$ select count(*) from public.posts $$;
grant execute on all functions in schema public, app to authenticated;
`;

describe.each(testEngines())('function_search_path_mutable on %s', (engine) => {
  it('pins what the body uses, and the functions still work after the fix', async () => {
    const before = await loadOn(engine, FIXTURE);
    let fixes: Record<string, string>;
    try {
      const { findings } = await auditSession(before, { checks: [check], exposedSchemas: ['public'] });
      fixes = Object.fromEntries(findings.map((f) => [f.object.name, f.remediation.sql!]));
      // What an empty search_path would do to a body with bare names.
      await before.exec(`begin read write; alter function public.is_author(bigint) set search_path = ''`);
      expect(await outcomeAs(before, 'authenticated', 'select public.is_author(1)')).toBe('42P01');
      await before.exec('rollback');
    } finally {
      await before.close();
    }
    expect(fixes).toEqual({
      is_author: 'ALTER FUNCTION public.is_author(post_id bigint) SET search_path = public, pg_temp;',
      setting: "ALTER FUNCTION app.setting(k text) SET search_path = '';",
      theme: 'ALTER FUNCTION app.theme() SET search_path = app, public, pg_temp;',
      post_count: "ALTER FUNCTION public.post_count() SET search_path = '';",
    });
    const after = await loadOn(engine, FIXTURE, Object.values(fixes).join('\n'));
    try {
      expect((await auditSession(after, { checks: [check], exposedSchemas: ['public'] })).findings).toEqual([]);
      expect(await queryAs(after, 'authenticated', 'select public.is_author(1) as a, app.theme() as t, public.post_count()::int as n')).toEqual([{ a: true, t: 'dark', n: 1 }]);
    } finally {
      await after.close();
    }
  });
});

describe('function_search_path_mutable levels', () => {
  const fn = `create function public.bump(p int) returns int language sql security definer as $$ select p + 1 $$;`;
  // PGlite: a database of its own (roles are cluster-wide, and other tests leave login roles on the shared servers).
  it('a definer function nobody can call from a SQL session is medium (the API cannot set search_path)', async () => {
    const alone = await loadOn('pglite', fn);
    try {
      const { findings } = await auditSession(alone, { checks: [check] });
      expect(findings.map((f) => [f.object.name, f.level])).toEqual([['bump', 'medium']]);
      expect(findings[0]!.message).toContain('only a SQL session can set it, not an API request');
    } finally {
      await alone.close();
    }
  });
  it.each(testEngines())('it is high once a login role of the project can call it (%s)', async (engine) => {
    const role = `supaudit_analyst_${Date.now() % 1000000}`;
    const withLogin = await loadOn(engine, fn, `create role ${role} login;`);
    try {
      const { findings } = await auditSession(withLogin, { checks: [check] });
      expect(findings.map((f) => [f.object.name, f.level])).toEqual([['bump', 'high']]);
      expect(findings[0]!.message).toContain(`login role${findings[0]!.message.includes('login roles ') ? 's' : ''} `);
      expect(findings[0]!.message).toContain(role);
    } finally {
      await withLogin.exec(`begin; drop role ${role}; commit`).catch(() => undefined);
      await withLogin.close();
    }
  });
});

describe.each(testEngines())('function_search_path_mutable keeps the schema of the types a function uses (%s)', (engine) => {
  it("an operator of an extension's type (pgvector's <#> in schema extensions) still resolves after the fix", async () => {
    // A stand-in for pgvector that every engine has: a type and its operator in schema extensions.
    const session = await loadOn(
      engine,
      `create type extensions.vec as (x float8, y float8);
       create function extensions.vec_ip(a extensions.vec, b extensions.vec) returns float8 language sql immutable as $$ select -(a.x * b.x + a.y * b.y) $$;
       create operator extensions.<#> (leftarg = extensions.vec, rightarg = extensions.vec, function = extensions.vec_ip);
       create table public.sections (id bigint primary key, embedding extensions.vec);
       insert into public.sections values (1, row(1, 0)::extensions.vec), (2, row(0, 1)::extensions.vec);
       grant select on public.sections to authenticated;
       create function public.match_sections(embedding extensions.vec, threshold float8) returns setof public.sections language plpgsql stable as $$
       #variable_conflict use_variable
       begin
         return query select * from public.sections s where s.embedding <#> embedding < -threshold;
       end $$;`,
    );
    try {
      const { findings } = await auditSession(session, { checks: [check] });
      const fix = findings.find((f) => f.object.name === 'match_sections')!.remediation.sql!;
      expect(fix).toBe('ALTER FUNCTION public.match_sections(embedding extensions.vec, threshold double precision) SET search_path = extensions, public, pg_temp;');
      await session.exec('begin');
      try {
        await session.exec(fix);
        expect((await session.query<{ id: unknown }>('select id from public.match_sections(row(1, 0)::extensions.vec, 0.5)')).map((r) => Number(r.id))).toEqual([1]);
        // What an empty search_path (the lint's usual advice) would have done: the operator no longer resolves.
        await session.exec(`alter function public.match_sections(extensions.vec, float8) set search_path = ''`);
        await expect(session.query('select id from public.match_sections(row(1, 0)::extensions.vec, 0.5)')).rejects.toMatchObject({ code: '42883' });
      } finally {
        await session.exec('rollback');
      }
    } finally {
      await session.close();
    }
  });
});
