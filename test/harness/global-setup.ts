/**
 * vitest global setup: one throwaway cluster per available engine for the whole run, handed to
 * the test workers with `provide`, stopped at the end.
 */
import type { TestProject } from 'vitest/node';
import { availableEngines, clusterInfo, startCluster, type Cluster, type ClusterInfo } from './postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgClusters: ClusterInfo[];
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const clusters: Cluster[] = [];
  try {
    for (const engine of availableEngines()) clusters.push(await startCluster(engine));
  } catch (error) {
    await Promise.all(clusters.map((c) => c.stop().catch(() => undefined)));
    throw error;
  }
  project.provide('pgClusters', clusters.map(clusterInfo));
  return async () => {
    await Promise.all(clusters.map((c) => c.stop()));
  };
}
