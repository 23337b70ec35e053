/**
 * The explicit check registry. A test asserts that every check here has a doc file and that every
 * doc file and check file in this folder is registered.
 */
import type { Check } from '../src/model/check.ts';
import auth_users_exposed from './auth_users_exposed.ts';
import blast_radius_anon from './blast_radius_anon.ts';
import blast_radius_authenticated from './blast_radius_authenticated.ts';
import blast_radius_custom_role from './blast_radius_custom_role.ts';
import function_search_path_mutable from './function_search_path_mutable.ts';
import policy_exists_rls_disabled from './policy_exists_rls_disabled.ts';
import rls_disabled_in_public from './rls_disabled_in_public.ts';
import rls_enabled_no_policy from './rls_enabled_no_policy.ts';
import security_definer_view from './security_definer_view.ts';
import sensitive_columns_exposed from './sensitive_columns_exposed.ts';

export const allChecks = [
  rls_disabled_in_public,
  policy_exists_rls_disabled,
  rls_enabled_no_policy,
  sensitive_columns_exposed,
  security_definer_view,
  function_search_path_mutable,
  auth_users_exposed,
  blast_radius_anon,
  blast_radius_authenticated,
  blast_radius_custom_role,
] as const satisfies readonly Check[];

export function checkById(id: string): Check | undefined {
  return allChecks.find((c) => c.meta.id === id);
}
