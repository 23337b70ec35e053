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

/** "Join as yourself" on the membership, which a CHECK constraint limits to invited addresses: the policy's shape suggests any tenant; the lab shows none. */
const GUARDED_JOIN = `
create table public.orgs (id uuid primary key default gen_random_uuid(), name text not null);
create table public.invites (org_id uuid not null references public.orgs on delete cascade, email text not null, primary key (org_id, email));
create function public.invited(o uuid) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.invites i where i.org_id = o and i.email = auth.jwt() ->> 'email') $$;
create table public.members (org_id uuid not null references public.orgs on delete cascade, user_id uuid not null references auth.users,
  primary key (org_id, user_id), constraint members_invited check (public.invited(org_id)));
create table public.docs (id uuid primary key default gen_random_uuid(), org_id uuid not null references public.orgs on delete cascade, secret_note text not null);
alter table public.orgs enable row level security;
alter table public.members enable row level security;
alter table public.invites enable row level security;
alter table public.docs enable row level security;
create policy "join as yourself" on public.members for insert to authenticated with check (user_id = (select auth.uid()));
create policy "members read memberships" on public.members for select to authenticated using (user_id = (select auth.uid()));
create policy "members read docs" on public.docs for select to authenticated
  using (exists (select 1 from public.members m where m.org_id = docs.org_id and m.user_id = (select auth.uid())));
`;

test('an escalation the policies suggest counts as every row only where the lab went through it', async () => {
  const radius = (r: Awaited<ReturnType<typeof auditMigration>>) => r.findings.find((f) => f.check === 'blast_radius_authenticated');
  // Without the lab, the shape is all there is: any account joins any org and reads all its docs.
  const shape = await auditMigration(GUARDED_JOIN, '--no-lab');
  expect(radius(shape)!.message).toContain('read all public.docs (~0 rows) incl. secret_note via escalation: authenticated joins any org_id through public.members');
  expect(radius(shape)!.evidence!['breakdown']).toEqual(expect.arrayContaining([expect.objectContaining({ reason: expect.stringMatching(/^read all of public\.docs/) })]));
  // The lab's outsider tried to join and the CHECK refused: the path counts as "some rows", unproven.
  const lab = await auditMigration(GUARDED_JOIN);
  expect(lab.lab!.attacks).toEqual([]);
  expect(radius(lab)!.message).toContain('read some public.docs (~0 rows) incl. secret_note via escalation: authenticated joins any org_id through public.members, which policy "members read docs" trusts (the lab tried it and gained nothing)');
  expect(radius(lab)!.evidence!['breakdown']).not.toEqual(expect.arrayContaining([expect.objectContaining({ reason: expect.stringMatching(/^read all of public\.docs/) })]));
});
