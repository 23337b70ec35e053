/** Config `roles`: a NOLOGIN role the built-in list would skip gets its blast radius; a missing one gets a note. */
import { expect, test } from 'vitest';
import { allChecks } from '../../checks/index.ts';
import { buildReport } from '../../src/engine/audit.ts';
import { DEFAULT_CHECK_OPTIONS } from '../../src/engine/context.ts';
import { introspect } from '../../src/introspect/index.ts';
import { initPolicyParser } from '../../src/policy/index.ts';
import { loadPglite } from '../support/audit.ts';

test('extra roles from the config are scored; unknown ones are noted', async () => {
  const session = await loadPglite(`
    create role reporting nologin;
    grant usage on schema public to reporting;
    create table public.salaries (id bigint primary key, employee text, salary numeric);
    grant select on public.salaries to reporting;
  `);
  try {
    const snapshot = await introspect(session, { exposedSchemas: ['public'] });
    await initPolicyParser();
    const build = (extraRoles?: string[]) =>
      buildReport(
        snapshot,
        { kind: 'migrations', description: 'test' },
        { checks: allChecks, checkOptions: { ...DEFAULT_CHECK_OPTIONS, ...(extraRoles ? { extraRoles } : {}) } },
        { started: 0, introspectionMs: 0, queries: 0 },
      );
    expect(build().blastRadius.map((b) => b.role)).not.toContain('reporting');
    const report = build(['reporting', 'no_such_role']);
    const reporting = report.blastRadius.find((b) => b.role === 'reporting');
    expect(reporting?.tables).toContainEqual(expect.objectContaining({ schema: 'public', name: 'salaries', select: true, insert: false, sensitiveColumns: ['salary'], via: ['GRANT SELECT ON public.salaries TO reporting; RLS disabled'] }));
    expect(reporting!.score).toBeGreaterThan(0);
    expect(report.notes).toContainEqual({ area: 'config', message: 'role "no_such_role" (config "roles") does not exist in this database: no blast radius for it' });
  } finally {
    await session.close();
  }
});
