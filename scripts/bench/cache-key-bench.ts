/**
 * @module Bench rows of the response cache's key (issue 18): µs to hash one chat request, the
 * earlier form (JSON.stringify with a replacer function, called for every node) against the one in
 * use (one native JSON pass over a shallow copy). In-process: timer noise would drown microseconds.
 * Alone: `node --import tsx scripts/bench/cache-key-bench.ts`.
 */
import { createHash } from 'node:crypto';
import { chatCacheKey } from '../../src/cache/cache-key.js';
import type { ChatRequest } from '../../src/providers/openai-types.js';

type Add = (scenario: string, metric: string, before: number | undefined, after: number, target?: string, pass?: boolean) => void;

const IGNORED = new Set(['stream_options', 'user', 'metadata', 'store', 'service_tier']);
function replacerKey(partition: string, target: string, req: ChatRequest): string {
  const h = createHash('sha256');
  h.update(partition);
  h.update('\u0000');
  h.update(target);
  h.update('\u0000');
  h.update(JSON.stringify(req, function (k, v: unknown) { return IGNORED.has(k) ? undefined : v; }));
  return h.digest('base64url');
}

/** A chat with `turns` user/assistant pairs and two tools, as an agent sends it. */
function conversation(turns: number): ChatRequest {
  const messages: ChatRequest['messages'] = [{ role: 'system', content: 'You are a careful assistant. '.repeat(20) }];
  for (let i = 0; i < turns; i++) {
    messages.push({ role: 'user', content: `Question ${i}: what does the tide do near the harbour wall at dusk, and why? `.repeat(3) });
    messages.push({ role: 'assistant', content: `Answer ${i}: it rises slowly, because the bay is shallow and the wind turns. `.repeat(4) });
  }
  const tool = (name: string) => ({ type: 'function' as const, function: { name, description: 'Looks something up.', parameters: { type: 'object', properties: { query: { type: 'string' }, limit: { type: 'integer' } }, required: ['query'] } } });
  return { model: 'mock/gpt-4o-mini', messages, tools: [tool('search'), tool('fetch')], temperature: 0.2, user: 'u-1', stream: true, stream_options: { include_usage: true } };
}

function microsPer(fn: () => unknown, minMs = 300): number {
  for (let i = 0; i < 200; i++) fn();
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
  }
  return ((performance.now() - t0) * 1000) / n;
}

const round2 = (v: number) => Math.round(v * 100) / 100;

export function benchCacheKey(add: Add): void {
  const meta = { identity: { kind: 'key' as const, role: 'user' as const, keyId: 'key_1' }, keys: {} };
  for (const turns of [1, 20]) {
    const req = conversation(turns);
    const bytes = JSON.stringify(req).length;
    const before = microsPer(() => replacerKey('k:key_1', 'mock/gpt-4o-mini', req));
    const after = microsPer(() => chatCacheKey(meta, 'mock/gpt-4o-mini', req));
    add(`cache key, ${turns * 2 + 1} messages + 2 tools (${Math.round(bytes / 1024)} KiB)`, 'µs/key (replacer walk → one native pass)', round2(before), round2(after), 'after < before', after < before);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchCacheKey((s, m, b, a, t, p) => process.stdout.write(`${s} | ${m} | ${b} | ${a} | ${t ?? ''} | ${p ?? ''}\n`));
}
