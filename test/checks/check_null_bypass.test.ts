/**
 * check_null_bypass on real Postgres: each finding is an exploit that works (a caller joins an
 * invite-only project with join_code = null), the fix SQL closes it and keeps the legitimate join,
 * and the near misses are silent.
 */
import { describe, expect, it } from 'vitest';
import check from '../../checks/check_null_bypass.ts';
import { auditSession, loadOn, outcomeAs, testEngines } from '../support/audit.ts';

const ME = '00000000-0000-0000-0000-000000000001';

const member = (table: string, code: string) => `
create table public.${table} (project_id bigint not null references public.projects, user_id uuid not null, ${code}, primary key (project_id, user_id));
alter table public.${table} enable row level security;
create policy "join as yourself" on public.${table} for insert to authenticated with check (user_id = (select auth.uid()));`;

const SCHEMA = `
create table public.projects (id bigint primary key, name text);
insert into public.projects values (1, 'open with invite'), (2, 'secret');
create table public.invites (code text primary key, project_id bigint not null references public.projects);
insert into public.invites values ('WELCOME', 1);

-- positives
${member('project_members', 'join_code text')}
create policy "invite needed" on public.project_members as restrictive for insert to authenticated
  with check (join_code is null or project_id in (select i.project_id from public.invites i where i.code = join_code));
create table public."Team Seats" (id bigint primary key, "Org" bigint, seat_code text);
alter table public."Team Seats" enable row level security;
create policy "seat in your org" on public."Team Seats" for insert to authenticated
  with check (("Org" is null) or ("Org" in (select p.id from public.projects p where p.name = seat_code)));

-- the rest checks only the NULL column itself: a lesson in no course is one of no course (medium)
create table public.lessons (id bigint generated always as identity primary key, course_id bigint references public.projects, title text);
alter table public.lessons enable row level security;
create policy "lesson in my course" on public.lessons for insert to authenticated
  with check (course_id is null or exists (select 1 from public.invites i where i.project_id = lessons.course_id and i.code = 'WELCOME'));

-- near misses
${member('club_members', 'join_code text not null')}
create policy "invite needed" on public.club_members as restrictive for insert to authenticated
  with check (join_code is null or project_id in (select i.project_id from public.invites i where i.code = join_code));
${member('guild_members', 'join_code text check (join_code is not null)')}
create policy "invite needed" on public.guild_members as restrictive for insert to authenticated
  with check (join_code is null or project_id in (select i.project_id from public.invites i where i.code = join_code));
${member('crew_members', 'join_code text')}
create policy "invite needed" on public.crew_members as restrictive for insert to authenticated
  with check (join_code is not null and project_id in (select i.project_id from public.invites i where i.code = join_code));
${member('staff_members', "join_code text default 'none'")}
revoke insert on public.staff_members from authenticated;
grant insert (project_id, user_id) on public.staff_members to authenticated;
create policy "invite needed" on public.staff_members as restrictive for insert to authenticated
  with check (join_code is null or project_id in (select i.project_id from public.invites i where i.code = join_code));
${member('ops_members', 'join_code text')}
create policy "service only" on public.ops_members as restrictive for insert to service_role
  with check (join_code is null or project_id in (select i.project_id from public.invites i where i.code = join_code));
`;

describe.each(testEngines())('check_null_bypass on %s', (engine) => {
  it('finds the NULL arm a caller can take, proves it, and its fix closes it without breaking the invited join', async () => {
    const session = await loadOn(engine, SCHEMA);
    try {
      const { findings } = await auditSession(session, { checks: [check], prove: true });
      // Each proven in Postgres as a signed-in user: refused with a made-up value, accepted with NULL; the fix refuses NULL.
      expect(findings.map((f) => [f.object.name, f.proof?.status, f.proof?.fixVerified?.status])).toEqual([
        ['Team Seats', 'confirmed', 'verified'],
        ['project_members', 'confirmed', 'verified'],
        ['lessons', 'confirmed', 'verified'],
      ]);
      // The seat's rest also reads seat_code, the membership's project_id: the caller picks them
      // freely. The lesson's rest reads course_id only: a lesson of no course, medium.
      expect(findings.map((f) => [f.object.name, f.object.policy, f.level, f.roles])).toEqual([
        ['Team Seats', 'seat in your org', 'high', ['authenticated']],
        ['project_members', 'invite needed', 'high', ['authenticated']],
        ['lessons', 'lesson in my course', 'medium', ['authenticated']],
      ]);
      expect(findings.find((f) => f.object.name === 'lessons')!.message).toContain('That rest checks only course_id itself');
      // The exploit, in Postgres: join the secret project (no invite) by sending join_code = null.
      const exploit = `insert into public.project_members (project_id, user_id, join_code) values (2, '${ME}', null)`;
      const invited = `insert into public.project_members (project_id, user_id, join_code) values (1, '${ME}', 'WELCOME')`;
      const uninvited = `insert into public.project_members (project_id, user_id, join_code) values (2, '${ME}', 'WELCOME')`;
      expect(await outcomeAs(session, 'authenticated', exploit)).toBe('ok');
      expect(await outcomeAs(session, 'authenticated', uninvited)).toBe('42501');
      // The near misses really hold: NOT NULL, CHECK, AND instead of OR refuse the same row.
      expect(await outcomeAs(session, 'authenticated', `insert into public.club_members values (2, '${ME}', null)`)).toBe('23502');
      expect(await outcomeAs(session, 'authenticated', `insert into public.guild_members values (2, '${ME}', null)`)).toBe('23514');
      expect(await outcomeAs(session, 'authenticated', `insert into public.crew_members values (2, '${ME}', null)`)).toBe('42501');
      expect(await outcomeAs(session, 'authenticated', `insert into public.staff_members (project_id, user_id) values (2, '${ME}')`)).toBe('42501');
      // Apply the fix (as the owner, rolled back with the session's transaction) and run the exploit again.
      const fix = findings.find((f) => f.object.name === 'project_members')!.remediation.sql!;
      expect(fix).toBe(
        'ALTER POLICY "invite needed" ON public.project_members WITH CHECK (project_id IN (SELECT i.project_id FROM public.invites AS i WHERE i.code = project_members.join_code));',
      );
      await session.exec('BEGIN');
      try {
        await session.exec(fix);
        await session.exec(`SAVEPOINT s; SET LOCAL ROLE authenticated; SELECT set_config('request.jwt.claims', '{"sub":"${ME}","role":"authenticated"}', true)`);
        await expect(session.query(exploit)).rejects.toMatchObject({ code: '42501' });
        await session.exec(`ROLLBACK TO SAVEPOINT s; SET LOCAL ROLE authenticated; SELECT set_config('request.jwt.claims', '{"sub":"${ME}","role":"authenticated"}', true)`);
        // (No RETURNING: it would need a SELECT policy too.) The invited member still joins.
        await expect(session.query(invited)).resolves.toEqual([]);
      } finally {
        await session.exec('ROLLBACK');
      }
    } finally {
      await session.close();
    }
  });
});
