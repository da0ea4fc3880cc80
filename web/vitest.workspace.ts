import { defineWorkspace } from 'vitest/config';

// Three suites: `unit` (no server), `integration` (the SDK against the real parley binary),
// `browser` (the web app in Debian's chromium through playwright-core).
export default defineWorkspace([
  {
    test: {
      name: 'unit',
      include: ['sdk/test/unit/**/*.test.ts'],
      environment: 'node',
    },
  },
  {
    test: {
      name: 'integration',
      include: ['sdk/test/integration/**/*.test.ts'],
      environment: 'node',
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  },
  {
    test: {
      name: 'browser',
      include: ['e2e/**/*.test.ts'],
      environment: 'node',
      testTimeout: 90_000,
      hookTimeout: 60_000,
    },
  },
]);
