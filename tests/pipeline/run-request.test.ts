/**
 * runRequest's contract with its stages, against a real fake upstream over HTTP: one SettledRequest
 * per request however it ends (JSON, stream, client abort, error), tickets settled with it, the
 * model gate, admission's pass-over-then-wait, the cache before planning, and internal calls
 * recorded under their parent. The stages given here are test implementations of the stage
 * interfaces (the plug-in points features fill), not stand-ins for our modules.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { buildRuntime, type Runtime } from '../../src/runtime.js';
import { RoutingState } from '../../src/routing/routing-state.js';
import { silentLogger } from '../../src/log.js';
import { internalMeta, runRequest, type ChatStreamResult, type PipelineDeps } from '../../src/pipeline/run-request.js';
import { tokenUsage } from '../../src/pipeline/accounting-stage.js';
import { ANONYMOUS, type RequestMeta } from '../../src/pipeline/request-meta.js';
import { noopStages, type AdmissionSlot, type CachedChat, type PipelineStages, type SettledRequest } from '../../src/pipeline/stages.js';
import type { Candidate } from '../../src/routing/candidate.js';
import { HttpError } from '../../src/errors/http-error.js';
import { NEEDS } from '../../src/routing/capability-filter.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { makeConfigDir } from '../helpers/aisbf-server.js';

let fake: FakeOpenAI;
let dir: string;
let rt: Runtime;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  dir = makeConfigDir({
    providers: { up: { type: 'openai', endpoint: fake.baseURL, api_key: 'k', models: [{ name: 'a' }, { name: 'b' }, { name: 'e', capabilities: ['embeddings'] }] } },
    rotations: { r: { model_name: 'r', strategy: 'priority', providers: [{ provider_id: 'up', models: [{ name: 'a', weight: 2 }, { name: 'b', weight: 1 }] }] } },
  });
  rt = buildRuntime(loadConfig({ dir, env: {} }));
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Stages that record what the pipeline told them. */
function recording(over: Partial<PipelineStages> = {}) {
  const settled: SettledRequest[] = [];
  const tickets: SettledRequest[] = [];
  /** Tickets released (their slot freed) ahead of their settle. */
  let released = 0;
  const admitted: string[] = [];
  const stages: PipelineStages = {
    ...noopStages(),
    accounting: { record: (s) => void settled.push(s) },
    limits: {
      admit: (_m, target) => {
        admitted.push(target);
        return { settle: (s) => void tickets.push(s), release: () => void released++ };
      },
    },
    prices: { cost: (_p, _m, u) => (u.prompt + u.completion) / 1e6 },
    ...over,
  };
  const deps: PipelineDeps = { runtime: () => rt, log: silentLogger, routing: new RoutingState(), stages };
  return { deps, settled, tickets, admitted, released: () => released };
}

let n = 0;
function meta(over: Partial<RequestMeta> = {}): RequestMeta {
  return { route: 'chat', requestId: `req-${++n}`, clientId: 'anonymous', priority: 'normal', identity: ANONYMOUS, keys: {}, signal: new AbortController().signal, startedAt: Date.now(), ...over };
}

const hi = [{ role: 'user' as const, content: 'hi' }];

beforeEach(() => {
  fake.setModelBehavior('a', undefined);
  fake.setModelBehavior('b', undefined);
});


/** A successful answer is recorded just after it is handed back (src/after-response.ts). */
const afterTheAnswer = () => new Promise((res) => setImmediate(res));

