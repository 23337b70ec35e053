import { expect, it } from 'vitest';
import check from '../../checks/authenticated_security_definer_function_executable.ts';
import { fixtureSql } from '../fixtures/advisor/index.ts';
import { describeAdvisorCheck, fixtureFix } from '../support/advisor.ts';
import { loadOn, outcomeAs, queryAs } from '../support/audit.ts';

describeAdvisorCheck(check, {
  extra: (engine) => {
    it('a helper that authenticated\'s policies call is moved out of the API, not revoked: the policy still works, /rpc is closed', async () => {
      const file = fixtureSql('security_definer_function_executable.sql');
      const fix = await fixtureFix(engine, check, 'security_definer_function_executable.sql', 'sd_is_owner');
      // What a plain REVOKE would do: the policy fails for authenticated.
      const before = await loadOn(engine, file, 'revoke execute on function public.sd_is_owner(bigint) from public, authenticated;');
      try {
        expect(await outcomeAs(before, 'authenticated', 'select count(*) from public.sd_groups')).toBe('42501');
      } finally {
        await before.close();
      }
      expect(fix).toContain('CREATE SCHEMA IF NOT EXISTS private;\nALTER FUNCTION public.sd_is_owner(g bigint) SET SCHEMA private;');
      expect(fix).toContain('RLS policies on public.sd_groups call public.sd_is_owner(g bigint) as authenticated');
      const after = await loadOn(engine, file, fix);
      try {
        expect(await queryAs(after, 'authenticated', 'select count(*)::int as n from public.sd_groups')).toEqual([{ n: 1 }]);
        expect(await outcomeAs(after, 'authenticated', 'select public.sd_is_owner(1)')).toBe('42883');
      } finally {
        await after.close();
      }
    });
  },
});
