import { describe, expect, it } from 'vitest';
import check from '../../checks/authenticated_security_definer_function_executable.ts';
import anonCheck from '../../checks/anon_security_definer_function_executable.ts';
import { fixtureSql } from '../fixtures/advisor/index.ts';
import { describeAdvisorCheck, fixtureFix } from '../support/advisor.ts';
import { auditOn, loadOn, outcomeAs, queryAs, testEngines } from '../support/audit.ts';

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

describe.each(testEngines())('definer functions graded by what their body does (%s)', (engine) => {
  it('an unguarded writer is high, a caller-checking one medium, a read-only existence check low, for anon and authenticated', async () => {
    const { findings } = await auditOn(
      engine,
      `
create table public.accounts (id uuid primary key, plan text, balance int);
alter table public.accounts enable row level security;
create function public.set_plan(p_id uuid, p_plan text) returns void language sql security definer set search_path = '' as $$
  update public.accounts set plan = p_plan where id = p_id
$$;
create function public.topup(p_user uuid, amount int) returns void language plpgsql security definer set search_path = '' as $$
begin
  if p_user <> auth.uid() then raise exception 'not yours'; end if;
  update public.accounts set balance = balance + amount where id = p_user;
end $$;
create function public.plan_exists(p_plan text) returns boolean language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.accounts where plan = p_plan)
$$;
create function public.require_member(p_user uuid) returns void language plpgsql stable security definer set search_path = '' as $$
begin
  if p_user is distinct from auth.uid() then raise exception 'not a member'; end if;
end $$;
revoke execute on function public.require_member(uuid) from public, anon, authenticated;
create function public.billing_email(p_user uuid) returns text language plpgsql stable security definer set search_path = '' as $$
begin
  perform public.require_member(p_user);
  return (select email from auth.users where id = p_user);
end $$;
create function public.user_emails() returns setof text language sql stable security definer set search_path = '' as $$
  select email from auth.users
$$;
`,
      { checks: [check, anonCheck] },
    );
    expect(findings.map((f) => [f.check.startsWith('anon') ? 'anon' : 'authenticated', f.object.name, f.level]).sort()).toEqual(
      [
        ['anon', 'billing_email', 'low'],
        ['anon', 'plan_exists', 'low'],
        ['anon', 'set_plan', 'high'],
        ['anon', 'topup', 'low'],
        ['anon', 'user_emails', 'high'],
        ['authenticated', 'billing_email', 'medium'],
        ['authenticated', 'plan_exists', 'low'],
        ['authenticated', 'set_plan', 'high'],
        ['authenticated', 'topup', 'medium'],
        ['authenticated', 'user_emails', 'high'],
      ].sort(),
    );
    expect(findings.find((f) => f.object.name === 'set_plan')!.message).toContain('Its body writes tables and never looks at who calls it.');
  });

  it('a body that raises unless the caller is service_role is low: Postgres refuses anon and authenticated there, service_role passes', async () => {
    const SQL = `
create table public.secrets (id uuid primary key default gen_random_uuid(), name text unique, value text);
alter table public.secrets enable row level security;
create function public.read_secret(p_name text) returns text language plpgsql security definer set search_path = public as $$
declare v text;
begin
  if current_setting('role') != 'service_role' then
    raise exception 'authentication required';
  end if;
  select value into v from public.secrets where name = p_name;
  return v;
end $$;
create function public.put_secret(p_name text, p_value text) returns void language plpgsql security definer set search_path = public as $$
begin
  if not ((auth.jwt() ->> 'role') = 'service_role') then raise exception 'service only'; end if;
  insert into public.secrets (name, value) values (p_name, p_value);
end $$;
create function public.vault_value() returns text language plpgsql security definer as $$
declare v text;
begin
  -- a comment that says: if current_setting('role') != 'service_role' then raise
  select email into v from auth.users limit 1;
  return v;
end $$;
insert into public.secrets (name, value) values ('stripe', 'sk_test_x');
grant usage on schema public to service_role;
`;
    const session = await loadOn(engine, SQL);
    try {
      expect(await outcomeAs(session, 'anon', "select public.read_secret('stripe')")).toBe('P0001');
      expect(await outcomeAs(session, 'authenticated', "select public.read_secret('stripe')")).toBe('P0001');
      expect(await queryAs(session, 'service_role', "select public.read_secret('stripe') as v")).toEqual([{ v: 'sk_test_x' }]);
    } finally {
      await session.close();
    }
    const { findings, report } = await auditOn(engine, SQL, { checks: [check, anonCheck] });
    const levels = (name: string) => findings.filter((f) => f.object.name === name).map((f) => f.level).sort();
    expect(levels('read_secret')).toEqual(['low', 'low']);
    // …and not part of what anon or a user can do (the blast radius), while the unguarded one is
    for (const role of ['anon', 'authenticated']) {
      const callable = report.blastRadius.find((r) => r.role === role)!.functions.map((f) => f.name);
      expect(callable).toContain('vault_value');
      expect(callable).not.toContain('read_secret');
      expect(callable).not.toContain('put_secret');
    }
    expect(levels('put_secret')).toEqual(['low', 'low']);
    expect(findings.find((f) => f.object.name === 'read_secret')!.message).toContain('raises an error unless the caller is service_role');
    // a guard only in a comment guards nothing
    expect(levels('vault_value')).toEqual(['high', 'high']);
  });

  it('a Vault read by a name that says "address" (supabase_url) is medium; a credential, a connection string or a name from the caller stays high', async () => {
    const vaultRead = (fn: string, where: string, args = '') =>
      `create function public.${fn}(${args}) returns text language plpgsql security definer set search_path = '' as $$
declare v text;
begin
  select decrypted_secret into v from vault.decrypted_secrets where ${where};
  return v;
end $$;`;
    const { findings } = await auditOn(
      engine,
      [
        vaultRead('project_url', "name = 'supabase_url'"),
        vaultRead('stripe_key', "name = 'stripe_secret_key'"),
        vaultRead('database_url', "name = 'database_url'"),
        vaultRead('any_secret', 'name = p_name', 'p_name text'),
      ].join('\n'),
      { checks: [check, anonCheck] },
    );
    const levels = (name: string) => findings.filter((f) => f.object.name === name).map((f) => f.level).sort();
    expect(levels('project_url')).toEqual(['medium', 'medium']);
    expect(findings.find((f) => f.object.name === 'project_url')!.message).toContain("returns the Vault secret 'supabase_url'");
    expect(levels('stripe_key')).toEqual(['high', 'high']);
    expect(levels('database_url')).toEqual(['high', 'high']);
    expect(levels('any_secret')).toEqual(['high', 'high']);
  });
});