describe('accounting: one SettledRequest per request', () => {
  it('JSON: settled once, just after the answer is handed back (not before it), with target, served candidate, usage by type and cost; the ticket gets the same record', async () => {
    const t = recording();
    const r = await runRequest(t.deps, meta(), { kind: 'chat', target: { scope: { base: 'v1' }, model: 'r' }, req: { model: 'r', messages: hi } });
    expect(r.kind).toBe('json');
    expect(t.admitted).toEqual(['r']);
    // The route renders and writes the answer in this turn; the record follows in the next Immediate.
    expect(t.settled).toHaveLength(0);
    // The key's slot is already free, before the answer is written.
    expect(t.released()).toBe(1);
    await afterTheAnswer();
    expect(t.settled).toHaveLength(1);
    const s = t.settled[0]!;
    expect(s).toMatchObject({ target: 'r', providerId: 'up', model: 'a', attempts: 1, status: 200, stream: false, cacheHit: false, failovers: 0 });
    expect(s.usage!.prompt).toBeGreaterThan(0);
    expect(s.usage!.effectiveContext).toBe(s.usage!.prompt);
    expect(s.costUsd).toBeCloseTo((s.usage!.prompt + s.usage!.completion) / 1e6);
    expect(t.tickets).toEqual([s]);
    if (r.kind === 'json') expect(r.served).toEqual({ providerId: 'up', model: 'a', attempts: 1, autoselect: undefined });
  });

  it('a stream settles when it ends, not before; a failover counts', async () => {
    const t = recording();
    fake.setModelBehavior('a', { type: 'error', status: 503 });
    const r = (await runRequest(t.deps, meta(), { kind: 'chat', target: { scope: { base: 'rotations' }, model: 'r' }, req: { model: 'r', messages: hi, stream: true } })) as ChatStreamResult;
    expect(r.kind).toBe('stream');
    expect(r.served).toMatchObject({ model: 'b', attempts: 2 });
    expect(t.settled).toHaveLength(0);
    let text = '';
    let usage;
    for (let p = await r.parts.next(); !p.done; p = await r.parts.next()) {
      if (p.value.type === 'chunk') text += p.value.chunk.choices[0]?.delta.content ?? '';
      if (p.value.type === 'usage') usage = p.value.usage;
    }
    expect(text).toBe('echo: hi');
    r.end({ usage: r.finalizeUsage(usage), aborted: false });
    r.end({ aborted: false }); // a second end changes nothing
    expect(t.settled).toHaveLength(1);
    expect(t.settled[0]).toMatchObject({ status: 200, stream: true, attempts: 2, failovers: 1, model: 'b' });
    expect(t.settled[0]!.ttftMs).toBeGreaterThanOrEqual(0);
    expect(t.tickets).toHaveLength(1);
  });

  it('a client abort mid-stream settles once as aborted and cancels the upstream', async () => {
    const t = recording();
    fake.setModelBehavior('a', { type: 'reply', text: 'one two three four five six', chunkDelayMs: 50 });
    const closed = fake.nextAbort();
    const r = (await runRequest(t.deps, meta(), { kind: 'chat', target: { scope: { base: 'v1' }, model: 'up/a' }, req: { model: 'up/a', messages: hi, stream: true } })) as ChatStreamResult;
    await r.parts.next();
    r.cancel();
    r.end({ aborted: true });
    await r.parts.return?.();
    await closed;
    expect(t.settled).toHaveLength(1);
    expect(t.settled[0]).toMatchObject({ aborted: true, stream: true, status: 200 });
  });

  it('an error settles once with its status and code, and is thrown to the caller', async () => {
    const t = recording();
    const err = await runRequest(t.deps, meta(), { kind: 'chat', target: { scope: { base: 'v1' }, model: 'nope' }, req: { model: 'nope', messages: hi } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(t.settled).toEqual([expect.objectContaining({ status: 400, errorCode: 'model_not_found', attempts: 0 })]);
  });

  it('an upstream error too (the provider error code or kind)', async () => {
    const t = recording();
    fake.setModelBehavior('a', { type: 'error', status: 400, message: 'bad', code: 'invalid_value' });
    await expect(runRequest(t.deps, meta(), { kind: 'chat', target: { scope: { base: 'v1' }, model: 'up/a' }, req: { model: 'up/a', messages: hi } })).rejects.toThrow();
    expect(t.settled).toEqual([expect.objectContaining({ status: 400, errorCode: 'invalid_value', attempts: 1, providerId: 'up', model: 'a' })]);
  });

  it('maps usage by type: OpenAI details and Anthropic cache fields', () => {
    expect(
      tokenUsage({ prompt_tokens: 100, completion_tokens: 20, total_tokens: 120, prompt_tokens_details: { cached_tokens: 40 }, completion_tokens_details: { reasoning_tokens: 7 }, effective_context: 90 }),
    ).toEqual({ prompt: 100, completion: 20, cached: 40, reasoning: 7, effectiveContext: 90 });
    expect(tokenUsage({ prompt_tokens: 10, completion_tokens: 1, total_tokens: 11, cache_read_input_tokens: 3, cache_creation_input_tokens: 5 })).toEqual({ prompt: 10, completion: 1, cached: 3, reasoning: 0, cacheWrite: 5 });
  });
});

describe('model gate', () => {
  const gate = { inactive: false, isStopped: (key: string) => key === 'up/a' };

  it('a rotation passes over a stopped member', async () => {
    const t = recording({ modelGate: gate });
    const r = await runRequest(t.deps, meta(), { kind: 'chat', target: { scope: { base: 'v1' }, model: 'r' }, req: { model: 'r', messages: hi } });
    expect(r.served).toMatchObject({ model: 'b', attempts: 1 });
  });

  it('named directly, a stopped model answers 503 model_stopped', async () => {
    const t = recording({ modelGate: gate });
    const err = (await runRequest(t.deps, meta(), { kind: 'chat', target: { scope: { base: 'v1' }, model: 'up/a' }, req: { model: 'up/a', messages: hi } }).catch((e: unknown) => e)) as HttpError;
    expect(err.status).toBe(503);
    expect(err.options.code).toBe('model_stopped');
    expect(t.settled[0]).toMatchObject({ status: 503, errorCode: 'model_stopped' });
  });
});

describe('admission', () => {
  function gates(saturated: Set<string>) {
    const log: string[] = [];
    const slot = (key: string): AdmissionSlot => ({ release: (failed?: boolean) => void log.push(`release ${key}${failed ? ' failed' : ''}`) });
    const admission: PipelineStages['admission'] = {
      ...noopStages().admission,
      inactive: false,
      tryAcquire: (c: Candidate) => {
        log.push(`try ${c.key}`);
        return saturated.has(c.key) ? undefined : slot(c.key);
      },
      acquire: async (cands: readonly Candidate[]) => {
        log.push(`wait ${cands.map((c) => c.key).join(',')}`);
        return { candidate: cands[cands.length - 1]!, slot: slot(cands[cands.length - 1]!.key) };
      },
    };
    return { admission, log };
  }

  it('passes over a saturated member without waiting, and releases the slot when the attempt ends', async () => {
    const g = gates(new Set(['up/a']));
    const t = recording({ admission: g.admission });
    const r = await runRequest(t.deps, meta(), { kind: 'chat', target: { scope: { base: 'v1' }, model: 'r' }, req: { model: 'r', messages: hi } });
    expect(r.served).toMatchObject({ model: 'b' });
    expect(g.log).toEqual(['try up/a', 'try up/b', 'release up/b']);
  });

  it('waits only when every member is saturated; a stream holds its slot until it ends', async () => {
    const g = gates(new Set(['up/a', 'up/b']));
    const t = recording({ admission: g.admission });
    const r = (await runRequest(t.deps, meta(), { kind: 'chat', target: { scope: { base: 'v1' }, model: 'r' }, req: { model: 'r', messages: hi, stream: true } })) as ChatStreamResult;
    expect(g.log).toEqual(['try up/a', 'try up/b', 'wait up/a,up/b']);
    while (!(await r.parts.next()).done);
    r.end({ aborted: false });
    expect(g.log.at(-1)).toBe('release up/b');
  });
});

describe('cache', () => {
  it('a hit answers before planning: no upstream call, cost 0, marked as a hit', async () => {
    const before = fake.chatRequests().length;
    const completion = { id: 'c', object: 'chat.completion' as const, created: 1, model: 'cached', choices: [{ index: 0, message: { role: 'assistant' as const, content: 'from cache' }, finish_reason: 'stop' as const }], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } };
    const t = recording({ cache: { inactive: false, lookup: () => ({ kind: 'json', completion }), store() {} } });
    const r = await runRequest(t.deps, meta(), { kind: 'chat', target: { scope: { base: 'v1' }, model: 'r' }, req: { model: 'r', messages: hi } });
    expect(r).toMatchObject({ kind: 'json', cacheHit: true, served: undefined });
    expect(fake.chatRequests().length).toBe(before);
    await afterTheAnswer();
    expect(t.settled[0]).toMatchObject({ cacheHit: true, costUsd: 0, status: 200 });
  });

  it('a miss stores the answer; Cache-Control no-cache and n > 1 skip the cache', async () => {
    const stored: CachedChat[] = [];
    let lookups = 0;
    const t = recording({
      cache: {
        inactive: false,
        lookup: () => void lookups++,
        store: (_m, _t, _r, a) => void stored.push(a),
      },
    });
    const r = (await runRequest(t.deps, meta(), { kind: 'chat', target: { scope: { base: 'v1' }, model: 'r' }, req: { model: 'r', messages: hi, stream: true } })) as ChatStreamResult;
    while (!(await r.parts.next()).done);
    r.end({ aborted: false });
    expect(stored).toHaveLength(1);
    expect(stored[0]!.kind).toBe('stream');
    await runRequest(t.deps, meta({ noCache: true }), { kind: 'chat', target: { scope: { base: 'v1' }, model: 'r' }, req: { model: 'r', messages: hi } });
    await runRequest(t.deps, meta(), { kind: 'chat', target: { scope: { base: 'v1' }, model: 'r' }, req: { model: 'r', messages: hi, n: 2 } as never });
    expect(lookups).toBe(1);
    expect(stored).toHaveLength(1);
  });
});

describe('capability and internal calls', () => {
  it('a capability call still streaming settles once, when end() is called, with its usage; it holds its slot till then', async () => {
    const log: string[] = [];
    const admission: PipelineStages['admission'] = { ...noopStages().admission, inactive: false, tryAcquire: (c: Candidate) => ({ release: () => void log.push(`release ${c.key}`) }) };
    const t = recording({ admission });
    const r = await runRequest(t.deps, meta({ route: 'messages' }), {
      kind: 'capability',
      target: { scope: { base: 'v1' }, model: 'up/a' },
      call: async () => ({ streaming: true }),
      usageOf: () => ({ prompt_tokens: 99, completion_tokens: 99, total_tokens: 198 }),
      streaming: (v) => v.streaming,
    });
    expect(t.settled).toHaveLength(0);
    expect(log).toEqual([]);
    r.end!({ aborted: false, usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 } });
    r.end!({ aborted: true });
    expect(t.settled).toHaveLength(1);
    expect(t.settled[0]).toMatchObject({ status: 200, stream: true, usage: { prompt: 12, completion: 5 } });
    expect(t.tickets).toHaveLength(1);
    expect(log).toEqual(['release up/a']);
  });

  it('a capability call keeps only capable candidates and settles with its usage', async () => {
    const t = recording();
    const r = await runRequest(t.deps, meta({ route: 'embeddings' }), {
      kind: 'capability',
      target: { scope: { base: 'v1' }, model: 'up/e' },
      need: NEEDS.embeddings,
      call: (c, ctx) => c.adapter.embed!({ model: c.model, input: 'x' }, ctx),
      usageOf: (v) => (v.usage ? { prompt_tokens: v.usage.prompt_tokens, completion_tokens: 0, total_tokens: v.usage.total_tokens } : undefined),
    });
    expect(r.served).toMatchObject({ providerId: 'up', model: 'e', attempts: 1 });
    await afterTheAnswer();
    expect(t.settled[0]).toMatchObject({ status: 200, target: 'up/e' });
  });

  it('an internal call is recorded under its parent, and skips identity and limits', async () => {
    const t = recording();
    const parent = meta();
    await runRequest(t.deps, internalMeta(parent, 'internal:judge'), { kind: 'capability', target: { name: 'r' }, call: (c, ctx) => c.adapter.chat({ model: c.model, messages: hi }, ctx) });
    expect(t.admitted).toEqual([]);
    await afterTheAnswer();
    expect(t.settled).toHaveLength(1);
    expect(t.settled[0]!.meta).toMatchObject({ route: 'internal:judge', parent: parent.requestId });
  });
});
