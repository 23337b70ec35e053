/**
 * `-- supaudit-ignore <check>: <reason>` in COMMENT ON TABLE / COLUMN / POLICY / FUNCTION, read
 * from a real database on every engine (PG 15, 17 and 18): the comment travels with the object.
 */
import { describe, expect, test } from 'vitest';
import { auditOn, testEngines } from '../support/audit.ts';

const SQL = `
create table public.price_list (id bigint primary key, sku text, price numeric);
grant select on public.price_list to anon, authenticated;
comment on table public.price_list is 'Public catalogue.
-- supaudit-ignore rls_disabled_in_public: read-only reference data, published on the website anyway';

create table public.open_twin (id bigint primary key, sku text);
grant select on public.open_twin to anon, authenticated;

create table public.profiles (id uuid primary key, display_name text, email text);
alter table public.profiles enable row level security;
grant select on public.profiles to anon, authenticated;
create policy "profiles are public" on public.profiles for select to anon, authenticated using (true);
comment on policy "profiles are public" on public.profiles is '-- supaudit-ignore rls_policy_always_true: a public member directory by design';

create table public.webhooks (id bigint primary key, payload jsonb);
alter table public.webhooks enable row level security;
comment on table public.webhooks is '-- supaudit-ignore rls_enabled_no_policy';

create function public.slugify(t text) returns text language sql as $$ select lower(t) $$;
comment on function public.slugify(text) is '-- supaudit-ignore function_search_path_mutable: pure string function, no table access';
`;

describe.each(testEngines())('COMMENT suppressions on %s', (engine) => {
  test('table, policy and function comments suppress their check with the reason; the twin without a comment and the reasonless directive do not', async () => {
    const { snapshot, report } = await auditOn(engine, SQL);
    expect(snapshot.policies.find((p) => p.table === 'profiles')?.comment).toBe('-- supaudit-ignore rls_policy_always_true: a public member directory by design');
    const suppressed = report.suppressed.map((s) => [s.finding.fingerprint, s.reason, s.source]);
    expect(suppressed).toEqual(
      expect.arrayContaining([
        ['rls_disabled_in_public:public.price_list', 'read-only reference data, published on the website anyway', 'comment'],
        ['rls_policy_always_true:public.profiles.profiles are public', 'a public member directory by design', 'comment'],
        ['function_search_path_mutable:public.slugify.slugify(t text)', 'pure string function, no table access', 'comment'],
      ]),
    );
    expect(report.suppressed.every((s) => s.source === 'comment')).toBe(true);
    const found = report.findings.map((f) => f.fingerprint);
    expect(found).toContain('rls_disabled_in_public:public.open_twin');
    expect(found).not.toContain('rls_disabled_in_public:public.price_list');
    // Other checks on the commented table still report.
    expect(found).toContain('rls_enabled_no_policy:public.webhooks');
    expect(report.notes).toContainEqual({
      area: 'suppressions',
      message: 'the comment on public.webhooks has "supaudit-ignore rls_enabled_no_policy" without a reason, so it suppresses nothing (write "-- supaudit-ignore rls_enabled_no_policy: <reason>")',
    });
    expect(report.summary.critical).toBe(report.findings.filter((f) => f.level === 'critical').length);
  });
});
