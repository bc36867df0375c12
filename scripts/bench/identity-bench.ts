/**
 * @module In-process: what the identity and limits stages cost per request (issue 14's ≤ 50 µs), with
 * auth on and a key that has rpm, tpm and a budget, against the same steps with auth off. Each request
 * does what a real one does there: the key is resolved (the identity middleware), the limits stage
 * admits it (budget, tpm, rpm counters), and its ticket settles with usage and a cost (tpm and spend
 * added). CPU time of this process over many requests, so other load on the machine does not drown
 * the microseconds that an HTTP A/B of two daemons cannot resolve. Run alone:
 * `node --import tsx scripts/bench/identity-bench.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authConfigSchema } from '../../src/config/auth-config.js';
import { createApiKey } from '../../src/identity/api-keys.js';
import { createIdentity, type IdentityParts } from '../../src/identity/create-identity.js';
import type { RequestMeta } from '../../src/pipeline/request-meta.js';
import type { SettledRequest } from '../../src/pipeline/stages.js';
import { openDatabase, type Db } from '../../src/store/db.js';

type Add = (scenario: string, metric: string, before: number | undefined, after: number, target?: string, pass?: boolean) => void;

const TARGET = 'mock/gpt-4o-mini';
const USAGE = { prompt: 20, completion: 12, cached: 0, reasoning: 0 };

/** CPU µs per request over `n` requests; yields to the event loop every 1,000 so write-behind timers run as in a server. */
async function perRequestUs(parts: IdentityParts, presented: string | undefined, n: number): Promise<number> {
  const signal = new AbortController().signal;
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const r = parts.service.resolve(presented === undefined ? undefined : { bearer: presented });
    const identity = r instanceof Promise ? await r : r;
    const meta: RequestMeta = { route: 'chat', requestId: `r${i}`, clientId: 'bench', priority: 'normal', identity, keys: {}, signal, startedAt: Date.now() };
    const t = parts.limitsStage.admit(meta, TARGET);
    const ticket = t instanceof Promise ? await t : t;
    if (!ticket.inactive) {
      const settled: SettledRequest = { meta, target: TARGET, providerId: 'mock', model: 'gpt-4o-mini', attempts: 1, status: 200, usage: USAGE, costUsd: 0.00001, latencyMs: 1, stream: false, cacheHit: false, failovers: 0 };
      ticket.settle(settled);
    }
    if (i % 1000 === 999) await new Promise((res) => setImmediate(res));
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

export async function benchIdentity(add: Add): Promise<{ off: number; on: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'aisbf-bench-identity-'));
  const dbs: Db[] = [];
  const parts: IdentityParts[] = [];
  try {
    const make = (enabled: boolean) => {
      const db = openDatabase(join(dir, `${enabled ? 'on' : 'off'}.db`));
      dbs.push(db);
      const auth = authConfigSchema.parse({ enabled });
      const p = createIdentity({ db, auth: () => auth, configDir: dir });
      parts.push(p);
      return p;
    };
    const off = make(false);
    const on = make(true);
    // Limits far above the load: every request is admitted and counted, none refused.
    const key = createApiKey(on.service.keys, on.service.users, { name: 'bench', rpm: 1e9, tpm: 1e12, budget_usd: 1e9, budget_period: 'month' }).key;
    on.service.invalidate();

    const N = 200_000;
    // Warm both (JIT), then measure each three times, interleaved, and keep the lowest.
    await perRequestUs(off, undefined, N / 10);
    await perRequestUs(on, key, N / 10);
    const offUs: number[] = [];
    const onUs: number[] = [];
    for (let round = 0; round < 3; round++) {
      offUs.push(await perRequestUs(off, undefined, N));
      onUs.push(await perRequestUs(on, key, N));
    }
    const o = Math.min(...offUs);
    const a = Math.min(...onUs);
    add('identity + limits stages, in-process (auth off → on, key with rpm+tpm+budget)', 'CPU µs/req', o, a, 'Δ ≤ 50', a - o <= 50);
    return { off: o, on: a };
  } finally {
    for (const p of parts) await p.close();
    for (const db of dbs) db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchIdentity((scenario, metric, before, after, target, pass) =>
    process.stdout.write(`${scenario} | ${metric} | ${before?.toFixed(2)} → ${after.toFixed(2)} (Δ ${(after - (before ?? 0)).toFixed(2)}) | ${target} | ${pass ? 'yes' : 'NO'}\n`),
  );
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
