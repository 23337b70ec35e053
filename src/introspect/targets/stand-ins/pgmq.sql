-- pgmq stand-in. Real: the schema pgmq, pgmq.meta, the type pgmq.message_record, and the
-- signatures of create, send, send_batch, read, pop, archive, delete, set_vt, purge_queue,
-- drop_queue and list_queues; a queue is the pair of plain tables pgmq.q_<name> and
-- pgmq.a_<name> with pgmq's columns, made at run time, so RLS and grants on them act as on
-- pgmq. Imitated: no partitioned or unlogged queues, no notifications, no read-with-poll.
create schema if not exists pgmq;

create table pgmq.meta (
  queue_name varchar unique not null,
  is_partitioned boolean not null default false,
  is_unlogged boolean not null default false,
  created_at timestamptz not null default now()
);

create type pgmq.message_record as (msg_id bigint, read_ct integer, enqueued_at timestamptz, vt timestamptz, message jsonb, headers jsonb);

create type pgmq.queue_record as (queue_name varchar, is_partitioned boolean, is_unlogged boolean, created_at timestamptz);

create function pgmq.create(queue_name text) returns void language plpgsql
as $$
begin
  execute format('create table if not exists pgmq.%I (msg_id bigint primary key generated always as identity, read_ct int not null default 0, '
    'enqueued_at timestamptz not null default now(), vt timestamptz not null, message jsonb, headers jsonb)', 'q_' || queue_name);
  execute format('create table if not exists pgmq.%I (msg_id bigint primary key, read_ct int not null default 0, '
    'enqueued_at timestamptz not null default now(), archived_at timestamptz not null default now(), vt timestamptz not null, message jsonb, headers jsonb)', 'a_' || queue_name);
  insert into pgmq.meta (queue_name) values (queue_name) on conflict do nothing;
end
$$;

create function pgmq.send_batch(queue_name text, msgs jsonb[], delay integer default 0) returns setof bigint language plpgsql
as $$
begin
  return query execute format('insert into pgmq.%I (vt, message) select now() + make_interval(secs => $2), m from unnest($1) m returning msg_id', 'q_' || queue_name)
    using msgs, delay;
end
$$;

create function pgmq.send(queue_name text, msg jsonb, delay integer default 0) returns setof bigint language sql
as $$ select pgmq.send_batch(queue_name, array[msg], delay) $$;

create function pgmq.read(queue_name text, vt integer, qty integer) returns setof pgmq.message_record language plpgsql
as $$
begin
  return query execute format(
    'with picked as (select msg_id from pgmq.%1$I where vt <= now() order by msg_id limit $1 for update skip locked)
     update pgmq.%1$I q set vt = now() + make_interval(secs => $2), read_ct = q.read_ct + 1 from picked where q.msg_id = picked.msg_id
     returning q.msg_id, q.read_ct, q.enqueued_at, q.vt, q.message, q.headers', 'q_' || queue_name)
    using qty, vt;
end
$$;

create function pgmq.pop(queue_name text) returns setof pgmq.message_record language plpgsql
as $$
begin
  return query execute format(
    'with picked as (select msg_id from pgmq.%1$I where vt <= now() order by msg_id limit 1 for update skip locked)
     delete from pgmq.%1$I q using picked where q.msg_id = picked.msg_id
     returning q.msg_id, q.read_ct, q.enqueued_at, q.vt, q.message, q.headers', 'q_' || queue_name);
end
$$;

create function pgmq.archive(queue_name text, msg_id bigint) returns boolean language plpgsql
as $$
declare moved bigint;
begin
  execute format(
    'with gone as (delete from pgmq.%I where msg_id = $1 returning msg_id, read_ct, enqueued_at, vt, message, headers)
     insert into pgmq.%I (msg_id, read_ct, enqueued_at, vt, message, headers) select * from gone returning msg_id', 'q_' || queue_name, 'a_' || queue_name)
    into moved using msg_id;
  return moved is not null;
end
$$;

create function pgmq.delete(queue_name text, msg_id bigint) returns boolean language plpgsql
as $$
declare gone bigint;
begin
  execute format('delete from pgmq.%I where msg_id = $1 returning msg_id', 'q_' || queue_name) into gone using msg_id;
  return gone is not null;
end
$$;

create function pgmq.set_vt(queue_name text, msg_id bigint, vt integer) returns setof pgmq.message_record language plpgsql
as $$
begin
  return query execute format('update pgmq.%I set vt = now() + make_interval(secs => $2) where msg_id = $1
    returning msg_id, read_ct, enqueued_at, vt, message, headers', 'q_' || queue_name) using msg_id, vt;
end
$$;

create function pgmq.purge_queue(queue_name text) returns bigint language plpgsql
as $$
declare n bigint;
begin
  execute format('with gone as (delete from pgmq.%I returning 1) select count(*) from gone', 'q_' || queue_name) into n;
  return n;
end
$$;

create function pgmq.drop_queue(queue_name text) returns boolean language plpgsql
as $$
begin
  execute format('drop table if exists pgmq.%I, pgmq.%I', 'q_' || queue_name, 'a_' || queue_name);
  delete from pgmq.meta m where m.queue_name = drop_queue.queue_name;
  return found;
end
$$;

create function pgmq.list_queues() returns setof pgmq.queue_record language sql
as $$ select queue_name, is_partitioned, is_unlogged, created_at from pgmq.meta $$;
