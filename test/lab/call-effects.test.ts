/**
 * Calls judged by what they open:
 * - a function that writes a pending request into another tenant joins nothing; the self-join the
 *   table's policy allows does;
 * - a call refused by a trigger's rule on the victim's data alone (a plan's feature) is tried past
 *   that rule; a trigger that checks who calls is the guard it looks like;
 * - an argument given another user's random id is no capability when a value the caller makes up does the same.
 */
import { expect, test } from 'vitest';
import { introspect } from '../../src/introspect/index.ts';
import { callFunctions } from '../../src/lab/calls.ts';
import { buildWorld } from '../../src/lab/world.ts';
import { isSystemSchema } from '../../src/model/schemas.ts';
import { auditMigration } from '../support/cli.ts';
import { loadOn } from '../support/audit.ts';
import { GYMS } from './gyms-schema.ts';

test('a function that writes a pending request into another gym joins nothing: no join, no critical or high', async () => {
  const report = await auditMigration(GYMS);
  const calls = (report.lab!.functions ?? []).filter((f) => f.name === 'request_membership').flatMap((f) => f.calls);
  expect(calls.some((c) => c.result === 'ok' && Object.keys(c.changed).includes('public.gym_members'))).toBe(true);
  expect(calls.filter((c) => c.joined !== undefined)).toEqual([]);
  expect(report.findings.filter((f) => f.object.name === 'request_membership' && (f.level === 'critical' || f.level === 'high'))).toEqual([]);
});

test('the same function writing an active membership joins the gym: confirmed, critical', async () => {
  const report = await auditMigration(GYMS.replace("values (p_gym_id, auth.uid(), 'member', 'pending')", "values (p_gym_id, auth.uid(), 'member', 'active')"));
  const calls = (report.lab!.functions ?? []).filter((f) => f.name === 'request_membership').flatMap((f) => f.calls);
  expect(calls.find((c) => c.joined !== undefined)?.joined).toEqual(['public.gym_members']);
  expect(report.findings.find((f) => f.object.name === 'request_membership' && /member of another tenant/.test(f.message))?.level).toBe('critical');
});

const PLAN_GATE = (guard: string) => `
create table public.workspaces (id uuid primary key default gen_random_uuid(), name text not null, plan text not null default 'free' check (plan in ('free', 'pro')));
create table public.members (workspace_id uuid not null references public.workspaces, user_id uuid not null references auth.users, primary key (workspace_id, user_id));
create table public.posts (id bigint generated always as identity primary key, workspace_id uuid not null references public.workspaces, body text not null);
create table public.media (id bigint generated always as identity primary key, post_id bigint not null references public.posts on delete cascade,
  workspace_id uuid not null references public.workspaces, url text not null);
-- A plan's feature: media only for 'pro' workspaces.
create function public.media_needs_pro() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  ${guard}
  if (select w.plan from public.workspaces w where w.id = new.workspace_id) <> 'pro' then raise exception 'feature_disabled:media'; end if;
  return new;
end $$;
create trigger media_needs_pro before insert on public.media for each row execute function public.media_needs_pro();
alter table public.workspaces enable row level security;
alter table public.members enable row level security;
alter table public.posts enable row level security;
alter table public.media enable row level security;
create policy "members read posts" on public.posts for select to authenticated using (exists (select 1 from public.members m where m.workspace_id = posts.workspace_id and m.user_id = auth.uid()));
-- Replaces a post's media, for whatever workspace and post it is told: no caller check.
create function public.set_post_media(p_workspace_id uuid, p_post_id bigint, p_url text) returns void language plpgsql security definer set search_path = '' as $$
begin
  delete from public.media where post_id = p_post_id and workspace_id = p_workspace_id;
  insert into public.media (post_id, workspace_id, url) values (p_post_id, p_workspace_id, p_url);
end $$;
`;

test("a call refused only by a plan's feature the victim's workspace lacks in the world is tried past that rule, and confirmed", async () => {
  const report = await auditMigration(PLAN_GATE(''));
  const calls = (report.lab!.functions ?? []).filter((f) => f.name === 'set_post_media' && f.persona === 'anon').flatMap((f) => f.calls);
  const past = calls.find((c) => (c.triggersAside ?? []).length > 0);
  expect(past?.triggersAside).toEqual(['media_needs_pro on public.media']);
  expect(past?.others?.['public.media']?.deleted).toBeGreaterThan(0);
  const finding = report.findings.find((f) => f.object.name === 'set_post_media' && /trigger media_needs_pro on public\.media was set aside/.test(f.message));
  expect(finding?.level).toMatch(/critical|high/);
});

