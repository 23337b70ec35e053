-- pg_hashids stand-in. Real: the signatures of id_encode (bigint and bigint[], with salt, minimum
-- length and alphabet), id_decode and id_decode_once. Imitated: the text is the numbers in
-- hexadecimal joined by "x" and left-padded with "y" (salt and alphabet are ignored), so it
-- decodes back but differs from real hashids.
create function @extschema@.id_encode(number bigint) returns text language sql immutable strict
as $$ select to_hex(number) $$;
create function @extschema@.id_encode(number bigint, salt text) returns text language sql immutable strict
as $$ select to_hex(number) $$;
create function @extschema@.id_encode(number bigint, salt text, min_length integer) returns text language sql immutable strict
as $$ select lpad(to_hex(number), min_length, 'y') $$;
create function @extschema@.id_encode(number bigint, salt text, min_length integer, alphabet text) returns text language sql immutable strict
as $$ select lpad(to_hex(number), min_length, 'y') $$;
create function @extschema@.id_encode(numbers bigint[]) returns text language sql immutable strict
as $$ select string_agg(to_hex(n), 'x' order by i) from unnest(numbers) with ordinality u(n, i) $$;
create function @extschema@.id_encode(numbers bigint[], salt text) returns text language sql immutable strict
as $$ select @extschema@.id_encode(numbers) $$;
create function @extschema@.id_encode(numbers bigint[], salt text, min_length integer) returns text language sql immutable strict
as $$ select lpad(@extschema@.id_encode(numbers), min_length, 'y') $$;
create function @extschema@.id_encode(numbers bigint[], salt text, min_length integer, alphabet text) returns text language sql immutable strict
as $$ select lpad(@extschema@.id_encode(numbers), min_length, 'y') $$;

create function @extschema@.id_decode(hash text) returns bigint[] language sql immutable strict
as $$
  select array_agg(('x' || lpad(part, 16, '0'))::bit(64)::bigint order by i)
    from unnest(string_to_array(ltrim(hash, 'y'), 'x')) with ordinality u(part, i)
$$;
create function @extschema@.id_decode(hash text, salt text) returns bigint[] language sql immutable strict
as $$ select @extschema@.id_decode(hash) $$;
create function @extschema@.id_decode(hash text, salt text, min_length integer) returns bigint[] language sql immutable strict
as $$ select @extschema@.id_decode(hash) $$;
create function @extschema@.id_decode(hash text, salt text, min_length integer, alphabet text) returns bigint[] language sql immutable strict
as $$ select @extschema@.id_decode(hash) $$;
create function @extschema@.id_decode_once(hash text) returns bigint language sql immutable strict
as $$ select (@extschema@.id_decode(hash))[1] $$;
create function @extschema@.id_decode_once(hash text, salt text) returns bigint language sql immutable strict
as $$ select (@extschema@.id_decode(hash))[1] $$;
create function @extschema@.id_decode_once(hash text, salt text, min_length integer) returns bigint language sql immutable strict
as $$ select (@extschema@.id_decode(hash))[1] $$;
create function @extschema@.id_decode_once(hash text, salt text, min_length integer, alphabet text) returns bigint language sql immutable strict
as $$ select (@extschema@.id_decode(hash))[1] $$;
