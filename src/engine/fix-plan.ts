/**
 * The fixes of many findings as one coherent change: what the review writes and `--fix-out`
 * writes. Each finding's SQL is parsed with the real Postgres parser, then
 *
 *   - statements that appear twice (the same REVOKE, the same CREATE SCHEMA) are written once;
 *   - CREATE INDEX gets IF NOT EXISTS and DROP INDEX gets IF EXISTS, so two fixes that want the same
 *     index, or a rerun, do not fail;
 *   - ALTER POLICY statements on the same policy are merged into one: for each clause (TO, USING,
 *     WITH CHECK) the security fix wins over a performance rewrite (then the more severe finding),
 *     so an initplan rewrite never undoes an owner check; a policy another fix drops is not altered;
 *   - `CONCURRENTLY` statements (CREATE/DROP INDEX, REINDEX) cannot run in a transaction block,
 *     and the Supabase CLI runs each migration file in one: they go to a separate file, to run
 *     statement by statement (psql -f, no --single-transaction).
 *
 * Needs the parser loaded (`initPolicyParser`): it runs after an audit.
 */
import { parseSync } from 'libpg-query';
import { deparseSync } from 'pgsql-deparser';
import type { Finding } from '../model/finding.ts';
import { LEVELS, levelRank } from '../model/level.ts';
import { quoteIdent, visibleSql } from '../model/ident.ts';
import type { Snapshot } from '../model/snapshot.ts';
import { terminalSafe } from '../model/visible.ts';
import { rewritePerRowCalls } from '../policy/index.ts';

type Node = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface FixPlan {
  /** Statements that run in one transaction: a migration. */
  readonly migration: string;
  /** `CONCURRENTLY` statements, to run one by one outside a transaction; null when there are none. */
  readonly concurrent: string | null;
  /** Fingerprints of the findings whose SQL is in the plan. */
  readonly included: readonly string[];
  /** What was merged or dropped, as comment lines say it. */
  readonly notes: readonly string[];
}

export interface FixPlanOptions {
  /** The first comment line(s) of both files. */
  readonly header: readonly string[];
  /** `security` wins a merge over `performance`/`schema`. */
  readonly categoryOf: (check: string) => string | undefined;
  /** Resolves helper functions when a merged clause is rewritten for auth_rls_initplan. */
  readonly snapshot?: Snapshot;
}

/**
 * Database names may hold anything: on a comment line they are spelled out as the SQL spells them
 * (a newline would end the comment and make the rest SQL; a bidi override or zero-width character
 * would make the line read as something else), so the line stays one line and reads as it is.
 */
const commentSafe = terminalSafe;

interface Piece {
  readonly sql: string;
  readonly node: Node | null;
}

/** The statements of a fix, each with its parse tree (null when the text does not parse: kept as is). */
function statements(sql: string): Piece[] {
  let parsed: { stmts?: { stmt: Node; stmt_location?: number; stmt_len?: number }[] };
  try {
    parsed = parseSync(sql) as typeof parsed;
  } catch {
    return [{ sql: sql.trim(), node: null }];
  }
  const bytes = Buffer.from(sql, 'utf8');
  return (parsed.stmts ?? []).map((s) => {
    const start = s.stmt_location ?? 0;
    const end = s.stmt_len ? start + s.stmt_len : bytes.length;
    const text = bytes.subarray(start, end).toString('utf8').trim();
    return { sql: text.endsWith(';') ? text : `${text};`, node: s.stmt };
  });
}

/** The deparser quotes names and literals as they are: invisible characters are spelled out after it, as in every fix. */
function deparse(node: Node): string | null {
  try {
    return `${visibleSql(deparseSync(node, { pretty: false }).trim())};`;
  } catch {
    return null;
  }
}

function isConcurrent(node: Node): boolean {
  if (node['IndexStmt']?.concurrent) return true;
  if (node['DropStmt']?.concurrent) return true;
  const reindex = node['ReindexStmt'] as { params?: { DefElem?: { defname?: string } }[] } | undefined;
  return Boolean(reindex?.params?.some((p) => p.DefElem?.defname === 'concurrently'));
}

function policyKey(schema: string | undefined, table: string, name: string): string {
  return `${schema ?? 'public'}\u0000${table}\u0000${name}`;
}

interface PolicyMerge {
  readonly key: string;
  readonly schema: string;
  readonly table: string;
  readonly name: string;
  roles?: { value: Node[]; rank: number };
  using?: { value: Node; rank: number };
  withCheck?: { value: Node; rank: number };
  readonly from: string[];
  readonly checks: Set<string>;
}

