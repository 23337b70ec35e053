import { graphqlExposure } from './pg_graphql_anon_table_exposed.ts';

export default graphqlExposure(
  'pg_graphql_authenticated_table_exposed',
  'authenticated',
  'With pg_graphql installed, a table, view or materialized view that authenticated can select is visible in GraphQL introspection to every signed-in user.',
);
