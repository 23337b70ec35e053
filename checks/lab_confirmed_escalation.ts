import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified } from '../src/model/ident.ts';
import type { LabAttack } from '../src/model/snapshot.ts';
import { functionObject, PUBLIC_CONTENT, relationObject } from './_shared.ts';

/** `public.comments (0 → 1 rows)`, per table the attacker gained. */
function gainedText(attack: LabAttack): string {
  return Object.entries(attack.gained)
    .map(([table, g]) => `${table} (${g.before} → ${g.after} row${g.after === 1 ? '' : 's'} of another owner)`)
    .join(', ');
}

/** `in private bucket 'group_images'`: a bucket whose name says its files are shown to everyone. */
function shownToAll(where: string): boolean {
  const bucket = /bucket '((?:[^']|'')*)'/.exec(where)?.[1];
  return bucket !== undefined && PUBLIC_CONTENT.test(bucket);
}

/** `public.articles (0 → 4) (reads + …)`: the rows of the world the attacker reached before → after its own write. */
function reachedText(attack: LabAttack): string {
  return `${Object.entries(attack.gained).map(([t, g]) => `${t} (${g.before} → ${g.after})`).join(', ')} (reads + updates + deletes of the lab's rows)`;
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
    // One finding per written table (or called function), command and column; anon before any account before another tenant.
    const byStep = new Map<string, LabAttack[]>();
    // A paid row any account inserts for a tenant of its own says more than a member's update of its tenant's one: that one alone.
    const paidInserts = new Set(attacks.filter((a) => a.entitlement !== undefined && a.command === 'insert').map((a) => `${a.table.schema}.${a.table.name}:${a.column}`));
    for (const a of attacks) {
      // A listing of a public bucket is public_bucket_allows_listing's finding, which it confirms.
      if (a.command === 'reach' && a.column.startsWith('list ')) continue;
      if (a.entitlement !== undefined && a.command === 'update' && paidInserts.has(`${a.table.schema}.${a.table.name}:${a.column}`)) continue;
      // Storage: one finding per bucket, whatever the verbs.
      const key =
        a.command === 'reach'
          ? `reach:${a.column.replace(/^\S+ /, '')}`
          : a.signedUpWith !== undefined
            ? `signup:${Object.keys(a.signedUpWith).sort().join(',')}`
            : `${a.table.schema}.${a.table.name}:${a.command}:${a.column}${a.appointed ? ':appoint' : ''}`;
      byStep.set(key, [...(byStep.get(key) ?? []), a]);
    }
    return [...byStep.values()].flatMap((group): FindingDraft[] => {
      const rank = { anon: 0, outsider: 1, bob: 2, member: 3 } as const;
      const attack = [...group].sort((a, b) => rank[a.attacker] - rank[b.attacker])[0]!;
      const who =
        attack.attacker === 'anon'
          ? 'anyone with the anon key (no account)'
          : attack.attacker === 'outsider'
            ? 'any signed-up account (one that owns nothing)'
            : attack.attacker === 'member'
              ? 'a member of a tenant'
              : 'a signed-in user of another tenant';
      const got = [
        ...(Object.keys(attack.gained).length > 0 ? [`then reads ${gainedText(attack)} it could not read before`] : []),
      ].join(', and ');
      const level = attack.attacker === 'bob' ? 'high' : 'critical';
      const evidence = { lab: { attacker: attack.attacker, attackers: group.map((a) => a.attacker), command: attack.command, column: attack.column, steps: attack.steps, gained: attack.gained } };
      if (attack.command === 'call') {
        const fn = ctx.snapshot.functions.find((f) => f.schema === attack.table.schema && f.name === attack.table.name);
        if (!fn) return [];
        const name = `${qualified(fn.schema, fn.name)}(${attack.column})`;
        return [
          {
            level,
            message: `Confirmed in the lab: ${who} calls ${name} and ${got}.`,
            object: functionObject(fn),
            detail: 'call',
            roles: [attack.attacker === 'anon' ? 'anon' : 'authenticated'],
            remediation: {
              text:
                `Check the caller inside ${qualified(fn.schema, fn.name)} (that auth.uid() may act on the rows its arguments name), make it SECURITY INVOKER so RLS applies, ` +
                `or revoke EXECUTE from ${attack.attacker === 'anon' ? 'anon and PUBLIC' : 'anon, authenticated and PUBLIC'} if the app does not call it. Steps: ${attack.steps.join('; ')}.`,
            },
            evidence,
          },
        ];
      }
      // A sign-up that chose its own role or tenant in the user metadata, which a sign-up trigger trusted.
      if (attack.signedUpWith !== undefined) {
        const [reader] = (attack.metadataReadBy ?? []).flatMap((q) => ctx.snapshot.functions.filter((f) => `${f.schema}.${f.name}` === q));
        if (!reader) return [];
        const data = JSON.stringify(attack.signedUpWith);
        const readers = (attack.metadataReadBy ?? []).join(', ');
        return [
          {
            // With a tenant's key among the values, the attacker must know that key (an id, often shown in URLs).
            level: attack.needsTenantKey ? 'high' : 'critical',
            message:
              `Confirmed in the lab: anyone with the anon key signs up with user metadata ${data} (supabase.auth.signUp({ options: { data } }): the caller writes it), ` +
              `which ${readers} ${attack.metadataReadAnytime ? 'reads from the caller\'s user metadata (the user also sets it later with supabase.auth.updateUser())' : 'reads at sign-up'}, and the new account then reads ${gainedText(attack)} that a plain sign-up cannot read` +
              (attack.needsTenantKey ? ' (one of the values is another tenant\'s key, which the attacker must know).' : ': it chooses its own privileges.'),
            object: functionObject(reader),
            detail: `signup.${Object.keys(attack.signedUpWith).sort().join('.')}`,
            roles: ['anon'],
            remediation: {
              text:
                (attack.metadataReadAnytime
                  ? `Never decide access from user_metadata (raw_user_meta_data; the user writes it at sign-up and with updateUser()): in ${readers}, read the role or tenant from raw_app_meta_data (auth.jwt() -> 'app_metadata') or from a table the user cannot write; `
                  : `Never take a role, a tenant or a privilege from raw_user_meta_data (the person signing up writes it): in ${readers}, give every new account the plainest role and no tenant, ` +
                    'and grant more through an admin path (an invitation the tenant created, a SECURITY DEFINER function that checks the caller, the service role); ') +
                `values only an administrator sets belong in raw_app_meta_data. Steps: ${attack.steps.join('; ')}.`,
            },
            evidence: { lab: { ...evidence.lab, signedUpWith: attack.signedUpWith } },
          },
        ];
      }
      // The first sign-up of a new deployment, which sign-up code gives more (the first account is made admin).
      if (attack.firstSignUp !== undefined) {
        const [tester] = attack.firstSignUp.testedBy.flatMap((q) => ctx.snapshot.functions.filter((f) => `${f.schema}.${f.name}` === q));
        if (!tester) return [];
        const emptied = attack.firstSignUp.emptied.join(' and ');
        const testers = attack.firstSignUp.testedBy.join(', ');
        return [
          {
            // Only while the tables are empty: before the administrator's own first sign-up, or after its rows go.
            level: 'high',
            message:
              `Confirmed in the lab: while ${emptied} ${attack.firstSignUp.emptied.length === 1 ? 'has' : 'have'} no rows (a new deployment, a preview branch or a restored backup before its administrator signs up, or once those rows are deleted), ` +
              `the first account to sign up, anyone with the anon key, is given more by ${testers} at sign-up, and then reads ${gainedText(attack)} that an earlier plain account cannot read: ` +
              'whoever signs up first owns the project, and two sign-ups at the same moment may both pass the test.',
            object: functionObject(tester),
            detail: 'signup.first',
            roles: ['anon'],
            remediation: {
              text:
                `Do not grant privileges at sign-up by testing whether ${emptied} has rows: create the first administrator with the service role or in SQL, give every account that signs up the plainest role, ` +
                `and drop the first-account branch of ${testers}. Steps: ${attack.steps.join('; ')}.`,
            },
            evidence: { lab: { ...evidence.lab, firstSignUp: attack.firstSignUp } },
          },
        ];
      }
      const rel = ctx.relation(attack.table.schema, attack.table.name);
      if (!rel) return [];
      const name = qualified(rel.schema, rel.name);
      if (attack.command === 'reach') {
        // Every verb any persona could, for the most dangerous persona of the group.
        const verbs = [...new Set(group.filter((a) => a.attacker === attack.attacker).map((a) => a.column.split(' ')[0]!))];
        const where = attack.column.slice(attack.column.indexOf(' ') + 1);
        const n = attack.gained['storage.objects']?.after ?? 0;
        return [
          {
            // Reading a private object is a leak; overwriting or deleting one is tampering.
            // Overwriting or deleting objects of a public bucket (images meant for everyone) is tampering with public content: medium.
            // Reading every file of a private bucket whose name says its files are shown to everyone
            // (profile pictures, group logos) is most likely what it is for: medium, as storage_bucket_open says.
            level: verbs.includes('read') ? (verbs.length === 1 && shownToAll(where) ? 'medium' : level) : where.startsWith('in public bucket') ? 'medium' : 'high',
            message: `Confirmed in the lab: ${who} can ${verbs.join(', ').replace(/, ([^,]+)$/, ' and $1')} ${n} object${n === 1 ? '' : 's'} of another user ${where} through the Storage API: the policies on storage.objects let it.`,
            object: relationObject(rel),
            detail: `reach.${where}`,
            roles: [attack.attacker === 'anon' ? 'anon' : 'authenticated'],
            remediation: {
              text:
                'Tie every storage.objects policy to its bucket and its owner: `bucket_id = \'<bucket>\' and owner_id = (select auth.uid())::text`, or the folder convention ' +
                '`(storage.foldername(name))[1] = (select auth.uid())::text`; a policy that says only `true` (or checks the bucket alone) opens every object to every caller. ' +
                `Steps: ${attack.steps.join('; ')}.`,
            },
            evidence,
          },
        ];
      }
      // A user that granted itself a plan, credits or a premium flag that trusted code reads.
      if (attack.entitlement !== undefined) {
        const readers = attack.entitlement.readBy;
        return [
          {
            level: 'high',
            message:
              (attack.command === 'insert'
                ? `Confirmed in the lab: any signed-up account ${attack.steps.length > 1 ? 'creates a tenant of its own (as any new customer can) and ' : ''}inserts a row for it into ${name}${attack.entitlement.value !== '(a row)' ? ` with ${attack.column} = '${attack.entitlement.value}'` : ''} through the API, with no payment; ` +
                  `${readers.slice(0, 3).join(', ')}${readers.length > 3 ? ` and ${readers.length - 3} more` : ''} read${readers.length === 1 ? 's' : ''} ${name} to decide what the user gets: it grants itself a subscription it did not pay for.`
                : `Confirmed in the lab: ${attack.attacker === 'outsider' ? 'any signed-up account' : 'a signed-in user'} sets ${attack.column} of its own row in ${name} to '${attack.entitlement.value}' through the API, and it stays; ` +
                  `${readers.slice(0, 3).join(', ')}${readers.length > 3 ? ` and ${readers.length - 3} more` : ''} read${readers.length === 1 ? 's' : ''} ${attack.column} to decide what the user gets: it grants itself a plan, credits or a status it did not pay for.`),
            object: relationObject(rel, { column: attack.column }),
            detail: `entitle.${attack.column}`,
            roles: ['authenticated'],
            remediation: {
              text:
                (attack.command === 'insert'
                  ? `Users must not write ${name}: drop its INSERT and UPDATE policies for authenticated (keep SELECT for members) and let only the payment webhook (the service role) write it. Steps: ${attack.steps.join('; ')}.`
                  : `Users must not write ${attack.column}: revoke UPDATE (${attack.column}) (and INSERT, if rows are made through the API) from authenticated and grant the columns users may edit, ` +
                    `or give the UPDATE policy a WITH CHECK that keeps it; let only the payment webhook (the service role) or a function that checks the purchase change it. Steps: ${attack.steps.join('; ')}.`),
            },
            evidence: { lab: { ...evidence.lab, entitlement: attack.entitlement } },
          },
        ];
      }
      // A member that made itself the owner of its tenant.
      if (attack.takeover !== undefined) {
        return [
          {
            level: 'high',
            message:
              `Confirmed in the lab: a member of a tenant with the role '${attack.takeover}' sets ${attack.column} of its tenant's row in ${name} to itself, ` +
              `and then reads, updates or deletes rows it could not before: ${reachedText(attack)}. It takes the tenant over from its owner.`,
            object: relationObject(rel, { column: attack.column }),
            detail: `takeover.${attack.column}`,
            roles: ['authenticated'],
            remediation: {
              text:
                `Give the UPDATE policy on ${name} a WITH CHECK that keeps ${attack.column} (\`${attack.column} = (select ${attack.column} from ${name} where id = …)\`, or a trigger that refuses the change unless the caller is the owner), ` +
                `or revoke UPDATE (${attack.column}) from authenticated and transfer ownership through a function that checks the caller. Steps: ${attack.steps.join('; ')}.`,
            },
            evidence: { lab: { ...evidence.lab, takeover: attack.takeover } },
          },
        ];
      }
      // A holder of a middle global role that gave itself a higher one, and reached more rows with it.
      if (attack.climbed && attack.promotedTo !== undefined) {
        return [
          {
            level: 'high',
            message:
              `Confirmed in the lab: an account holding '${attack.promotedFrom}' in ${name} ${attack.command === 'update' ? `sets ${attack.column} of its own row` : `inserts a row of its own with ${attack.column}`} = '${attack.promotedTo}', ` +
              `a role above its own, and then reads, updates or deletes rows it could not before: ${reachedText(attack)}. Whoever holds '${attack.promotedFrom}' makes itself '${attack.promotedTo}'.`,
            object: relationObject(rel, { column: attack.column }),
            detail: `climb.${attack.column}`,
            roles: ['authenticated'],
            remediation: {
              text:
                `Cap the roles a holder of '${attack.promotedFrom}' may give: the INSERT and UPDATE policies on ${name} (or the function that grants roles) must refuse a ${attack.column} above the caller's own ` +
                `(only the highest role grants the highest), and no one may change its own row. Steps: ${attack.steps.join('; ')}.`,
            },
            evidence: { lab: { ...evidence.lab, promotedTo: attack.promotedTo, promotedFrom: attack.promotedFrom } },
          },
        ];
      }
      // A member that removed or demoted its tenant's highest member, who then reached less.
      if (attack.deposed) {
        const lost = Object.entries(attack.deposed.lost).map(([t, g]) => `${t} (${g.before} → ${g.after})`).join(', ');
        const held = attack.promotedFrom ?? 'member';
        return [
          {
            // The plainest member taking over is the hole; an admin removing the owner is a power the app may give admins.
            level: attack.deposed.byPlainest ? 'high' : 'medium',
            message:
              `Confirmed in the lab: a member of a tenant holding '${held}' ${attack.command === 'delete' ? 'deletes the membership' : `sets ${attack.column} to '${held}' on the membership`} of its tenant's '${attack.deposed.holder}' in ${name}, ` +
              `who then reaches fewer of the tenant's rows: ${lost} (reads + updates + deletes of the lab's rows). Any member takes its tenant over from whoever is above it.`,
            object: relationObject(rel, { column: attack.column }),
            detail: `depose.${attack.command}`,
            roles: ['authenticated'],
            remediation: {
              text:
                `Members must not ${attack.command === 'delete' ? 'delete' : 'change the role of'} other members' rows in ${name}: limit the ${attack.command === 'delete' ? 'DELETE' : 'UPDATE'} policy to the tenant's admins (a helper that checks the caller's own role in the row's tenant), ` +
                `and never let anyone but the holder's superiors touch the '${attack.deposed.holder}' membership. Steps: ${attack.steps.join('; ')}.`,
            },
            evidence: { lab: { ...evidence.lab, deposed: attack.deposed } },
          },
        ];
      }
      // A member that made itself the tenant's admin or owner by editing its own membership.
      if (attack.promotedTo !== undefined && attack.promotedFrom !== undefined && !attack.appointed) {
        return [
          {
            level: 'high',
            message:
              `Confirmed in the lab: a member of a tenant${attack.promotedFrom !== undefined ? ` holding '${attack.promotedFrom}'` : ''} sets ${attack.column} of its own row in ${name} to '${attack.promotedTo}', ` +
              `the value the policies and helpers read to decide what a member may do${Object.keys(attack.gained).length > 0 ? `, and then reads, updates or deletes rows it could not before: ${reachedText(attack)}` : ''}. Any member makes itself its tenant's '${attack.promotedTo}'.`,
            object: relationObject(rel, { column: attack.column }),
            detail: `promote.${attack.column}`,
            roles: ['authenticated'],
            remediation: {
              text:
                `Members must not write their own ${attack.column}: give the UPDATE policy on ${name} a WITH CHECK that keeps it (or limit updates to the tenant's admins), ` +
                `or revoke UPDATE (${attack.column}) from authenticated and change roles through a function that checks the caller. Steps: ${attack.steps.join('; ')}.`,
            },
            evidence: { lab: { ...evidence.lab, promotedTo: attack.promotedTo } },
          },
        ];
      }
      // A user that gave itself a role another table's policies trust, and reached more rows with it.
      if (attack.promotedTo !== undefined && !attack.appointed && Object.keys(attack.gained).length > 0) {
        return [
          {
            level: attack.attacker === 'outsider' ? 'critical' : 'high',
            message:
              `Confirmed in the lab: ${attack.attacker === 'outsider' ? 'any signed-up account' : 'a plain member of a tenant'} ${attack.command === 'update' ? `sets ${attack.column} of its own row in ${name}` : `inserts a row of its own into ${name} with ${attack.column}`} = '${attack.promotedTo}', ` +
              `and then reads, updates or deletes rows it could not before: ${reachedText(attack)}.`,
            object: relationObject(rel, { column: attack.column }),
            detail: `escalate.${attack.column}`,
            roles: ['authenticated'],
            remediation: {
              text:
                `Users must not write their own ${attack.column}: drop the INSERT/UPDATE policies on ${name} that only check "your own row" (user_id = auth.uid()), ` +
                `or revoke INSERT, UPDATE (${attack.column}) from authenticated, and grant roles through a function or an admin-only policy. Steps: ${attack.steps.join('; ')}.`,
            },
            evidence: { lab: { ...evidence.lab, promotedTo: attack.promotedTo } },
          },
        ];
      }
      // A member that added another account with a role above its own.
      if (attack.promotedTo !== undefined && attack.appointed) {
        return [
          {
            level: 'high',
            message:
              (attack.command === 'update'
                ? `Confirmed in the lab: a member of a tenant holding '${attack.promotedFrom}' sets ${attack.column} of another member's row in ${name} to '${attack.promotedTo}', ` +
                  `a role above its own: that member (an accomplice, or a second account of its own) then reads, updates or deletes rows it could not before: ${reachedText(attack)}.`
                : `Confirmed in the lab: a member of a tenant holding '${attack.promotedFrom}' adds an account of its choosing to its tenant in ${name} with ${attack.column} = '${attack.promotedTo}', ` +
                  `a role above its own that the policies and helpers grant more: it appoints an accomplice (or a second account of its own) '${attack.promotedTo}', who may then remove the tenant's real one.`),
            object: relationObject(rel, { column: attack.column }),
            detail: `appoint.${attack.column}`,
            roles: ['authenticated'],
            remediation: {
              text:
                `Cap the role a member may give: the ${attack.command === 'update' ? 'UPDATE' : 'INSERT'} policy on ${name} (or the function that ${attack.command === 'update' ? 'changes roles' : 'adds members'}) must refuse a ${attack.column} above the caller's own ` +
                `(\`${attack.column}\` ranked no higher than the caller's, or only the highest role may add it). Steps: ${attack.steps.join('; ')}.`,
            },
            evidence: { lab: { ...evidence.lab, promotedTo: attack.promotedTo, appointed: true } },
          },
        ];
      }
      // A member of one tenant wrote into another: its rows appear among the other tenant's.
      if (attack.planted !== undefined) {
        // A table any signed-up account writes into any tenant (an application to a team, a join
        // request, a message to a club: the matrix measured the outsider's insert land there) takes
        // such rows by design: a member moving one there does nothing anyone could not.
        const dropBox = (ctx.snapshot.labMatrix ?? []).some((m) => m.schema === rel.schema && m.name === rel.name && m.persona === 'outsider' && m.insert === 'allowed_into_others');
        if (attack.planted !== 'join' && dropBox) return [];
        const n = attack.gained[`${rel.schema}.${rel.name}`]?.after ?? 0;
        const how =
          attack.redeemedBy !== undefined
            ? `${attack.command === 'update' ? 'moves a row of its own tenant in' : 'inserts a row into'} ${name} into another tenant (${attack.column} set to the other tenant's key) and then calls ${attack.redeemedBy} with it, which makes it a member of that tenant`
            : attack.planted === 'move'
            ? `moves a row of its own tenant in ${name} into another tenant (it sets ${attack.column} to the other tenant's key)`
            : attack.planted === 'join'
              ? `adds a membership of another tenant in ${name} (${attack.column} set to the other tenant's key)`
              : `inserts into ${name} a row whose ${attack.column} is another tenant's key (its other keys pointing at its own tenant's rows)`;
        return [
          {
            level: attack.planted === 'join' ? 'critical' : 'high',
            message:
              attack.redeemedBy !== undefined
                ? `Confirmed in the lab: a member of one tenant ${how}: it joins a tenant that never invited it.`
                : `Confirmed in the lab: a member of one tenant ${how}, and the other tenant's members then see ${n} row${n === 1 ? '' : 's'} they never wrote` +
                  (attack.planted === 'join' ? ': it joins a tenant that never invited it.' : ': content planted in a tenant it does not belong to (tasks, files, messages its members trust as their own).'),
            object: relationObject(rel, { column: attack.column }),
            detail: `plant.${attack.planted}.${attack.column}`,
            roles: ['authenticated'],
            remediation: {
              text:
                attack.planted === 'move'
                  ? `Give the UPDATE policy on ${name} a WITH CHECK that requires membership of the new ${attack.column} (the same test as its USING, on the new row), or revoke UPDATE (${attack.column}) from authenticated. Steps: ${attack.steps.join('; ')}.`
                  : `The INSERT policy's WITH CHECK on ${name} must require the caller's membership of the row's ${attack.column} itself, and tie every other key it trusts to that tenant (an OR over separate columns lets one column vouch for another). Steps: ${attack.steps.join('; ')}.`,
            },
            evidence: { lab: { ...evidence.lab, planted: attack.planted } },
          },
        ];
      }
      // The founder adds someone to its new tenant, unasked: the members' shared reads then include the victim's rows.
      if (attack.pulledIn) {
        return [
          {
            level,
            message:
              `Confirmed in the lab: ${who} creates a tenant of its own (as any new customer can), adds another user to it in ${name} (${attack.column} = the victim's id, with no invitation the victim accepted), ` +
              `and ${got}: the policies let members of a tenant read each other's rows, and adding a member asks nothing of the member.`,
            object: relationObject(rel, { column: attack.column }),
            detail: `pull.${attack.column}`,
            roles: ['authenticated'],
            remediation: {
              text:
                `Let a user be added only with its consent: the INSERT policy on ${name} should accept ${attack.column} = auth.uid() alone (joining through an invitation or code checked in a SECURITY DEFINER function), ` +
                `and owners invite rather than insert others. Steps: ${attack.steps.join('; ')}.`,
            },
            evidence,
          },
        ];
      }
      // The founder: a tenant of its own first, as every new customer may; the gate that then opens others' rows is the flaw.
      if (attack.column === '(a tenant of its own)') {
        const tables = Object.keys(attack.gained);
        return [
          {
            level,
            message: `Confirmed in the lab: ${who} creates a tenant of its own in ${name} (as any new customer can), and ${got}: a policy or helper asks whether the caller is a member or admin of some tenant, not of the row's.`,
            object: relationObject(rel),
            detail: 'insert.founder',
            roles: ['authenticated'],
            remediation: {
              text: `Tie the policies of ${tables.join(', ')} to the row's own tenant (\`is_admin(row.org_id)\`, not "admin of any organisation"). Steps: ${attack.steps.join('; ')}.`,
            },
            evidence,
          },
        ];
      }
      // A relation between two accounts, forged as if the other had agreed: a follow the followed never accepted.
      if (attack.party) {
        const state = Object.entries(attack.party).map(([k, v]) => `${k} = '${v}'`);
        return [
          {
            // One user's rows shared with its followers or friends, not a tenant's: high.
            level: 'high',
            message: `Confirmed in the lab: ${who} inserts into ${name} a row naming another user as ${attack.column}${state.length > 0 ? `, with ${state.join(', ')}` : ''}, as if that user had agreed, and ${got}.`,
            object: relationObject(rel),
            detail: `insert.${attack.column}`,
            roles: ['authenticated'],
            remediation: {
              text:
                `Only the user a row of ${name} names as ${attack.column} may make it count: the INSERT policy must accept only the state before that user agrees` +
                `${state.length > 0 ? ` (not ${state.join(', ')})` : ''}, and only that user may move the row to it (an UPDATE policy on ${attack.column} = auth.uid()). Steps: ${attack.steps.join('; ')}.`,
            },
            evidence,
          },
        ];
      }
      const how =
        attack.command === 'insert'
          ? attack.value !== undefined
            ? `inserts into ${name} a row with ${attack.column} = '${attack.value}' whose keys point at another user's rows`
            : `inserts into ${name} a row whose ${attack.column} points at another user's row`
          : `updates ${attack.column} of its own row in ${name}`;
      return [
        {
          level,
          message: `Confirmed in the lab: ${who} ${how}, and ${got}.`,
          object: attack.command === 'update' ? relationObject(rel, { column: attack.column }) : relationObject(rel),
          detail: `${attack.command}.${attack.column}`,
          roles: ['authenticated'],
          remediation: {
            text:
              `Tie the write to what the caller already owns: the ${attack.command === 'insert' ? 'INSERT policy’s WITH CHECK' : 'UPDATE policy (and the column grant)'} on ${name} ` +
              `must refuse ${attack.column} values that name another user's rows (require the caller's membership or an invitation), or revoke the write of ${attack.column} from authenticated. ` +
              `Steps: ${attack.steps.join('; ')}.`,
          },
          evidence,
        },
      ];
    });
  },
});
