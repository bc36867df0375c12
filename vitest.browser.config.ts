import { defineConfig } from 'vitest/config';

// `npm run test:browser` only (not part of `npm test`): drives Debian's Chromium through the dashboard.
export default defineConfig({
  test: {
    include: ['tests/browser/**/*.browser.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
