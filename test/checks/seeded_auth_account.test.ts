/**
 * An account a migration creates in auth.users with a password is reported with its file and line;
 * the same account in seed.sql (local development only) and a function that signs users up are not.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { Report } from '../../src/model/report.ts';
import { runCli } from '../support/cli.ts';

const ADMIN = (email: string, password: string) => `
do $$
declare
  admin_password text := '${password}';
begin
  insert into auth.users (id, instance_id, aud, role, email, encrypted_password, email_confirmed_at)
  values (gen_random_uuid(), '00000000-0000-0000-0000-000000000000', 'authenticated', 'authenticated', '${email}',
          extensions.crypt(admin_password, extensions.gen_salt('bf')), now());
end $$;
`;

test('a migration that creates an admin with a password: critical, at its line; a stored hash: high; the seed and a sign-up function: nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'supaudit-seeded-'));
  try {
    const migrations = join(dir, 'supabase', 'migrations');
    mkdirSync(migrations, { recursive: true });
    writeFileSync(
      join(migrations, '20260101000000_app.sql'),
      `create extension if not exists pgcrypto with schema extensions;
create function public.create_user(email text, password text) returns void language sql security definer set search_path = '' as $$
  insert into auth.users (id, email, encrypted_password) values (gen_random_uuid(), email, extensions.crypt(password, extensions.gen_salt('bf'))) $$;
revoke execute on function public.create_user(text, text) from public, anon, authenticated;
${ADMIN('owner@example.com', 'AdminChangeMe1!')}
insert into auth.users (id, email, encrypted_password) values (gen_random_uuid(), 'ops@example.com', '$2a$10$abcdefghijklmnopqrstuuPPZ9eH7yJ1R2ixGzQ2y1U8nG4yq7C8S');
`,
    );
    writeFileSync(join(dir, 'supabase', 'seed.sql'), ADMIN('dev@example.com', 'password123'));
    const run = await runCli(['--migrations', migrations, '--no-tui', '-f', 'json', '-o', '-', '-q', '--no-lab'], { env: { CI: 'true' } });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    const found = report.findings.filter((f) => f.check === 'seeded_auth_account');
    expect(found.map((f) => [f.level, f.object.name, f.evidence?.['email']])).toEqual([
      ['critical', 'line 6', 'owner@example.com'],
      ['high', 'line 15', 'ops@example.com'],
    ]);
    expect(found[0]!.message).toContain('supabase/migrations/20260101000000_app.sql:6 creates the account owner@example.com in auth.users with a password written in the migration');
    // The password itself is never printed.
    expect(run.stdout).not.toContain('AdminChangeMe1!');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
