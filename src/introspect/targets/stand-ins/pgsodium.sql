-- pgsodium stand-in. Real: the schema pgsodium, pgsodium.key and the valid_key view, and the
-- signatures of the functions migrations call most (create_key, derive_key, randombytes_*, the secretbox,
-- deterministic AEAD and crypto_box key functions). Imitated: nothing is encrypted (the
-- "ciphertext" is the message), keys and nonces are random bytes from md5(random()), and
-- SECURITY LABEL ... 'ENCRYPT WITH KEY ID' (transparent column encryption) is not supported.
create schema if not exists pgsodium;

create table pgsodium.key (
  id uuid primary key default gen_random_uuid(),
  status text default 'valid',
  created timestamptz not null default now(),
  expires timestamptz,
  key_type text,
  key_id bigserial,
  key_context bytea default '\x7067736f6469756d',
  name text unique,
  associated_data text default 'associated',
  raw_key bytea,
  raw_key_nonce bytea,
  parent_key uuid references pgsodium.key(id),
  comment text,
  user_data text
);

create view pgsodium.valid_key as
  select id, name, status, key_type, key_id, key_context, created, expires, associated_data
    from pgsodium.key where status in ('valid', 'default') and (expires is null or expires > now());

create function pgsodium.randombytes_buf(size integer) returns bytea language sql volatile
as $$ select substring(string_agg(decode(md5(random()::text), 'hex'), ''), 1, size) from generate_series(0, size / 16) $$;
create function pgsodium.randombytes_random() returns integer language sql volatile
as $$ select (random() * 2147483647)::integer $$;
create function pgsodium.randombytes_uniform(upper_bound integer) returns integer language sql volatile
as $$ select (random() * upper_bound)::integer % greatest(upper_bound, 1) $$;

create function pgsodium.create_key(key_type text default 'aead-det', name text default null, raw_key bytea default null,
  raw_key_nonce bytea default null, parent_key uuid default null, key_context bytea default '\x7067736f6469756d',
  expires timestamptz default null, associated_data text default '') returns pgsodium.valid_key language plpgsql
as $$
declare
  made uuid;
  answer pgsodium.valid_key;
begin
  insert into pgsodium.key (key_type, name, raw_key, raw_key_nonce, parent_key, key_context, expires, associated_data)
  values (create_key.key_type, create_key.name, create_key.raw_key, create_key.raw_key_nonce, create_key.parent_key,
    create_key.key_context, create_key.expires, create_key.associated_data)
  returning id into made;
  select * into answer from pgsodium.valid_key v where v.id = made;
  return answer;
end
$$;

-- A key derived from the server's secret: here a deterministic digest of the id and context (no secret behind it).
create function pgsodium.derive_key(key_id bigint, key_len integer default 32, context bytea default 'pgsodium') returns bytea language sql immutable
as $$ select substring(string_agg(sha256(context || int8send(key_id) || int4send(i)), '' order by i), 1, key_len) from generate_series(0, key_len / 32) i $$;
create function pgsodium.crypto_secretbox_keygen() returns bytea language sql volatile as $$ select pgsodium.randombytes_buf(32) $$;
create function pgsodium.crypto_secretbox_noncegen() returns bytea language sql volatile as $$ select pgsodium.randombytes_buf(24) $$;
create function pgsodium.crypto_secretbox(message bytea, nonce bytea, key bytea) returns bytea language sql immutable as $$ select message $$;
create function pgsodium.crypto_secretbox(message bytea, nonce bytea, key_id bigint, context bytea default 'pgsodium') returns bytea language sql immutable as $$ select message $$;
create function pgsodium.crypto_secretbox(message bytea, nonce bytea, key_uuid uuid) returns bytea language sql immutable as $$ select message $$;
create function pgsodium.crypto_secretbox_open(ciphertext bytea, nonce bytea, key bytea) returns bytea language sql immutable as $$ select ciphertext $$;
create function pgsodium.crypto_secretbox_open(message bytea, nonce bytea, key_id bigint, context bytea default 'pgsodium') returns bytea language sql immutable as $$ select message $$;
create function pgsodium.crypto_secretbox_open(message bytea, nonce bytea, key_uuid uuid) returns bytea language sql immutable as $$ select message $$;
create function pgsodium.crypto_aead_det_keygen() returns bytea language sql volatile as $$ select pgsodium.randombytes_buf(32) $$;
create function pgsodium.crypto_aead_det_noncegen() returns bytea language sql volatile as $$ select pgsodium.randombytes_buf(16) $$;
create function pgsodium.crypto_aead_det_encrypt(message bytea, additional bytea, key_uuid uuid) returns bytea language sql immutable as $$ select message $$;
create function pgsodium.crypto_aead_det_encrypt(message bytea, additional bytea, key_uuid uuid, nonce bytea) returns bytea language sql immutable as $$ select message $$;
create function pgsodium.crypto_aead_det_encrypt(message bytea, additional bytea, key_id bigint, context bytea default 'pgsodium', nonce bytea default null) returns bytea language sql immutable as $$ select message $$;
create function pgsodium.crypto_aead_det_decrypt(message bytea, additional bytea, key_uuid uuid) returns bytea language sql immutable as $$ select message $$;
create function pgsodium.crypto_aead_det_decrypt(message bytea, additional bytea, key_uuid uuid, nonce bytea) returns bytea language sql immutable as $$ select message $$;
create function pgsodium.crypto_aead_det_decrypt(message bytea, additional bytea, key_id bigint, context bytea default 'pgsodium', nonce bytea default null) returns bytea language sql immutable as $$ select message $$;
create function pgsodium.crypto_box_new_keypair(out public bytea, out secret bytea) language sql volatile
as $$ select pgsodium.randombytes_buf(32), pgsodium.randombytes_buf(32) $$;

revoke all on pgsodium.key from public;
