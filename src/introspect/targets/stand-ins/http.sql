-- http (pgsql-http) stand-in. Real: the types http_method, content_type, http_header,
-- http_response and http_request, and the signatures of http(), http_get/post/put/patch/delete/
-- head, http_header, urlencode and the curl option functions. Imitated: a request is recorded in
-- http_stand_in_requests and never sent; the response is empty (status 0, no headers, no content).
create domain @extschema@.http_method as text;
create domain @extschema@.content_type as text check (value ~ '^\S+\/\S+');
create type @extschema@.http_header as (field character varying, value character varying);
create type @extschema@.http_response as (status integer, content_type character varying, headers @extschema@.http_header[], content character varying);
create type @extschema@.http_request as (method @extschema@.http_method, uri character varying, headers @extschema@.http_header[], content_type character varying, content character varying);

create table @extschema@.http_stand_in_requests (
  id bigserial primary key,
  method text,
  uri text,
  content_type text,
  content text,
  requested_at timestamptz not null default now()
);
revoke all on @extschema@.http_stand_in_requests from public;

create function @extschema@.http(request @extschema@.http_request) returns @extschema@.http_response
  language sql volatile security definer set search_path = pg_catalog, pg_temp
as $$
  insert into @extschema@.http_stand_in_requests (method, uri, content_type, content)
  values (request.method, request.uri, request.content_type, request.content);
  select row(0, null, array[]::@extschema@.http_header[], '')::@extschema@.http_response
$$;

create function @extschema@.http_get(uri character varying) returns @extschema@.http_response language sql
as $$ select @extschema@.http(('GET', uri, null, null, null)::@extschema@.http_request) $$;
create function @extschema@.http_get(uri character varying, data jsonb) returns @extschema@.http_response language sql
as $$ select @extschema@.http(('GET', uri || '?' || @extschema@.urlencode(data), null, null, null)::@extschema@.http_request) $$;
create function @extschema@.http_post(uri character varying, content character varying, content_type character varying) returns @extschema@.http_response language sql
as $$ select @extschema@.http(('POST', uri, null, content_type, content)::@extschema@.http_request) $$;
create function @extschema@.http_post(uri character varying, data jsonb) returns @extschema@.http_response language sql
as $$ select @extschema@.http(('POST', uri, null, 'application/x-www-form-urlencoded', @extschema@.urlencode(data))::@extschema@.http_request) $$;
create function @extschema@.http_put(uri character varying, content character varying, content_type character varying) returns @extschema@.http_response language sql
as $$ select @extschema@.http(('PUT', uri, null, content_type, content)::@extschema@.http_request) $$;
create function @extschema@.http_patch(uri character varying, content character varying, content_type character varying) returns @extschema@.http_response language sql
as $$ select @extschema@.http(('PATCH', uri, null, content_type, content)::@extschema@.http_request) $$;
create function @extschema@.http_delete(uri character varying) returns @extschema@.http_response language sql
as $$ select @extschema@.http(('DELETE', uri, null, null, null)::@extschema@.http_request) $$;
create function @extschema@.http_delete(uri character varying, content character varying, content_type character varying) returns @extschema@.http_response language sql
as $$ select @extschema@.http(('DELETE', uri, null, content_type, content)::@extschema@.http_request) $$;
create function @extschema@.http_head(uri character varying) returns @extschema@.http_response language sql
as $$ select @extschema@.http(('HEAD', uri, null, null, null)::@extschema@.http_request) $$;

create function @extschema@.http_header(field character varying, value character varying) returns @extschema@.http_header language sql immutable
as $$ select row(field, value)::@extschema@.http_header $$;
create function @extschema@.http_set_curlopt(curlopt character varying, value character varying) returns boolean language sql
as $$ select true $$;
create function @extschema@.http_reset_curlopt() returns boolean language sql
as $$ select true $$;
create function @extschema@.http_list_curlopt() returns table (curlopt text, value text) language sql
as $$ select null::text, null::text where false $$;
create function @extschema@.urlencode(string character varying) returns text language sql immutable
as $$
  select string_agg(case when b between 48 and 57 or b between 65 and 90 or b between 97 and 122 or b in (45, 46, 95, 126)
    then chr(b) else '%' || upper(lpad(to_hex(b), 2, '0')) end, '' order by i)
  from (select i, get_byte(convert_to(string, 'UTF8'), i) as b from generate_series(0, octet_length(convert_to(string, 'UTF8')) - 1) i) bytes
$$;
create function @extschema@.urlencode(data jsonb) returns text language sql immutable
as $$ select string_agg(@extschema@.urlencode(key) || '=' || @extschema@.urlencode(value), '&' order by key) from jsonb_each_text(data) $$;
