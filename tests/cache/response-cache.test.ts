import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { ResponseCache } from '../../src/cache/response-cache.js';
import { MemoryCacheStore } from '../../src/cache/cache-store.js';
import { chatCacheKey } from '../../src/cache/cache-key.js';
import { loadConfig } from '../../src/config/load-config.js';
import { buildRuntime, type Runtime } from '../../src/runtime.js';
import { makeConfigDir } from '../helpers/aisbf-server.js';
import type { Identity, RequestMeta } from '../../src/pipeline/request-meta.js';
import type { ChatCompletion, ChatRequest } from '../../src/providers/openai-types.js';
import { RawChunkPart } from '../../src/providers/openai-types.js';

const dirs: string[] = [];
function runtimeOf(aisbf: Record<string, unknown>): Runtime {
  const dir = makeConfigDir({ aisbf, providers: {} });
  dirs.push(dir);
  return buildRuntime(loadConfig({ dir, env: {} }));
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const anon: Identity = { kind: 'anonymous', role: 'admin' };
const keyA: Identity = { kind: 'key', role: 'user', keyId: 'a' };
const keyB: Identity = { kind: 'key', role: 'user', keyId: 'b' };
const meta = (identity: Identity = anon, noCache = false): RequestMeta => ({
  route: 'chat', requestId: 'r', clientId: 'c', priority: 'normal', identity, keys: {}, signal: new AbortController().signal, startedAt: 0, noCache,
});
const req = (content = 'hi', extra: Partial<ChatRequest> = {}): ChatRequest => ({ model: 'p/m', messages: [{ role: 'user', content }], ...extra });
const completion = (text: string, finish: 'stop' | 'tool_calls' = 'stop'): ChatCompletion => ({
  id: 'c1', object: 'chat.completion', created: 1, model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: finish }],
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
});