test('a trigger that checks who calls is a guard: never set aside, and nothing is confirmed', async () => {
  const report = await auditMigration(
    PLAN_GATE(`if not exists (select 1 from public.members m where m.workspace_id = new.workspace_id and m.user_id = auth.uid()) then raise exception 'not a member'; end if;`),
  );
  const calls = (report.lab!.functions ?? []).filter((f) => f.name === 'set_post_media').flatMap((f) => f.calls);
  expect(calls.filter((c) => (c.triggersAside ?? []).length > 0)).toEqual([]);
  expect(report.findings.filter((f) => f.object.name === 'set_post_media' && /set aside/.test(f.message))).toEqual([]);
});

test('an event key the caller picks itself is no capability: a call given a made-up one does the same, and keeps its level', async () => {
  const report = await auditMigration(`
create table public.tenants (id uuid primary key default gen_random_uuid(), name text not null);
create table public.tenant_members (tenant_id uuid not null references public.tenants, user_id uuid not null references auth.users, primary key (tenant_id, user_id));
create table public.subscriptions (id uuid primary key default gen_random_uuid(), tenant_id uuid not null unique references public.tenants,
  plan text not null default 'free' check (plan in ('free', 'premium')), last_event_key uuid);
alter table public.tenants enable row level security;
alter table public.tenant_members enable row level security;
alter table public.subscriptions enable row level security;
-- A directory of tenants anyone signed in may browse: their ids are no secret.
create policy "directory" on public.tenants for select to authenticated using (true);
create policy "members read" on public.subscriptions for select to authenticated using (exists (select 1 from public.tenant_members m where m.tenant_id = subscriptions.tenant_id and m.user_id = auth.uid()));
-- A billing webhook's function, left callable: it records the event key and applies the plan.
create function public.apply_subscription_update(p_tenant_id uuid, p_event_key uuid, p_plan text) returns void language sql security definer set search_path = '' as $$
  update public.subscriptions set plan = p_plan, last_event_key = p_event_key where tenant_id = p_tenant_id $$;
`);
  const calls = (report.lab!.functions ?? []).filter((f) => f.name === 'apply_subscription_update' && f.persona === 'anon').flatMap((f) => f.calls);
  const made = calls.find((c) => (c.madeUp ?? []).length > 0);
  expect(made?.madeUp).toEqual(['p_event_key']);
  expect(made?.unlearned).toBeUndefined();
  const finding = report.findings.find((f) => f.object.name === 'apply_subscription_update' && /made up itself for p_event_key/.test(f.message));
  expect(finding?.level).toMatch(/critical|high/);
});

test('a row the body returns early on once it is linked (`if v.user_id is not null then return`) is staged unlinked: the call links another clinic’s patient to the caller', async () => {
  const report = await auditMigration(`
create table public.clinics (id uuid primary key default gen_random_uuid(), name text not null);
create table public.clinic_members (clinic_id uuid not null references public.clinics, user_id uuid not null references auth.users, primary key (clinic_id, user_id));
create table public.patients (id uuid primary key default gen_random_uuid(), clinic_id uuid not null references public.clinics,
  user_id uuid references auth.users, name text not null);
alter table public.clinics enable row level security;
alter table public.clinic_members enable row level security;
alter table public.patients enable row level security;
create policy "patients read themselves" on public.patients for select to authenticated using (user_id = auth.uid());
create policy "staff read patients" on public.patients for select to authenticated using (exists (select 1 from public.clinic_members m where m.clinic_id = patients.clinic_id and m.user_id = auth.uid()));
-- Links a patient record to a portal account, for whatever patient and account it is told.
create function public.activate_patient(p_patient_id uuid, p_user_id uuid) returns jsonb language plpgsql security definer set search_path = '' as $$
declare v record;
begin
  select id, user_id into v from public.patients where id = p_patient_id;
  if v.user_id is not null then return jsonb_build_object('error', 'already linked'); end if;
  update public.patients set user_id = p_user_id where id = p_patient_id;
  return jsonb_build_object('ok', true);
end $$;
`);
  const calls = (report.lab!.functions ?? []).filter((f) => f.name === 'activate_patient' && f.persona === 'outsider').flatMap((f) => f.calls);
  expect(calls.find((c) => c.others?.['public.patients'])?.others?.['public.patients']).toEqual({ updated: 1, deleted: 0, columns: ['user_id'] });
});

