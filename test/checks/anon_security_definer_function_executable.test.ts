import { expect, it } from 'vitest';
import check from '../../checks/anon_security_definer_function_executable.ts';
import { fixtureSql } from '../fixtures/advisor/index.ts';
import { describeAdvisorCheck, fixtureFix } from '../support/advisor.ts';
import { loadOn, queryAs } from '../support/audit.ts';

describeAdvisorCheck(check, {
  extra: (engine) => {
    it('the fix for a policy helper keeps the policy working for authenticated (EXECUTE granted by name)', async () => {
      const file = fixtureSql('security_definer_function_executable.sql');
      const fix = await fixtureFix(engine, check, 'security_definer_function_executable.sql', 'sd_is_owner');
      expect(fix).toBe('REVOKE EXECUTE ON FUNCTION public.sd_is_owner(g bigint) FROM PUBLIC, anon;\nGRANT EXECUTE ON FUNCTION public.sd_is_owner(g bigint) TO authenticated;');
      const after = await loadOn(engine, file, fix);
      try {
        expect(await queryAs(after, 'authenticated', 'select count(*)::int as n from public.sd_groups')).toEqual([{ n: 1 }]);
      } finally {
        await after.close();
      }
    });
  },
});
