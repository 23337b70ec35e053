import type { CheckContext } from '../src/model/check.ts';
import { defineCheck } from '../src/model/check.ts';
import type { FindingDraft } from '../src/model/finding.ts';
import { qualified, quoteIdent } from '../src/model/ident.ts';
import type { Column, Relation } from '../src/model/snapshot.ts';
import { relationObject } from './_shared.ts';
import {
  columnListSql,
  constraintsOf,
  definingTables,
  indexesOf,
  isUsable,
  nameAllocator,
  ownerColumnKind,
  policyLookupOf,
  sameColumnSet,
} from './_indexes.ts';

/** The person side of a membership, most specific first. */
const MEMBER_COLUMNS = ['user_id', 'member_id', 'profile_id'];

/** Group-side columns beyond the tenant keys (`team_id`, `organization_id`…). */
const GROUP_COLUMNS = new Set([
  'project_id',
  'channel_id',
  'room_id',
  'board_id',
  'space_id',
  'course_id',
  'class_id',
  'household_id',
  'community_id',
  'conversation_id',
  'chat_id',
]);

/** `team_members`, `memberships`, `org_membership`: the table name says what it is. */
const MEMBERSHIP_NAME = /^(?:(.*?)[_ ]?)?(members|memberships|membership)$/i;

function singular(word: string): string {
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

interface Membership {
  readonly member: Column;
  /** Group columns, the one the table is named after first. */
  readonly groups: readonly Column[];
  readonly reason: string;
}

/** The member and group columns of a membership-style table, or null when it is not one. */
function membershipShape(ctx: CheckContext, table: Relation): Membership | null {
  // Cheap tests first: most tables are neither named like a membership table nor looked up by a policy.
  const named = MEMBERSHIP_NAME.exec(table.name);
  const lookup = policyLookupOf(ctx, table);
  if (!named && !lookup) return null;
  let member: Column | undefined;
  for (const name of MEMBER_COLUMNS) {
    member = table.columns.find((c) => c.name.toLowerCase() === name && ownerColumnKind(c) !== null);
    if (member) break;
  }
  if (!member) return null;

  const prefix = named?.[1]?.toLowerCase() || undefined;
  const namedAfter = prefix ? new Set([`${prefix}_id`, `${singular(prefix)}_id`]) : new Set<string>();
  const isNamedAfter = (c: Column) => namedAfter.has(c.name.toLowerCase());
  const fkColumns = new Set(
    constraintsOf(ctx, table).flatMap((c) => (c.type === 'foreign_key' && c.columns.length === 1 ? c.columns : [])),
  );
  const groups = table.columns.filter(
    (c) =>
      c !== member &&
      (isNamedAfter(c) ||
        ownerColumnKind(c) === 'tenant' ||
        GROUP_COLUMNS.has(c.name.toLowerCase()) ||
        (named !== null && fkColumns.has(c.name) && c.name.toLowerCase().endsWith('_id'))),
  );
  if (groups.length === 0) return null;
  groups.sort((a, b) => Number(isNamedAfter(b)) - Number(isNamedAfter(a)) || a.position - b.position);

  // A membership lookup filters on the member and yields or joins on the group: `team_id IN (SELECT team_id … WHERE user_id = auth.uid())`.
  const lookedUp = lookup !== undefined && lookup.columns.has(member.name) && groups.some((g) => lookup.columns.has(g.name));
  if (!named && !lookedUp) return null;
  const reason = lookedUp
    ? `the polic${lookup.policies.length === 1 ? 'y' : 'ies'} ${lookup.policies.map((p) => quoteIdent(p)).join(', ')} look${lookup.policies.length === 1 ? 's' : ''} callers up in it`
    : 'it is named like one';
  return { member, groups, reason };
}

export default defineCheck({
  meta: {
    id: 'missing_unique_constraint',
    title: 'Membership table without a unique pair',
    level: 'medium',
    category: 'schema',
    facing: 'internal',
    description:
      'A membership-style table (a user column and a team, group or organization column) has no primary key or unique index on exactly that pair, so the same membership can be stored twice.',
  },
  run(ctx) {
    const out: FindingDraft[] = [];
    const freshName = nameAllocator(ctx);
    for (const table of definingTables(ctx)) {
      const shape = membershipShape(ctx, table);
      if (!shape) continue;
      // A partial unique index counts: `… WHERE removed_at IS NULL` is how soft-deleted memberships are modelled.
      const uniques = indexesOf(ctx, table).filter((i) => i.unique && isUsable(i) && i.expressions === null);
      const covered = shape.groups.some((g) => uniques.some((i) => sameColumnSet(i.columns, [shape.member.name, g.name])));
      if (covered) continue;
      const group = shape.groups[0]!;
      const pair = [shape.member.name, group.name];
      const name = qualified(table.schema, table.name);
      const taken = new Set(constraintsOf(ctx, table).map((c) => c.name));
      const constraint = quoteIdent(freshName(table.schema, [table.name, ...pair], 'key', taken));
      out.push({
        message:
          `${name} looks like a membership table (${shape.reason}) but nothing makes (${columnListSql(pair)}) unique: the same membership can be added twice, ` +
          'and then removing it once leaves the person a member, counts are wrong and single-row lookups return two rows.',
        object: relationObject(table),
        detail: [...pair].sort().join(','),
        remediation: {
          text:
            `Remove duplicate (${columnListSql(pair)}) rows first, or adding the constraint fails. On a busy table build the index without blocking writes: ` +
            `CREATE UNIQUE INDEX CONCURRENTLY ${constraint} ON ${name} (${columnListSql(pair)}); then ALTER TABLE ${name} ADD CONSTRAINT ${constraint} UNIQUE USING INDEX ${constraint};`,
          sql: `ALTER TABLE ${name} ADD CONSTRAINT ${constraint} UNIQUE (${columnListSql(pair)});`,
        },
        evidence: { member: shape.member.name, groups: shape.groups.map((c) => c.name) },
      });
    }
    return out;
  },
});
