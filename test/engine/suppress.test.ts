import { describe, expect, test } from 'vitest';
import { applySuppressions, parseIgnoreDirectives, type CommentSource, type Suppression } from '../../src/engine/suppress.ts';
import { column, fn, policy, relation } from '../policy/fixtures.ts';
import { finding } from './findings.ts';

const noComments: CommentSource = { relations: [], policies: [], functions: [] };
const today = '2026-06-15';
const file = 'supaudit.ignore.json';

const noPolicy = finding('rls_enabled_no_policy', { name: 'stripe_events' }, 'info');
const openTable = finding('rls_disabled_in_public', { name: 'payment_methods' }, 'critical');
const otherSchema = finding('rls_disabled_in_public', { schema: 'billing', name: 'invoices' }, 'critical');
const sensitive = finding('sensitive_columns_exposed', { name: 'profiles', type: 'column', column: 'email' }, 'high');

describe('suppressions file entries', () => {
  test('by fingerprint: the finding moves to suppressed with reason, by, expires and source', () => {
    const entries: Suppression[] = [{ fingerprint: noPolicy.fingerprint, reason: 'webhook table, service role only', by: 'ops', expires: '2026-12-31', file }];
    const out = applySuppressions([openTable, noPolicy], entries, noComments, today);
    expect(out.findings).toEqual([openTable]);
    expect(out.suppressed).toEqual([{ finding: noPolicy, reason: 'webhook table, service role only', by: 'ops', expires: '2026-12-31', source: 'file' }]);
    expect(out.notes).toEqual([]);
  });

  test('by check and object glob: public.* matches every public object, not other schemas', () => {
    const entries: Suppression[] = [{ check: 'rls_disabled_in_public', object: 'public.*', reason: 'prototype', file }];
    const out = applySuppressions([openTable, otherSchema, noPolicy], entries, noComments, today);
    expect(out.suppressed.map((s) => s.finding)).toEqual([openTable]);
    expect(out.findings).toEqual([otherSchema, noPolicy]);
  });

  test('an exact object, and a column glob', () => {
    const exact: Suppression = { check: 'rls_disabled_in_public', object: 'billing.invoices', reason: 'r', file };
    expect(applySuppressions([openTable, otherSchema], [exact], noComments, today).suppressed.map((s) => s.finding)).toEqual([otherSchema]);
    const col: Suppression = { check: 'sensitive_columns_exposed', object: 'public.profiles.e?ail', reason: 'r', file };
    expect(applySuppressions([sensitive], [col], noComments, today).suppressed).toHaveLength(1);
    const wrongCol: Suppression = { check: 'sensitive_columns_exposed', object: 'public.profiles.phone', reason: 'r', file };
    expect(applySuppressions([sensitive], [wrongCol], noComments, today).suppressed).toHaveLength(0);
  });

  test('check without object: every finding of the check; fingerprint and check must both match when both are given', () => {
    expect(applySuppressions([openTable, otherSchema], [{ check: 'rls_disabled_in_public', reason: 'r', file }], noComments, today).findings).toEqual([]);
    const both: Suppression = { fingerprint: openTable.fingerprint, check: 'rls_enabled_no_policy', reason: 'r', file };
    expect(applySuppressions([openTable], [both], noComments, today).findings).toEqual([openTable]);
  });

  test('expired: the finding stays, and a note says so; the expiry day itself still suppresses', () => {
    const entry: Suppression = { fingerprint: openTable.fingerprint, reason: 'waiting for the migration', expires: '2026-06-14', file };
    const out = applySuppressions([openTable], [entry], noComments, today);
    expect(out.findings).toEqual([openTable]);
    expect(out.suppressed).toEqual([]);
    expect(out.notes).toEqual([
      {
        area: 'suppressions',
        message: 'suppression for rls_disabled_in_public:public.payment_methods expired on 2026-06-14 (reason: waiting for the migration); the finding is reported again (supaudit.ignore.json)',
      },
    ]);
    expect(applySuppressions([openTable], [{ ...entry, expires: today }], noComments, today).findings).toEqual([]);
  });

  test('an expired entry and a live one on the same finding: the live one wins, no note', () => {
    const out = applySuppressions(
      [openTable],
      [
        { fingerprint: openTable.fingerprint, reason: 'old', expires: '2020-01-01', file },
        { check: 'rls_disabled_in_public', reason: 'new', file },
      ],
      noComments,
      today,
    );
    expect(out.suppressed.map((s) => s.reason)).toEqual(['new']);
    expect(out.notes).toEqual([]);
  });
});

