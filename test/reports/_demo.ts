/**
 * Test support for the reporters: the bundled demo project plus one hostile migration, audited
 * for real (PGlite, through `runAudit` like `--migrations`, so findings carry their migration
 * file and line). Identifiers and policy text in the hostile migration are made to break HTML,
 * Markdown tables, XML and workflow commands if any reporter forgets to escape.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAudit } from '../../src/engine/audit.ts';
import { DEMO_PROJECT, resolveTarget } from '../../src/introspect/targets/index.ts';
import type { Report } from '../../src/model/report.ts';

export const HOSTILE_TABLE = '<script>alert(1)</script>';
export const HOSTILE_POLICY = 'x</pre><img src=x onerror=alert(2)> | , : %';
export const HOSTILE_MIGRATION = '20990101000000_hostile.sql';

export const HOSTILE_SQL = `
-- A table whose name is markup, with a policy but RLS off, readable by the API roles.
create table public."<script>alert(1)</script>" (
  id bigint primary key,
  "|a|" text,
  password text
);
grant select, insert on public."<script>alert(1)</script>" to anon, authenticated;
create policy "${HOSTILE_POLICY}" on public."<script>alert(1)</script>"
  for select using ("|a|" <> '</script><script>alert(3)</script>');
`;

let hostile: Promise<Report> | undefined;

/**
 * Audits demo + hostile migration in a temporary copy of the demo project; returns the report, the
 * same one to every test file of a worker (the reporters are pure: it is frozen, so a test that
 * changed it would throw instead of changing what the next file sees).
 */
export function auditHostileDemo(): Promise<Report> {
  hostile ??= auditHostileDemoOnce().then(deepFreeze);
  return hostile;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

async function auditHostileDemoOnce(): Promise<Report> {
  const root = mkdtempSync(join(tmpdir(), 'supaudit-reports-'));
  try {
    const project = join(root, 'supabase');
    mkdirSync(project);
    cpSync(join(DEMO_PROJECT, 'migrations'), join(project, 'migrations'), { recursive: true });
    cpSync(join(DEMO_PROJECT, 'config.toml'), join(project, 'config.toml'));
    cpSync(join(DEMO_PROJECT, 'seed.sql'), join(project, 'seed.sql'));
    writeFileSync(join(project, 'migrations', HOSTILE_MIGRATION), HOSTILE_SQL);
    const { report } = await runAudit(resolveTarget({ migrations: join(project, 'migrations'), cwd: root, env: {} }));
    return report;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Line (1-based) of the first line of `file` (relative to the demo's parent folder) that starts with `text`. */
export function demoLine(file: string, text: string): number {
  const path = join(DEMO_PROJECT, '..', file);
  const source = file.endsWith(HOSTILE_MIGRATION) ? HOSTILE_SQL : readFileSync(path, 'utf8');
  return source.split('\n').findIndex((l) => l.startsWith(text)) + 1;
}

/** The same report with one finding moved to `suppressed` and a baseline comparison, as config/baseline runs produce. */
export function withSuppressionAndBaseline(report: Report): { report: Report; suppressedFingerprint: string } {
  const target = report.findings.find((f) => f.object.name === HOSTILE_TABLE && f.check === 'rls_disabled_in_public') ?? report.findings[0]!;
  const findings = report.findings.filter((f) => f !== target);
  const summary = { ...report.summary, [target.level]: report.summary[target.level] - 1 };
  return {
    suppressedFingerprint: target.fingerprint,
    report: {
      ...report,
      findings,
      summary,
      suppressed: [{ finding: target, reason: 'staging only <b>, | not | a table', by: 'ops@example.com', expires: '2099-01-01', source: 'file' }],
      baseline: { file: 'supaudit.baseline.json', new: findings.slice(0, 3).map((f) => f.fingerprint), fixed: ['rls_disabled_in_public:public.gone', 'unused_index:public.old_idx'] },
    },
  };
}
