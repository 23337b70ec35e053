/**
 * A user that grants itself what it should pay for: a column of its own row that the server reads to
 * decide what the user gets (a plan, credits, a subscription's status, a premium flag), which the
 * user's own UPDATE may set. A column is such an entitlement when it is named like one and trusted
 * code reads it: a policy or a function compares it (`plan = 'pro'`) or counts it (`credits - 1`).
 * The lab sets it on the persona's own row, as the API would, to a value worth more (a large
 * balance, a plan some policy or function compares with, true, a date far ahead) and reads it back:
 * confirmed when the value stayed (no trigger or check put it back).
 */
import { qualified, quoteIdent } from '../model/ident.ts';
import { literalPattern, quotedLiterals } from '../model/sql-text.ts';
import type { LabAttack, Relation, Snapshot } from '../model/snapshot.ts';
import type { Session } from '../introspect/session.ts';
import { comparedLiterals } from './tenants.ts';
import { accountKey, actAs, foundTenant, keyFilter, rowKey, tryInsert, type Persona, type World } from './world.ts';
import { checkLiterals } from './tenants.ts';

/**
 * Names of what a user pays for or is allotted. Credits in the plural (`ai_credits`,
 * `credits_remaining`): a ledger's `credit` and `credit_balance` (beside `debit`) are bookkeeping.
 */
const ENTITLEMENT =
  /(^|_)(credits|credits_(left|remaining|balance)|tokens_(left|remaining|balance)|token_balance|quota|plan|plan_(id|name|type|tier)|tier|subscription(_status|_tier|_plan|_level)?|is_(premium|pro|paid|subscribed|vip|lifetime)|premium|paid_until|trial_ends?_at|seats|max_seats)$/i;

/** On a table of paid rows (PAID_TABLE), the columns that say whether and how long the row grants. */
const PAID_STATE = /^(status|state|current_period_end|period_end|expires_at|ends_at|valid_until|trial_ends?(_at)?)$/i;

/** Names of the tiers worth paying for. */
const PREMIUM_WORD = /premium|\bpro\b|enterprise|business|unlimited|platinum|gold|plus|vip|lifetime|max/i;

/** Values that grant nothing: not worth trying. */
const PLAIN_VALUE = /^(free|none|basic|trial|inactive|cancell?ed|expired|past_due|unpaid|starter|default)$/i;

/** How many text values are tried per column. */
const MAX_VALUES = 3;

/** Where trusted code reads `column`: the functions and policies whose text compares or counts it (`schema.name`, `policy "p"`). */
export function entitlementReaders(snapshot: Snapshot, rel: Relation, column: string): string[] {
  const name = literalPattern(column);
  // Also through the functions it is wrapped in (`lower(s.plan) in (…)`, `split_part(lower(s.plan), '_', 1) in (…)`).
  const uses = new RegExp(`\\b${name}"?${WRAPPED}\\s*(?:::\\s*\\w+\\s*)?(?:=|<>|!=|>=?|<=?|\\bin\\s*\\(|[-+]\\s*\\d|is\\s+(?:not\\s+)?true)|(?:=|<>|!=|>=?|<=?)\\s*(?:\\w+\\.)?"?${name}\\b|coalesce\\s*\\(\\s*(?:\\w+\\.)?"?${name}\\b`, 'i');
  const out: string[] = [];
  // Only where the text names the table (`from subscriptions s where … s.plan`): a clinical note's `plan` is
  // not the subscription's, whatever reads a column of that name elsewhere. The table's own policies name it by being its.
  const naming = new RegExp(`\\b${literalPattern(rel.name)}\\b`, 'i');
  // What an UPDATE's SET list writes (`set trial_ends_at = now() + interval '14 days'`) is a write, not a read.
  for (const f of snapshot.functions) if (f.extension === null && f.source !== null && naming.test(f.source) && uses.test(withoutSetLists(f.source))) out.push(`${f.schema}.${f.name}`);
  // The table's own write policies say who may write it, not what it grants.
  for (const p of snapshot.policies) {
    if (p.schema === rel.schema && p.table === rel.name && p.command !== 'SELECT' && p.command !== 'ALL') continue;
    const text = `${p.using ?? ''} ${p.withCheck ?? ''}`;
    if (((p.schema === rel.schema && p.table === rel.name) || naming.test(text)) && uses.test(text)) out.push(`policy "${p.name}" on ${qualified(p.schema, p.table)}`);
  }
  return [...new Set(out)].sort();
}

