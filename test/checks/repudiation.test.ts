/**
 * The repudiation checks on every engine (PG 15, 17, 18): what counts as a trail (AFTER triggers,
 * a trigger writing elsewhere; not an updated_at trigger), who can rewrite an audit log.
 */
import { describe, expect, test } from 'vitest';
import auditLogTamperable from '../../checks/audit_log_tamperable.ts';
import auditTrailMissing from '../../checks/audit_trail_missing.ts';
import { auditOn, testEngines } from '../support/audit.ts';
import { auditMigration } from '../support/cli.ts';

const SQL = `
create schema if not exists private;
create table private.trail (at timestamptz default now(), what text);
create function private.touch() returns trigger language plpgsql as $$ begin new.updated_at := now(); return new; end $$;
create function private.log_after() returns trigger language plpgsql as $$ begin insert into private.trail (what) values (tg_op); return null; end $$;
create function private.log_before() returns trigger language plpgsql as $$ begin insert into private.trail (what) values (tg_op); return new; end $$;

-- Owners update their e-mail; only an updated_at trigger: no trail.
create table public.contacts (id bigint primary key, user_id uuid default auth.uid(), email text, updated_at timestamptz);
alter table public.contacts enable row level security;
create policy "own" on public.contacts for update to authenticated using (user_id = (select auth.uid()));
create trigger touch before update on public.contacts for each row execute function private.touch();

-- Same, with an AFTER trigger that records the change.
create table public.billing (id bigint primary key, user_id uuid default auth.uid(), iban text);
alter table public.billing enable row level security;
create policy "own" on public.billing for delete to authenticated using (user_id = (select auth.uid()));
create trigger trail after update or delete on public.billing for each row execute function private.log_after();

-- A BEFORE trigger that writes the trail elsewhere.
create table public.phones (id bigint primary key, user_id uuid default auth.uid(), phone text);
alter table public.phones enable row level security;
create policy "own" on public.phones for update to authenticated using (user_id = (select auth.uid()));
create trigger trail before update on public.phones for each row execute function private.log_before();

-- Sensitive, but only readable: nothing to record.
create table public.readonly_tokens (id bigint primary key, token text);
alter table public.readonly_tokens enable row level security;
create policy "read" on public.readonly_tokens for select to authenticated using (true);

-- For every role (no TO), but tied to the caller: anon (uid NULL) changes nothing.
create table public.profiles_public (id uuid primary key, phone text);
alter table public.profiles_public enable row level security;
create policy "own" on public.profiles_public for update using (id = auth.uid());

-- RLS off, default grants: anon too can change it.
create table public.newsletter (id bigint primary key, email text);

-- Audit logs: one users may delete from, one RLS-off (anon), one append-only.
create table public.audit_log (id bigint primary key, actor uuid default auth.uid(), action text);
alter table public.audit_log enable row level security;
create policy "actors delete" on public.audit_log for delete to authenticated using (actor = (select auth.uid()));
create table public.activity_logs (id bigint primary key, action text);
create table public.order_history (id bigint primary key, action text);
alter table public.order_history enable row level security;
create policy "insert" on public.order_history for insert to authenticated with check (true);
create policy "update nobody" on public.order_history for update to service_role using (true);
-- A user's own search history: data the user owns and may clear, not a record of who did what.
create table public.search_history (id bigint primary key, user_id uuid default auth.uid(), query text);
alter table public.search_history enable row level security;
create policy "clear own history" on public.search_history for delete to authenticated using (user_id = (select auth.uid()));
-- An SEO report the user runs and deletes: named with "audit", filled by the app only: not a trail.
create table public.website_audits (id bigint primary key, user_id uuid default auth.uid(), url text, score int);
alter table public.website_audits enable row level security;
create policy "own audits" on public.website_audits for delete to authenticated using (user_id = (select auth.uid()));
-- Named with "audit" and written by the database (a function inserts into it): a trail.
create table public.user_audits (id bigint generated always as identity primary key, actor uuid, what text);
create function public.record_user_change() returns trigger language plpgsql security definer set search_path = '' as $$
begin insert into public.user_audits (actor, what) values (auth.uid(), tg_op); return new; end $$;
alter table public.user_audits enable row level security;
create policy "actors delete theirs" on public.user_audits for delete to authenticated using (actor = (select auth.uid()));
`;

describe.each(testEngines())('repudiation checks on %s', (engine) => {
  test('a trail is an AFTER trigger or a trigger writing elsewhere; audit logs must not be rewritable', async () => {
    const { findings } = await auditOn(engine, SQL, { checks: [auditTrailMissing, auditLogTamperable] });
    const brief = findings.map((f) => `${f.level} ${f.check} ${f.object.schema}.${f.object.name} ${f.roles.join(',')}`).sort();
    expect(brief).toEqual([
      'critical audit_log_tamperable public.activity_logs anon,authenticated',
      'high audit_log_tamperable public.audit_log authenticated',
      'high audit_log_tamperable public.user_audits authenticated',
      'low audit_trail_missing public.contacts authenticated',
      'low audit_trail_missing public.profiles_public authenticated',
      'medium audit_trail_missing public.newsletter anon,authenticated',
    ]);
    const contacts = findings.find((f) => f.object.name === 'contacts')!;
    expect(contacts.evidence).toMatchObject({ sensitiveColumns: ['email'], update: ['authenticated'], delete: [] });
    expect(contacts.stride).toEqual(['R']);
  }, 60_000);
});

test('an audit log whose only policy reads auth.users (which the API roles may not select), or holds for the service role only: every write fails or reaches nothing in the lab, so it is low, not critical', async () => {
  const report = await auditMigration(`
create table public.role_change_history (id uuid primary key default gen_random_uuid(), user_id uuid not null references auth.users, old_role text, new_role text, changed_at timestamptz default now());
alter table public.role_change_history enable row level security;
create policy "admins manage history" on public.role_change_history for all using ((select role from auth.users where id = auth.uid()) = 'admin');
create table public.audit_logs (id uuid primary key default gen_random_uuid(), actor_id uuid not null default auth.uid() references auth.users, action text not null);
alter table public.audit_logs enable row level security;
create policy "actors manage their entries" on public.audit_logs for all to authenticated using (actor_id = (select auth.uid()));
create table public.billing_audit_log (id uuid primary key default gen_random_uuid(), actor_user_id uuid references auth.users, action text not null);
alter table public.billing_audit_log enable row level security;
create policy "service role only" on public.billing_audit_log for all using (auth.role() = 'service_role');
`);
  const found = report.findings.filter((f) => f.check === 'audit_log_tamperable').map((f) => [f.object.name, f.level]);
  // billing_audit_log: the policy is true only for the service role, so every write reaches no row.
  expect(found).toEqual([
    ['audit_logs', 'high'],
    ['billing_audit_log', 'low'],
    ['role_change_history', 'low'],
  ]);
  expect(report.findings.find((f) => f.object.name === 'role_change_history' && f.check === 'audit_log_tamperable')!.message).toMatch(/In the lab every UPDATE and DELETE by anon, alice, bob, outsider was refused, failed or reached no row/);
});

