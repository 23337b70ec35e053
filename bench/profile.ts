/**
 * `npm run bench:profile -- 5000`: generates a schema of that many tables on a throwaway real
 * Postgres, introspects it once, then times each check on its own (a fresh context each, so
 * shared work such as policy parsing is charged to every check that needs it) and the whole
 * report. Use it to find the check that grows faster than the schema.
 */
import { allChecks } from '../checks/index.ts';
import { buildReport } from '../src/engine/audit.ts';
import { evaluate } from '../src/engine/evaluate.ts';
import { initPolicyParser } from '../src/policy/index.ts';
import { availableEngines, startCluster } from '../test/harness/postgres.ts';
import { introspectUrl, loadGenerated } from './common.ts';

const size = Number(process.argv[2] ?? 5000);
const top = Number(process.argv[3] ?? 12);

const engine = (await availableEngines()).includes('system') ? 'system' : 'embedded';
const cluster = await startCluster(engine);
await initPolicyParser();
try {
  const url = await cluster.createDatabase(`profile_${size}`);
  await loadGenerated(url, size);
  const { snapshot, queries } = await introspectUrl(url);
  const times = allChecks.map((check) => {
    const start = performance.now();
    evaluate(snapshot, [check]);
    return { id: check.meta.id, ms: performance.now() - start };
  });
  times.sort((a, b) => b.ms - a.ms);
  console.log(`${size} tables, ${snapshot.policies.length} policies: slowest checks alone (ms)`);
  for (const t of times.slice(0, top)) console.log(`${Math.round(t.ms).toString().padStart(7)}  ${t.id}`);
  const started = performance.now();
  const report = buildReport(snapshot, { kind: 'url', description: 'profile' }, { checks: allChecks }, { started, introspectionMs: 0, queries });
  console.log(`all checks together (shared work once): ${report.stats.checksMs} ms`);
} finally {
  await cluster.stop();
}
