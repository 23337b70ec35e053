/**
 * What persona × function measured, as findings: a function of the API that, called in the lab by
 * anon, an account that owns nothing or a member of another tenant with a victim's ids, changed or
 * deleted the victim's rows, made someone a member of the victim's tenant, or returned the victim's
 * values that RLS keeps the caller from reading. No function body is read: whatever the function
 * checks (or forgets to), the rows moved.
 */
import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { levelRank, type Level } from '../src/model/level.ts';
import type { LabCall, LabFunctionRow } from '../src/model/report.ts';
import { sensitiveMatcher } from '../src/engine/context.ts';
import { platformWrites } from '../src/model/platform.ts';
import { functionObject, functionSignature } from './_shared.ts';
import { privateTenantRows } from './_tenant_rows.ts';

const WHO: Readonly<Record<string, string>> = {
  anon: 'anyone with the anon key (no account)',
  outsider: 'any signed-up account (one that belongs to no tenant)',
};

/** Who a caller is, for a message: anon, the outsider, or a member of tenant 1 acting on tenant 2. */
function who(persona: string): string {
  return WHO[persona] ?? `a member of another tenant (${persona})`;
}

interface Effect {
  readonly level: Level;
  readonly text: string;
  readonly detail: 'write' | 'escalation' | 'read';
}

