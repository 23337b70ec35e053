/**
 * What CI consumes, from the real CLI on a real server: SARIF from a live audit validates against
 * the 2.1.0 schema and every result has a physical location (the migration that created the object
 * when the project folder is known, else a line of the schema file written beside the report);
 * rules embed their doc; the PR comment stays under 64 KB with new findings first; the job summary
 * stays under GitHub's 1 MiB; `--fix-out` writes one coherent migration whose files load, and the
 * findings it fixes are gone on a re-audit.
 */
import { Ajv } from 'ajv';
import addFormatsPlugin from 'ajv-formats';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Log } from 'sarif';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { COMMENT_LIMIT_BYTES, COMMENT_MARKER, renderComment } from '../../reports/comment.ts';
import { githubStepSummary } from '../../reports/github.ts';
import { checkDoc } from '../../src/docs.ts';
import type { Report } from '../../src/model/report.ts';
import { cluster, freshDatabase, runSql } from '../harness/db.ts';
import { systemBinDir } from '../harness/postgres.ts';
import { realEngines } from '../support/audit.ts';
import { runCli } from '../support/cli.ts';

const addFormats = addFormatsPlugin as unknown as (ajv: Ajv) => Ajv;
const schema = JSON.parse(readFileSync(new URL('../data/sarif-schema-2.1.0.json', import.meta.url), 'utf8')) as object;
const validate = addFormats(new Ajv({ allErrors: true, strict: false, unicodeRegExp: false })).compile(schema);
const BASE_SQL = readFileSync(new URL('../../src/introspect/targets/supabase-base.sql', import.meta.url), 'utf8');

/** The project's one migration: what a live database was built from. */
const MIGRATION = `create table public.invoices (id bigint primary key, owner_id uuid not null, amount numeric not null);
grant select, insert, update, delete on public.invoices to anon, authenticated;

create table public.notes (id bigint primary key, user_id uuid not null, body text);
alter table public.notes enable row level security;
create policy "own notes" on public.notes for select to authenticated using (user_id = auth.uid());
create policy "write notes" on public.notes for insert to authenticated with check (user_id = auth.uid());
create policy "edit notes" on public.notes for update to authenticated using (user_id = auth.uid());
`;
/** Made by hand on the server, in no migration. */
const BY_HAND = `create table public.api_keys (id bigint primary key, key text not null);
grant select on public.api_keys to anon;
`;

