/**
 * Blast radius per role: what each role can read, write and call, through which path, and a
 * 0–100 score. Built from the snapshot alone (grants, RLS, policies as parsed, exposed schemas,
 * owner-rights views and SECURITY DEFINER functions). The formula is in checks/blast_radius.md.
 */
import { sensitiveMatcher } from '../engine/context.ts';
import { isTrueOption } from '../model/options.ts';
import type { CheckContext } from '../model/check.ts';
import { qualified, quoteIdent, sqlComment } from '../model/ident.ts';
import type { BlastRadius, LabMatrixRow, RoleFunctionExposure, RoleTableExposure } from '../model/report.ts';
import { isPlatformRole, isSystemSchema } from '../model/schemas.ts';
import type { AclItem, Policy, PolicyCommand, Privilege, Relation } from '../model/snapshot.ts';
import { PUBLIC_ROLE } from '../model/snapshot.ts';
import { closeFunctionSql, policyAnalysesByTable, scanFunctionBody, snapshotIndex } from '../policy/index.ts';
import type { PolicyAnalysis } from '../policy/index.ts';
import { trustSources, writePaths } from '../../checks/_authz.ts';
import { requiresCaller } from '../policy/index-match.ts';
import { gradeDefiner, serviceOnly } from '../../checks/_definer.ts';

interface Escalation {
  readonly commands: Set<Command>;
  readonly via: string;
  /** The lab's attack search went through the trusted table (or no lab ran): its rows count as all; else as some. */
  readonly proven: boolean;
}

/**
 * Tables whose policies trust a row or column the role can write for itself (see checks/_authz.ts):
 * after the write, those policies let it act on any tenant's rows, so they count as `all`.
 */
function escalationsOf(ctx: CheckContext, role: string): Map<string, Escalation> {
  const out = new Map<string, Escalation>();
  for (const src of trustSources(ctx)) {
    const s = src.source;
    const analyses = policyAnalysesByTable(ctx).get(`${s.schema}\u0000${s.name}`) ?? [];
    const ways: string[] = [];
    for (const column of src.tenantColumns) {
      if (writePaths(ctx, s, src.keyColumn, column, analyses).some((p) => p.role === role)) ways.push(`joins any ${column} through ${qualified(s.schema, s.name)}`);
    }
    for (const column of src.privilegeColumns) {
      const commands = src.tenantColumns.size > 0 ? (['UPDATE'] as const) : (['UPDATE', 'INSERT'] as const);
      if (writePaths(ctx, s, src.keyColumn, column, analyses, commands).some((p) => p.role === role)) ways.push(`writes ${qualified(s.schema, s.name)}.${quoteIdent(column)} of its own row`);
    }
    if (ways.length === 0) continue;
    // Where the lab searched, the write it suspects must have gone through there.
    const lab = ctx.snapshot.labAttacks;
    // (a join or a role of its own: not a role given to someone else, nor a row moved into another tenant).
    const proven =
      lab === undefined ||
      lab.some((a) => a.table.schema === s.schema && a.table.name === s.name && (a.command === 'insert' || a.command === 'update') && !a.appointed && !a.entitlement && (a.planted === undefined || a.planted === 'join'));
    for (const g of src.gated) {
      const key = `${g.policy.schema}\u0000${g.policy.table}`;
      const e = out.get(key) ?? {
        commands: new Set<Command>(),
        via: `escalation: ${role} ${ways.join(' and ')}, which policy "${g.policy.name}" trusts${proven ? '' : ' (the lab tried it and gained nothing)'}`,
        proven,
      };
      const cmd = g.policy.command.toLowerCase();
      for (const c of COMMANDS) if (cmd === 'all' || cmd === c) e.commands.add(c);
      out.set(key, e);
    }
  }
  return out;
}

/** How much of a table a command reaches for a role. */
export type Reach = 'all' | 'own rows' | 'unknown' | 'none';

export interface PowerPath {
  /** Human-readable path: the grant and the RLS state, or the view/function that opens it. */
  readonly via: string;
  /** SQL that closes this path; null when only a human can decide (policies that limit rows in unproven ways). */
  readonly fix: string | null;
  /** Columns readable along this path (a view's own columns), when they differ from the table's. */
  readonly columns?: readonly string[];
}

