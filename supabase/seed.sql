-- Taskflow demo data (loaded after the migrations, as `supabase db reset` does).
--
-- Deterministic: ids are built from counters, no random(), timestamps count back from a fixed
-- date, so every load has the same rows and the same row estimates.
--   500 users (five named, the rest generated) and their profiles (by the signup trigger),
--   60 organizations with 8 members each, 180 teams, 240 projects, 20,000 tasks,
--   50,000 comments, 30,000 audit entries, 10,000 notifications, 5,000 activity entries,
--   2,400 payment methods, 3,000 invoices, 300 invitations, 2,000 storage objects and
--   1,230 realtime subscribers.
--
-- Id scheme: user n  = 00000000-0000-4000-8000-<n in hex>, organization o = ...-a000-...,
-- team = ...-b000-..., project = ...-9000-... Member k (0..7) of organization o is user o + 60k;
-- k = 0 is the owner, k = 1 an admin.


-- ---------------------------------------------------------------------------
-- Users (the on_auth_user_created trigger creates their profiles)
-- ---------------------------------------------------------------------------
insert into auth.users (
  instance_id, id, aud, role, email, encrypted_password, email_confirmed_at,
  raw_app_meta_data, raw_user_meta_data, is_super_admin, created_at, updated_at,
  last_sign_in_at, phone, phone_confirmed_at
)
select
  '00000000-0000-0000-0000-000000000000'::uuid,
  ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
  'authenticated',
  'authenticated',
  coalesce(n.email, format('user%s@example.com', i)),
  -- bcrypt of "password123", the same for everyone
  '$2a$10$PznXR5VSgzjnAp7T/X7PCu6vtlgzdFt1zIr41IqP0CmVHQtWSGFiS',
  timestamptz '2024-06-01 08:00:00+00' + (i || ' hours')::interval,
  '{"provider": "email", "providers": ["email"]}'::jsonb,
  jsonb_build_object(
    'full_name', coalesce(n.full_name, format('Demo User %s', i)),
    'user_name', coalesce(n.user_name, format('user%s', i))
  ),
  false,
  timestamptz '2024-06-01 08:00:00+00' + (i || ' hours')::interval,
  timestamptz '2024-06-01 08:00:00+00' + (i || ' hours')::interval,
  timestamptz '2025-03-01 09:00:00+00' - ((i % 90) || ' days')::interval,
  case when i % 4 = 0 then '4915' || lpad(i::text, 8, '0') end,
  case when i % 4 = 0 then timestamptz '2024-06-01 08:00:00+00' + (i || ' hours')::interval end
from generate_series(1, 500) as i
left join (
  values
    (1, 'alice@taskflow.test', 'Alice Martin', 'alice'),
    (2, 'bob@taskflow.test',   'Bob Keller',   'bob'),
    (3, 'carol@taskflow.test', 'Carol Nguyen', 'carol'),
    (4, 'dave@taskflow.test',  'Dave Okafor',  'dave'),
    (5, 'erin@taskflow.test',  'Erin Larsen',  'erin')
) as n (id, email, full_name, user_name) on n.id = i;

update public.profiles
   set website = format('https://%s.example.com', username),
       updated_at = timestamptz '2025-01-10 12:00:00+00'
 where right(id::text, 2) in ('01', '07', '0d', '1f');


-- Bulk load without the trigger-based foreign key checks, as `supabase db dump --data-only`
-- output does: the rows below are consistent by construction. (Reset before the end.)
set session_replication_role = replica;


-- ---------------------------------------------------------------------------
-- Organizations, members, teams
-- ---------------------------------------------------------------------------
insert into public.organizations (id, name, slug, owner_id, plan, created_at)
select
  ('00000000-0000-4000-a000-' || lpad(to_hex(o), 12, '0'))::uuid,
  format('%s %s', w1, w2),
  lower(format('%s-%s-%s', w1, w2, o)),
  ('00000000-0000-4000-8000-' || lpad(to_hex(o), 12, '0'))::uuid,
  case when o % 10 = 0 then 'enterprise' when o % 10 in (1, 2, 3) then 'pro' else 'free' end,
  timestamptz '2024-06-01 08:00:00+00' + (o || ' days')::interval
