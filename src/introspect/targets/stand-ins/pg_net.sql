-- pg_net stand-in. Real: the schema net, the queue and response tables, and the signatures of
-- net.http_get/http_post/http_delete (returning the request id), security definer with
-- search_path net and the grants Supabase gives them. Imitated: a request is queued in
-- net.http_request_queue and never sent (there is no worker); net._http_response stays empty.
create schema if not exists net;

create unlogged table net.http_request_queue (
  id bigserial not null,
  method text not null,
  url text not null,
  headers jsonb not null,
  body bytea,
  timeout_milliseconds integer not null
);

create unlogged table net._http_response (
  id bigint,
  status_code integer,
  content_type text,
  headers jsonb,
  content text,
  timed_out boolean,
  error_msg text,
  created timestamptz not null default now()
);

create function net._queue(method text, url text, headers jsonb, body bytea, timeout_milliseconds integer)
  returns bigint language sql volatile security definer set search_path = net
as $$
  insert into net.http_request_queue (method, url, headers, body, timeout_milliseconds)
  values (method, url, coalesce(headers, '{}'), body, timeout_milliseconds) returning id
$$;

create function net.http_get(url text, params jsonb default '{}'::jsonb, headers jsonb default '{}'::jsonb, timeout_milliseconds integer default 5000)
  returns bigint language sql volatile security definer set search_path = net
as $$ select net._queue('GET', url, headers, null, timeout_milliseconds) $$;

create function net.http_post(url text, body jsonb default '{}'::jsonb, params jsonb default '{}'::jsonb, headers jsonb default '{"Content-Type": "application/json"}'::jsonb, timeout_milliseconds integer default 5000)
  returns bigint language sql volatile security definer set search_path = net
as $$ select net._queue('POST', url, headers, convert_to(body::text, 'UTF8'), timeout_milliseconds) $$;

create function net.http_delete(url text, params jsonb default '{}'::jsonb, headers jsonb default '{}'::jsonb, timeout_milliseconds integer default 5000)
  returns bigint language sql volatile security definer set search_path = net
as $$ select net._queue('DELETE', url, headers, null, timeout_milliseconds) $$;

revoke all on function net._queue(text, text, jsonb, bytea, integer) from public;
grant usage on schema net to postgres, anon, authenticated, service_role;
grant execute on function net.http_get(text, jsonb, jsonb, integer), net.http_post(text, jsonb, jsonb, jsonb, integer),
  net.http_delete(text, jsonb, jsonb, integer) to postgres, anon, authenticated, service_role;
