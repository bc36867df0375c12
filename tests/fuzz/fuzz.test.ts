import { describe, expect, it } from 'vitest';
import { runFuzz } from './fuzz-run.js';

describe('the fuzzer (a small seeded run; `npm run fuzz` runs 2,000 cases)', () => {
  it('gets a 2xx or a 4xx error body for every hostile request, with no provider blamed and the server alive', async () => {
    const report = await runFuzz({ seed: 1337, cases: 300, seconds: 240, concurrency: 6 });
    expect(report.sent).toBe(300);
    expect(report.failures).toEqual([]);
  }, 300_000);
});