const dir = mkdtempSync(join(tmpdir(), 'supaudit-ci-outputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function expectValid(doc: unknown): void {
  const ok = validate(doc);
  expect(ok ? [] : validate.errors?.map((e) => `${e.instancePath} ${e.message}`)).toEqual([]);
}

describe('CI outputs from a live audit', () => {
  let url: string;
  const project = join(dir, 'app', 'supabase');
  beforeAll(async () => {
    const engine = realEngines()[0];
    if (!engine) throw new Error('no real Postgres cluster in this test run');
    url = await freshDatabase(engine);
    await runSql(url, BASE_SQL);
    await runSql(url, MIGRATION + BY_HAND);
    mkdirSync(join(project, 'migrations'), { recursive: true });
    writeFileSync(join(project, 'migrations', '20250101000000_init.sql'), MIGRATION);
  }, 120_000);

  test('SARIF without a project folder: valid 2.1.0, every result at a line of the schema file written beside it', async () => {
    const cwd = join(dir, 'bare');
    mkdirSync(cwd, { recursive: true });
    const r = await runCli(['--db-url', url, '-f', 'sarif', '-o', 'out', '-q'], { cwd, env: {} });
    expect(r.code).toBe(0);
    const log = JSON.parse(readFileSync(join(cwd, 'out', 'supaudit.sarif'), 'utf8')) as Log;
    expectValid(log);
    const results = log.runs[0]!.results!;
    expect(results.length).toBeGreaterThan(3);
    const schemaFile = readFileSync(join(cwd, 'out', 'supaudit-schema.sql'), 'utf8').split('\n');
    for (const res of results) {
      const loc = res.locations![0]!.physicalLocation!;
      expect(loc.artifactLocation!.uri).toBe('out/supaudit-schema.sql');
      const line = schemaFile[loc.region!.startLine! - 1]!;
      // the line defines the result's object
      const object = res.locations![0]!.logicalLocations![0]!.fullyQualifiedName!;
      const [schema, table] = object.split('.');
      expect(line).toContain(`${schema}.${table}`);
      expect(res.partialFingerprints!['primaryLocationLineHash']).toMatch(/^[0-9a-f]{16}:1$/);
    }
    const invoices = results.find((x) => x.ruleId === 'rls_disabled_in_public' && x.message.text!.includes('public.invoices'))!;
    expect(schemaFile[invoices.locations![0]!.physicalLocation!.region!.startLine! - 1]).toMatch(/^CREATE TABLE public\.invoices \(id bigint NOT NULL, owner_id uuid NOT NULL, amount numeric NOT NULL\);$/);
    // rules carry their doc; no link to a repository that is not ours
    const rule = log.runs[0]!.tool.driver.rules!.find((x) => x.id === 'rls_disabled_in_public')!;
    expect(rule.help!.markdown).toBe(checkDoc('rls_disabled_in_public'));
    expect(rule.helpUri).toBeUndefined();
    expect(JSON.stringify(log)).not.toContain('github.com/supaudit');
  });

  test('SARIF with the project folder: objects from the migrations point at their line; the hand-made table at the schema file', async () => {
    const cwd = join(dir, 'app');
    const r = await runCli(['--db-url', url, '--project', 'supabase', '-f', 'sarif', '-f', 'junit', '-o', 'out', '-q'], { cwd, env: {} });
    expect(r.code).toBe(0);
    const log = JSON.parse(readFileSync(join(cwd, 'out', 'supaudit.sarif'), 'utf8')) as Log;
    expectValid(log);
    const where = (rule: string, text: string) => {
      const res = log.runs[0]!.results!.find((x) => x.ruleId === rule && x.message.text!.includes(text))!;
      const loc = res.locations![0]!.physicalLocation!;
      return `${loc.artifactLocation!.uri}:${loc.region!.startLine}`;
    };
    expect(where('rls_disabled_in_public', 'public.invoices')).toBe('supabase/migrations/20250101000000_init.sql:1');
    expect(where('rls_disabled_in_public', 'public.api_keys')).toMatch(/^out\/supaudit-schema\.sql:\d+$/);
    for (const res of log.runs[0]!.results!) expect(res.locations![0]!.physicalLocation).toBeDefined();
    // JUnit: one testcase per finding
    const junit = readFileSync(join(cwd, 'out', 'supaudit.junit.xml'), 'utf8');
    const failures = (junit.match(/<failure /g) ?? []).length;
    expect(failures).toBe(log.runs[0]!.results!.length);
    expect((junit.match(/<testcase [^>]*name="rls_disabled_in_public: public\.(invoices|api_keys)"/g) ?? []).length).toBe(2);
  });

  test('--fix-out: one migration that loads (psql --single-transaction), then the fixed findings are gone', async () => {
    const cwd = join(dir, 'fix');
    mkdirSync(cwd, { recursive: true });
    const engine = realEngines()[0]!;
    const own = await freshDatabase(engine);
    await runSql(own, BASE_SQL);
    await runSql(own, MIGRATION + BY_HAND);
    const first = await runCli(['--db-url', own, '-f', 'json', '-o', 'before', '-q', '--fix-out', 'fixes/fix.sql'], { cwd, env: {} });
    expect(first.code).toBe(0);
    const before = JSON.parse(readFileSync(join(cwd, 'before', 'supaudit.json'), 'utf8')) as Report;
    const fix = readFileSync(join(cwd, 'fixes', 'fix.sql'), 'utf8');
    const fixable = before.findings.filter((f) => f.remediation.sql);
    expect(fixable.length).toBeGreaterThan(2);
    for (const f of fixable) expect(fix).toContain(f.fingerprint);
    const concurrent = join(cwd, 'fixes', 'fix.concurrently.sql');
    expect(fix).not.toMatch(/CONCURRENTLY/i);
    const info = cluster(engine);
    const bin = engine === 'system' ? systemBinDir() : null;
    const psql = bin ? join(bin, 'psql') : 'psql';
    const run = (file: string, single: boolean) =>
      execFileSync(psql, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ...(single ? ['--single-transaction'] : []), '-d', own, '-f', file], { env: { ...process.env, PGPASSWORD: info.password }, encoding: 'utf8' });
    run(join(cwd, 'fixes', 'fix.sql'), true);
    if (existsSync(concurrent)) run(concurrent, false);
    const second = await runCli(['--db-url', own, '-f', 'json', '-o', 'after', '-q'], { cwd, env: {} });
    expect(second.code).toBe(0);
    const after = JSON.parse(readFileSync(join(cwd, 'after', 'supaudit.json'), 'utf8')) as Report;
    const still = new Set(after.findings.map((f) => f.fingerprint));
    const security = fixable.filter((f) => f.level === 'critical' || f.level === 'high').map((f) => f.fingerprint);
    expect(security.length).toBeGreaterThan(0);
    expect(security.filter((fp) => still.has(fp))).toEqual([]);
  }, 180_000);
});