export default defineCheck({
  meta: {
    id: 'lab_function_cross_owner',
    title: 'A function acts on other users’ rows for any caller (measured in the lab)',
    level: 'critical',
    category: 'security',
    facing: 'external',
    description:
      'In the lab, a function the API exposes was called by anon, an account that owns nothing or a member of another tenant with a victim’s ids, and it changed or deleted the victim’s rows, made the caller a member of the victim’s tenant, or returned the victim’s private values.',
  },
  run(ctx) {
    const isSensitive = sensitiveMatcher(ctx.options.sensitiveColumnPatterns);
    const byFunction = new Map<string, LabFunctionRow[]>();
    for (const row of ctx.snapshot.labFunctions ?? []) {
      const key = `${row.schema}\u0000${row.name}\u0000${row.args}`;
      byFunction.set(key, [...(byFunction.get(key) ?? []), row]);
    }
    return [...byFunction.values()].flatMap((rows): FindingDraft[] => {
      const fn = ctx.snapshot.functions.find((f) => f.schema === rows[0]!.schema && f.name === rows[0]!.name && f.identityArgs === rows[0]!.args);
      if (!fn) return [];
      // Per caller, the worst thing a call with the victim's ids did.
      const effects: { persona: string; call: LabCall; effect: Effect }[] = [];
      for (const row of rows) {
        for (const call of row.calls) {
          // The platform's own state, whatever the arguments: a stranger writing Vault's secrets or cron's jobs.
          const platform = platformWrites(row.persona, call);
          if (platform) effects.push({ persona: row.persona, call, effect: { ...platform, detail: 'write' } });
          // A function with no arguments acts on what it picks itself: what another tenant's rows it
          // returns counts (high only, below), what it writes (a clean-up of expired rows, a job
          // queue's next job) is its batch work, not aimed at anyone.
          const batch = call.args === 'own' && row.args === '';
          // A grant to itself counts whatever the arguments (its own address is all it needs).
          const granted = call.result === 'ok' ? (call.granted ?? []) : [];
          if (call.result !== 'ok' || (call.args !== 'victim' && call.args !== 'victim_rows' && !batch && granted.length === 0)) continue;
          const found: Effect[] = [];
          if (granted.length > 0) {
            found.push({ level: 'critical', detail: 'escalation', text: `gave the caller access to other users' rows (it wrote the caller's own row${granted.length === 1 ? '' : 's'} of ${granted.join(', ')}, which other tables' policies consult)` });
          }
          for (const table of batch ? [] : (call.joined ?? [])) {
            const then = call.redeemedBy ? `, once it called ${call.redeemedBy} with the rows this call inserted` : '';
            found.push({ level: 'critical', detail: 'escalation', text: `made the caller a member of another tenant (a row in ${table}${then})` });
          }
          for (const [table, o] of Object.entries(batch ? {} : (call.others ?? {}))) {
            if (o.deleted > 0) found.push({ level: 'critical', detail: 'write', text: `deleted ${o.deleted} row${o.deleted === 1 ? '' : 's'} of another user in ${table}` });
            if (o.updated > 0) {
              const cols = o.columns ?? [];
              const level: Level = o.countersOnly ? 'medium' : 'high';
              found.push({ level, detail: 'write', text: `changed ${cols.length > 0 ? cols.join(', ') : 'columns'} of ${o.updated} row${o.updated === 1 ? '' : 's'} of another user in ${table}` });
            }
          }
          if (call.leaked && call.leaked.length > 0) {
            // Sensitive by name, an account's address, or anything from a schema the API does not expose (kept private on purpose).
            const sensitive = call.leaked.filter((w) => isSensitive(w.slice(w.lastIndexOf('.') + 1)) !== null || w === 'auth.users.email' || !ctx.isExposed(w.slice(0, w.indexOf('.'))));
            // Or another tenant's own rows (its products, its members), whatever they hold, as the matrix's reads.
            const tenants = call.leaked.filter((w) => {
              const [schema, name] = w.split('.');
              return privateTenantRows(ctx.snapshot, { schema: schema!, name: name! }) !== undefined;
            });
            found.push({
              level: sensitive.length + tenants.length > 0 ? 'high' : 'medium',
              detail: 'read',
              text: `returned another user's ${call.leaked.join(', ')}, which the caller cannot read through the table itself`,
            });
          }
          const worst = found.filter((e) => !batch || e.level === 'high').sort((a, b) => levelRank(a.level) - levelRank(b.level))[0];
          // Ids the caller has no way to learn (random uuids no table it reads shows): a capability it
          // lacks, short of a leak. One level lower: the flaw is there, the attacker needs a leaked id to use it.
          const unlearned = call.unlearned ?? [];
          const through = call.learnedThrough ?? [];
          const lower = (l: Level) => (l === 'critical' ? ('high' as const) : l === 'high' ? ('medium' as const) : l);
          const effect =
            worst && unlearned.length > 0
              ? {
                  ...worst,
                  level: lower(worst.level),
                  text: `${worst.text} — given ${unlearned.join(', ')} of another user's, random uuids or tokens the caller cannot read anywhere through the API (only a leaked id opens it)`,
                }
              : worst && through.length > 0
                ? {
                    ...worst,
                    level: lower(worst.level),
                    text: `${worst.text} — given another user's ids or tokens that the caller learns only from what ${through.join(', ')} returns (that leak is reported on its own; closed, this call needs ids nobody shows)`,
                  }
                : worst;
          const aside = call.setAside ?? [];
          const keys = aside.length > 3 ? `${aside.slice(0, 3).join(', ')} and ${aside.length - 3} more foreign keys` : aside.join(', ');
          const rules = call.triggersAside ?? [];
          const keptOut = [
            ...(aside.length > 0 ? [`once ${keys} were set aside: only the victim's rows those keys hold refused it, and a victim who has none is not protected`] : []),
            ...((call.madeUp ?? []).length > 0 ? [`with values it made up itself for ${call.madeUp!.join(', ')}: no id of the victim's is needed there`] : []),
            ...(rules.length > 0 ? [`once the trigger${rules.length > 1 ? 's' : ''} ${rules.join(', ')} ${rules.length > 1 ? 'were' : 'was'} set aside: ${rules.length > 1 ? 'they' : 'it'} refused it on the victim's data alone (a plan's feature, a limit), never on who calls, and a victim who meets that rule is not protected`] : []),
          ];
          const told = effect && keptOut.length > 0 ? { ...effect, text: `${effect.text} (${keptOut.join('; ')})` } : effect;
          if (told) effects.push({ persona: row.persona, call, effect: told });
        }
      }
      if (effects.length === 0) return [];
      const order = (p: string) => (p === 'anon' ? 0 : p === 'outsider' ? 1 : 2);
      const sig = functionSignature(fn);
      const draft = (group: typeof effects, detailSuffix: string): FindingDraft => {
        // The gravest: by level, then joining a tenant before writing before reading, then anon first.
        const kind = (d: string) => (d === 'escalation' ? 0 : d === 'write' ? 1 : 2);
        const worst = [...group].sort((a, b) => levelRank(a.effect.level) - levelRank(b.effect.level) || kind(a.effect.detail) - kind(b.effect.detail) || order(a.persona) - order(b.persona))[0]!;
        const texts = [...new Set(group.filter((e) => e.persona === worst.persona).map((e) => e.effect.text))];
        const args =
          worst.call.args === 'own'
            ? fn.identityArgs !== '' ? 'its own values (its own id, address and rows)' : 'no arguments'
            : worst.call.args === 'victim'
              ? "another user's ids for every argument (the user id too)"
              : worst.call.victimArgs
                ? `its own rows as arguments but for ${worst.call.victimArgs.join(', ')}, another user's`
                : "another user's rows as arguments";
        return {
          level: worst.effect.level,
          message: `Measured in the lab: ${who(worst.persona)} calls ${sig} with ${args}, and it ${texts.join('; ')}.`,
          object: functionObject(fn),
          detail: `${worst.effect.detail}${detailSuffix}`,
          roles: [worst.persona === 'anon' ? 'anon' : 'authenticated'],
          remediation: {
            text:
              `Check the caller inside ${sig}: that auth.uid() owns, or is a member with the right role of, the rows its arguments name (raise an exception otherwise), ` +
              `or make it SECURITY INVOKER so the tables' policies apply; revoke EXECUTE from ${worst.persona === 'anon' ? 'anon and PUBLIC' : 'anon, authenticated and PUBLIC'} if the app does not call it.`,
          },
          evidence: {
            lab: {
              personas: [...new Set(group.map((e) => e.persona))],
              calls: Object.fromEntries(group.map((e) => [e.persona, { args: e.call.args, ...(e.call.victimArgs ? { victimArgs: e.call.victimArgs } : {}), ...(e.call.others ? { others: e.call.others } : {}), ...(e.call.joined ? { joined: e.call.joined } : {}), ...(e.call.granted ? { granted: e.call.granted } : {}), ...(e.call.redeemedBy ? { redeemedBy: e.call.redeemedBy } : {}), ...(e.call.leaked ? { leaked: e.call.leaked } : {}) }])),
            },
          },
        };
      };
      // Per role: what anon did, and what a signed-in caller did (its own invitation into another
      // tenant's project is not what anon can do), each beside the grant that lets that role call.
      const anon = effects.filter((e) => e.persona === 'anon');
      const signedIn = effects.filter((e) => e.persona !== 'anon');
      if (anon.length === 0 || signedIn.length === 0) return [draft(effects, '')];
      const first = draft(anon, '');
      const second = draft(signedIn, '.authenticated');
      // Only where the signed-in caller did something else, or worse: the same effect is said once.
      const worse = levelRank(second.level!) < levelRank(first.level!);
      const other = second.level === first.level && second.detail !== `${first.detail}.authenticated`;
      return worse || other ? [first, second] : [draft(effects, '')];
    });
  },
});
