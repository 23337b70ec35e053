import { expect, it } from 'vitest';
import check from '../../checks/pg_graphql_authenticated_table_exposed.ts';
import { fixtureSql } from '../fixtures/advisor/index.ts';
import { auditFixture, describeAdvisorCheck } from '../support/advisor.ts';

// pg_graphql is not available on the test servers: the fixture is real, and the tests add the
// extension's pg_extension row to the snapshot (see withPgGraphql).
describeAdvisorCheck(check, {
  extra: (engine) => {
    it('is silent without pg_graphql, and when the exposed schemas leave graphql_public out', async () => {
      const sql = [fixtureSql('pg_graphql_table_exposed.sql')];
      expect((await auditFixture(engine, sql, { checks: [check] })).report.findings).toEqual([]);
      expect((await auditFixture(engine, sql, { checks: [check], pgGraphql: true, exposedSchemas: ['public'] })).report.findings).toEqual([]);
    });
  },
});
