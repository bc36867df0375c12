import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { AdmissionQueue } from '../../src/admission/admission-queue.js';
import { loadConfig } from '../../src/config/load-config.js';
import { buildRuntime, type Runtime } from '../../src/runtime.js';
import { makeConfigDir } from '../helpers/aisbf-server.js';
import { HttpError } from '../../src/errors/http-error.js';
import { ClientGoneError } from '../../src/providers/deadline.js';
import type { Priority, RequestMeta } from '../../src/pipeline/request-meta.js';
import type { Candidate } from '../../src/routing/candidate.js';

const dirs: string[] = [];
function runtimeOf(providers: Record<string, unknown>, aisbf: Record<string, unknown> = {}, rotations: Record<string, unknown> = {}): Runtime {
  const dir = makeConfigDir({ providers, aisbf, rotations });
  dirs.push(dir);
  return buildRuntime(loadConfig({ dir, env: {} }));
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function meta(priority: Priority = 'normal', signal = new AbortController().signal): RequestMeta {
  return { route: 'chat', requestId: 'r', clientId: 'c', priority, identity: { kind: 'anonymous', role: 'admin' }, keys: {}, signal, startedAt: 0 };
}
const cand = (rt: Runtime, p: string, m: string): Candidate => rt.candidate(p, m)!;
const ep = { type: 'openai', endpoint: 'http://127.0.0.1:9/v1', api_key: 'k' };

describe('admission queue', () => {
  let rt: Runtime;
  beforeAll(() => {
    rt = runtimeOf(
      {
        a: { ...ep, models: [{ name: 'm', max_concurrent: 1, max_waiting: 3 }] },
        b: { ...ep, models: [{ name: 'm', max_concurrent: 1, max_waiting: 0 }] },
        free: { ...ep, models: [{ name: 'm' }] },
      },
      { queue: { timeout_seconds: 0.2 } },
    );
  });

  it('is inactive when nothing is limited anywhere', () => {
    const q = new AdmissionQueue(() => runtimeOf({ free: { ...ep, models: [{ name: 'm' }] } }));
    expect(q.inactive).toBe(true);
    expect(new AdmissionQueue(() => rt).inactive).toBe(false);
  });

  it('gives an unlimited candidate a slot every time', () => {
    const q = new AdmissionQueue(() => rt);
    for (let i = 0; i < 50; i++) expect(q.tryAcquire(cand(rt, 'free', 'm'), meta())).toBeDefined();
  });

  it('serves waiters highest priority first, then in arrival order', async () => {
    const q = new AdmissionQueue(() => rt);
    const c = cand(rt, 'a', 'm');
    const first = q.tryAcquire(c, meta())!;
    expect(first).toBeDefined();
    expect(q.tryAcquire(c, meta())).toBeUndefined();
    const order: string[] = [];
    const wait = (name: string, p: Priority) =>
      q.acquire([c], meta(p)).then(({ slot }) => {
        order.push(name);
        return slot;
      });
    const low = wait('low', 'low');
    const normal = wait('normal', 'normal');
    const high = wait('high', 'high');
    expect(q.stats('a/m')).toMatchObject({ processing: 1, waiting: 3, max_concurrent: 1, max_waiting: 3 });
    first.release();
    (await high).release();
    (await normal).release();
    (await low).release();
    expect(order).toEqual(['high', 'normal', 'low']);
    expect(q.stats('a/m')).toMatchObject({ processing: 0, waiting: 0, total_processed: 4 });
  });

  it('answers 429 queue_full when the waiting list is full', async () => {
    const q = new AdmissionQueue(() => rt);
    const c = cand(rt, 'b', 'm');
    const slot = q.tryAcquire(c, meta())!;
    const err = await q.acquire([c], meta()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(429);
    expect((err as HttpError).options.code).toBe('queue_full');
    expect((err as HttpError).options.headers?.['retry-after']).toBe('1');
    slot.release();
  });

  it('answers 503 queue_timeout after timeout_seconds', async () => {
    const q = new AdmissionQueue(() => rt);
    const c = cand(rt, 'a', 'm');
    const slot = q.tryAcquire(c, meta())!;
    const err = await q.acquire([c], meta()).catch((e: unknown) => e);
    expect((err as HttpError).status).toBe(503);
    expect((err as HttpError).options.code).toBe('queue_timeout');
    expect(q.stats('a/m')).toMatchObject({ waiting: 0, total_timeout: 1 });
    slot.release();
  });

  it('lets a client that leaves free its place at once', async () => {
    const q = new AdmissionQueue(() => rt);
    const c = cand(rt, 'a', 'm');
    const slot = q.tryAcquire(c, meta())!;
    const ac = new AbortController();
    const leaving = q.acquire([c], meta('normal', ac.signal)).catch((e: unknown) => e);
    expect(q.stats('a/m')!.waiting).toBe(1);
    ac.abort();
    expect(await leaving).toBeInstanceOf(ClientGoneError);
    expect(q.stats('a/m')!.waiting).toBe(0);
    slot.release();
    // The freed slot is not handed to the client that left.
    expect(q.stats('a/m')!.processing).toBe(0);
  });

  it('waits on several candidates and takes the first that frees', async () => {
    const q = new AdmissionQueue(() => rt);
    const a = cand(rt, 'a', 'm');
    const b = cand(rt, 'b', 'm');
    const sa = q.tryAcquire(a, meta())!;
    const sb = q.tryAcquire(b, meta())!;
    // b has no waiting room, a has: the waiter queues on a only.
    const got = q.acquire([b, a], meta());
    sb.release();
    sa.release();
    const { candidate, slot } = await got;
    expect(candidate.key).toBe('a/m');
    slot.release(true);
    expect(q.stats('a/m')!.total_failed).toBe(1);
  });

  it('caps a provider as a whole, and Ollama models at one by default', () => {
    const rt2 = runtimeOf({
      p: { ...ep, max_concurrent: 2, models: [{ name: 'x' }, { name: 'y' }] },
      ol: { type: 'ollama', endpoint: 'http://127.0.0.1:9', api_key_required: false, models: [{ name: 'llama' }] },
    });
    const q = new AdmissionQueue(() => rt2);
    expect(q.tryAcquire(cand(rt2, 'p', 'x'), meta())).toBeDefined();
    expect(q.tryAcquire(cand(rt2, 'p', 'y'), meta())).toBeDefined();
    expect(q.tryAcquire(cand(rt2, 'p', 'x'), meta())).toBeUndefined();
    expect(q.tryAcquire(cand(rt2, 'ol', 'llama'), meta())).toBeDefined();
    expect(q.tryAcquire(cand(rt2, 'ol', 'llama'), meta())).toBeUndefined();
    // Client-named Ollama models get the same default, without growing the cached chains.
    expect(q.tryAcquire(cand(rt2, 'ol', 'other'), meta())).toBeDefined();
    expect(q.stats('ol/llama')).toMatchObject({ processing: 1, max_concurrent: 1 });
  });
});