export interface TablePowers extends RoleTableExposure {
  readonly rowEstimate: number;
  /** Reach through every path (direct, owner-rights views, definer functions). */
  readonly reach: { readonly select: Reach; readonly insert: Reach; readonly update: Reach; readonly delete: Reach };
  /** Reach of statements on the table itself (what `--probe` can verify). */
  readonly direct: { readonly select: Reach; readonly insert: Reach; readonly update: Reach; readonly delete: Reach };
  readonly truncate: boolean;
  readonly api: boolean;
  readonly paths: readonly PowerPath[];
}

export interface FunctionPowers extends RoleFunctionExposure {
  readonly readsRlsTables: readonly string[];
  readonly volatile: boolean;
  readonly fix: string;
}

export interface RoleRadius extends BlastRadius {
  readonly tables: readonly TablePowers[];
  readonly functions: readonly FunctionPowers[];
  readonly breakdown: readonly { readonly reason: string; readonly points: number }[];
}

const COMMANDS = ['select', 'insert', 'update', 'delete'] as const;
type Command = (typeof COMMANDS)[number];
const PRIVILEGE: Record<Command, Privilege> = { select: 'SELECT', insert: 'INSERT', update: 'UPDATE', delete: 'DELETE' };
const POLICY_COMMAND: Record<Command, PolicyCommand> = { select: 'SELECT', insert: 'INSERT', update: 'UPDATE', delete: 'DELETE' };

/** The roles whose reach matters: API roles, custom login roles, roles authenticator may switch to, roles the config names, and PUBLIC. */
export function rolesOfInterest(ctx: CheckContext): string[] {
  const names = new Set<string>();
  for (const r of ['anon', 'authenticated', 'service_role']) if (ctx.privileges.role(r)) names.add(r);
  for (const m of ctx.snapshot.memberships) {
    if (m.member === 'authenticator' && m.canSet && !isPlatformRole(m.role)) names.add(m.role);
  }
  for (const role of ctx.snapshot.roles) {
    if (role.canLogin && !role.superuser && !isPlatformRole(role.name)) names.add(role.name);
  }
  for (const r of ctx.options.extraRoles ?? []) if (r !== PUBLIC_ROLE && ctx.privileges.role(r)) names.add(r);
  const ordered = ['anon', 'authenticated', 'service_role'].filter((r) => names.has(r));
  const custom = [...names].filter((n) => !ordered.includes(n)).sort();
  return [...ordered, ...custom, PUBLIC_ROLE];
}

function grantText(item: AclItem | undefined, privilege: string, relation: string, role: string): string {
  if (!item) return `${privilege} on ${relation}`;
  if (item.grantee === role) return `GRANT ${privilege} ON ${relation} TO ${role}`;
  if (item.grantee === PUBLIC_ROLE) return `GRANT ${privilege} ON ${relation} TO PUBLIC`;
  return `GRANT ${privilege} ON ${relation} TO ${item.grantee} (${role} inherits it)`;
}

/** Policies that apply to the role for the command: PUBLIC, the role, or a role whose privileges it has. */
function applicable(analyses: readonly PolicyAnalysis[], holders: ReadonlySet<string>, command: Command): PolicyAnalysis[] {
  return analyses.filter(
    (a) =>
      (a.policy.command === 'ALL' || a.policy.command === POLICY_COMMAND[command]) &&
      a.policy.roles.some((r) => r === PUBLIC_ROLE || holders.has(r)),
  );
}

/**
 * Reach of one command on an RLS-enabled table from its policies. For anon, a predicate tied to
 * the caller (auth.uid()) matches nothing: auth.uid() is NULL without a JWT.
 */
