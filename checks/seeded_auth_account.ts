import { defineCheck } from '../src/model/check.ts';

/**
 * Accounts a migration creates in auth.users with a password: migrations run on every environment,
 * production included, and the password (or its hash) is in the repository for whoever reads it.
 */
export default defineCheck({
  meta: {
    id: 'seeded_auth_account',
    title: 'A migration creates a login with a password written in the repository',
    level: 'critical',
    category: 'security',
    facing: 'external',
    description: 'A migration (not the seed) inserts an account into auth.users with a password set in the statement: every environment built from the migrations has a login whose password is in the repository.',
  },
  run(ctx) {
    return (ctx.snapshot.seededAccounts ?? []).map((a) => ({
      level: a.password === 'literal' ? ('critical' as const) : ('high' as const),
      message:
        `${a.file}:${a.line} creates the account ${a.email ?? '(an address set in the statement)'} in auth.users ` +
        (a.password === 'literal'
          ? 'with a password written in the migration: whoever reads the repository signs in as it on every environment these migrations built, production included, unless it was changed there.'
          : 'with a stored password hash: whoever reads the repository can try to crack it offline, and every environment these migrations built has the same login.'),
      object: { schema: a.file, name: `line ${a.line}`, type: 'migration' as const },
      remediation: {
        text:
          'Create the first admin outside the migrations (the dashboard, `supabase.auth.admin.createUser` from a one-off script, or an invitation), move test accounts to seed.sql (local only), ' +
          'and on every environment that ran this migration change the password or delete the account now.',
      },
      evidence: { email: a.email, password: a.password },
    }));
  },
});
