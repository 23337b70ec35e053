-- pg_jsonschema stand-in. Real: the signatures of json_matches_schema, jsonb_matches_schema,
-- jsonschema_is_valid and jsonschema_validation_errors. Imitated: every document matches and
-- every schema is valid (no validator here), so CHECK constraints that use them accept all rows.
create function @extschema@.json_matches_schema(schema json, instance json) returns boolean language sql immutable parallel safe
as $$ select true $$;
create function @extschema@.jsonb_matches_schema(schema json, instance jsonb) returns boolean language sql immutable parallel safe
as $$ select true $$;
create function @extschema@.jsonschema_is_valid(schema json) returns boolean language sql immutable parallel safe
as $$ select true $$;
create function @extschema@.jsonschema_validation_errors(schema json, instance json) returns text[] language sql immutable parallel safe
as $$ select array[]::text[] $$;
