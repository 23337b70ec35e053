/**
 * What the access matrix measured, as findings: a persona that reads, changes or deletes rows of
 * other owners in the lab's world. No policy shape is read: whatever the policies, helpers, grants
 * or RLS flags are, the rows were reached.
 */
import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified } from '../src/model/ident.ts';
import type { Level } from '../src/model/level.ts';
import type { LabCell, LabMatrixRow } from '../src/model/report.ts';
import { sensitiveMatcher } from '../src/engine/context.ts';
import { cellRows, relationObject } from './_shared.ts';
import { privateTenantRows } from './_tenant_rows.ts';

/** Rows of other owners a cell reached (anon and the outsider belong to no tenant: every owned row is another's). */
function others(cell: LabCell): number {
  return typeof cell === 'object' ? cell.tenant + cell.other_tenants : 0;
}

/** Rows with no owner a cell reached (for writes: rows the world made, in a table with no owner column and no tenant). */
function ownerless(cell: LabCell): number {
  return typeof cell === 'object' ? cell.ownerless : 0;
}

const WHO: Readonly<Record<string, string>> = {
  anon: 'anyone with the anon key (no account)',
  outsider: 'any signed-up account (one that owns nothing and belongs to no tenant)',
};

/** The more dangerous persona of those that reached: anon before the outsider. */
function worst(rows: readonly LabMatrixRow[]): LabMatrixRow | undefined {
  return rows.find((r) => r.persona === 'anon') ?? rows[0];
}