from generate_series(1, 60) as o
cross join lateral (
  select (array['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Stark', 'Wayne', 'Wonka', 'Tyrell', 'Cyberdyne'])[1 + o % 10] as w1,
         (array['Labs', 'Studio', 'Works', 'Group', 'Digital', 'Systems'])[1 + o % 6] as w2
) as words;

-- Member k of organization o is user o + 60k (users 1..480); users 481..500 join organizations 1..20.
insert into public.organization_members (organization_id, user_id, role, created_at)
select
  ('00000000-0000-4000-a000-' || lpad(to_hex(o), 12, '0'))::uuid,
  ('00000000-0000-4000-8000-' || lpad(to_hex(o + 60 * k), 12, '0'))::uuid,
  case k when 0 then 'owner' when 1 then 'admin' else 'member' end,
  timestamptz '2024-06-02 08:00:00+00' + ((o + k) || ' days')::interval
from generate_series(1, 60) as o
cross join generate_series(0, 7) as k
union all
select
  ('00000000-0000-4000-a000-' || lpad(to_hex(u - 480), 12, '0'))::uuid,
  ('00000000-0000-4000-8000-' || lpad(to_hex(u), 12, '0'))::uuid,
  'member',
  timestamptz '2024-09-01 08:00:00+00'
from generate_series(481, 500) as u;

-- Some people belong to a second organization.
insert into public.organization_members (organization_id, user_id, role, created_at)
select
  ('00000000-0000-4000-a000-' || lpad(to_hex(1 + (u * 7) % 60), 12, '0'))::uuid,
  ('00000000-0000-4000-8000-' || lpad(to_hex(u), 12, '0'))::uuid,
  'member',
  timestamptz '2024-10-01 08:00:00+00'
from generate_series(5, 480, 5) as u
on conflict (organization_id, user_id) do nothing;

insert into public.teams (id, organization_id, name, created_at)
select
  ('00000000-0000-4000-b000-' || lpad(to_hex((o - 1) * 3 + j), 12, '0'))::uuid,
  ('00000000-0000-4000-a000-' || lpad(to_hex(o), 12, '0'))::uuid,
  (array['Engineering', 'Design', 'Operations'])[j],
  timestamptz '2024-06-03 08:00:00+00' + (o || ' days')::interval
from generate_series(1, 60) as o
cross join generate_series(1, 3) as j;

insert into public.team_members (team_id, user_id, role, joined_at)
select
  ('00000000-0000-4000-b000-' || lpad(to_hex((o - 1) * 3 + k % 3 + 1), 12, '0'))::uuid,
  ('00000000-0000-4000-8000-' || lpad(to_hex(o + 60 * k), 12, '0'))::uuid,
  case when k < 2 then 'lead' else 'member' end,
  timestamptz '2024-06-04 08:00:00+00' + ((o + k) || ' days')::interval
from generate_series(1, 60) as o
cross join generate_series(0, 7) as k;

-- The missing unique constraint already shows: a few people were added to their team twice.
insert into public.team_members (team_id, user_id, role, joined_at)
select team_id, user_id, role, joined_at + interval '3 months'
  from public.team_members
 where id in (3, 17, 42, 99, 256);


-- ---------------------------------------------------------------------------
-- Projects, tasks, comments, watchers
-- ---------------------------------------------------------------------------
-- Project p belongs to organization (p - 1) / 4 + 1.
insert into public.projects (id, organization_id, team_id, name, description, created_by, archived_at, created_at)
select
  ('00000000-0000-4000-9000-' || lpad(to_hex(p), 12, '0'))::uuid,
  ('00000000-0000-4000-a000-' || lpad(to_hex(o), 12, '0'))::uuid,
  ('00000000-0000-4000-b000-' || lpad(to_hex((o - 1) * 3 + (p - 1) % 3 + 1), 12, '0'))::uuid,
  (array['Website relaunch', 'Mobile app', 'Q3 roadmap', 'Customer onboarding'])[1 + (p - 1) % 4],
  'Tracked in Taskflow since the kickoff.',
  ('00000000-0000-4000-8000-' || lpad(to_hex(o + 60 * ((p - 1) % 8)), 12, '0'))::uuid,
  case when p % 17 = 0 then timestamptz '2025-02-01 00:00:00+00' end,
  timestamptz '2024-07-01 08:00:00+00' + (p || ' hours')::interval
