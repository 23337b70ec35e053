import { defineCheck, type CheckContext } from '../src/model/check.ts';
import type { FindingDraft, FindingObject } from '../src/model/finding.ts';
import { createPolicySql, qualified, quoteIdent } from '../src/model/ident.ts';
import { PUBLIC_ROLE, type MigrationCatalog, type Policy, type Relation } from '../src/model/snapshot.ts';

/** The roles whose table grants are compared: the API's. */
const GRANT_ROLES = ['anon', 'authenticated'] as const;

/**
 * The table privileges compared: those every supported server has (MAINTAIN, PostgreSQL 17+, is
 * left out: the lab's copy runs on a newer server than many live databases, and `GRANT ALL` there
 * includes it).
 */
const COMPARED_PRIVILEGES = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']);

const BOTH_WAYS =
  'Either the live database was changed by hand (dashboard, SQL editor): bring it back to the migrations with the SQL below; ' +
  'or the migrations are behind: add a migration with the live definition (`supabase db diff`) and review it.';

type Side = Pick<Relation, 'acl'>;
type Fn = MigrationCatalog['functions'][number];

const policyKey = (p: Pick<Policy, 'schema' | 'table' | 'name'>) => `${p.schema}\u0000${p.table}\u0000${p.name}`;
const relationKey = (r: { schema: string; name: string }) => `${r.schema}\u0000${r.name}`;
const functionKey = (f: Fn) => `${f.schema}\u0000${f.name}(${f.identityArgs})`;
const spaced = (text: string | null) => (text === null ? null : text.replace(/\s+/g, ' ').trim());

/**
 * The top-level AND terms of an expression as pg_get_expr prints it (`((a = b) AND (c = d))`),
 * outside parentheses and quotes; the whole expression when it is no conjunction.
 */
export function conjuncts(expression: string): string[] {
  const text = unwrapped(expression);
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0 && text.startsWith(' AND ', i)) {
      terms.push(text.slice(start, i).trim());
      start = i + 5;
    }
  }
  terms.push(text.slice(start).trim());
  return terms.map((t) => spaced(unwrapped(t))!);
}

/** Without the parentheses around the whole text: `((a = b))` is `a = b`. */
function unwrapped(expression: string): string {
  let text = expression.trim();
  while (text.startsWith('(') && closingParen(text, 0) === text.length - 1) text = text.slice(1, -1).trim();
  return text;
}

function closingParen(text: string, open: number): number {
  let depth = 0;
  let quote: string | null = null;
  for (let i = open; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i;
  }
  return -1;
}

/** The live expression lets through more rows than the migrations' one, as far as text shows: `true`, or fewer AND terms of the same. */
function expressionLooser(live: string | null, migrated: string | null): boolean {
  if (spaced(live) === spaced(migrated)) return false;
  if (migrated === null) return false;
  if (live === null || /^\(*true\)*$/i.test(live.trim())) return true;
  const liveTerms = conjuncts(live);
  const migratedTerms = new Set(conjuncts(migrated));
  return liveTerms.length < migratedTerms.size && liveTerms.every((t) => migratedTerms.has(t));
}

/** Roles a policy reaches: PUBLIC reaches every role. */
function covers(roles: readonly string[], role: string): boolean {
  return roles.includes(PUBLIC_ROLE) || roles.includes(role);
}

/** Whether the live version of a policy gives more access than the migrations' one. */
function policyLooser(live: Policy, migrated: Policy): boolean {
  const moreRoles = live.roles.some((r) => !covers(migrated.roles, r));
  const fewerRoles = migrated.roles.some((r) => !covers(live.roles, r));
  const moreCommands = live.command === 'ALL' && migrated.command !== 'ALL';
  const fewerCommands = migrated.command === 'ALL' && live.command !== 'ALL';
  const looserText = expressionLooser(live.using, migrated.using) || expressionLooser(live.withCheck, migrated.withCheck);
  // A permissive policy lets rows in: wider is more access. A restrictive one keeps rows out: narrower is.
  return live.permissive ? moreRoles || moreCommands || looserText : fewerRoles || fewerCommands || looserText;
}

function policyObject(p: Pick<Policy, 'schema' | 'table' | 'name'>): FindingObject {
  return { schema: p.schema, name: p.table, type: 'policy', policy: p.name };
}

function dropPolicySql(p: Pick<Policy, 'schema' | 'table' | 'name'>): string {
  return `DROP POLICY ${quoteIdent(p.name)} ON ${qualified(p.schema, p.table)};`;
}

function describePolicy(p: Policy): string {
  return `${p.permissive ? '' : 'restrictive '}FOR ${p.command} TO ${p.roles.join(', ')}${p.using !== null ? ` USING (${spaced(p.using)})` : ''}${p.withCheck !== null ? ` WITH CHECK (${spaced(p.withCheck)})` : ''}`;
}