function policyReach(policies: readonly PolicyAnalysis[], command: Command, anonymous: boolean): { reach: Reach; opening: Policy[] } {
  const clause = (a: PolicyAnalysis) => (command === 'insert' ? a.effectiveWithCheck : a.using);
  // A permissive policy without the clause this command needs (an INSERT policy with no WITH CHECK,
  // FOR ALL with neither) admits no row: Postgres skips it, it does not allow everything.
  // For anon, a clause that needs the caller's id (`… = auth.uid()` on every way through) admits nothing.
  // `USING (false)` (a table only the service role touches) admits nothing either.
  const permissive = policies.filter(
    (a) => a.policy.permissive && clause(a) !== null && !/^\(*\s*false\s*\)*$/i.test(clause(a)!.text.trim()) && !(anonymous && clause(a)!.parseError === null && requiresCaller(clause(a)!.text)),
  );
  const restrictive = policies.filter((a) => !a.policy.permissive);
  if (permissive.length === 0) return { reach: 'none', opening: [] };
  const trueFor = (a: PolicyAnalysis) => {
    const e = clause(a);
    // A restrictive policy without the clause adds no condition.
    if (e === null) return true;
    return e.parseError === null && (e.alwaysTrue === 'always' || (anonymous && e.alwaysTrue === 'anonymous'));
  };
  const restricted = restrictive.some((a) => !trueFor(a));
  const open = permissive.filter(trueFor);
  if (open.length > 0) return { reach: restricted ? 'unknown' : 'all', opening: open.map((a) => a.policy) };
  const tied = permissive.every((a) => {
    const e = clause(a);
    return e !== null && e.parseError === null && e.callerTied;
  });
  if (tied) return { reach: anonymous ? 'none' : 'own rows', opening: [] };
  return { reach: 'unknown', opening: [] };
}

/**
 * What the lab measured for the role's reads, updates and deletes on a table its world filled: none
 * (no persona of the role reached a row, or every one was refused), own rows (its own and its
 * tenant's only), or undefined when it did not measure, a statement failed, or a persona reached
 * another owner's or an ownerless row (then the policies' reading stands). anon's persona is anon;
 * authenticated's are every account.
 */
function measuredReach(measured: ReadonlyMap<string, readonly LabMatrixRow[]>, rel: Relation, role: string, command: Command): Reach | undefined {
  if (role !== 'anon' && role !== 'authenticated') return undefined;
  // The matrix inserts one row per persona, with values of its choosing (a bucket, a status): a
  // refusal there says nothing of other values. Reads, updates and deletes were tried on every row.
  if (command === 'insert') return undefined;
  const rows = (measured.get(`${rel.schema}.${rel.name}`) ?? []).filter((m) => (role === 'anon') === (m.persona === 'anon'));
  if (rows.length === 0) return undefined;
  const cells = rows.map((m) => m[command]);
  if (cells.some((c) => c === 'error' || (typeof c === 'object' && c.other_tenants + c.ownerless > 0))) return undefined;
  return cells.every((c) => c === 'denied' || (typeof c === 'object' && c.own + c.tenant === 0)) ? 'none' : 'own rows';
}

/** The lab's matrix rows by table (`schema.name`), for the tables its world filled (rows it added, or a sign-up trigger made). */
function measuredTables(ctx: CheckContext): Map<string, LabMatrixRow[]> {
  const filled = new Set((ctx.snapshot.labTables ?? []).filter((t) => t.rows > 0 || t.reason === 'made by sign-up').map((t) => `${t.schema}.${t.name}`));
  const out = new Map<string, LabMatrixRow[]>();
  for (const m of ctx.snapshot.labMatrix ?? []) {
    const key = `${m.schema}.${m.name}`;
    if (filled.has(key)) out.set(key, [...(out.get(key) ?? []), m]);
  }
  return out;
}

const OWNER_COLUMNS = ['user_id', 'owner_id', 'author_id', 'created_by', 'profile_id', 'owner'];

/**
 * Ties always-true policies to an obvious owner column (a uuid named user_id, owner_id…). Without
 * one, only a human can write the right predicate: a comment says which policy to tighten.
 */
function tightenPolicies(rel: Relation, policies: readonly Policy[]): string {
  const owner = OWNER_COLUMNS.map((n) => rel.columns.find((c) => c.name === n && c.type === 'uuid')).find((c) => c !== undefined);
  const table = qualified(rel.schema, rel.name);
  return policies
    .map((p) => {
      if (!owner) return sqlComment(`tighten policy ${quoteIdent(p.name)} on ${table}: it is true for every row`);
      const predicate = `((select auth.uid()) = ${quoteIdent(owner.name)})`;
      const using = p.command !== 'INSERT' ? ` USING ${predicate}` : '';
      const check = p.command === 'INSERT' || p.command === 'UPDATE' || p.command === 'ALL' ? ` WITH CHECK ${predicate}` : '';
      return `ALTER POLICY ${quoteIdent(p.name)} ON ${table}${using}${check};`;
    })
    .join('\n');
}

