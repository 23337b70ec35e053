/**
 * The explicit check registry. A test asserts that every check here has a doc file and that every
 * doc file and check file in this folder is registered.
 */
import type { Check } from '../src/model/check.ts';
import auth_users_exposed from './auth_users_exposed.ts';
import blast_radius_anon from './blast_radius_anon.ts';
import blast_radius_authenticated from './blast_radius_authenticated.ts';
import blast_radius_custom_role from './blast_radius_custom_role.ts';
import duplicate_index from './duplicate_index.ts';
import fkey_to_auth_unique from './fkey_to_auth_unique.ts';
import function_search_path_mutable from './function_search_path_mutable.ts';
import invalid_index from './invalid_index.ts';
import missing_foreign_key from './missing_foreign_key.ts';
import missing_unique_constraint from './missing_unique_constraint.ts';
import no_primary_key from './no_primary_key.ts';
import nullable_policy_column from './nullable_policy_column.ts';
import policy_exists_rls_disabled from './policy_exists_rls_disabled.ts';
import redundant_index from './redundant_index.ts';
import rls_disabled_in_public from './rls_disabled_in_public.ts';
import rls_enabled_no_policy from './rls_enabled_no_policy.ts';
import security_definer_view from './security_definer_view.ts';
import sensitive_columns_exposed from './sensitive_columns_exposed.ts';
import unindexed_foreign_keys from './unindexed_foreign_keys.ts';
import unused_index from './unused_index.ts';

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
  unindexed_foreign_keys,
  duplicate_index,
  redundant_index,
  unused_index,
  invalid_index,
  no_primary_key,
  missing_foreign_key,
  nullable_policy_column,
  fkey_to_auth_unique,
  missing_unique_constraint,
] as const satisfies readonly Check[];

export function checkById(id: string): Check | undefined {
  return allChecks.find((c) => c.meta.id === id);
}
