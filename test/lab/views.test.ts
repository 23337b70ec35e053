/**
 * Persona × view: every exposed view is read as anon and as the outsider in the lab. A view that
 * runs with its owner's rights is confirmed when it hands them another user's values that the
 * tables' own policies keep from them; one over rows they may read anyway is not (at most medium).
 */
import { expect, test } from 'vitest';
import { auditMigration } from '../support/cli.ts';

const SCHEMA = `
create table public.notes (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null default auth.uid() references auth.users on delete cascade,
  body text not null
);
alter table public.notes enable row level security;
create policy "own notes" on public.notes for select to authenticated using (owner_id = (select auth.uid()));
-- Runs as its owner: every note, to anyone.
create view public.all_notes as select id, owner_id, body from public.notes;
grant select on public.all_notes to anon, authenticated;
-- No text of anyone's, only which notes exist and a figure computed from each (a stock level, a total).
create view public.note_sizes as select id as note_id, length(body) as size from public.notes;
grant select on public.note_sizes to anon, authenticated;

create table public.posts (
  id uuid primary key default gen_random_uuid(),
  author_id uuid not null default auth.uid() references auth.users on delete cascade,
  title text not null
);
alter table public.posts enable row level security;
create policy "posts are public" on public.posts for select to anon, authenticated using (true);
-- Also runs as its owner, but gives nothing the table does not give everyone already.
create view public.post_titles as select id, title from public.posts;
grant select on public.post_titles to anon, authenticated;
`;

test('a definer view that hands out other users\' rows is confirmed; one over public rows is lowered to medium', async () => {
  const report = await auditMigration(SCHEMA);
  const views = report.lab!.views!;
  expect(views.find((v) => v.name === 'all_notes' && v.persona === 'anon')).toMatchObject({ result: 'ok', leaked: ['public.notes.body', 'public.notes.id'] });
  // The victim's note keys alone: its notes, and their sizes, handed to someone who reads no note of anyone's.
  expect(views.find((v) => v.name === 'note_sizes' && v.persona === 'anon')).toMatchObject({ result: 'ok', leaked: ['public.notes.id'] });
  expect(views.find((v) => v.name === 'post_titles' && v.persona === 'anon')).toMatchObject({ result: 'ok' });
  expect(views.find((v) => v.name === 'post_titles' && v.persona === 'anon')!.leaked).toBeUndefined();
  const finding = (name: string) => report.findings.find((f) => f.check === 'security_definer_view' && f.object.name === name)!;
  expect(finding('all_notes')).toMatchObject({ level: 'critical', evidence: { labVerdict: { status: 'confirmed', why: "in the lab, anon read another user's public.notes.body, public.notes.id through it; outsider read another user's public.notes.body, public.notes.id through it" } } });
  expect(finding('note_sizes')).toMatchObject({ level: 'critical', evidence: { labVerdict: { status: 'confirmed' } } });
  expect(finding('post_titles').level).toBe('medium');
  expect(finding('post_titles').message).toMatch(/Not confirmed in the lab: the lab read it as anon and as a signed-up outsider \(\d+ rows\) and got none of another user's values that the tables' own policies keep from them; level lowered from (critical|high) to medium\.$/);
});
