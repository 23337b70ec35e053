/**
 * The sensitive-column matcher: a pattern's words must be the column's head noun, followed by
 * nothing or by a form of the same value. Real names from audited projects.
 */
import { describe, expect, test } from 'vitest';
import { DEFAULT_SENSITIVE_PATTERNS, sensitiveMatcher } from '../../src/engine/context.ts';

const isSensitive = sensitiveMatcher(DEFAULT_SENSITIVE_PATTERNS);

describe('sensitiveMatcher', () => {
  test('the value itself, or a form of it', () => {
    for (const name of ['password', 'password_hash', 'passwordHash', 'refresh_token', 'access_token_encrypted', 'email', 'user_email', 'billing_email', 'phone_number', 'api_key', 'stripe_secret_key', 'otp_code', 'ssn_last4', 'medical_notes', 'address_line1', 'home_address', 'ip_address', 'date_of_birth', 'card_number', 'bank_account_number', 'salt', 'pass']) {
      expect([name, isSensitive(name)]).toEqual([name, expect.any(String)]);
    }
  });

  test('a name about the value, or one where the word is part of something else, is not', () => {
    for (const name of ['drought_salt_tolerance', 'token_expires_at', 'token_count', 'email_verified', 'email_confirmed_at', 'mfa_enabled', 'api_key_id', 'phone_verified', 'bus_pass', 'footprint', 'emails_sent', 'password_changed_at']) {
      expect([name, isSensitive(name)]).toEqual([name, null]);
    }
  });

  test('a pattern of the user is held to the same rule; one with its own anchors matches the whole name', () => {
    const user = sensitiveMatcher(['nin', '^pin$']);
    expect(['nin', 'nin_number', 'customer_nin', 'nin_checked_at', 'pin', 'pin_code'].map(user)).toEqual(['nin', 'nin', 'nin', null, '^pin$', null]);
  });
});
