import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import { PUBLIC_ROLE, type PolicyCommand } from '../src/model/snapshot.ts';
import { policyAnalyses, rlsSubjectRoles } from './_policy_checks.ts';

const COMMANDS: readonly PolicyCommand[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];

export default defineCheck({
  meta: {
    id: 'multiple_permissive_policies',
    title: 'Several permissive policies for one role and command',
    level: 'low',
    category: 'performance',
    facing: 'internal',
    splinter: 'multiple_permissive_policies',
    description:
      'More than one permissive policy applies to the same table, role and command (PUBLIC expanded to the roles that use RLS, ALL to the four commands; restrictive policies not counted), so Postgres evaluates every one of them for each row.',
  },
  run(ctx) {
    const roles = rlsSubjectRoles(ctx);
    const byTable = new Map<string, { schema: string; table: string; names: { name: string; roles: readonly string[]; command: PolicyCommand }[] }>();
    for (const a of policyAnalyses(ctx)) {
      const p = a.policy;
      if (!p.permissive || !ctx.isUserObject(p.schema, null)) continue;
      const key = `${p.schema}\u0000${p.table}`;
      const entry = byTable.get(key) ?? { schema: p.schema, table: p.table, names: [] };
      entry.names.push({ name: p.name, roles: p.roles, command: p.command });
      byTable.set(key, entry);
    }
    const out: FindingDraft[] = [];
    for (const { schema, table, names } of byTable.values()) {
      if (names.length < 2) continue;
      for (const role of roles) {
        for (const command of COMMANDS) {
          const applying = names.filter((n) => (n.command === 'ALL' || n.command === command) && (n.roles.includes(PUBLIC_ROLE) || n.roles.includes(role)));
          if (applying.length < 2) continue;
          const list = applying.map((n) => quoteIdent(n.name)).join(', ');
          out.push({
            message:
              `${qualified(schema, table)} has ${applying.length} permissive ${command} policies for ${role} (${list}); ` +
              `each is evaluated for every row. One policy combining them with OR is evaluated once.`,
            object: { schema, name: table, type: 'table' },
            roles: [role],
            detail: `${role}.${command.toLowerCase()}`,
            remediation: {
              text: `Merge ${list} into one ${command} policy for ${role} whose expression ORs theirs (keep restrictive policies separate).`,
            },
            evidence: { role, command, policies: applying.map((n) => n.name) },
          });
        }
      }
    }
    return out;
  },
});