function policyDrift(ctx: CheckContext, migrations: MigrationCatalog): FindingDraft[] {
  const tables = new Set(migrations.relations.map(relationKey));
  // Policies of the user's tables and of storage, as on the migrations' side.
  const compared = (p: Policy) => p.schema === 'storage' || tables.has(relationKey({ schema: p.schema, name: p.table })) || isUserTable(ctx, p.schema, p.table);
  const live = new Map(ctx.snapshot.policies.filter(compared).map((p) => [policyKey(p), p]));
  const migrated = new Map(migrations.policies.map((p) => [policyKey(p), p]));
  const out: FindingDraft[] = [];
  for (const [key, p] of live) {
    if (p.unreadable) continue;
    const m = migrated.get(key);
    const name = `policy ${quoteIdent(p.name)} on ${qualified(p.schema, p.table)}`;
    if (!m) {
      out.push({
        level: p.permissive ? 'high' : 'medium',
        message: `${name} exists in the live database but in no migration: ${p.permissive ? `it lets ${p.roles.join(', ')} reach rows the migrations do not` : 'a restriction the migrations do not have'}. ${describePolicy(p)}.`,
        object: policyObject(p),
        detail: 'live_only',
        remediation: { text: BOTH_WAYS, sql: dropPolicySql(p) },
        evidence: { live: describePolicy(p) },
      });
      continue;
    }
    if (m.unreadable) continue;
    const same =
      m.command === p.command && m.permissive === p.permissive && [...m.roles].sort().join() === [...p.roles].sort().join() && spaced(m.using) === spaced(p.using) && spaced(m.withCheck) === spaced(p.withCheck);
    if (same) continue;
    // Made permissive live (a restriction turned into a grant) is more access; made restrictive is less.
    const looser = m.permissive === p.permissive ? policyLooser(p, m) : p.permissive;
    out.push({
      level: looser ? 'high' : 'medium',
      message: `${name} differs between the live database and the migrations${looser ? ', and the live one lets more through' : ''}: live ${describePolicy(p)}; migrations ${describePolicy(m)}.`,
      object: policyObject(p),
      detail: 'changed',
      remediation: { text: BOTH_WAYS, sql: `${dropPolicySql(p)}\n${createPolicySql(m)};` },
      evidence: { live: describePolicy(p), migrations: describePolicy(m) },
    });
  }
  for (const [key, m] of migrated) {
    if (live.has(key) || m.unreadable) continue;
    out.push({
      level: m.permissive ? 'medium' : 'high',
      message:
        `policy ${quoteIdent(m.name)} on ${qualified(m.schema, m.table)} is in the migrations but not in the live database: ` +
        `${m.permissive ? 'the access it grants is missing live' : 'the restriction it adds is missing live, so the other policies let more through'}. ${describePolicy(m)}.`,
      object: policyObject(m),
      detail: 'migrations_only',
      remediation: { text: BOTH_WAYS, sql: `${createPolicySql(m)};` },
      evidence: { migrations: describePolicy(m) },
    });
  }
  return out;
}

function isUserTable(ctx: CheckContext, schema: string, name: string): boolean {
  const r = ctx.relation(schema, name);
  return r !== undefined && ctx.isUserObject(r.schema, r.extension);
}

/** Privileges a role holds on a relation by a grant to itself or to PUBLIC. */
function granted(acl: Side['acl'], role: string): Set<string> {
  return new Set(acl.filter((a) => (a.grantee === role || a.grantee === PUBLIC_ROLE) && COMPARED_PRIVILEGES.has(a.privilege)).map((a) => a.privilege));
}

