/**
 * Bench-only preload for the soak (never loaded by aisbf itself): with `--expose-gc`, SIGUSR2 forces a
 * full GC and writes process.memoryUsage() as one JSON line to $SOAK_GC_OUT. Passed through
 * NODE_OPTIONS by scripts/bench/soak.ts.
 */
import { appendFileSync } from 'node:fs';

process.on('SIGUSR2', () => {
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  if (process.env.SOAK_GC_OUT) appendFileSync(process.env.SOAK_GC_OUT, `${JSON.stringify({ at: Date.now(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers })}\n`);
});
