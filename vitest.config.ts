import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (pure code, parallel, no services) and `e2e` (real Redis,
 * a real lab of namespaced hypervisors over real SSH; files run one after another because
 * they share the lab).
 */
export default defineConfig({
  resolve: {
    // Node loads graphql's CJS build for Pothos and Yoga; Vite would pick the .mjs one for our
    // files, and two graphql instances refuse each other's types.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
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
