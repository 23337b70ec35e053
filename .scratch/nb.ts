import { loadPglite, auditSession } from '../test/support/audit.ts';
import check from '../checks/check_null_bypass.ts';
const s = await loadPglite(`
create table public.projects (id bigint primary key, name text);
insert into public.projects values (1, 'open with invite'), (2, 'secret');
create table public.invites (code text primary key, project_id bigint not null references public.projects);
insert into public.invites values ('WELCOME', 1);
create table public.project_members (project_id bigint not null references public.projects, user_id uuid not null, join_code text, primary key (project_id, user_id));
alter table public.project_members enable row level security;
create policy "join as yourself" on public.project_members for insert to authenticated with check (user_id = (select auth.uid()));
create policy "invite needed" on public.project_members as restrictive for insert to authenticated
  with check (join_code is null or project_id in (select i.project_id from public.invites i where i.code = join_code));
create table public."Team Seats" (id bigint primary key, "Org" bigint, seat_code text);
alter table public."Team Seats" enable row level security;
create policy "seat in your org" on public."Team Seats" for insert to authenticated
  with check (("Org" is null) or ("Org" in (select p.id from public.projects p where p.name = seat_code)));
`);
const { findings } = await auditSession(s, { checks: [check], prove: true });
for (const f of findings) console.log(f.level, f.object.name, JSON.stringify(f.proof, null, 1));
await s.close();
