import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, openDatabase } from '../../src/store/db.js';
import { USAGE_MIGRATIONS, UsageStore, type UsageRow } from '../../src/store/usage.js';
const dir = mkdtempSync(join(tmpdir(), 'pc-'));
const path = join(dir, 'a.db');
const db = openDatabase(path); migrate(db, USAGE_MIGRATIONS);
const store = new UsageStore(db);
const N = 400_000, now = Date.now(), span = 7 * 86400_000;
const row = (i: number): UsageRow => ({ ts: now - span + Math.floor((i / N) * span), request_id: `req-${i}-${Math.random().toString(36).slice(2)}`, parent_id: null, client_id: 'c', key_id: `k${i % 20}`, user: `u${i % 7}`, route: '/v1/chat/completions', target: 'mock', provider: `p${i % 3}`, model: `m${i % 5}`, attempts: 1, status: i % 50 ? 200 : 500, error_code: null, prompt_tokens: 100, completion_tokens: 50, cached_tokens: 0, reasoning_tokens: 0, cache_write_tokens: 0, effective_context: 100, cost_usd: 0.0001, latency_ms: 5, ttft_ms: null, stream: 0, cache_hit: 0, aborted: 0, failovers: 0 });
for (let b = 0; b < N; b += 1000) store.insert(Array.from({ length: 1000 }, (_, j) => row(b + j)));
console.log('db MB', (statSync(path).size / 1048576).toFixed(1));
for (const cache of [-2000, -16000, -2000, -16000]) {
  db.pragma(`cache_size = ${cache}`);
  db.pragma('shrink_memory');
  const t = (f: () => void) => { const s = process.hrtime.bigint(); f(); return Number(process.hrtime.bigint() - s) / 1e6; };
  const q24 = { from: now - 86400_000, to: now + 1 };
  const q7 = { from: now - span, to: now + 1 };
  const r: string[] = [];
  for (const [name, q] of [['24h totals', q24], ['24h by model', { ...q24, groupBy: 'model' as const }], ['7d by day', { ...q7, groupBy: 'day' as const }], ['7d by key', { ...q7, groupBy: 'key' as const }]] as const) {
    const first = t(() => store.summary(q)); const again = t(() => store.summary(q));
    r.push(`${name} ${first.toFixed(1)}/${again.toFixed(1)} ms`);
  }
  const ins = t(() => { for (let k = 0; k < 50; k++) store.insert(Array.from({ length: 20 }, (_, j) => ({ ...row(N - 1), request_id: `x${cache}-${k}-${j}-${Math.random()}`, ts: now }))); });
  console.log(`cache ${cache}: ${r.join(', ')}; 50 batches of 20 rows ${ins.toFixed(1)} ms`);
}
db.close(); rmSync(dir, { recursive: true, force: true });