function relationDrift(ctx: CheckContext, migrations: MigrationCatalog): FindingDraft[] {
  const migrated = new Map(migrations.relations.map((r) => [relationKey(r), r]));
  const out: FindingDraft[] = [];
  for (const r of ctx.snapshot.relations) {
    const m = migrated.get(relationKey(r));
    if (!m || !ctx.isUserObject(r.schema, r.extension)) continue;
    const object: FindingObject = { schema: r.schema, name: r.name, type: r.kind === 'partitioned_table' ? 'table' : r.kind };
    const table = qualified(r.schema, r.name);
    if ((r.kind === 'table' || r.kind === 'partitioned_table') && r.rlsEnabled !== m.rlsEnabled) {
      out.push({
        level: r.rlsEnabled ? 'medium' : 'high',
        message: r.rlsEnabled
          ? `row level security is enabled on ${table} in the live database but not in the migrations: a database built from them (a branch, staging, a restore) leaves the table open.`
          : `row level security is disabled on ${table} in the live database but enabled in the migrations: its policies do not apply live, and every role with a grant reaches every row.`,
        object,
        detail: 'rls',
        remediation: { text: BOTH_WAYS, ...(r.rlsEnabled ? {} : { sql: `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;` }) },
        evidence: { live: r.rlsEnabled, migrations: m.rlsEnabled },
      });
    }
    for (const role of GRANT_ROLES) {
      const live = granted(r.acl, role);
      const mig = granted(m.acl, role);
      const more = [...live].filter((p) => !mig.has(p)).sort();
      const less = [...mig].filter((p) => !live.has(p)).sort();
      if (more.length > 0) {
        out.push({
          level: 'high',
          message: `${role} holds ${more.join(', ')} on ${table} in the live database but not in the migrations: more access live than the project declares.`,
          object,
          roles: [role],
          detail: `grant:${role}:live_only`,
          remediation: { text: BOTH_WAYS, sql: `REVOKE ${more.join(', ')} ON ${table} FROM ${quoteIdent(role)};` },
          evidence: { privileges: more },
        });
      }
      if (less.length > 0) {
        out.push({
          level: 'medium',
          message: `${role} holds ${less.join(', ')} on ${table} in the migrations but not in the live database: the app may fail live where it works on a fresh database.`,
          object,
          roles: [role],
          detail: `grant:${role}:migrations_only`,
          remediation: { text: BOTH_WAYS, sql: `GRANT ${less.join(', ')} ON ${table} TO ${quoteIdent(role)};` },
          evidence: { privileges: less },
        });
      }
    }
  }
  return out;
}

function searchPath(config: readonly string[]): string | null {
  return config.find((c) => c.startsWith('search_path='))?.slice('search_path='.length) ?? null;
}

function functionDrift(ctx: CheckContext, migrations: MigrationCatalog): FindingDraft[] {
  const live = new Map(ctx.snapshot.functions.filter((f) => ctx.isUserObject(f.schema, f.extension)).map((f) => [functionKey(f), f]));
  const migrated = new Map(migrations.functions.map((f) => [functionKey(f), f]));
  const object = (f: Fn): FindingObject => ({ schema: f.schema, name: f.name, type: 'function', function: `${f.name}(${f.identityArgs})` });
  const signature = (f: Fn) => `${qualified(f.schema, f.name)}(${f.identityArgs})`;
  const out: FindingDraft[] = [];
  for (const [key, f] of live) {
    const m = migrated.get(key);
    if (!m) {
      out.push({
        level: 'medium',
        message: `function ${signature(f)} exists in the live database but in no migration${f.securityDefiner ? ' (SECURITY DEFINER: it runs with its owner’s rights)' : ''}.`,
        object: object(f),
        detail: 'live_only',
        remediation: { text: BOTH_WAYS },
      });
      continue;
    }
    const differences = [
      ...(spaced(f.source) !== spaced(m.source) ? ['its body'] : []),
      ...(f.securityDefiner !== m.securityDefiner ? [`SECURITY ${f.securityDefiner ? 'DEFINER' : 'INVOKER'} live, ${m.securityDefiner ? 'DEFINER' : 'INVOKER'} in the migrations`] : []),
      ...(searchPath(f.config) !== searchPath(m.config) ? [`search_path ${searchPath(f.config) ?? 'not set'} live, ${searchPath(m.config) ?? 'not set'} in the migrations`] : []),
    ];
    if (differences.length === 0) continue;
    out.push({
      level: 'medium',
      message: `function ${signature(f)} differs between the live database and the migrations: ${differences.join('; ')}.`,
      object: object(f),
      detail: 'changed',
      remediation: { text: BOTH_WAYS },
      evidence: { differences },
    });
  }
  for (const [key, m] of migrated) {
    if (live.has(key)) continue;
    out.push({
      level: 'medium',
      message: `function ${signature(m)} is in the migrations but not in the live database: what calls it fails live.`,
      object: object(m),
      detail: 'migrations_only',
      remediation: { text: BOTH_WAYS },
    });
  }
  return out;
}

/**
 * The live catalog and the project's migrations disagree: policies, API grants, RLS and functions
 * compared object by object (the migrations' side is their catalog in the lab's copy). Silent
 * unless both were read (a live database audited with --project and the lab on).
 */
export default defineCheck({
  meta: {
    id: 'migration_drift',
    title: 'The live database differs from its migrations',
    level: 'medium',
    category: 'security',
    facing: 'external',
    description:
      'A policy, a table grant to anon or authenticated, the RLS flag or a function differs between the live database and the project’s migrations loaded into a fresh database.',
  },
  run(ctx) {
    const migrations = ctx.snapshot.migrationCatalog;
    if (!migrations) return [];
    return [...policyDrift(ctx, migrations), ...relationDrift(ctx, migrations), ...functionDrift(ctx, migrations)];
  },
});
