/**
 * The world in the state the app's own rules count:
 * - a CHECK read arm by arm (a length bound, a scope that decides which keys are set), so a table
 *   behind it gets rows and every table that points at it too;
 * - the world's memberships in the state the helpers count (`active`, not the `pending` a request
 *   starts with), and an attacker's membership written in that state;
 * - an attacker's row refused by a trigger's rule on an optional value: tried again without it.
 */
import { expect, test } from 'vitest';
import { introspect } from '../../src/introspect/index.ts';
import { buildWorld } from '../../src/lab/world.ts';
import { checkArms, fitLength } from '../../src/lab/check-arms.ts';
import { initPolicyParser } from '../../src/policy/parse.ts';
import { isSystemSchema } from '../../src/model/schemas.ts';
import { auditMigration } from '../support/cli.ts';
import { loadOn } from '../support/audit.ts';
import { GYMS } from './gyms-schema.ts';

test('a CHECK read arm by arm: values per column, a length bound, the arms of an OR, and nothing taken from another column', async () => {
  await initPolicyParser();
  expect(checkArms('CHECK (((char_length(username) >= 3) AND (char_length(username) <= 24)))')).toEqual([
    { conditions: [{ column: 'username', kind: 'length', min: 3 }, { column: 'username', kind: 'length', max: 24 }] },
  ]);
  const scope = checkArms("CHECK ((((scope = 'b2c'::text) AND (gym_id IS NULL)) OR ((scope = 'b2b'::text) AND (gym_id IS NOT NULL))))");
  expect(scope).toEqual([
    { conditions: [{ column: 'scope', kind: 'values', values: ['b2c'] }, { column: 'gym_id', kind: 'null' }] },
    { conditions: [{ column: 'scope', kind: 'values', values: ['b2b'] }, { column: 'gym_id', kind: 'not_null' }] },
  ]);
  expect(checkArms("CHECK ((role = ANY (ARRAY['owner'::text, 'member'::text])))")).toEqual([{ conditions: [{ column: 'role', kind: 'values', values: ['owner', 'member'] }] }]);
  expect(checkArms('CHECK (((length(TRIM(BOTH FROM label)) >= 2) AND (length(TRIM(BOTH FROM label)) <= 80)))')?.[0]?.conditions).toHaveLength(2);
  // Two columns compared: nothing it can set.
  expect(checkArms('CHECK ((ends_at > starts_at))')).toEqual([{ conditions: [] }]);
  expect(checkArms('UNIQUE (a)')).toBeNull();
  expect(fitLength('alice-profiles-username-0', 3, 24, 'alice', 0)).toBe('alice0');
  expect(fitLength('t1_officer-profiles-username-12', 3, 6, 't1_officer', 12)).toHaveLength(6);
  expect(fitLength('a', 3, undefined, 'a', 1)).toBe('axx');
});


test('pglite: the world satisfies a length CHECK and a scoped CHECK, and its memberships are active as the helpers count them', async () => {
  const session = await loadOn('pglite', GYMS);
  try {
    const snapshot = await introspect(session, { exposedSchemas: ['public'] });
    const world = await buildWorld(session, snapshot, (r) => r.extension === null && !isSystemSchema(r.schema));
    const rows = (t: string) => world.tables.find((x) => x.name === t)?.rows ?? 0;
    // Every table behind the profile (its username within 3..24) gets rows.
    for (const t of ['profiles', 'gyms', 'gym_members', 'invoices', 'offers']) expect(rows(t), t).toBeGreaterThan(0);
    const members = world.made.get('public.gym_members') ?? [];
    expect(members.length).toBeGreaterThan(0);
    expect(new Set(members.map((m) => m.row['status']))).toEqual(new Set(['active']));
    // A flag that grants more than membership stays as the schema makes it.
    expect(new Set(members.map((m) => m.row['is_super_admin']))).toEqual(new Set([false]));
    // The offers: one arm of the CHECK, the row tied to its gym rather than the platform's.
    expect((world.made.get('public.offers') ?? []).every((m) => m.row['scope'] === 'gym' && m.row['gym_id'] !== null)).toBe(true);
  } finally {
    await session.close();
  }
});

test('any signed-up user inserts an active membership into another gym (past a trigger on a value it need not send): critical', async () => {
  const insert = `create policy "join yourself" on public.gym_members for insert to authenticated with check (user_id = auth.uid());`;
  const report = await auditMigration(GYMS + insert);
  const join = report.findings.find((f) => f.object.name === 'gym_members' && f.level === 'critical');
  expect(join?.message).toMatch(/Confirmed in the lab by effect .*public\.invoices \(0 → 1 row/);
  // The probe's own try (a pending row) showed nothing; the lab's answers it, and the message says one thing.
  expect(join?.message).not.toMatch(/inconclusive/);
  // The attack's row: in the state the helpers count, with no coach (the trigger refused its own id there).
  const attack = report.lab!.attacks.find((a) => a.table.name === 'gym_members' && a.command === 'insert');
  expect(attack?.steps[0]).toMatch(/'active'/);
});

test('without the self-join policy: no membership of another gym is confirmed', async () => {
  const report = await auditMigration(GYMS);
  expect(report.findings.filter((f) => f.object.name === 'gym_members' && (f.level === 'critical' || f.level === 'high'))).toEqual([]);
});

