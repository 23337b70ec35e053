/**
 * The lab's cost, stage by stage: `npx tsx bench/lab-cost.ts <tables>` generates the benchmark
 * schema (bench/generate.ts) as one migration, audits it on the embedded target and prints the
 * wall time of each stage the audit announces (world, matrix, attack search, function calls…),
 * the lab's attempts and budget stops, and the peak RSS.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runAudit } from '../src/engine/audit.ts';
import { resolveTarget } from '../src/introspect/targets/index.ts';
import { generateSchemaChunks } from './generate.ts';

const tables = Number(process.argv[2] ?? 2000);
const dir = mkdtempSync(join(tmpdir(), 'supaudit-lab-cost-'));
try {
  mkdirSync(join(dir, 'supabase', 'migrations'), { recursive: true });
  writeFileSync(join(dir, 'supabase', 'migrations', '20260101000000_bench.sql'), generateSchemaChunks(tables).filter((c) => c !== 'analyze').join('\n'));
  const stages: [string, number][] = [];
  let last = performance.now();
  let current = 'start';
  const started = last;
  const { report } = await runAudit(resolveTarget({ migrations: join(dir, 'supabase', 'migrations') }), {
    onStage: (stage) => {
      const now = performance.now();
      stages.push([current, now - last]);
      [current, last] = [stage, now];
    },
  });
  stages.push([current, performance.now() - last]);
  const total = performance.now() - started;
  console.log(`${tables} tables: ${(total / 1000).toFixed(1)} s in all, peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
  for (const [stage, ms] of stages) if (ms >= 50) console.log(`  ${stage.padEnd(20)} ${(ms / 1000).toFixed(2)} s`);
  const lab = report.lab;
  if (lab) {
    console.log(`  lab: ${lab.accounts.length} accounts, ${lab.tables.filter((t) => t.rows > 0).length} of ${lab.tables.length} tables with rows, ${lab.matrix.length} matrix cells`);
    console.log(`  attack search: ${lab.attempts} attempts${lab.stopped ? ` (stopped: ${lab.stopped})` : ''}; function calls: ${lab.functionCalls?.calls ?? 0}${lab.functionCalls?.stopped ? ` (stopped: ${lab.functionCalls.stopped})` : ''}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