function rank(reach: Reach): number {
  return reach === 'all' ? 3 : reach === 'unknown' ? 2 : reach === 'own rows' ? 1 : 0;
}

function widest(a: Reach, b: Reach): Reach {
  return rank(a) >= rank(b) ? a : b;
}

function narrowest(a: Reach, b: Reach): Reach {
  return rank(a) <= rank(b) ? a : b;
}

interface Scorer {
  readonly breakdown: { reason: string; points: number }[];
  add(reason: string, points: number): void;
  score(): number;
}

/**
 * Independent powers combine like probabilities: score = 100 × (1 − Π(1 − pᵢ/100)). Adding a power
 * never lowers the score and removing one never raises it (monotonic), and it saturates below 100.
 */
function scorer(): Scorer {
  const breakdown: { reason: string; points: number }[] = [];
  return {
    breakdown,
    add(reason, points) {
      if (points > 0) breakdown.push({ reason, points: Math.round(Math.min(points, 95) * 10) / 10 });
    },
    score() {
      const remaining = breakdown.reduce((acc, b) => acc * (1 - b.points / 100), 1);
      return Math.round(100 * (1 - remaining));
    },
  };
}

/** 1 for a handful of rows, up to 3 for 10,000 and more (unknown counts as 100). */
function sizeFactor(rows: number): number {
  const n = rows < 0 ? 100 : rows;
  return 1 + Math.min(2, Math.log10(Math.max(1, n)) / 2);
}

export const READ_POINTS: Record<Reach, number> = { all: 10, unknown: 5, 'own rows': 0.3, none: 0 };
export const WRITE_POINTS: Record<Reach, number> = { all: 25, unknown: 10, 'own rows': 0.5, none: 0 };
export const ANON_WRITE_ALL_POINTS = 45;
export const SENSITIVE_MULTIPLIER = 2.5;
export const TRUNCATE_POINTS = 40;
export const DEFINER_FUNCTION_POINTS = 6;
export const DEFINER_FUNCTION_RLS_POINTS = 20;

