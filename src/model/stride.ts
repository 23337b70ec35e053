/**
 * STRIDE, the threat model reviewers walk through: every finding says which of Spoofing,
 * Tampering, Repudiation, Information disclosure, Denial of service and Elevation of privilege it
 * enables. The categories belong to the check (one table here, so the threat model reads in one
 * place); a test fails when a check has none.
 */
export const STRIDE = ['S', 'T', 'R', 'I', 'D', 'E'] as const;
export type Stride = (typeof STRIDE)[number];

export const STRIDE_NAMES: Readonly<Record<Stride, string>> = {
  S: 'Spoofing',
  T: 'Tampering',
  R: 'Repudiation',
  I: 'Information disclosure',
  D: 'Denial of service',
  E: 'Elevation of privilege',
};

const CHECK_STRIDE: Readonly<Record<string, readonly Stride[]>> = {
  // who can read what
  rls_disabled_in_public: ['I', 'T'],
  policy_exists_rls_disabled: ['I', 'T'],
  sensitive_columns_exposed: ['I'],
  auth_users_exposed: ['I'],
  security_definer_view: ['I', 'E'],
  foreign_table_in_api: ['I'],
  materialized_view_in_api: ['I'],
  pg_graphql_anon_table_exposed: ['I'],
  pg_graphql_authenticated_table_exposed: ['I'],
  public_bucket_allows_listing: ['I'],
  realtime_table_without_rls: ['I'],
  realtime_publication_all_tables: ['I', 'D'],
  policy_role_unrestricted: ['I', 'E'],
  // who can write what
  rls_policy_always_true: ['T', 'I'],
  insert_without_owner_check: ['S', 'T'],
  check_null_bypass: ['T', 'E'],
  storage_bucket_open: ['T', 'I'],
  insecure_queue_exposed_in_api: ['T', 'I'],
  nullable_policy_column: ['T', 'I'],
  missing_foreign_key: ['T'],
  missing_unique_constraint: ['T'],
  // becoming someone else, or more
  rls_references_user_metadata: ['S', 'E'],
  tenant_self_join: ['E', 'I'],
  lab_confirmed_escalation: ['E', 'I', 'T'],
  lab_cross_owner_access: ['I', 'T'],
  lab_function_cross_owner: ['T', 'I', 'E'],
  migration_statement_failed: ['T'],
  seeded_auth_account: ['S', 'E'],
  migration_drift: ['T', 'E'],
  privilege_escalation: ['E'],
  anon_security_definer_function_executable: ['E'],
  authenticated_security_definer_function_executable: ['E'],
  function_search_path_mutable: ['E', 'T'],
  extension_in_public: ['E'],
  extension_versions_outdated: ['E', 'T'],
  hardcoded_secret: ['I', 'S'],
  blast_radius_anon: ['I', 'T', 'E'],
  blast_radius_authenticated: ['I', 'T', 'E'],
  blast_radius_custom_role: ['I', 'T', 'E'],
  // what cannot be judged: the policy may open anything
  policy_unparseable: ['I', 'T'],
  rls_enabled_no_policy: ['D'],
  // availability: slow policies and queries, realtime over capacity, broken plans
  policy_infinite_recursion: ['D'],
  auth_rls_initplan: ['D'],
  unindexed_policy_column: ['D'],
  policy_join_slow_shape: ['D'],
  multiple_permissive_policies: ['D'],
  realtime_over_capacity: ['D'],
  realtime_rls_cost: ['D'],
  realtime_replica_identity_full_wide: ['D', 'I'],
  unindexed_foreign_keys: ['D'],
  duplicate_index: ['D'],
  redundant_index: ['D'],
  unused_index: ['D'],
  invalid_index: ['D'],
  table_bloat: ['D'],
  no_primary_key: ['D'],
  fkey_to_auth_unique: ['D'],
  unsupported_reg_types: ['D'],
  // Auth and API settings (supabase/config.toml)
  auth_jwt_expiry_long: ['S', 'E'],
  auth_password_policy_weak: ['S'],
  auth_email_unconfirmed: ['S', 'E'],
  auth_otp_expiry_long: ['S'],
  auth_mfa_disabled: ['S'],
  auth_anonymous_sign_ins: ['S', 'E', 'T'],
  auth_redirect_url_wildcard: ['S', 'I'],
  auth_site_url_insecure: ['S', 'I'],
  api_max_rows_high: ['D'],
  // who did it: the trail of changes
  audit_trail_missing: ['R'],
  audit_log_tamperable: ['R', 'T'],
};

/** The STRIDE categories of a check's findings; empty for a check not in the table (a test forbids that). */
export function strideOf(check: string): readonly Stride[] {
  return CHECK_STRIDE[check] ?? [];
}