export function planFixes(findings: readonly Finding[], options: FixPlanOptions): FixPlan {
  const withSql = findings.filter((f) => f.remediation.sql);
  // Security fixes first, then by level: the order the merge ranks them in, and the order written.
  const rank = (f: Finding) => (options.categoryOf(f.check) === 'security' ? 100 : 0) + (LEVELS.length - levelRank(f.level)) * 10;
  const ordered = [...withSql].sort((a, b) => rank(b) - rank(a));
  const seen = new Map<string, string>();
  const body: string[] = [];
  const concurrent: string[] = [];
  const seenConcurrent = new Set<string>();
  const notes: string[] = [];
  const merges = new Map<string, PolicyMerge>();
  const dropped = new Set<string>();
  const included: string[] = [];

  for (const f of ordered) {
    const pieces = statements(f.remediation.sql!);
    const out: string[] = [];
    for (const { sql, node } of pieces) {
      if (node === null) {
        out.push(sql);
        continue;
      }
      const index = node['IndexStmt'] as Node | undefined;
      if (index && index['idxname']) index['if_not_exists'] = true;
      const drop = node['DropStmt'] as Node | undefined;
      if (drop && drop['removeType'] === 'OBJECT_INDEX') drop['missing_ok'] = true;
      if (drop && drop['removeType'] === 'OBJECT_POLICY') {
        for (const o of drop['objects'] ?? []) {
          const parts = ((o.List?.items ?? []) as Node[]).map((i) => i['String']?.sval as string);
          const [name, table, schema] = [...parts].reverse();
          if (name && table) dropped.add(policyKey(schema, table, name));
        }
      }
      const canonical = deparse(node) ?? sql;
      const text = index || (drop && drop['removeType'] === 'OBJECT_INDEX') ? canonical : sql;
      if (isConcurrent(node)) {
        if (!seenConcurrent.has(canonical)) {
          seenConcurrent.add(canonical);
          concurrent.push(`-- ${commentSafe(f.fingerprint)} (${f.level})`, text, '');
        }
        continue;
      }
      const alter = node['AlterPolicyStmt'] as Node | undefined;
      if (alter) {
        const table = alter['table'] as { schemaname?: string; relname: string };
        const key = policyKey(table.schemaname, table.relname, alter['policy_name']);
        let m = merges.get(key);
        if (!m) {
          m = { key, schema: table.schemaname ?? 'public', table: table.relname, name: alter['policy_name'], from: [], checks: new Set() };
          merges.set(key, m);
          out.push(`\u0000policy:${key}`);
        }
        const r = rank(f);
        if (alter['roles'] && (!m.roles || r > m.roles.rank)) m.roles = { value: alter['roles'], rank: r };
        if (alter['qual'] && (!m.using || r > m.using.rank)) m.using = { value: alter['qual'], rank: r };
        if (alter['with_check'] && (!m.withCheck || r > m.withCheck.rank)) m.withCheck = { value: alter['with_check'], rank: r };
        m.from.push(f.fingerprint);
        m.checks.add(f.check);
        continue;
      }
      const earlier = seen.get(canonical);
      if (earlier !== undefined) {
        out.push(`-- (${commentSafe(earlier === f.fingerprint ? 'repeated' : `also in the fix of ${earlier}`)}: ${commentSafe(sql.split('\n')[0]!.slice(0, 80))})`);
        continue;
      }
      seen.set(canonical, f.fingerprint);
      out.push(text);
    }
    included.push(f.fingerprint);
    body.push(`-- ${commentSafe(f.fingerprint)} (${f.level})`, `-- ${commentSafe(f.title)}`, ...out, '');
  }

  const expr = (n: Node) => visibleSql(deparseSync(n, { pretty: false }).trim());
  // A merged clause keeps the security fix's expression; when an initplan rewrite was merged into it,
  // the per-row auth calls of that expression are wrapped too, so neither fix undoes the other.
  const clause = (m: PolicyMerge, n: Node) => {
    const text = expr(n);
    if (m.from.length < 2 || !m.checks.has('auth_rls_initplan')) return text;
    const rewritten = rewritePerRowCalls(text, { ...(options.snapshot ? { snapshot: options.snapshot } : {}), schema: m.schema, table: m.table });
    return rewritten.status === 'rewritten' && rewritten.text ? rewritten.text : text;
  };
  const rendered = body.map((line) => {
    if (!line.startsWith('\u0000policy:')) return line;
    const m = merges.get(line.slice('\u0000policy:'.length))!;
    const label = `${quoteIdent(m.name)} ON ${quoteIdent(m.schema)}.${quoteIdent(m.table)}`;
    if (dropped.has(m.key)) {
      notes.push(`policy ${label} is dropped by another fix: not altered`);
      return `-- (policy ${commentSafe(label)} is dropped by another fix in this file: not altered)`;
    }
    let sql = `ALTER POLICY ${label}`;
    if (m.roles) sql += ` TO ${m.roles.value.map((r: Node) => (r['RoleSpec']?.roletype === 'ROLESPEC_PUBLIC' ? 'public' : quoteIdent(r['RoleSpec']?.rolename))).join(', ')}`;
    if (m.using) sql += ` USING (${clause(m, m.using.value)})`;
    if (m.withCheck) sql += ` WITH CHECK (${clause(m, m.withCheck.value)})`;
    if (m.from.length > 1) {
      notes.push(`policy ${label}: the fixes of ${m.from.join(', ')} merged into one ALTER POLICY`);
      return `-- merged: the fixes of ${commentSafe(m.from.join(', '))} on this policy (per clause, the security fix wins)\n${sql};`;
    }
    return `${sql};`;
  });

  const header = options.header.map((h) => `-- ${commentSafe(h)}`);
  const migration = [...header, '', ...rendered].join('\n').replace(/\n{3,}/g, '\n\n');
  const concurrentText =
    concurrent.length === 0
      ? null
      : [
          ...header,
          '-- CONCURRENTLY statements: they cannot run inside a transaction block, and the Supabase CLI runs a',
          '-- migration file in one. Run each on its own, e.g. `psql "$DATABASE_URL" -f <this file>` (no',
          '-- --single-transaction); each waits for running transactions on its table but does not block writes.',
          '',
          ...concurrent,
        ].join('\n');
  return { migration: migration.endsWith('\n') ? migration : `${migration}\n`, concurrent: concurrentText, included, notes };
}
