import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx', 'checks/**/*.test.ts', 'reports/**/*.test.ts'],
    globalSetup: ['test/harness/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    // Test files share their worker (and its PGlite base database, built once per worker instead of
    // once per file): the suite runs in about 60 % of the time. No test mutates the environment,
    // mocks modules or changes directory; the one that needs a fresh module resets the registry.
    isolate: false,
    // Database tests are real servers and PGlite instances: a second try hides nothing and costs minutes.
    retry: 0,
  },
});
