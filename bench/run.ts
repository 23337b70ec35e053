/**
 * `npm run bench`: audits generated schemas of several sizes on a throwaway real Postgres and
 * prints, per size, introspection time, round trips, check time, total and peak memory; then the
 * policy parser micro-benchmark. Sizes: `npm run bench -- 100 1000 5000` (default 100 1000 2000 5000).
 * `SUPAUDIT_BENCH_COMPARE=<file.sql>` also times that SQL on each generated database (for example
 * Supabase's splinter lint query), after supaudit, warm cache for both: best of three runs each.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { initPolicyParser } from '../src/policy/index.ts';
import { availableEngines, startCluster } from '../test/harness/postgres.ts';
import { auditUrl, loadGenerated } from './common.ts';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const SIZES = sizes.length > 0 ? sizes : [100, 1000, 2000, 5000];
const COMPARE = process.env['SUPAUDIT_BENCH_COMPARE'];
const COMPARE_SQL = COMPARE ? readFileSync(COMPARE, 'utf8') : null;

function mb(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)} MB`;
}

/** Best of three: the SQL's wall time and row count (of its last statement). */
async function timeSql(url: string, sql: string): Promise<{ ms: number; rows: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    let best = { ms: Number.POSITIVE_INFINITY, rows: 0 };
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      const result = await client.query(`begin; ${sql}; rollback`);
      const ms = performance.now() - start;
      const results = Array.isArray(result) ? result : [result];
      const rows = results.filter((r) => r.command === 'SELECT').at(-1)?.rowCount ?? 0;
      if (ms < best.ms) best = { ms, rows };
    }
    return best;
  } finally {
    await client.end();
  }
}

/** Best of three supaudit runs (introspection + checks), for the comparison. */
async function timeSupaudit(url: string): Promise<{ introspectionMs: number; checksMs: number; total: number }> {
  let best = { introspectionMs: 0, checksMs: 0, total: Number.POSITIVE_INFINITY };
  for (let i = 0; i < 3; i++) {
    const { report, introspectionMs, total } = await auditUrl(url);
    if (total < best.total) best = { introspectionMs, checksMs: report.stats.checksMs, total };
  }
  return best;
}

async function main(): Promise<void> {
  const engine = (await availableEngines()).includes('system') ? 'system' : 'embedded';
  const cluster = await startCluster(engine);
  console.log(`PostgreSQL ${cluster.version} (${engine}), ${SIZES.join(', ')} tables; machine: ${(await import('node:os')).cpus().length} cores`);
  console.log('tables  policies  load(s)  introspect(ms)  round trips  checks(ms)  total(ms)  findings  peak RSS');
  await initPolicyParser();
  try {
    for (const size of SIZES) {
      const url = await cluster.createDatabase(`bench_${size}`);
      const loadStart = performance.now();
      await loadGenerated(url, size);
      const loadSeconds = (performance.now() - loadStart) / 1000;
      global.gc?.();
      let peak = process.memoryUsage().rss;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
      const { snapshot, report, introspectionMs, queries, total } = await auditUrl(url);
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      console.log(
        [
          String(size).padStart(6),
          String(snapshot.policies.length).padStart(9),
          loadSeconds.toFixed(1).padStart(8),
          Math.round(introspectionMs).toString().padStart(15),
          String(queries).padStart(12),
          String(report.stats.checksMs).padStart(11),
          Math.round(total).toString().padStart(10),
          String(report.findings.length).padStart(9),
          mb(peak).padStart(9),
        ].join(' '),
      );
      if (COMPARE_SQL !== null) {
        const mine = await timeSupaudit(url);
        const theirs = await timeSql(url, COMPARE_SQL);
        console.log(
          `        best of 3: supaudit ${Math.round(mine.total)} ms (introspect ${Math.round(mine.introspectionMs)}, checks ${Math.round(mine.checksMs)})` +
            ` · ${COMPARE} ${Math.round(theirs.ms)} ms (${theirs.rows} rows)`,
        );
      }
    }
  } finally {
    await cluster.stop();
  }
  console.log('\npolicy parser:');
  const { spawnSync } = await import('node:child_process');
  spawnSync(process.execPath, ['--import', 'tsx', new URL('./policy-parse.ts', import.meta.url).pathname, '10000'], { stdio: 'inherit' });
}

await main();