from generate_series(1, 240) as p
cross join lateral (select (p - 1) / 4 + 1 as o) as x;

-- Task i belongs to project (i - 1) % 240 + 1; its creator and assignee are members of that
-- project's organization; every fifth task is unassigned.
insert into public.tasks (id, project_id, title, description, status, priority, assignee_id, created_by, due_date, created_at, updated_at)
select
  i,
  ('00000000-0000-4000-9000-' || lpad(to_hex(p), 12, '0'))::uuid,
  format('%s %s #%s',
         (array['Fix', 'Design', 'Review', 'Deploy', 'Write', 'Refactor', 'Test', 'Plan'])[1 + i % 8],
         (array['login flow', 'pricing page', 'API docs', 'billing webhook', 'search', 'onboarding email', 'dark mode', 'CSV export', 'release notes'])[1 + i % 9],
         i),
  repeat('Details, acceptance criteria and links. ', 1 + i % 6),
  (array['done', 'done', 'done', 'done', 'in_progress', 'in_progress', 'todo', 'todo', 'todo', 'cancelled'])[1 + i % 10],
  1 + i % 4,
  case when i % 5 <> 0
       then ('00000000-0000-4000-8000-' || lpad(to_hex(o + 60 * ((i / 7) % 8)), 12, '0'))::uuid end,
  ('00000000-0000-4000-8000-' || lpad(to_hex(o + 60 * (i % 8)), 12, '0'))::uuid,
  date '2025-03-01' + (i % 120 - 30),
  timestamptz '2024-08-01 08:00:00+00' + (i || ' minutes')::interval * 10,
  timestamptz '2024-08-01 08:00:00+00' + (i || ' minutes')::interval * 12
from generate_series(1, 20000) as i
cross join lateral (select (i - 1) % 240 + 1 as p) as x
cross join lateral (select (p - 1) / 4 + 1 as o) as y;
select setval(pg_get_serial_sequence('public.tasks', 'id'), 20000);

-- Comment i is on task (i - 1) % 20000 + 1; one in fifty lost its author (deleted account).
insert into public.comments (id, task_id, author_id, body, created_at, edited_at)
select
  i,
  t,
  case when i % 50 <> 0
       then ('00000000-0000-4000-8000-' || lpad(to_hex(o + 60 * (i % 8)), 12, '0'))::uuid end,
  (array['Looks good to me.', 'Can we split this into two tasks?', 'Blocked on the API change.',
         'Done in the latest build, please verify.', 'I will pick this up tomorrow.'])[1 + i % 5],
  timestamptz '2024-08-02 08:00:00+00' + (i || ' minutes')::interval * 4,
  case when i % 9 = 0 then timestamptz '2024-08-02 09:00:00+00' + (i || ' minutes')::interval * 4 end
from generate_series(1, 50000) as i
cross join lateral (select (i - 1) % 20000 + 1 as t) as a
cross join lateral (select ((t - 1) % 240) / 4 + 1 as o) as b;
select setval(pg_get_serial_sequence('public.comments', 'id'), 50000);

insert into public.task_watchers (task_id, organization_id, user_id, created_at)
select
  t,
  ('00000000-0000-4000-a000-' || lpad(to_hex(o), 12, '0'))::uuid,
  ('00000000-0000-4000-8000-' || lpad(to_hex(o + 60 * ((i / 3) % 8)), 12, '0'))::uuid,
  timestamptz '2024-09-01 08:00:00+00' + (i || ' minutes')::interval
from generate_series(1, 3000) as i
cross join lateral (select 1 + (i * 7) % 20000 as t) as a
cross join lateral (select ((t - 1) % 240) / 4 + 1 as o) as b;

insert into public.saved_filters (user_id, name, query, created_at)
select
  ('00000000-0000-4000-8000-' || lpad(to_hex((i - 1) % 500 + 1), 12, '0'))::uuid,
  (array['My open tasks', 'Due this week', 'High priority', 'Waiting for review'])[1 + i % 4],
  jsonb_build_object('status', (array['todo', 'in_progress'])[1 + i % 2], 'priority_lte', 1 + i % 4),
  timestamptz '2024-10-01 08:00:00+00' + (i || ' hours')::interval
