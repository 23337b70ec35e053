import { defineCheck } from '../src/model/check.ts';
import { lifetimeFindings } from './_auth_config.ts';

const KEY = 'auth.email.otp_expiry';

export default defineCheck({
  meta: {
    id: 'auth_otp_expiry_long',
    title: 'E-mail links and codes stay valid long',
    level: 'low',
    category: 'security',
    facing: 'external',
    source: 'config.toml',
    description:
      '`[auth.email] otp_expiry` in supabase/config.toml is above the default hour: magic links, sign-up confirmations and recovery codes work for longer in an inbox someone else can read.',
  },
  run(ctx) {
    return lifetimeFindings(
      ctx,
      KEY,
      'a magic link, recovery link or OTP found in a forwarded mail, ' +
        'a mail archive or a shared mailbox signs its reader in as the user for that long.',
    );
  },
});
