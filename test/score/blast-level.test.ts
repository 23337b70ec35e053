/**
 * The blast radius's level rests on what is proven about other people's data: anon inserting rows
 * anywhere (feedback, sign-ups for a newsletter) takes nothing from anyone and stays at medium;
 * anon changing every row of a table is critical.
 */
import { expect, test } from 'vitest';
import { auditMigration } from '../support/cli.ts';

const FEEDBACK = `
create table public.feedback (id bigint generated always as identity primary key, body text not null);
alter table public.feedback enable row level security;
create policy "anyone sends feedback" on public.feedback for insert to anon, authenticated with check (true);
create table public.newsletter (id bigint generated always as identity primary key, email text not null);
alter table public.newsletter enable row level security;
create policy "anyone signs up" on public.newsletter for insert to anon with check (true);
`;

test('anon that can only insert everywhere: medium, not critical', async () => {
  const report = await auditMigration(FEEDBACK, '--no-lab');
  const anon = report.findings.find((f) => f.check === 'blast_radius_anon')!;
  expect(anon.message).toMatch(/insert all public\.(feedback|newsletter)/);
  expect(anon.level).toBe('medium');
});

test('anon that can also read and change every row of one of them: critical', async () => {
  const report = await auditMigration(`${FEEDBACK}
create policy "anyone reads feedback" on public.feedback for select to anon using (true);
create policy "anyone edits feedback" on public.feedback for update to anon using (true) with check (true);`, '--no-lab');
  expect(report.findings.find((f) => f.check === 'blast_radius_anon')!.level).toBe('critical');
});