/**
 * A body with the targets of its UPDATE … SET lists (and ON CONFLICT DO UPDATE SET) taken out, up to
 * the WHERE, RETURNING, FROM or the statement's end: `set trial_ends_at = now() + …` writes the column,
 * it does not read it; what an assignment reads stays (`set credits = credits - 1` spends them).
 */
export function withoutSetLists(source: string): string {
  return source.replace(/\bset\s+([\s\S]*?)(?=\bwhere\b|\breturning\b|\bfrom\b|;|$)/gi, (_, list: string) => `set ${list.replace(/(^|,)\s*(?:[\w$]+\.)?"?[\w$]+"?\s*=(?!=)/g, '$1 ')}`);
}

/**
 * The closing parentheses of the calls a column is wrapped in, with their further arguments (`), '_', 1)`).
 * Each argument is a comma and what follows it up to the next delimiter, spaces included, with no
 * second way to split it: a long list with no closing parenthesis fails in linear time.
 */
const WRAPPED = `(?:\\s*(?:,[^(),;]*)*\\))*`;

/** Literals trusted code compares the column with through the functions it is wrapped in (`lower(s.status) = 'active'`). */
function wrappedLiterals(snapshot: Snapshot, column: string): string[] {
  const name = literalPattern(column);
  const re = new RegExp(`\\b${name}"?${WRAPPED}\\s*(?:::\\s*\\w+\\s*)?(?:=\\s*'((?:[^']|'')*)'|\\bin\\s*\\(([^)]*)\\))`, 'gi');
  const out: string[] = [];
  for (const t of [...snapshot.functions.map((f) => f.source ?? ''), ...snapshot.policies.flatMap((p) => [p.using ?? '', p.withCheck ?? ''])]) {
    for (const m of t.matchAll(re)) out.push(...(m[1] !== undefined ? [m[1].replaceAll("''", "'")] : quotedLiterals(m[2]!)));
  }
  return out;
}

/** Values worth more than `current` for the column, most telling first. */
function betterValues(snapshot: Snapshot, world: World, rel: Relation, column: string, current: unknown): string[] {
  const c = rel.columns.find((x) => x.name === column)!;
  if (c.type === 'boolean') return current === true ? [] : ['true'];
  if (/^(smallint|integer|bigint|numeric|real|double precision)/.test(c.type)) return [c.type === 'smallint' ? '30000' : '1000000'];
  if (/^(timestamp|date)/.test(c.type)) return ['2100-01-01'];
  const labels = world.enums.labels.get(c.typeName) ?? [];
  // A status that grants (`active`, `paid`) first: of a status column's many words, the one worth paying for.
  const values = [...new Set([...comparedLiterals(snapshot, column), ...wrappedLiterals(snapshot, column), ...[...labels].reverse()])].filter((v) => v.trim() !== '' && v !== String(current) && !PLAIN_VALUE.test(v));
  // Then a tier's name (`premium`, `pro`, `enterprise`) before a billing period's (`monthly`).
  const rank = (v: string) => (GRANTING.test(v) ? 0 : PREMIUM_WORD.test(v) ? 1 : 2);
  return [...values].sort((a, b) => rank(a) - rank(b)).slice(0, MAX_VALUES);
}

/**
 * For a column that is a key of another table (`plan_id` → plans): that table's other keys, which
 * name the plans there are (`pro`, `max`), but the plain ones. The referenced table's rows are the
 * catalogue the migrations or the seed wrote.
 */
async function referencedValues(session: Session, snapshot: Snapshot, world: World, rel: Relation, column: string, current: unknown): Promise<string[]> {
  const fk = snapshot.constraints.find((c) => c.schema === rel.schema && c.table === rel.name && c.type === 'foreign_key' && c.columns.length === 1 && c.columns[0] === column && c.refTable);
  if (!fk || fk.refSchema === 'auth') return [];
  // Not the rows the lab made up there itself: those name no plan.
  const madeUp = new Set((world.made.get(`${fk.refSchema}.${fk.refTable}`) ?? []).map((m) => String(m.row[fk.refColumns[0]!] ?? '')));
  const rows = await session.query<{ v: string }>(`select t.${quoteIdent(fk.refColumns[0]!)}::text as v from ${qualified(fk.refSchema!, fk.refTable!)} t order by 1 limit 50`);
  return rows.map((r) => r.v).filter((v) => v !== String(current ?? '') && !madeUp.has(v) && !PLAIN_VALUE.test(v));
}