describe('size limits of what GitHub shows', () => {
  /** A report with n copies of one finding, each with a long message. */
  function big(n: number, baselineNew = 0): Report {
    const f = {
      check: 'rls_disabled_in_public',
      level: 'critical' as const,
      title: 'RLS disabled',
      message: 'x'.repeat(2000),
      object: { schema: 'public', name: 't', type: 'table' as const },
      roles: ['anon'],
      remediation: { text: 'enable it', sql: 'ALTER TABLE public.t ENABLE ROW LEVEL SECURITY;' },
      docs: 'checks/rls_disabled_in_public.md',
    };
    const findings = Array.from({ length: n }, (_, i) => ({ ...f, fingerprint: `rls_disabled_in_public:public.t${i}`, object: { ...f.object, name: `t${i}` }, level: i % 3 === 0 ? ('critical' as const) : ('medium' as const) }));
    return {
      tool: { name: 'supaudit', version: '0.0.0' },
      target: { kind: 'url', database: 'db', serverVersion: '17', description: 'postgres://db' },
      exposedSchemas: { schemas: ['public'], source: 'default' },
      summary: { critical: findings.filter((x) => x.level === 'critical').length, high: 0, medium: findings.filter((x) => x.level === 'medium').length, low: 0, info: 0 },
      findings,
      suppressed: [],
      checks: [],
      checkErrors: [],
      blastRadius: [],
      notes: [],
      stats: { durationMs: 1, introspectionMs: 1, queries: 1, checksRun: 1 },
      ...(baselineNew > 0 ? { baseline: { file: 'b.json', new: findings.slice(-baselineNew).map((x) => x.fingerprint), fixed: [], unchanged: n - baselineNew } } : {}),
    } as unknown as Report;
  }

  test('the job summary of a huge report stays under 1 MiB and says how many findings it left out', () => {
    const report = big(1500);
    const md = githubStepSummary(report);
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(1024 * 1024);
    expect(md).toMatch(/_\d+ more findings \(.*\) not shown here/);
    // small reports are whole
    expect(githubStepSummary(big(3))).not.toContain('not shown here');
  });

  test('the PR comment stays under 64 KB, starts with its marker, and lists new findings first', () => {
    const report = big(400, 5);
    const comment = renderComment(report);
    expect(Buffer.byteLength(comment)).toBeLessThanOrEqual(COMMENT_LIMIT_BYTES);
    expect(comment.startsWith(COMMENT_MARKER)).toBe(true);
    expect(comment).toContain('5 new');
    const firstFive = [...comment.matchAll(/<code>public\.(t\d+)<\/code>/g)].slice(0, 5).map((m) => m[1]);
    expect(firstFive.sort()).toEqual(['t395', 't396', 't397', 't398', 't399']);
    expect(comment).toMatch(/_\d+ more \(.*\) not shown/);
  });
});