export function blastRadius(ctx: CheckContext): RoleRadius[] {
  const snapshot = ctx.snapshot;
  const byTable = policyAnalysesByTable(ctx);
  const isSensitive = sensitiveMatcher(ctx.options.sensitiveColumnPatterns);
  const index = snapshotIndex(snapshot);
  const userRelations = snapshot.relations.filter((r) => r.extension === null && r.schema !== 'pg_catalog');
  const labCells = measuredTables(ctx);
  const definerFns = snapshot.functions.filter(
    (f) => f.securityDefiner && f.extension === null && !isSystemSchema(f.schema) && f.kind === 'function' && !/^(trigger|event_trigger)$/.test(f.returnType),
  );
  // Which definer functions read which table: scanned once, not per role and table.
  const bodies = new Map(definerFns.map((f) => [f, scanFunctionBody(f, index)]));
  const definersReading = new Map<string, typeof definerFns>();
  for (const fn of definerFns) {
    for (const table of bodies.get(fn)!.readsTables) {
      const list = definersReading.get(table) ?? [];
      list.push(fn);
      definersReading.set(table, list);
    }
  }
  const viewsReading = new Map<string, string[]>();
  for (const d of snapshot.viewDependencies) {
    const key = `${d.refSchema}\u0000${d.refName}`;
    const list = viewsReading.get(key) ?? [];
    list.push(`${d.schema}\u0000${d.view}`);
    viewsReading.set(key, list);
  }

  return rolesOfInterest(ctx).map((role) => {
    const roleInfo = ctx.privileges.role(role);
    const bypass = Boolean(roleInfo?.superuser || roleInfo?.bypassRls);
    const holders = ctx.privileges.privilegeHolders(role);
    const isApiRole = role === 'anon' || role === 'authenticated' || role === PUBLIC_ROLE;
    const anonymous = role === 'anon' || role === PUBLIC_ROLE;
    const s = scorer();
    const tables: TablePowers[] = [];

    const reachable = (schema: string) => (isApiRole ? ctx.isExposed(schema) : true) && ctx.privileges.hasSchemaUsage(schema, role);
    const escalated = bypass || anonymous ? new Map<string, Escalation>() : escalationsOf(ctx, role);

    for (const rel of userRelations) {
      const name = qualified(rel.schema, rel.name);
      const reach: Record<Command, Reach> = { select: 'none', insert: 'none', update: 'none', delete: 'none' };
      const direct: Record<Command, Reach> = { select: 'none', insert: 'none', update: 'none', delete: 'none' };
      const paths: PowerPath[] = [];
      // The Storage API (/storage/v1) runs its queries on storage.objects and storage.buckets as
      // the caller's role, under RLS, whether or not the storage schema is exposed to PostgREST.
      const storageApi = isApiRole && rel.schema === 'storage' && (rel.name === 'objects' || rel.name === 'buckets') && ctx.privileges.hasSchemaUsage('storage', role);
      const api = reachable(rel.schema) || storageApi;
      if (api && (rel.kind === 'table' || rel.kind === 'partitioned_table' || rel.kind === 'materialized_view' || rel.kind === 'foreign_table' || rel.kind === 'view')) {
        for (const command of COMMANDS) {
          if (!ctx.privileges.hasOnRelation(rel, role, PRIVILEGE[command])) continue;
          if (rel.kind === 'materialized_view' && command !== 'select') continue;
          const grant = grantText(ctx.privileges.grantFor(rel.acl, role, PRIVILEGE[command]), PRIVILEGE[command], name, role);
          let r: Reach;
          let why: string;
          let opening: Policy[] = [];
          if (rel.kind === 'view') {
            // A view's rows are those of its base tables; owner-rights views are counted on those tables below.
            r = 'unknown';
            why = 'view';
          } else if (bypass || ctx.privileges.bypassesRls(rel, role)) {
            r = 'all';
            why = bypass ? `${role} bypasses RLS` : `${role} owns the table`;
          } else if (!rel.rlsEnabled || rel.kind === 'materialized_view' || rel.kind === 'foreign_table') {
            r = 'all';
            why = rel.rlsEnabled ? `${rel.kind.replace('_', ' ')}s have no RLS` : 'RLS disabled';
          } else {
            const res = policyReach(applicable(byTable.get(`${rel.schema}\u0000${rel.name}`) ?? [], holders, command), command, anonymous);
            // What the policies do not prove, the lab may have measured: the role's personas on the world's rows.
            const measured = res.reach === 'unknown' && res.opening.length === 0 ? measuredReach(labCells, rel, role, command) : undefined;
            r = measured ?? res.reach;
            opening = res.opening;
            why =
              res.opening.length > 0
                ? `always-true polic${res.opening.length > 1 ? 'ies' : 'y'} ${res.opening.map((p) => `"${p.name}"`).join(', ')}`
                : measured !== undefined
                  ? measured === 'none'
                    ? 'the lab measured no row it reaches'
                    : "the lab measured its own and its tenant's rows only"
                  : r === 'none'
                    ? 'no policy lets it through'
                    : r === 'own rows'
                      ? 'policies tie rows to the caller'
                      : 'policies limit rows in ways not proven';
          }
          reach[command] = widest(reach[command], r);
          direct[command] = widest(direct[command], r);
          if (r === 'all' || r === 'unknown') {
            const grantee = role === PUBLIC_ROLE ? 'PUBLIC' : quoteIdent(role);
            let fix: string | null;
            if (!rel.rlsEnabled && (rel.kind === 'table' || rel.kind === 'partitioned_table')) fix = `ALTER TABLE ${name} ENABLE ROW LEVEL SECURITY;`;
            else if (r === 'unknown' || rel.kind === 'view') fix = null;
            else if (opening.length > 0) fix = tightenPolicies(rel, opening);
            else fix = `REVOKE ${PRIVILEGE[command]} ON ${name} FROM ${grantee};`;
            paths.push({ via: `${grant}; ${why}${storageApi && !reachable(rel.schema) ? ' (through the Storage API)' : ''}`, fix });
          }
        }
      }
      // UPDATE and DELETE through the API always filter (and PostgREST returns rows), so the SELECT
      // policies apply to them too: they reach at most the rows the role can read.
      for (const command of ['update', 'delete'] as const) {
        direct[command] = narrowest(direct[command], direct.select);
        reach[command] = direct[command];
      }
      // Owner-rights views that read this table and that the role can select through the API.
      if (rel.kind !== 'view') {
        for (const key of viewsReading.get(`${rel.schema}\u0000${rel.name}`) ?? []) {
          const view = ctx.relation(...(key.split('\u0000') as [string, string]));
          if (!view || view.kind !== 'view' || isTrueOption(view.options['security_invoker'])) continue;
          if (!reachable(view.schema) || !ctx.privileges.hasOnRelation(view, role, 'SELECT')) continue;
          const ownerBypasses = ctx.privileges.bypassesRls(rel, view.owner) || !rel.rlsEnabled;
          const r: Reach = ownerBypasses ? 'all' : 'unknown';
          reach.select = widest(reach.select, r);
          const viewName = qualified(view.schema, view.name);
          paths.push({
            via: `view ${viewName} runs as its owner ${view.owner}${ownerBypasses ? ', bypassing RLS' : ''}`,
            fix: `ALTER VIEW ${viewName} SET (security_invoker = true);`,
            columns: view.columns.map((c) => c.name).filter((c) => rel.columns.some((rc) => rc.name === c)),
          });
        }
      }
      // SECURITY DEFINER functions the role can call that read this table.
      for (const fn of definersReading.get(`${rel.schema}.${rel.name}`) ?? []) {
        if (!reachable(fn.schema) || !ctx.privileges.has(fn.acl, role, 'EXECUTE')) continue;
        reach.select = widest(reach.select, 'unknown');
        paths.push({
          columns: [],
          via: `SECURITY DEFINER function ${qualified(fn.schema, fn.name)}(${fn.identityArgs}) runs as ${fn.owner}`,
          fix: closeFunctionSql(ctx, fn, role),
        });
      }
      // Escalation: the role writes a row or column these policies trust (tenant_self_join, privilege_escalation), then they grant it every tenant's rows.
      const escalation = escalated.get(`${rel.schema}\u0000${rel.name}`);
      if (escalation) {
        for (const command of escalation.commands) reach[command] = widest(reach[command], escalation.proven ? 'all' : 'unknown');
        paths.push({ via: escalation.via, fix: null });
      }
      // PostgREST never issues TRUNCATE, so for API roles the (default) grant is not reachable.
      const truncate = !isApiRole && api && rel.kind !== 'view' && ctx.privileges.has(rel.acl, role, 'TRUNCATE');
      if (truncate) {
        paths.push({ via: `GRANT TRUNCATE ON ${name}: empties the table, RLS does not apply`, fix: `REVOKE TRUNCATE ON ${name} FROM ${role === PUBLIC_ROLE ? 'PUBLIC' : quoteIdent(role)};` });
      }
      if (paths.length === 0 && COMMANDS.every((c) => reach[c] === 'none')) continue;
      const readable = new Set<string>();
      if (reach.select !== 'none') {
        if (api && ctx.privileges.hasOnRelation(rel, role, 'SELECT')) for (const c of ctx.privileges.readableColumns(rel, role)) readable.add(c);
        for (const p of paths) for (const c of p.columns ?? []) readable.add(c);
      }
      const sensitiveColumns = rel.columns.map((c) => c.name).filter((c) => readable.has(c) && isSensitive(c) !== null);
      tables.push({
        schema: rel.schema,
        name: rel.name,
        select: reach.select !== 'none',
        insert: reach.insert !== 'none',
        update: reach.update !== 'none',
        delete: reach.delete !== 'none',
        rows: reach.select === 'all' && rel.rowEstimate >= 0 ? Math.round(rel.rowEstimate) : reach.select === 'all' ? 'all' : reach.select,
        rowEstimate: rel.rowEstimate,
        sensitiveColumns,
        via: paths.map((p) => p.via),
        reach,
        direct,
        truncate,
        api,
        paths,
      });
      // Views are listed but scored on their base tables, so nothing counts twice.
      if (bypass || rel.kind === 'view') continue;
      const size = sizeFactor(rel.rowEstimate);
      const sensitive = sensitiveColumns.length > 0 && (reach.select === 'all' || reach.select === 'unknown');
      const readPoints = READ_POINTS[reach.select] * size * (sensitive ? SENSITIVE_MULTIPLIER : 1);
      s.add(`read ${reach.select} of ${name}${sensitive ? ` incl. ${sensitiveColumns.join(', ')}` : ''}`, readPoints);
      for (const command of ['insert', 'update', 'delete'] as const) {
        const r = reach[command];
        const points = r === 'all' && anonymous ? ANON_WRITE_ALL_POINTS : WRITE_POINTS[r];
        s.add(`${command} ${r} of ${name}`, points);
      }
      if (truncate) s.add(`truncate ${name}`, TRUNCATE_POINTS);
    }

    const functions: FunctionPowers[] = [];
    for (const fn of snapshot.functions) {
      if (fn.extension !== null || isSystemSchema(fn.schema) || fn.kind !== 'function') continue;
      if (/^(trigger|event_trigger)$/.test(fn.returnType)) continue;
      if (!reachable(fn.schema) || !ctx.privileges.has(fn.acl, role, 'EXECUTE')) continue;
      // A body that raises unless the caller is service_role gives any other role nothing but the error.
      if (role !== 'service_role' && serviceOnly(fn, snapshot.functions)) continue;
      const grant = grantText(ctx.privileges.grantFor(fn.acl, role, 'EXECUTE'), 'EXECUTE', `${qualified(fn.schema, fn.name)}(${fn.identityArgs})`, role);
      const body = bodies.get(fn) ?? { readsRlsTables: [] as readonly string[] };
      const via = fn.securityDefiner ? [`${grant}; SECURITY DEFINER, runs as ${fn.owner}`] : [grant];
      functions.push({
        schema: fn.schema,
        name: fn.name,
        securityDefiner: fn.securityDefiner,
        via,
        readsRlsTables: body.readsRlsTables,
        volatile: fn.volatility === 'volatile',
        fix: fn.securityDefiner ? closeFunctionSql(ctx, fn, role) : `REVOKE EXECUTE ON FUNCTION ${qualified(fn.schema, fn.name)}(${fn.identityArgs}) FROM PUBLIC${role === PUBLIC_ROLE ? '' : `, ${quoteIdent(role)}`};`,
      });
      if (fn.securityDefiner && !bypass) {
        // Points follow what the body does (checks/_definer.ts): an unguarded writer counts most, a read-only existence check little.
        const grade = gradeDefiner(fn, anonymous ? 'anon' : 'authenticated', 'medium', snapshot.functions).level;
        const base = body.readsRlsTables.length > 0 ? DEFINER_FUNCTION_RLS_POINTS : DEFINER_FUNCTION_POINTS;
        s.add(
          `call SECURITY DEFINER ${qualified(fn.schema, fn.name)}(${fn.identityArgs})${body.readsRlsTables.length > 0 ? ` reading RLS tables ${body.readsRlsTables.join(', ')}` : ''}${grade === 'high' ? ' (writes or reads secrets without checking its caller)' : grade === 'low' ? ' (read-only, one value)' : ''}`,
          grade === 'high' ? Math.max(base, DEFINER_FUNCTION_RLS_POINTS) * 1.5 : grade === 'low' ? base / 5 : base,
        );
      }
    }

    if (bypass) {
      const rows = tables.reduce((n, t) => n + Math.max(0, t.rowEstimate), 0);
      return {
        role,
        score: 0,
        bypassesRls: true,
        breakdown: [
          {
            reason: `bypasses RLS by design: ${tables.length} relations, about ${Math.round(rows).toLocaleString('en-US')} rows, ${functions.length} functions`,
            points: 0,
          },
        ],
        tables,
        functions,
      };
    }
    s.breakdown.sort((a, b) => b.points - a.points || (a.reason < b.reason ? -1 : 1));
    return { role, score: s.score(), bypassesRls: false, breakdown: s.breakdown, tables, functions };
  });
}


/** The report's `blastRadius` entries: the contract fields only (paths are in `via`). */
export function toReportEntries(radii: readonly RoleRadius[]): BlastRadius[] {
  return radii.map((r) => ({
    role: r.role,
    score: r.score,
    bypassesRls: r.bypassesRls,
    breakdown: r.breakdown,
    tables: r.tables.map((t) => ({
      schema: t.schema,
      name: t.name,
      select: t.select,
      insert: t.insert,
      update: t.update,
      delete: t.delete,
      rows: t.rows,
      sensitiveColumns: t.sensitiveColumns,
      via: t.via,
    })),
    functions: r.functions.map((f) => ({ schema: f.schema, name: f.name, securityDefiner: f.securityDefiner, via: f.via })),
  }));
}