describe('response cache', () => {
  it('is inactive unless cache.enabled', () => {
    expect(new ResponseCache(() => runtimeOf({})).inactive).toBe(true);
    expect(new ResponseCache(() => runtimeOf({ cache: { enabled: true } })).inactive).toBe(false);
  });

  it('answers an exact repeat, and never across keys or targets', async () => {
    const rt = runtimeOf({ cache: { enabled: true } });
    const cache = new ResponseCache(() => rt);
    cache.store(meta(keyA), 'p/m', req(), { kind: 'json', completion: completion('hello') });
    const hit = await cache.lookup(meta(keyA), 'p/m', req());
    expect(hit).toEqual({ kind: 'json', completion: completion('hello') });
    expect(await cache.lookup(meta(keyB), 'p/m', req())).toBeUndefined();
    expect(await cache.lookup(meta(keyA), 'rot', req())).toBeUndefined();
    expect(await cache.lookup(meta(keyA), 'p/m', req('other'))).toBeUndefined();
    // Delivery fields do not change the answer.
    expect(await cache.lookup(meta(keyA), 'p/m', req('hi', { user: 'x', stream_options: null }))).toBeDefined();
  });

  it('skips n > 1, no-cache requests and answers that call tools', async () => {
    const rt = runtimeOf({ cache: { enabled: true } });
    const cache = new ResponseCache(() => rt);
    cache.store(meta(), 'p/m', req('a', { n: 2 }), { kind: 'json', completion: completion('x') });
    expect(await cache.lookup(meta(), 'p/m', req('a', { n: 2 }))).toBeUndefined();
    cache.store(meta(anon, true), 'p/m', req('b'), { kind: 'json', completion: completion('x') });
    expect(await cache.lookup(meta(), 'p/m', req('b'))).toBeUndefined();
    cache.store(meta(), 'p/m', req('c'), { kind: 'json', completion: completion('x', 'tool_calls') });
    expect(await cache.lookup(meta(), 'p/m', req('c'))).toBeUndefined();
    cache.store(meta(), 'p/m', req('d'), { kind: 'json', completion: completion('x') });
    expect(await cache.lookup(meta(anon, true), 'p/m', req('d'))).toBeUndefined();
  });

  it('replays a stream with raw upstream chunks intact', async () => {
    const rt = runtimeOf({ cache: { enabled: true } });
    const cache = new ResponseCache(() => rt);
    const raw = '{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}';
    cache.store(meta(), 'p/m', req('s', { stream: true }), { kind: 'stream', parts: [new RawChunkPart(raw), { type: 'text-delta', text: '!' }, { type: 'finish', finishReason: 'stop' }] });
    const hit = await cache.lookup(meta(), 'p/m', req('s', { stream: true }));
    expect(hit?.kind).toBe('stream');
    const parts = (hit as { parts: any[] }).parts;
    expect(parts[0].raw).toBe(raw);
    expect(parts[0].chunk.choices[0].delta.content).toBe('Hi');
    expect(parts.slice(1)).toEqual([{ type: 'text-delta', text: '!' }, { type: 'finish', finishReason: 'stop' }]);
    // A JSON request is not answered from a stream's entry.
    expect(await cache.lookup(meta(), 'p/m', req('s'))).toBeUndefined();
  });

  it('treats a failing store or an unreadable entry as a miss, never as an error', async () => {
    const rt = runtimeOf({ cache: { enabled: true } });
    const cache = new ResponseCache(() => rt);
    cache.useStore({ get: () => Promise.reject(new Error('store away')), set() {} });
    await expect(cache.lookup(meta(), 'p/m', req('x'))).resolves.toBeUndefined();
    cache.useStore({ get: () => '{not json', set() {} });
    await expect(cache.lookup(meta(), 'p/m', req('y'))).resolves.toBeUndefined();
  });

  it('partitions by key id before user', () => {
    const a = chatCacheKey({ identity: { kind: 'key', role: 'user', keyId: 'k1', user: 'u' }, keys: {} }, 't', req());
    const b = chatCacheKey({ identity: { kind: 'key', role: 'user', keyId: 'k2', user: 'u' }, keys: {} }, 't', req());
    expect(a).not.toBe(b);
  });

  it('partitions by the provider key a client brought', () => {
    const a = chatCacheKey({ identity: anon, keys: { bearer: 'sk-one' } }, 't', req());
    const b = chatCacheKey({ identity: anon, keys: { bearer: 'sk-two' } }, 't', req());
    const c = chatCacheKey({ identity: anon, keys: {} }, 't', req());
    expect(new Set([a, b, c]).size).toBe(3);
  });

  it('ignores delivery fields only at the top level, not inside a tool schema', () => {
    const tool = (props: Record<string, unknown>) => ({ tools: [{ type: 'function' as const, function: { name: 'f', parameters: { type: 'object', properties: props } } }] });
    const withUser = chatCacheKey({ identity: anon, keys: {} }, 't', req('hi', tool({ user: { type: 'string' } })));
    const without = chatCacheKey({ identity: anon, keys: {} }, 't', req('hi', tool({})));
    expect(withUser).not.toBe(without);
    expect(chatCacheKey({ identity: anon, keys: {} }, 't', req('hi', { user: 'x', metadata: { a: 1 } }))).toBe(chatCacheKey({ identity: anon, keys: {} }, 't', req('hi')));
  });
});

describe('memory cache store', () => {
  it('evicts least recently used entries past max bytes', () => {
    const s = new MemoryCacheStore(1000);
    s.set('a', 'x'.repeat(200), 60_000);
    s.set('b', 'y'.repeat(200), 60_000);
    expect(s.get('a')).toBeDefined(); // a is now the most recent
    s.set('c', 'z'.repeat(200), 60_000);
    expect(s.get('b')).toBeUndefined();
    expect(s.get('a')).toBeDefined();
    expect(s.get('c')).toBeDefined();
    expect(s.usedBytes).toBeLessThanOrEqual(1000);
  });

  it('expires entries after their TTL', () => {
    let now = 0;
    const s = new MemoryCacheStore(10_000, () => now);
    s.set('a', 'v', 1000);
    now = 999;
    expect(s.get('a')).toBe('v');
    now = 1000;
    expect(s.get('a')).toBeUndefined();
    expect(s.size).toBe(0);
  });

  it('refuses an entry larger than the whole cache', () => {
    const s = new MemoryCacheStore(100);
    s.set('a', 'x'.repeat(100), 1000);
    expect(s.size).toBe(0);
  });
});
