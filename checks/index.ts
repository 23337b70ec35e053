/**
 * The explicit check registry. A test asserts that every check here has a doc file and that every
 * doc file and check file in this folder is registered.
 */
import type { Check } from '../src/model/check.ts';
import auth_rls_initplan from './auth_rls_initplan.ts';
import auth_users_exposed from './auth_users_exposed.ts';
import check_null_bypass from './check_null_bypass.ts';
import storage_bucket_open from './storage_bucket_open.ts';
import tenant_self_join from './tenant_self_join.ts';
import lab_confirmed_escalation from './lab_confirmed_escalation.ts';
import lab_cross_owner_access from './lab_cross_owner_access.ts';
import lab_function_cross_owner from './lab_function_cross_owner.ts';
import migration_drift from './migration_drift.ts';
import migration_statement_failed from './migration_statement_failed.ts';
import seeded_auth_account from './seeded_auth_account.ts';
import privilege_escalation from './privilege_escalation.ts';
import blast_radius_anon from './blast_radius_anon.ts';
import blast_radius_authenticated from './blast_radius_authenticated.ts';
import blast_radius_custom_role from './blast_radius_custom_role.ts';
import duplicate_index from './duplicate_index.ts';
import fkey_to_auth_unique from './fkey_to_auth_unique.ts';
import function_search_path_mutable from './function_search_path_mutable.ts';
import hardcoded_secret from './hardcoded_secret.ts';
import insert_without_owner_check from './insert_without_owner_check.ts';
import invalid_index from './invalid_index.ts';
import missing_foreign_key from './missing_foreign_key.ts';
import missing_unique_constraint from './missing_unique_constraint.ts';
import multiple_permissive_policies from './multiple_permissive_policies.ts';
import no_primary_key from './no_primary_key.ts';
import nullable_policy_column from './nullable_policy_column.ts';
import policy_exists_rls_disabled from './policy_exists_rls_disabled.ts';
import policy_infinite_recursion from './policy_infinite_recursion.ts';
import policy_join_slow_shape from './policy_join_slow_shape.ts';
import policy_role_unrestricted from './policy_role_unrestricted.ts';
import policy_unparseable from './policy_unparseable.ts';
import redundant_index from './redundant_index.ts';
import rls_disabled_in_public from './rls_disabled_in_public.ts';
import rls_enabled_no_policy from './rls_enabled_no_policy.ts';
import rls_policy_always_true from './rls_policy_always_true.ts';
import rls_references_user_metadata from './rls_references_user_metadata.ts';
import security_definer_view from './security_definer_view.ts';
import sensitive_columns_exposed from './sensitive_columns_exposed.ts';
import unindexed_foreign_keys from './unindexed_foreign_keys.ts';
import unindexed_policy_column from './unindexed_policy_column.ts';
import unused_index from './unused_index.ts';
import extension_in_public from './extension_in_public.ts';
import extension_versions_outdated from './extension_versions_outdated.ts';
import materialized_view_in_api from './materialized_view_in_api.ts';
import foreign_table_in_api from './foreign_table_in_api.ts';
import unsupported_reg_types from './unsupported_reg_types.ts';
import table_bloat from './table_bloat.ts';
import public_bucket_allows_listing from './public_bucket_allows_listing.ts';
import insecure_queue_exposed_in_api from './insecure_queue_exposed_in_api.ts';
import pg_graphql_anon_table_exposed from './pg_graphql_anon_table_exposed.ts';
import pg_graphql_authenticated_table_exposed from './pg_graphql_authenticated_table_exposed.ts';
import anon_security_definer_function_executable from './anon_security_definer_function_executable.ts';
import authenticated_security_definer_function_executable from './authenticated_security_definer_function_executable.ts';
import realtime_table_without_rls from './realtime_table_without_rls.ts';
import realtime_replica_identity_full_wide from './realtime_replica_identity_full_wide.ts';
import realtime_rls_cost from './realtime_rls_cost.ts';
import realtime_over_capacity from './realtime_over_capacity.ts';
import realtime_publication_all_tables from './realtime_publication_all_tables.ts';
import auth_jwt_expiry_long from './auth_jwt_expiry_long.ts';
import auth_password_policy_weak from './auth_password_policy_weak.ts';
import auth_email_unconfirmed from './auth_email_unconfirmed.ts';
import auth_otp_expiry_long from './auth_otp_expiry_long.ts';
import auth_mfa_disabled from './auth_mfa_disabled.ts';
import auth_anonymous_sign_ins from './auth_anonymous_sign_ins.ts';
import auth_redirect_url_wildcard from './auth_redirect_url_wildcard.ts';
import auth_site_url_insecure from './auth_site_url_insecure.ts';
import api_max_rows_high from './api_max_rows_high.ts';
import audit_trail_missing from './audit_trail_missing.ts';
import audit_log_tamperable from './audit_log_tamperable.ts';

export const allChecks = [
  rls_disabled_in_public,
  policy_exists_rls_disabled,
  rls_enabled_no_policy,
  sensitive_columns_exposed,
  security_definer_view,
  function_search_path_mutable,
  hardcoded_secret,
  auth_users_exposed,
  check_null_bypass,
  storage_bucket_open,
  tenant_self_join,
  lab_confirmed_escalation,
  lab_cross_owner_access,
  lab_function_cross_owner,
  migration_drift,
  migration_statement_failed,
  seeded_auth_account,
  privilege_escalation,
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
  auth_rls_initplan,
  unindexed_policy_column,
  rls_references_user_metadata,
  rls_policy_always_true,
  insert_without_owner_check,
  multiple_permissive_policies,
  policy_role_unrestricted,
  policy_infinite_recursion,
  policy_join_slow_shape,
  policy_unparseable,
  extension_in_public,
  extension_versions_outdated,
  materialized_view_in_api,
  foreign_table_in_api,
  unsupported_reg_types,
  table_bloat,
  public_bucket_allows_listing,
  insecure_queue_exposed_in_api,
  pg_graphql_anon_table_exposed,
  pg_graphql_authenticated_table_exposed,
  anon_security_definer_function_executable,
  authenticated_security_definer_function_executable,
  realtime_table_without_rls,
  realtime_replica_identity_full_wide,
  realtime_rls_cost,
  realtime_over_capacity,
  realtime_publication_all_tables,
  auth_jwt_expiry_long,
  auth_password_policy_weak,
  auth_email_unconfirmed,
  auth_otp_expiry_long,
  auth_mfa_disabled,
  auth_anonymous_sign_ins,
  auth_redirect_url_wildcard,
  auth_site_url_insecure,
  api_max_rows_high,
  audit_trail_missing,
  audit_log_tamperable,
] as const satisfies readonly Check[];

export function checkById(id: string): Check | undefined {
  return allChecks.find((c) => c.meta.id === id);
}