from generate_series(1, 800) as i;


-- ---------------------------------------------------------------------------
-- Billing, integrations, invitations, audit log
-- ---------------------------------------------------------------------------
-- 40 payment methods per organization (expired cards and old mandates are kept).
insert into public.payment_methods (organization_id, added_by, kind, card_brand, card_last4, card_exp_month, card_exp_year,
                                    account_holder, iban, billing_email, phone, is_default, created_at)
select
  ('00000000-0000-4000-a000-' || lpad(to_hex(o), 12, '0'))::uuid,
  ('00000000-0000-4000-8000-' || lpad(to_hex(o + 60 * (i % 2)), 12, '0'))::uuid,
  case when i % 3 = 0 then 'sepa_debit' else 'card' end,
  case when i % 3 <> 0 then (array['visa', 'mastercard', 'amex'])[1 + i % 3] end,
  case when i % 3 <> 0 then lpad(((i * 7919) % 10000)::text, 4, '0') end,
  case when i % 3 <> 0 then 1 + i % 12 end,
  case when i % 3 <> 0 then 2024 + i % 5 end,
  format('Demo User %s', o + 60 * (i % 2)),
  case when i % 3 = 0 then 'DE89' || lpad(((i::bigint * 104729) % 1000000000000)::text, 18, '0') end,
  format('billing+%s@org%s.example.com', i, o),
  '+49 151 ' || lpad(((i * 5471) % 100000000)::text, 8, '0'),
  i <= 60,
  timestamptz '2024-06-10 08:00:00+00' + (i || ' hours')::interval
from generate_series(1, 2400) as i
cross join lateral (select (i - 1) % 60 + 1 as o) as x;

insert into public.invoices (organization_id, number, amount_cents, currency, status, issued_at, due_at, paid_at, pdf_path)
select
  ('00000000-0000-4000-a000-' || lpad(to_hex(o), 12, '0'))::uuid,
  'INV-' || lpad(i::text, 6, '0'),
  1900 + (i % 12) * 1000,
  'eur',
  case when i % 10 = 0 then 'open' when i % 31 = 0 then 'uncollectible' else 'paid' end,
  timestamptz '2023-01-01 00:00:00+00' + ((i / 60) || ' months')::interval + (o || ' hours')::interval,
  timestamptz '2023-01-15 00:00:00+00' + ((i / 60) || ' months')::interval,
  case when i % 10 <> 0 and i % 31 <> 0
       then timestamptz '2023-01-05 00:00:00+00' + ((i / 60) || ' months')::interval end,
  format('invoices/%s/INV-%s.pdf', o, lpad(i::text, 6, '0'))
from generate_series(1, 3000) as i
cross join lateral (select (i - 1) % 60 + 1 as o) as x;

insert into public.integrations (organization_id, provider, webhook_url, api_token, signing_secret, enabled, created_at)
select
  ('00000000-0000-4000-a000-' || lpad(to_hex(o), 12, '0'))::uuid,
  (array['slack', 'github'])[j],
  format('https://hooks.example.com/%s/%s', o, j),
  md5(format('token-%s-%s', o, j)),
  md5(format('secret-%s-%s', o, j)),
  true,
  timestamptz '2024-07-01 08:00:00+00' + (o || ' days')::interval
from generate_series(1, 60) as o
cross join generate_series(1, 2) as j;

insert into public.stripe_events (id, type, payload, received_at, processed_at)
select
  'evt_' || lpad(i::text, 10, '0'),
  (array['invoice.paid', 'invoice.created', 'customer.subscription.updated', 'payment_method.attached'])[1 + i % 4],
  jsonb_build_object('object', 'event', 'livemode', false, 'data', jsonb_build_object('amount', 1900 + i)),
  timestamptz '2024-06-01 00:00:00+00' + (i || ' hours')::interval,
  timestamptz '2024-06-01 00:00:05+00' + (i || ' hours')::interval
from generate_series(1, 1000) as i;

