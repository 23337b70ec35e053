import { describe, expect, it } from 'vitest';
import check from '../../checks/fkey_to_auth_unique.ts';
import { auditOn, auditSession, loadOn, objectsOf, testEngines } from '../support/audit.ts';

const ID = 'fkey_to_auth_unique';
const options = { checks: [check] };

const SCHEMA = `
-- near misses
create table public.profiles (id uuid primary key references auth.users (id));
create table public.codes (code text unique);
create table public.uses_codes (code text references public.codes (code));
create table auth.auth_side (phone text references auth.users (phone));

-- positives: auth.users.phone is unique (users_phone_key), not the primary key
create table public.contacts (id bigint primary key, phone text references auth.users (phone));
create table public."My Table" (id bigint primary key, "Phone No" text, constraint "My Phone Key" foreign key ("Phone No") references auth.users (phone));
`;

describe.each(testEngines())('fkey_to_auth_unique on %s', (engine) => {
  it('finds nothing in an empty schema', async () => {
    const { findings } = await auditOn(engine, 'select 1;', options);
    expect(objectsOf(findings, ID)).toEqual([]);
  });

  it('reports keys to a non-primary unique key of an auth table, and clears once they reference auth.users (id)', async () => {
    const { findings } = await auditOn(engine, SCHEMA, options);
    const mine = findings.filter((f) => f.check === ID);
    expect(mine.map((f) => f.fingerprint).sort()).toEqual(
      ['public.My Table:My Phone Key', 'public.contacts:contacts_phone_fkey'].map((f) => `${ID}:${f}`),
    );
    expect(mine.every((f) => f.level === 'high')).toBe(true);
    const quoted = mine.find((f) => f.object.name === 'My Table')!;
    expect(quoted.message).toContain('Foreign key "My Phone Key" on public."My Table" references auth.users (phone) through the unique index users_phone_key');
    expect(quoted.remediation.text).toContain('auth.users (id)');
    // The move to the primary key needs a new column and a backfill: advice, no SQL.
    expect(quoted.remediation.sql).toBeUndefined();

    const byHand = `
      alter table public.contacts add column user_id uuid references auth.users (id);
      alter table public.contacts drop constraint contacts_phone_fkey;
      alter table public."My Table" add column user_id uuid references auth.users (id);
      alter table public."My Table" drop constraint "My Phone Key";`;
    const session = await loadOn(engine, SCHEMA, byHand);
    try {
      const after = await auditSession(session, options);
      expect(objectsOf(after.findings, ID)).toEqual([]);
    } finally {
      await session.close();
    }
  });
});