/**
 * For each exposed table with an entitlement column and a row of the persona's own (the outsider's
 * profile, else alice's rows), the persona updates that row's column and reads it back. One attack
 * per table and column, in a savepoint rolled back at once.
 */
export async function entitlementAttacks(session: Session, snapshot: Snapshot, world: World, tables: readonly Relation[]): Promise<{ attacks: LabAttack[]; attempts: number }> {
  const attacks: LabAttack[] = [];
  let attempts = 0;
  const outsider = world.accounts.find((a) => a.name === 'outsider');
  const alice = world.owners[0];
  for (const rel of tables) {
    const made = world.made.get(`${rel.schema}.${rel.name}`) ?? [];
    // A tenant's own subscription (keyed by the tenant alone), not its customers' (keyed by an account,
    // which the tenant's staff manage by design: a gym activating a member's plan after a cash payment).
    const paid = PAID_TABLE.test(rel.name) && !snapshot.constraints.some((c) => c.schema === rel.schema && c.table === rel.name && c.type === 'foreign_key' && accountKey(snapshot, c));
    const columns = rel.columns.filter((c) => (ENTITLEMENT.test(c.name) || (paid && PAID_STATE.test(c.name))) && !c.generated && !c.identity);
    if (columns.length === 0 || made.length === 0) continue;
    // The plainest persona that owns a row here: any account (its profile) before a tenant's owner.
    const [owner, mine] = ((): [Persona, (typeof made)[number]] | [undefined, undefined] => {
      for (const p of [outsider, alice]) {
        const own = p ? made.find((m) => m.owner.id === p.id) : undefined;
        if (p && own) return [p, own];
      }
      return [undefined, undefined];
    })();
    if (!owner || !mine) continue;
    const row = mine.row;
    const target = [{ key: rowKey(snapshot, rel, row), ...(mine.ctid !== undefined ? { ctid: mine.ctid } : {}) }];
    // The row, as the UPDATE (after the value, $1) and the read back (alone) address it.
    const filter = keyFilter(snapshot, rel, 't', target, 2);
    const again = keyFilter(snapshot, rel, 't', target, 1);
    for (const c of columns) {
      const readBy = entitlementReaders(snapshot, rel, c.name);
      if (readBy.length === 0) continue;
      const better = betterValues(snapshot, world, rel, c.name, row[c.name]);
      // The catalogue is read only where the column's own values leave room.
      const values = better.length < MAX_VALUES ? [...better, ...(await referencedValues(session, snapshot, world, rel, c.name, row[c.name]))].slice(0, MAX_VALUES) : better;
      // The value as the database prints it (a time stamp's text, not the JSON the world kept).
      const [was] = await session.query<{ v: string | null }>(`select t.${quoteIdent(c.name)}::text as v from ${qualified(rel.schema, rel.name)} t where ${again.sql}`, again.params);
      for (const value of values) {
        attempts++;
        await session.exec('SAVEPOINT supaudit_entitle');
        try {
          await actAs(session, owner);
          // As supabase-js sends it by default (`Prefer: return=minimal`): no RETURNING, so no SELECT
          // policy hides the row from the write (an admin of a tenant its profile does not name).
          await session.query(`update ${qualified(rel.schema, rel.name)} t set ${quoteIdent(c.name)} = $1::text::${c.type} where ${filter.sql}`, [value, ...filter.params]);
          // Read back as the table's owner: the write may have matched nothing, or a trigger put the old value back.
          await session.query(`select set_config('role', 'postgres', true)`);
          const [kept] = await session.query<{ v: string | null }>(`select t.${quoteIdent(c.name)}::text as v from ${qualified(rel.schema, rel.name)} t where ${again.sql}`, again.params);
          if (kept?.v === null || kept?.v === undefined || kept.v === was?.v) continue;
          attacks.push({
            attacker: owner === outsider ? 'outsider' : 'member',
            table: { schema: rel.schema, name: rel.name },
            command: 'update',
            column: c.name,
            entitlement: { value: kept.v, readBy },
            steps: [`UPDATE ${qualified(rel.schema, rel.name)} SET ${quoteIdent(c.name)} = '${value.replaceAll("'", "''")}' WHERE <its own row> -- as :attacker, through the API`, `-- ${readBy.slice(0, 3).join(', ')}${readBy.length > 3 ? ', …' : ''} read${readBy.length === 1 ? 's' : ''} ${c.name}`],
            gained: {},
          });
          break;
        } catch {
          // Refused (a policy, a column grant, a trigger): the next value.
        } finally {
          await session.exec('ROLLBACK TO SAVEPOINT supaudit_entitle');
        }
      }
    }
  }
  return { attacks, attempts };
}