insert into public.invitations (organization_id, email, role, token, invited_by, expires_at, accepted_at)
select
  ('00000000-0000-4000-a000-' || lpad(to_hex(o), 12, '0'))::uuid,
  format('invitee%s@example.net', i),
  case when i % 7 = 0 then 'admin' else 'member' end,
  md5(format('invite-%s', i)) || md5(format('invite-%s-b', i)),
  ('00000000-0000-4000-8000-' || lpad(to_hex(o), 12, '0'))::uuid,
  timestamptz '2025-03-08 00:00:00+00' - ((i % 30) || ' days')::interval,
  case when i % 3 = 0 then timestamptz '2025-02-20 00:00:00+00' end
from generate_series(1, 300) as i
cross join lateral (select (i - 1) % 60 + 1 as o) as x;

insert into public.audit_log (occurred_at, organization_id, actor_id, action, entity_type, entity_id, details)
select
  timestamptz '2025-03-01 00:00:00+00' - (i || ' minutes')::interval * 7,
  ('00000000-0000-4000-a000-' || lpad(to_hex(o), 12, '0'))::uuid,
  ('00000000-0000-4000-8000-' || lpad(to_hex(o + 60 * (i % 8)), 12, '0'))::uuid,
  (array['create', 'update', 'delete', 'invite', 'login'])[1 + i % 5],
  (array['task', 'project', 'comment', 'member', 'integration'])[1 + i % 5],
  (1 + i % 20000)::text,
  jsonb_build_object('ip', format('203.0.113.%s', i % 250), 'user_agent', 'Mozilla/5.0')
from generate_series(1, 30000) as i
cross join lateral (select (i - 1) % 60 + 1 as o) as x;


-- ---------------------------------------------------------------------------
-- Notifications and activity
-- ---------------------------------------------------------------------------
insert into public.notifications (user_id, kind, title, body, payload, read_at, created_at)
select
  ('00000000-0000-4000-8000-' || lpad(to_hex((i - 1) % 500 + 1), 12, '0'))::uuid,
  (array['assigned', 'mentioned', 'commented', 'due_soon', 'invited'])[1 + i % 5],
  format('Task #%s needs your attention', 1 + i % 20000),
  repeat('Someone updated a task you follow. ', 1 + i % 4),
  jsonb_build_object('task_id', 1 + i % 20000, 'project_id', ('00000000-0000-4000-9000-' || lpad(to_hex(1 + i % 240), 12, '0')),
                     'preview', repeat('lorem ipsum ', 10),
                     -- the rendered e-mail is kept with the notification: ~1.3 KB per row
                     'html', repeat('<p>Someone updated a task you follow.</p>', 32)),
  case when i % 3 <> 0 then timestamptz '2025-02-01 00:00:00+00' + (i || ' minutes')::interval end,
  timestamptz '2025-01-01 00:00:00+00' + (i || ' minutes')::interval * 5
from generate_series(1, 10000) as i;

insert into public.activity_feed (project_id, actor_id, verb, summary, created_at)
select
  ('00000000-0000-4000-9000-' || lpad(to_hex(p), 12, '0'))::uuid,
  ('00000000-0000-4000-8000-' || lpad(to_hex((p - 1) / 4 + 1 + 60 * (i % 8)), 12, '0'))::uuid,
  (array['created', 'completed', 'commented on', 'reassigned', 'moved'])[1 + i % 5],
  format('task #%s', 1 + i % 20000),
  timestamptz '2025-01-01 00:00:00+00' + (i || ' minutes')::interval * 9
from generate_series(1, 5000) as i
cross join lateral (select (i - 1) % 240 + 1 as p) as x;


-- ---------------------------------------------------------------------------
-- Storage objects
-- ---------------------------------------------------------------------------
insert into storage.objects (bucket_id, name, owner, owner_id, metadata, created_at, updated_at)
select
  'avatars',
  format('%s/avatar.png', u.id),
  u.id,
  u.id::text,
  jsonb_build_object('size', 20480 + i, 'mimetype', 'image/png'),
  timestamptz '2024-07-01 00:00:00+00' + (i || ' hours')::interval,
  timestamptz '2024-07-01 00:00:00+00' + (i || ' hours')::interval
from generate_series(1, 500) as i
cross join lateral (select ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid as id) as u;

