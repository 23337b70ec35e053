-- wrappers (Supabase Wrappers) stand-in. Real: the handler, validator and meta functions of each
-- foreign data wrapper, so CREATE FOREIGN DATA WRAPPER ... HANDLER ... VALIDATOR ..., CREATE
-- SERVER and CREATE FOREIGN TABLE load. Imitated: the validator accepts any options, and the
-- handler is Postgres's placeholder that refuses to run, so reading a foreign table fails with
-- "cannot accept a value of type fdw_handler": nothing is ever fetched.
create function @extschema@.airtable_fdw_handler() returns fdw_handler language internal strict as 'fdw_handler_in';
create function @extschema@.airtable_fdw_validator(options text[], catalog oid) returns void language plpgsql as $$ begin end $$;
create function @extschema@.airtable_fdw_meta() returns table (name text, version text, author text, website text) language sql
as $$ select 'airtable_fdw', 'stand-in', 'supaudit', null::text $$;
create function @extschema@.auth0_fdw_handler() returns fdw_handler language internal strict as 'fdw_handler_in';
create function @extschema@.auth0_fdw_validator(options text[], catalog oid) returns void language plpgsql as $$ begin end $$;
create function @extschema@.auth0_fdw_meta() returns table (name text, version text, author text, website text) language sql
as $$ select 'auth0_fdw', 'stand-in', 'supaudit', null::text $$;
create function @extschema@.big_query_fdw_handler() returns fdw_handler language internal strict as 'fdw_handler_in';
create function @extschema@.big_query_fdw_validator(options text[], catalog oid) returns void language plpgsql as $$ begin end $$;
create function @extschema@.big_query_fdw_meta() returns table (name text, version text, author text, website text) language sql
as $$ select 'big_query_fdw', 'stand-in', 'supaudit', null::text $$;
create function @extschema@.click_house_fdw_handler() returns fdw_handler language internal strict as 'fdw_handler_in';
create function @extschema@.click_house_fdw_validator(options text[], catalog oid) returns void language plpgsql as $$ begin end $$;
create function @extschema@.click_house_fdw_meta() returns table (name text, version text, author text, website text) language sql
as $$ select 'click_house_fdw', 'stand-in', 'supaudit', null::text $$;
create function @extschema@.cognito_fdw_handler() returns fdw_handler language internal strict as 'fdw_handler_in';
create function @extschema@.cognito_fdw_validator(options text[], catalog oid) returns void language plpgsql as $$ begin end $$;
create function @extschema@.cognito_fdw_meta() returns table (name text, version text, author text, website text) language sql
as $$ select 'cognito_fdw', 'stand-in', 'supaudit', null::text $$;
create function @extschema@.duckdb_fdw_handler() returns fdw_handler language internal strict as 'fdw_handler_in';
create function @extschema@.duckdb_fdw_validator(options text[], catalog oid) returns void language plpgsql as $$ begin end $$;
create function @extschema@.duckdb_fdw_meta() returns table (name text, version text, author text, website text) language sql
as $$ select 'duckdb_fdw', 'stand-in', 'supaudit', null::text $$;
create function @extschema@.firebase_fdw_handler() returns fdw_handler language internal strict as 'fdw_handler_in';
create function @extschema@.firebase_fdw_validator(options text[], catalog oid) returns void language plpgsql as $$ begin end $$;
create function @extschema@.firebase_fdw_meta() returns table (name text, version text, author text, website text) language sql
as $$ select 'firebase_fdw', 'stand-in', 'supaudit', null::text $$;
create function @extschema@.iceberg_fdw_handler() returns fdw_handler language internal strict as 'fdw_handler_in';
create function @extschema@.iceberg_fdw_validator(options text[], catalog oid) returns void language plpgsql as $$ begin end $$;
create function @extschema@.iceberg_fdw_meta() returns table (name text, version text, author text, website text) language sql
as $$ select 'iceberg_fdw', 'stand-in', 'supaudit', null::text $$;
create function @extschema@.logflare_fdw_handler() returns fdw_handler language internal strict as 'fdw_handler_in';
create function @extschema@.logflare_fdw_validator(options text[], catalog oid) returns void language plpgsql as $$ begin end $$;
create function @extschema@.logflare_fdw_meta() returns table (name text, version text, author text, website text) language sql
as $$ select 'logflare_fdw', 'stand-in', 'supaudit', null::text $$;
create function @extschema@.mssql_fdw_handler() returns fdw_handler language internal strict as 'fdw_handler_in';
create function @extschema@.mssql_fdw_validator(options text[], catalog oid) returns void language plpgsql as $$ begin end $$;
create function @extschema@.mssql_fdw_meta() returns table (name text, version text, author text, website text) language sql
as $$ select 'mssql_fdw', 'stand-in', 'supaudit', null::text $$;
create function @extschema@.redis_fdw_handler() returns fdw_handler language internal strict as 'fdw_handler_in';
create function @extschema@.redis_fdw_validator(options text[], catalog oid) returns void language plpgsql as $$ begin end $$;
create function @extschema@.redis_fdw_meta() returns table (name text, version text, author text, website text) language sql
as $$ select 'redis_fdw', 'stand-in', 'supaudit', null::text $$;
create function @extschema@.s3_fdw_handler() returns fdw_handler language internal strict as 'fdw_handler_in';
create function @extschema@.s3_fdw_validator(options text[], catalog oid) returns void language plpgsql as $$ begin end $$;
create function @extschema@.s3_fdw_meta() returns table (name text, version text, author text, website text) language sql
as $$ select 's3_fdw', 'stand-in', 'supaudit', null::text $$;
create function @extschema@.stripe_fdw_handler() returns fdw_handler language internal strict as 'fdw_handler_in';
create function @extschema@.stripe_fdw_validator(options text[], catalog oid) returns void language plpgsql as $$ begin end $$;
create function @extschema@.stripe_fdw_meta() returns table (name text, version text, author text, website text) language sql
as $$ select 'stripe_fdw', 'stand-in', 'supaudit', null::text $$;
create function @extschema@.wasm_fdw_handler() returns fdw_handler language internal strict as 'fdw_handler_in';
create function @extschema@.wasm_fdw_validator(options text[], catalog oid) returns void language plpgsql as $$ begin end $$;
create function @extschema@.wasm_fdw_meta() returns table (name text, version text, author text, website text) language sql
as $$ select 'wasm_fdw', 'stand-in', 'supaudit', null::text $$;
