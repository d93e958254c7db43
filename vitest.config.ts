import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (pure code, parallel, no services) and `e2e` (real Redis,
 * a real lab of namespaced hypervisors over real SSH; files run one after another because
 * they share the lab).
 */
export default defineConfig({
  resolve: {
    // Pothos and Yoga are loaded by Node, which resolves graphql to one build (index.mjs, through
    // the module-sync condition); Vite would pick graphql's development build for our files, and
    // two graphql instances refuse each other's types. Resolve it as Node does.
    alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve('graphql') }],
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts', 'test/lab/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
