-- pg_graphql stand-in. Real: the schema graphql and the signatures of graphql.resolve,
-- graphql.comment_directive and graphql.rebuild_schema, so graphql_public.graphql(...) wrappers
-- and comment directives load. Imitated: resolve answers every query with an error saying that
-- no GraphQL schema is served here.
create schema if not exists graphql;

create function graphql.resolve(query text default null, variables jsonb default '{}', "operationName" text default null, extensions jsonb default null)
  returns jsonb language sql volatile
as $$ select jsonb_build_object('data', null, 'errors', jsonb_build_array(jsonb_build_object('message', 'pg_graphql is a stand-in in the embedded database: no GraphQL schema is served'))) $$;

create function graphql.comment_directive(comment_ text) returns jsonb language sql immutable
as $$ select case when comment_ ~ '^\s*@graph' then substring(comment_ from '@graph\s*\((.*)\)')::jsonb end $$;

create function graphql.rebuild_schema() returns void language sql as $$ select $$;

grant usage on schema graphql to anon, authenticated, service_role;
grant execute on function graphql.resolve(text, jsonb, text, jsonb) to anon, authenticated, service_role;