insert into storage.objects (bucket_id, name, owner, owner_id, metadata, created_at, updated_at)
select
  'attachments',
  format('%s/task-%s/spec-%s.pdf', u.id, 1 + i * 13 % 20000, i),
  u.id,
  u.id::text,
  jsonb_build_object('size', 150000 + i * 10, 'mimetype', 'application/pdf'),
  timestamptz '2024-08-01 00:00:00+00' + (i || ' hours')::interval,
  timestamptz '2024-08-01 00:00:00+00' + (i || ' hours')::interval
from generate_series(1, 1500) as i
cross join lateral (select ('00000000-0000-4000-8000-' || lpad(to_hex((i - 1) % 500 + 1), 12, '0'))::uuid as id) as u;


-- ---------------------------------------------------------------------------
-- Realtime subscribers (what realtime.subscription holds while clients are connected)
-- ---------------------------------------------------------------------------
-- 800 browser tabs on task boards, 400 on the notification bell, 30 on activity feeds (10 anon).
insert into realtime.subscription (subscription_id, entity, filters, claims, created_at)
select
  ('00000000-0000-4000-c000-' || lpad(to_hex(i), 12, '0'))::uuid,
  e.entity,
  case when e.entity = 'public.notifications'::regclass
       then jsonb_build_array(jsonb_build_array('user_id', 'eq', u.id::text))
       else '[]'::jsonb end,
  case when e.entity = 'public.activity_feed'::regclass and i % 3 = 0
       then jsonb_build_object('role', 'anon')
       else jsonb_build_object('role', 'authenticated', 'sub', u.id::text, 'aud', 'authenticated') end,
  timestamp '2025-03-01 09:00:00'
from generate_series(1, 1230) as i
cross join lateral (
  select case when i <= 800 then 'public.tasks'::regclass
              when i <= 1200 then 'public.notifications'::regclass
              else 'public.activity_feed'::regclass end as entity
) as e
cross join lateral (select ('00000000-0000-4000-8000-' || lpad(to_hex((i - 1) % 500 + 1), 12, '0'))::uuid as id) as u;


-- ---------------------------------------------------------------------------
-- Finish: fill the materialized view, replay a little app traffic, gather statistics
-- ---------------------------------------------------------------------------
reset session_replication_role;

refresh materialized view public.organization_usage;

-- The queries the app runs, so that the statistics show which indexes are used: all but
-- organizations_created_at_idx and the duplicate and redundant task indexes get scanned.
-- (Index scans are forced because the planner would seq-scan some of these small tables.)
do $$
declare
  org uuid := '00000000-0000-4000-a000-000000000007';
  usr uuid := '00000000-0000-4000-8000-000000000043';
  prj uuid := '00000000-0000-4000-9000-00000000001b';
  tem uuid := '00000000-0000-4000-b000-000000000014';
begin
  set local enable_seqscan = off;
  perform count(*) from public.tasks where project_id = prj and status = 'todo';
  perform count(*) from public.tasks where created_by = usr;
  perform count(*) from public.tasks where title ilike '%billing webhook%';
  perform count(*) from public.comments where author_id = usr;
  perform count(*) from public.task_watchers where task_id = 600;
  perform * from public.notifications where user_id = usr order by created_at desc limit 20;
  perform count(*) from public.saved_filters where user_id = usr;
  perform count(*) from public.team_members where user_id = usr;
  perform count(*) from public.team_members where team_id = tem;
  perform count(*) from public.teams where organization_id = org;
  perform count(*) from public.projects where organization_id = org;
  perform count(*) from public.projects where team_id = tem;
  perform count(*) from public.projects where created_by = usr;
  perform count(*) from public.payment_methods where organization_id = org;
  perform count(*) from public.payment_methods where added_by = usr;
  perform count(*) from public.invoices where organization_id = org;
  perform count(*) from public.integrations where organization_id = org;
  perform count(*) from public.invitations where organization_id = org;
  perform count(*) from public.invitations where invited_by = usr;
  perform * from public.audit_log where organization_id = org order by occurred_at desc limit 50;
  perform * from public.activity_feed where project_id = prj order by created_at desc limit 50;
  perform count(*) from public.activity_feed where actor_id = usr;
  perform pg_stat_force_next_flush();
end
$$;

analyze;
