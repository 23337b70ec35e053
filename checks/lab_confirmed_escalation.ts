import { defineCheck } from '../src/model/check.ts';
import { qualified } from '../src/model/ident.ts';
import type { LabAttack } from '../src/model/snapshot.ts';
import { relationObject } from './_shared.ts';

/** `public.comments (0 → 1 rows)`, per table the attacker gained. */
function gainedText(attack: LabAttack): string {
  return Object.entries(attack.gained)
    .map(([table, g]) => `${table} (${g.before} → ${g.after} row${g.after === 1 ? '' : 's'} of another owner)`)
    .join(', ');
}

/**
 * The lab's attack search, as findings: a write that made another owner's rows visible to the
 * attacker, measured in the lab's copy of the project (src/lab/attack.ts). Silent where no lab ran.
 */
export default defineCheck({
  meta: {
    id: 'lab_confirmed_escalation',
    title: 'A signed-in user gains access to other users’ rows (confirmed in the lab)',
    level: 'critical',
    category: 'security',
    facing: 'external',
    description:
      'In the lab (a copy of the project with accounts and rows supaudit made), a signed-in user wrote a row or a value and could then read rows of another user or tenant it could not read before.',
  },
  run(ctx) {
    const attacks = ctx.snapshot.labAttacks ?? [];
    // One finding per written table, command and column; the outsider (any account) before a tenant of his own.
    const byStep = new Map<string, LabAttack[]>();
    for (const a of attacks) {
      const key = `${a.table.schema}.${a.table.name}:${a.command}:${a.column}`;
      byStep.set(key, [...(byStep.get(key) ?? []), a]);
    }
    return [...byStep.values()].flatMap((group) => {
      const attack = group.find((a) => a.attacker === 'outsider') ?? group[0]!;
      const rel = ctx.relation(attack.table.schema, attack.table.name);
      if (!rel) return [];
      const who = attack.attacker === 'outsider' ? 'any signed-up account (one that owns nothing)' : 'a signed-in user of another tenant';
      const name = qualified(rel.schema, rel.name);
      const how =
        attack.command === 'insert'
          ? `inserts into ${name} a row whose ${attack.column} points at another user's row`
          : `updates ${attack.column} of its own row in ${name}`;
      return [
        {
          level: attack.attacker === 'outsider' ? 'critical' : 'high',
          message: `Confirmed in the lab: ${who} ${how}, and then reads ${gainedText(attack)} it could not read before.`,
          object: attack.command === 'update' ? relationObject(rel, { column: attack.column }) : relationObject(rel),
          detail: `${attack.command}.${attack.column}`,
          roles: ['authenticated'],
          remediation: {
            text:
              `Tie the write to what the caller already owns: the ${attack.command === 'insert' ? 'INSERT policy’s WITH CHECK' : 'UPDATE policy (and the column grant)'} on ${name} ` +
              `must refuse ${attack.column} values that name another user's rows (require the caller's membership or an invitation), or revoke the write of ${attack.column} from authenticated. ` +
              `Steps: ${attack.steps.join('; ')}.`,
          },
          evidence: { lab: { attacker: attack.attacker, attackers: group.map((a) => a.attacker), steps: attack.steps, gained: attack.gained } },
        },
      ];
    });
  },
});