test('pglite: a call budget that runs out leaves every function called once before any gets its other argument sets', async () => {
  const fn = (name: string) => `
create function public.${name}(p_org uuid, p_state text) returns void language plpgsql security definer set search_path = '' as $$
begin
  if p_state = 'open' then update public.orgs set state = 'open' where id = p_org;
  elsif p_state = 'closed' then update public.orgs set state = 'closed' where id = p_org;
  elsif p_state = 'paused' then update public.orgs set state = 'paused' where id = p_org; end if;
end $$;`;
  const session = await loadOn(
    'pglite',
    `create table public.orgs (id uuid primary key default gen_random_uuid(), name text not null, state text not null default 'new');
create table public.org_members (org_id uuid not null references public.orgs, user_id uuid not null references auth.users, primary key (org_id, user_id));
${fn('a_set_state')}${fn('b_set_state')}${fn('z_set_state')}`,
  );
  try {
    const snapshot = await introspect(session, { exposedSchemas: ['public'] });
    const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
    const out = await callFunctions(session, snapshot, world, { calls: 6, ms: 600_000 });
    const called = new Set(out.rows.filter((r) => r.calls.length > 0).map((r) => r.name));
    expect(called).toEqual(new Set(['a_set_state', 'b_set_state', 'z_set_state']));
    expect(out.stopped).toMatch(/budget of 6 calls reached/);
  } finally {
    await session.close();
  }
});

test('two overloads of a name are two functions: the one whose calls rename another owner’s note is confirmed, the one that writes nothing is not, though a lab attack names them both', async () => {
  const report = await auditMigration(`
create table public.notes (id uuid primary key default gen_random_uuid(), owner_id uuid not null references auth.users, title text not null);
alter table public.notes enable row level security;
create policy "own notes" on public.notes for all to authenticated using (owner_id = auth.uid()) with check (owner_id = auth.uid());
-- A board everyone reads: the ids are no secret.
create policy "everyone reads notes" on public.notes for select to anon, authenticated using (true);
create function public.rename_note(p_note_id uuid, p_title text) returns void language sql security definer set search_path = '' as $$
  update public.notes set title = p_title where id = p_note_id $$;
-- The same name, one argument: it writes the title back as it was.
create function public.rename_note(p_note_id uuid) returns void language sql security definer set search_path = '' as $$
  update public.notes set title = title where id = p_note_id $$;
`);
  const level = (args: string) => report.findings.find((f) => f.check === 'anon_security_definer_function_executable' && f.object.function === `rename_note(${args})`)?.level;
  expect(level('p_note_id uuid, p_title text')).toMatch(/critical|high/);
  expect(level('p_note_id uuid')).toBe('medium');
});

test('a token a caller learns only from what another function leaks: the leak is that function’s finding, the token’s own function one level lower', async () => {
  const report = await auditMigration(`
create table public.contracts (id uuid primary key default gen_random_uuid(), owner_id uuid not null references auth.users, title text not null,
  share_token uuid not null default gen_random_uuid(), status text not null default 'sent' check (status in ('sent', 'signed')));
alter table public.contracts enable row level security;
create policy "own contracts" on public.contracts for all to authenticated using (owner_id = auth.uid()) with check (owner_id = auth.uid());
-- A cron job's function, left callable: every contract's share link.
create function public.contracts_due() returns table (id uuid, share_token uuid, email text) language sql stable security definer set search_path = '' as $$
  select c.id, c.share_token, u.email::text from public.contracts c join auth.users u on u.id = c.owner_id where c.status = 'sent' $$;
-- The signer's link: whoever holds the token signs, by design.
create function public.sign_contract(token uuid) returns void language sql security definer set search_path = '' as $$
  update public.contracts set status = 'signed' where share_token = token $$;
`);
  const calls = (report.lab!.functions ?? []).filter((f) => f.name === 'sign_contract' && f.persona === 'anon').flatMap((f) => f.calls);
  expect(calls.find((c) => c.others?.['public.contracts'])?.learnedThrough).toEqual(['public.contracts_due']);
  const level = (name: string) => report.findings.filter((f) => f.object.name === name).reduce((l, f) => (['critical', 'high', 'medium', 'low', 'info'].indexOf(f.level) < ['critical', 'high', 'medium', 'low', 'info'].indexOf(l) ? f.level : l), 'info');
  expect(level('contracts_due')).toMatch(/critical|high/);
  expect(level('sign_contract')).toBe('medium');
});