export default defineCheck({
  meta: {
    id: 'lab_cross_owner_access',
    title: 'A persona reaches other owners’ rows (measured in the lab)',
    level: 'critical',
    category: 'security',
    facing: 'external',
    description:
      'In the lab (a copy of the project with accounts and rows supaudit made), anon or an account that owns nothing read, updated or deleted rows that belong to another user.',
  },
  run(ctx) {
    const isSensitive = sensitiveMatcher(ctx.options.sensitiveColumnPatterns);
    /** The matrix's cells of the personas `keep` accepts, by table. */
    const byTableOf = (keep: (r: LabMatrixRow) => boolean): Map<string, LabMatrixRow[]> => {
      const out = new Map<string, LabMatrixRow[]>();
      for (const row of (ctx.snapshot.labMatrix ?? []).filter(keep)) {
        const key = `${row.schema}\u0000${row.name}`;
        out.set(key, [...(out.get(key) ?? []), row]);
      }
      return out;
    };
    // Only personas that hold nothing: anon and the outsider. The world gives its owners rows in
    // every table, role tables too (a global `user_roles` row may make alice a platform admin), so
    // what an owner reaches may be what its role is for.
    const byTable = byTableOf((r) => r.persona in WHO);
    // The role accounts (`t1_member`, `t2_admin`…) hold nothing but their tenant membership: another
    // tenant's rows they reach, that anon and the outsider do not, is a tenant boundary a role
    // check without a tenant filter lets through. Role values that name the platform are left out.
    const members = byTableOf((r) => /^t[12]_/.test(r.persona) && !/super|platform|system|global|root/i.test(r.persona));
    const memberFindings = [...members.entries()].flatMap(([key, rows]): FindingDraft[] => {
      const rel = ctx.relation(rows[0]!.schema, rows[0]!.name);
      if (!rel || rel.schema === 'storage') return [];
      const strangers = byTable.get(key) ?? [];
      const otherTenants = (c: LabCell) => (typeof c === 'object' ? c.other_tenants : 0);
      const name = qualified(rel.schema, rel.name);
      const writer = rows.find((r) => otherTenants(r.update) > 0 || otherTenants(r.delete) > 0);
      const strangerWrites = strangers.some((r) => others(r.update) + others(r.delete) + ownerless(r.update) + ownerless(r.delete) > 0);
      if (writer && !strangerWrites) {
        const verbs = [otherTenants(writer.update) > 0 ? `update ${otherTenants(writer.update)}` : null, otherTenants(writer.delete) > 0 ? `delete ${otherTenants(writer.delete)}` : null].filter((v) => v !== null).join(' and ');
        return [
          {
            level: 'critical',
            message: `Measured in the lab: a member of one tenant (${writer.persona}) can ${verbs} row${verbs.endsWith(' 1') ? '' : 's'} of another tenant in ${name}.`,
            object: relationObject(rel),
            detail: 'write.member',
            roles: ['authenticated'],
            remediation: { text: `Tie the UPDATE and DELETE policies of ${name} to a membership of the row's own tenant (\`is_member(row.org_id)\`), not to being a member, or having a role, anywhere.` },
            evidence: { lab: { personas: rows.filter((r) => otherTenants(r.update) > 0 || otherTenants(r.delete) > 0).map((r) => r.persona), update: writer.update, delete: writer.delete } },
          },
        ];
      }
      const reader = rows.find((r) => otherTenants(r.select) > 0);
      if (!reader || strangers.some((r) => others(r.select) > 0)) return [];
      return [
        {
          level: 'high',
          message: `Measured in the lab: a member of one tenant (${reader.persona}) reads ${otherTenants(reader.select)} row${otherTenants(reader.select) === 1 ? '' : 's'} of another tenant in ${name}, which a signed-up account outside any tenant cannot.`,
          object: relationObject(rel),
          detail: 'read.member',
          roles: ['authenticated'],
          remediation: { text: `Tie the SELECT policies of ${name} to a membership of the row's own tenant, not to being a member, or having a role, anywhere.` },
          evidence: { lab: { personas: rows.filter((r) => otherTenants(r.select) > 0).map((r) => r.persona), select: reader.select } },
        },
      ];
    });
    return [...memberFindings, ...[...byTable.values()].flatMap((rows): FindingDraft[] => {
      const rel = ctx.relation(rows[0]!.schema, rows[0]!.name);
      // storage.objects is reached through the Storage API: the lab's storage attacks judge it (lab_confirmed_escalation).
      if (!rel || rel.schema === 'storage') return [];
      const name = qualified(rel.schema, rel.name);
      // Writes count only the world's rows: an ownerless one there is a row it made for another user
      // in a table with no owner column and no tenant (a shared catalog, a child of someone's row).
      const owned = rows.filter((r) => others(r.update) > 0 || others(r.delete) > 0);
      const shared = rows.filter((r) => ownerless(r.update) > 0 || ownerless(r.delete) > 0);
      const writers = owned.length > 0 ? owned : shared;
      const sensitive = rel.columns.map((c) => c.name).filter((c) => isSensitive(c) !== null);
      // Rows of a table with no owner column (a waiting list, contact requests) belong to whoever
      // sent them: read by anon or the outsider with their e-mails and phone numbers, they leak too.
      const readers = rows.filter((r) => others(r.select) > 0 || (sensitive.length > 0 && ownerless(r.select) > 0));
      const out: FindingDraft[] = [];
      const writer = worst(writers);
      if (writer) {
        const count = owned.length > 0 ? others : ownerless;
        const verbs = [count(writer.update) > 0 ? `update ${count(writer.update)}` : null, count(writer.delete) > 0 ? `delete ${count(writer.delete)}` : null].filter((v) => v !== null).join(' and ');
        const who = WHO[writer.persona]!;
        const level: Level = owned.length > 0 ? 'critical' : 'high';
        out.push(
          {
            level,
            message:
              owned.length > 0
                ? `Measured in the lab: ${who} can ${verbs} row${verbs.endsWith(' 1') ? '' : 's'} of other users in ${name}.`
                : `Measured in the lab: ${who} can ${verbs} row${verbs.endsWith(' 1') ? '' : 's'} that the lab made for other users in ${name} (a table with no owner column: shared by every user, or owned through a parent row).`,
            object: relationObject(rel),
            detail: 'write',
            roles: [writer.persona === 'anon' ? 'anon' : 'authenticated'],
            remediation: {
              text: `Tie the UPDATE and DELETE policies of ${name} to the row's owner or tenant (\`owner_id = (select auth.uid())\`, a membership of the row's tenant), and revoke UPDATE, DELETE from anon where it writes nothing.`,
            },
            evidence: { lab: { personas: writers.map((w) => w.persona), update: Object.fromEntries(writers.map((w) => [w.persona, w.update])), delete: Object.fromEntries(writers.map((w) => [w.persona, w.delete])) } },
          },
        );
      }
      const reader = worst(readers);
      if (!reader) return out;
      const read = others(reader.select) > 0 ? others(reader.select) : ownerless(reader.select);
      // Rows of a tenant's own (see privateTenantRows): read by someone of no tenant, they leak.
      const tenant = others(reader.select) > 0 ? privateTenantRows(ctx.snapshot, rel) : undefined;
      // Signed out, more than signed in: anon reads rows a signed-up account may not (an `auth.uid() IS NULL` branch).
      const outsider = rows.find((r) => r.persona === 'outsider');
      const inverted = reader.persona === 'anon' && outsider !== undefined && typeof outsider.select === 'object' && cellRows(outsider.select) < cellRows(reader.select);
      // Reading others' rows is how a public table works (posts, profiles): high only where the rows
      // carry sensitive columns, belong to a tenant, or are open to anon alone; a directory of public rows stays low.
      // Rows the outsider reads only because their owners published them (a public gym, a public
      // workout: with every publication flag private, it reads none): the owners' choice, not a leak.
      const published = (ctx.snapshot.labPublished ?? []).includes(`${rel.schema}.${rel.name}`) && (reader.persona === 'anon' || reader.persona === 'outsider');
      const level: Level = !published && (sensitive.length > 0 || tenant !== undefined || inverted) ? 'high' : 'low';
      // Beside a write finding, reads add something only when they say more than the write.
      if (out.length > 0 && level === 'low') return out;
      const who = WHO[reader.persona]!;
      const why = [
        sensitive.length > 0 ? `with their ${sensitive.join(', ')}` : '',
        tenant !== undefined ? `rows of other tenants of ${tenant}, to someone who belongs to none` : '',
        inverted ? `while a signed-in account that owns nothing reads ${cellRows(outsider!.select)} in all: signing out gives more` : '',
      ].filter(Boolean);
      out.push(
        {
          level,
          message:
            `Measured in the lab: ${who} reads ${read} row${read === 1 ? '' : 's'} ${others(reader.select) > 0 ? 'of other users' : 'with no owner (a table with no owner column: written by users or by the service)'} in ${name}` +
            (published
              ? `, only rows their owners published: with every publication flag of the lab's rows private (is_public, visibility), it reads none${why.length > 0 ? ` (${why.join('; ')})` : ''}.`
              : why.length > 0 ? `, ${why.join('; ')}.` : ' (fine if the table is public by design).'),
          object: relationObject(rel),
          detail: 'read',
          roles: [reader.persona === 'anon' ? 'anon' : 'authenticated'],
          remediation: {
            text: `Tie the SELECT policies of ${name} to the row's owner or tenant, or move the private columns to a table only their owner reads.`,
          },
          evidence: { lab: { personas: readers.map((r) => r.persona), select: Object.fromEntries(readers.map((r) => [r.persona, r.select])) }, ...(sensitive.length > 0 ? { sensitiveColumns: sensitive } : {}) },
        },
      );
      return out;
    })];
  },
});
