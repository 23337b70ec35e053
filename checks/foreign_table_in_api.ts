import { noRlsRelationInApi } from './materialized_view_in_api.ts';

export default noRlsRelationInApi({
  id: 'foreign_table_in_api',
  kind: 'foreign_table',
  noun: 'Foreign table',
  title: 'Foreign table readable through the API',
  description: 'A foreign table in an exposed schema is selectable by anon or authenticated; foreign tables have no RLS.',
});