/** Tables whose rows are what a user or a tenant paid for: a subscription, a licence, an entitlement, a purchase. */
const PAID_TABLE = /(^|_)(subscriptions?|entitlements?|licen[cs]es?|purchases?)$/i;

/** A status a paid row holds while it grants: what a webhook writes on payment. */
const GRANTING = /^(active|paid|trialing|valid|enabled|granted|complete|completed)$/i;

/**
 * A user or a tenant's founder that writes itself a paid row: on a table named like subscriptions
 * (rows the payment webhook should write) that a function or another table's policy reads by name,
 * the outsider founds a tenant of its own where the rows belong to tenants (as any new customer can),
 * then inserts a row for itself with the status that grants (`active`). Confirmed when the row is
 * made through the API: the readers now find a subscription nobody paid for.
 */
export async function paidRowAttacks(session: Session, snapshot: Snapshot, world: World, tables: readonly Relation[]): Promise<{ attacks: LabAttack[]; attempts: number }> {
  const attacks: LabAttack[] = [];
  let attempts = 0;
  const outsider = world.accounts.find((a) => a.name === 'outsider');
  if (!outsider) return { attacks, attempts };
  for (const rel of tables) {
    if (!PAID_TABLE.test(rel.name)) continue;
    const naming = new RegExp(`\\b${literalPattern(rel.name)}\\b`, 'i');
    const readBy = [
      ...snapshot.functions.filter((f) => f.extension === null && f.source !== null && naming.test(f.source)).map((f) => `${f.schema}.${f.name}`),
      ...snapshot.policies.filter((p) => !(p.schema === rel.schema && p.table === rel.name) && naming.test(`${p.using ?? ''} ${p.withCheck ?? ''}`)).map((p) => `policy "${p.name}" on ${qualified(p.schema, p.table)}`),
    ];
    if (readBy.length === 0) continue;
    const constraints = snapshot.constraints.filter((c) => c.schema === rel.schema && c.table === rel.name);
    /** The granting value a status column may hold (its CHECK list or enum), if any. */
    const grantingValue = (c: Relation['columns'][number]) => [...checkLiterals(constraints, c.name), ...(world.enums.labels.get(c.typeName) ?? [])].find((v) => GRANTING.test(v));
    const status = rel.columns.find((c) => /(^|_)status$/i.test(c.name) && grantingValue(c) !== undefined);
    const granting = status ? grantingValue(status) : undefined;
    // Rows of a tenant's: the outsider's own tenant first.
    const fk = constraints.find((c) => c.type === 'foreign_key' && world.tenants.roots.some((t) => t.root.schema === c.refSchema && t.root.name === c.refTable));
    const root = fk ? world.tenants.roots.find((t) => t.root.schema === fk.refSchema && t.root.name === fk.refTable) : undefined;
    attempts++;
    await session.exec('SAVEPOINT supaudit_paid');
    try {
      const fixed: Record<string, string> = status && granting ? { [status.name]: granting } : {};
      const steps: string[] = [];
      if (fk && root) {
        const founded = await foundTenant(session, snapshot, world, root, outsider, 311);
        if (!founded) continue;
        fk.columns.forEach((c, i) => (fixed[c] = String(founded.row[fk.refColumns[i]!] ?? '')));
        steps.push(`INSERT INTO ${qualified(founded.root.schema, founded.root.name)} (…) VALUES (…) -- as :attacker, a tenant of its own`);
      }
      const row = await tryInsert(session, snapshot, rel, outsider, 313, world, { role: 'authenticated', fixed });
      if (!('row' in row)) continue;
      const column = status?.name ?? fk?.columns.join(', ') ?? '(a row of its own)';
      attacks.push({
        attacker: 'outsider',
        table: { schema: rel.schema, name: rel.name },
        command: 'insert',
        column,
        entitlement: { value: granting ?? '(a row)', readBy: [...new Set(readBy)].sort() },
        steps: [...steps, `INSERT INTO ${qualified(rel.schema, rel.name)} (${Object.keys(fixed).map(quoteIdent).join(', ')}) VALUES (${Object.values(fixed).map((v) => `'${v.replaceAll("'", "''")}'`).join(', ')}) -- as :attacker, through the API, with no payment`],
        gained: {},
      });
    } finally {
      await session.exec('ROLLBACK TO SAVEPOINT supaudit_paid');
    }
  }
  return { attacks, attempts };
}

