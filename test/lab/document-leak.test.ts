/**
 * What a SECURITY DEFINER reader hands anon, seen in a world that holds it:
 * - a key with no foreign key points at its table by name (`exercise_id` → `exercises`), so a join
 *   on it finds the victim's rows;
 * - a JSON document holds a text of its owner's, so a function that returns it shows whose row it read;
 * - the function's own literal (`where e.slug = 'ttm'`) is staged on the victim's rows;
 * - the user id it takes is public (a directory of profiles), so anyone can aim it at anyone.
 */
import { expect, test } from 'vitest';
import { introspect } from '../../src/introspect/index.ts';
import { buildWorld, impliedReference } from '../../src/lab/world.ts';
import { isSystemSchema } from '../../src/model/schemas.ts';
import { auditMigration } from '../support/cli.ts';
import { loadOn } from '../support/audit.ts';

const EXERCISES = (guard: string) => `
-- A public directory of users: their ids are no secret.
create table public.profiles (id uuid primary key references auth.users on delete cascade, username text not null);
alter table public.profiles enable row level security;
create policy directory on public.profiles for select using (true);
create table public.teams (id uuid primary key default gen_random_uuid(), name text not null, created_by uuid not null references auth.users);
create table public.exercises (id uuid primary key default gen_random_uuid(), team_id uuid not null references public.teams, slug text not null, created_by uuid not null references auth.users);
create table public.exercise_data (
  id uuid primary key default gen_random_uuid(),
  exercise_id uuid not null,
  author_id uuid not null references auth.users,
  data jsonb not null
);
alter table public.teams enable row level security;
alter table public.exercises enable row level security;
alter table public.exercise_data enable row level security;
create policy own_teams on public.teams for all to authenticated using (created_by = auth.uid());
create policy own_exercises on public.exercises for all to authenticated using (created_by = auth.uid());
create policy own_answers on public.exercise_data for all to authenticated using (author_id = auth.uid());
create function public.get_ttm_answers(p_user_id uuid) returns table (exercise_id uuid, data jsonb)
language plpgsql security definer set search_path = public as $$
begin
  ${guard}
  return query select ed.exercise_id, ed.data from exercises e join exercise_data ed on e.id = ed.exercise_id
    where e.slug = 'ttm' and ed.author_id = p_user_id;
end $$;
`;

test("pglite: a key with no foreign key points at the table its name says; a document holds its owner's text", async () => {
  const session = await loadOn('pglite', EXERCISES(''));
  try {
    const snapshot = await introspect(session, { exposedSchemas: ['public'] });
    expect(impliedReference(snapshot, 'exercise_id')).toEqual({ table: 'public.exercises', column: 'id' });
    expect(impliedReference(snapshot, 'author_id')).toBeUndefined();
    const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
    const exercises = new Set((world.made.get('public.exercises') ?? []).map((m) => m.row['id']));
    const answers = world.made.get('public.exercise_data') ?? [];
    expect(answers.length).toBeGreaterThan(0);
    for (const m of answers) {
      expect(exercises.has(m.row['exercise_id'])).toBe(true);
      expect(m.row['data']).toEqual({ lab: expect.stringMatching(new RegExp(`^${m.owner.name}-exercise_data-data-`)) });
    }
  } finally {
    await session.close();
  }
});

test("anon calls the reader with another user's id and gets that user's answers: high, measured in the lab", async () => {
  const report = await auditMigration(EXERCISES(''));
  const finding = report.findings.find((f) => f.check === 'anon_security_definer_function_executable' && f.object.name === 'get_ttm_answers');
  expect(finding?.level).toBe('high');
  expect(finding?.message).toMatch(/public\.exercise_data\.data/);
});

test('with a caller check, the same reader is not confirmed', async () => {
  const report = await auditMigration(EXERCISES(`if p_user_id is distinct from auth.uid() then raise exception 'not yours'; end if;`));
  const finding = report.findings.find((f) => f.check === 'anon_security_definer_function_executable' && f.object.name === 'get_ttm_answers');
  expect(finding?.level).not.toBe('high');
  expect(finding?.level).not.toBe('critical');
});

test('what any signed-up account reads through the table, anon reads one sign-up away: the same reader hands anon nothing new', async () => {
  const report = await auditMigration(
    EXERCISES('').replace(
      'create policy own_answers on public.exercise_data for all to authenticated using (author_id = auth.uid());',
      'create policy own_answers on public.exercise_data for all to authenticated using (author_id = auth.uid());\ncreate policy shared_answers on public.exercise_data for select to authenticated using (true);',
    ),
  );
  const finding = report.findings.find((f) => f.check === 'anon_security_definer_function_executable' && f.object.name === 'get_ttm_answers');
  expect(finding?.level).not.toBe('high');
  expect(report.lab!.functions!.filter((f) => f.name === 'get_ttm_answers' && f.persona === 'anon').flatMap((f) => f.calls.flatMap((c) => c.leaked ?? []))).toEqual([]);
});
