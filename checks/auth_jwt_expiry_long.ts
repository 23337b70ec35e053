import { defineCheck } from '../src/model/check.ts';
import { lifetimeFindings } from './_auth_config.ts';

const KEY = 'auth.jwt_expiry';

export default defineCheck({
  meta: {
    id: 'auth_jwt_expiry_long',
    title: 'Access tokens live longer than an hour',
    level: 'low',
    category: 'security',
    facing: 'external',
    source: 'config.toml',
    description:
      '`[auth] jwt_expiry` in supabase/config.toml is above the default hour: a stolen access token stays valid that long, and RLS keeps trusting the claims of a banned, deleted or demoted user until it expires.',
  },
  run(ctx) {
    return lifetimeFindings(
      ctx,
      KEY,
      'an access token copied from a browser, a log or a shared device works for that long, ' +
        'and signing out, banning or deleting the user does not end it — PostgREST and your policies keep honouring its claims (role, app_metadata) until it expires.',
      ' (sessions stay long through refresh tokens, which can be revoked)',
    );
  },
});