describe('COMMENT directives', () => {
  test('parsing: several directives, each on a line of its own, reason after the colon', () => {
    expect(parseIgnoreDirectives('Stripe webhooks.\n-- supaudit-ignore rls_enabled_no_policy: only service_role writes here\n--supaudit-ignore  no_primary_key:append-only log')).toEqual([
      { check: 'rls_enabled_no_policy', reason: 'only service_role writes here' },
      { check: 'no_primary_key', reason: 'append-only log' },
    ]);
    // Behind prose on the same line it is a mention, not a directive.
    expect(parseIgnoreDirectives('Public price list. -- supaudit-ignore rls_disabled_in_public: read-only reference data')).toEqual([]);
    expect(parseIgnoreDirectives(null)).toEqual([]);
    expect(parseIgnoreDirectives('no directive here')).toEqual([]);
  });

  const db: CommentSource = {
    relations: [
      { ...relation('public', 'stripe_events', ['id']), comment: '-- supaudit-ignore rls_enabled_no_policy: only service_role writes here' },
      {
        ...relation('public', 'profiles', ['id']),
        columns: [{ ...column('email'), comment: '-- supaudit-ignore sensitive_columns_exposed: public directory, by design' }, column('phone', 'text', 2)],
      },
      { ...relation('public', 'payment_methods', ['id']), comment: '-- supaudit-ignore rls_disabled_in_public' },
    ],
    policies: [policy('profiles', 'anyone reads', { comment: '-- supaudit-ignore rls_policy_always_true: profiles are public' })],
    functions: [{ ...fn('public', 'search_users'), comment: '-- supaudit-ignore function_search_path_mutable: pinned by the caller' }],
  };

  test('on the table, the column, the policy and the function: source comment, with the reason', () => {
    const onPolicy = finding('rls_policy_always_true', { name: 'profiles', type: 'policy', policy: 'anyone reads' });
    const onFunction = finding('function_search_path_mutable', { name: 'search_users', type: 'function', function: 'search_users()' });
    const out = applySuppressions([noPolicy, sensitive, onPolicy, onFunction], [], db, today);
    expect(out.findings).toEqual([]);
    expect(out.suppressed.map((s) => [s.finding.check, s.reason, s.source])).toEqual([
      ['rls_enabled_no_policy', 'only service_role writes here', 'comment'],
      ['sensitive_columns_exposed', 'public directory, by design', 'comment'],
      ['rls_policy_always_true', 'profiles are public', 'comment'],
      ['function_search_path_mutable', 'pinned by the caller', 'comment'],
    ]);
  });

  test('a directive for another check, or on another object, suppresses nothing', () => {
    const otherCheck = finding('no_primary_key', { name: 'stripe_events' }, 'low');
    const otherColumn = finding('sensitive_columns_exposed', { name: 'profiles', type: 'column', column: 'phone' });
    const out = applySuppressions([otherCheck, otherColumn], [], db, today);
    expect(out.findings).toEqual([otherCheck, otherColumn]);
  });

  test('a directive without a reason suppresses nothing and says why, once', () => {
    const out = applySuppressions([openTable], [], db, today);
    expect(out.findings).toEqual([openTable]);
    expect(out.notes).toEqual([
      {
        area: 'suppressions',
        message: 'the comment on public.payment_methods has "supaudit-ignore rls_disabled_in_public" without a reason, so it suppresses nothing (write "-- supaudit-ignore rls_disabled_in_public: <reason>")',
      },
    ]);
  });
});
