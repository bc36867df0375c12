import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { chat, keyOf, priorityRotation, startFleet, type Fleet } from './rotation-fixture.js';

let fleet: Fleet;
afterEach(async () => {
  await fleet?.close();
});

describe('failover order', () => {
  it('fails over to the next provider when the first returns 503, and says who served', async () => {
    fleet = await startFleet({ rotations: priorityRotation() });
    fleet.fakes.p1!.enqueue({ type: 'error', status: 503, message: 'overloaded' });
    const { data, response } = await fleet.client().chat.completions.create({ model: 'r', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(data.choices[0]!.message.content).toBe('echo: hi');
    expect(response.headers.get('x-aisbf-provider')).toBe('p2');
    expect(response.headers.get('x-aisbf-model')).toBe('gpt-4o');
    expect(response.headers.get('x-aisbf-attempts')).toBe('2');
    expect([fleet.calls('p1'), fleet.calls('p2'), fleet.calls('p3')]).toEqual([1, 1, 0]);
    // Each upstream got its own key.
    expect(fleet.fakes.p2!.chatRequests()[0]!.headers.authorization).toBe(`Bearer ${keyOf('p2')}`);
  });

  it('tries candidates in priority order: 500, 401 and garbage all fail over', async () => {
    fleet = await startFleet({ ids: ['p1', 'p2', 'p3', 'p4'], rotations: priorityRotation() });
    fleet.fakes.p1!.enqueue({ type: 'error', status: 500 });
    fleet.fakes.p2!.enqueue({ type: 'error', status: 401, message: 'Incorrect API key provided' });
    fleet.fakes.p3!.enqueue({ type: 'garbage' });
    const r = await chat(fleet);
    expect(r.status).toBe(200);
    expect(r.headers.get('x-aisbf-provider')).toBe('p4');
    expect(r.headers.get('x-aisbf-attempts')).toBe('4');
    for (const id of ['p1', 'p2', 'p3']) expect((await fleet.state('r', id)).failures).toBe(1);
  });

  it('fails over when a provider hangs past its timeout_seconds', async () => {
    fleet = await startFleet({ rotations: priorityRotation(), provider: { p1: { timeout_seconds: 0.3 } } });
    fleet.fakes.p1!.enqueue({ type: 'hang' });
    const aborted = fleet.fakes.p1!.nextAbort();
    const r = await chat(fleet);
    expect(r.status).toBe(200);
    expect(r.headers.get('x-aisbf-provider')).toBe('p2');
    await aborted; // the hung upstream request was cancelled, not left running
    const s = await fleet.state('r', 'p1');
    expect(s.failures).toBe(1);
    expect(s.last_error).toMatch(/timeout/);
  });

  it('does not fail over or count a 400: the client sees the upstream message', async () => {
    fleet = await startFleet({ rotations: priorityRotation() });
    fleet.fakes.p1!.enqueue({ type: 'error', status: 400, message: "Invalid value for 'temperature'", param: 'temperature', code: 'invalid_value' });
    const r = await chat(fleet);
    expect(r.status).toBe(400);
    expect(r.json.error.message).toContain("Invalid value for 'temperature'");
    expect(r.json.error.param).toBe('temperature');
    expect(fleet.calls('p2')).toBe(0);
    expect((await fleet.state('r', 'p1')).failures).toBe(0);
  });

  it('fails over a context-length error only to a candidate with a larger context_size', async () => {
    fleet = await startFleet({
      rotations: priorityRotation({}, 'gpt-4o', { p1: { context_size: 8000 }, p2: { context_size: 8000 }, p3: { context_size: 128000 } }),
    });
    fleet.fakes.p1!.enqueue({ type: 'error', status: 400, message: "This model's maximum context length is 8192 tokens.", code: 'context_length_exceeded', param: 'messages' });
    const r = await chat(fleet);
    expect(r.status).toBe(200);
    expect(r.headers.get('x-aisbf-provider')).toBe('p3');
    expect(r.headers.get('x-aisbf-attempts')).toBe('2');
    expect(fleet.calls('p2')).toBe(0);
    expect((await fleet.state('r', 'p1')).failures).toBe(0); // the request was too long, not the provider's fault
  });

  it('answers the plain 400 when no candidate has a larger context', async () => {
    fleet = await startFleet({ ids: ['p1', 'p2'], rotations: priorityRotation({}, 'gpt-4o', { p1: { context_size: 8000 }, p2: { context_size: 4000 } }) });
    fleet.fakes.p1!.enqueue({ type: 'error', status: 400, message: "This model's maximum context length is 8192 tokens.", code: 'context_length_exceeded' });
    const r = await chat(fleet);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('context_length_exceeded');
    expect(fleet.calls('p2')).toBe(0);
  });

  it('skips candidates whose provider is disabled', async () => {
    fleet = await startFleet({ rotations: priorityRotation(), provider: { p1: { enabled: false } } });
    const r = await chat(fleet);
    expect(r.headers.get('x-aisbf-provider')).toBe('p2');
    expect(r.headers.get('x-aisbf-attempts')).toBe('1');
    expect(fleet.calls('p1')).toBe(0);
    expect((await fleet.state('r', 'p1')).state).toBe('disabled');
  });

  it('makes at most max_attempts calls', async () => {
    fleet = await startFleet({ rotations: priorityRotation({ max_attempts: 2 }) });
    fleet.fakes.p1!.enqueue({ type: 'error', status: 500 });
    fleet.fakes.p2!.enqueue({ type: 'error', status: 502 });
    const r = await chat(fleet);
    expect(r.status).toBe(429);
    expect(fleet.calls('p3')).toBe(0);
    expect(r.json.attempted_count).toBe(2);
    expect(r.json.max_retries).toBe(2);
    expect(r.json.error_details.map((d: any) => d.outcome)).toEqual(['failed', 'failed', 'not_tried']);
  });
});

describe('weighted strategy on a running server', () => {
  it('spreads requests over candidates by weight (the default strategy)', async () => {
    fleet = await startFleet({
      ids: ['p1', 'p2'],
      rotations: (ids) => ({ r: { providers: ids.map((id) => ({ provider_id: id, models: [{ name: 'gpt-4o', weight: 1 }] })) } }),
    });
    const served = new Set<string>();
    for (let i = 0; i < 40; i++) served.add((await chat(fleet)).headers.get('x-aisbf-provider')!);
    // Equal weights: the chance that one provider serves all 40 is 2 · 0.5^40.
    expect([...served].sort()).toEqual(['p1', 'p2']);
    expect(fleet.calls('p1') + fleet.calls('p2')).toBe(40); // each request made exactly one call
  });
});

describe('failure counting and cooldowns', () => {
  it('counts one failed call once', async () => {
    fleet = await startFleet({ rotations: priorityRotation() });
    fleet.fakes.p1!.enqueue({ type: 'error', status: 500 });
    await chat(fleet);
    const s = await fleet.state('r', 'p1');
    expect(s.failures).toBe(1);
    expect(s.state).toBe('healthy');
    expect(s.last_error).toContain('500');
  });

  it('cools a candidate down after failure_threshold consecutive failures, and skips it until the cooldown ends', async () => {
    fleet = await startFleet({ rotations: priorityRotation() });
    fleet.fakes.p1!.setModelBehavior('gpt-4o', { type: 'error', status: 500 });
    for (let i = 0; i < 3; i++) expect((await chat(fleet)).headers.get('x-aisbf-provider')).toBe('p2');
    expect(fleet.calls('p1')).toBe(3);
    const s = await fleet.state('r', 'p1');
    expect(s.state).toBe('cooling');
    expect(s.failures).toBe(3);
    expect(s.until).toBe(new Date(fleet.clock.now + 300_000).toISOString());
    expect(s.status).toBe(`cooling until ${s.until}`);

    // Cooling: not called at all, the next candidate serves on the first attempt.
    fleet.clock.advance(299_000);
    const r = await chat(fleet);
    expect(r.headers.get('x-aisbf-provider')).toBe('p2');
    expect(r.headers.get('x-aisbf-attempts')).toBe('1');
    expect(fleet.calls('p1')).toBe(3);

    // The GET / status page shows it too.
    const root = (await (await fetch(`${fleet.aisbf.url}/`)).json()) as any;
    expect(root.rotation_status.r.find((c: any) => c.provider_id === 'p1').state).toBe('cooling');
  });

  it('probes after the cooldown; one failure of the probe cools it again (half-open)', async () => {
    fleet = await startFleet({ rotations: priorityRotation({ failure_threshold: 2, cooldown_seconds: 60 }) });
    fleet.fakes.p1!.setModelBehavior('gpt-4o', { type: 'error', status: 503 });
    await chat(fleet);
    await chat(fleet);
    expect((await fleet.state('r', 'p1')).state).toBe('cooling');
    fleet.clock.advance(60_001);
    expect((await fleet.state('r', 'p1')).state).toBe('healthy');
    // The probe fails once: cooled again at once, for the full cooldown.
    await chat(fleet);
    expect(fleet.calls('p1')).toBe(3);
    const s = await fleet.state('r', 'p1');
    expect(s.state).toBe('cooling');
    expect(s.until).toBe(new Date(fleet.clock.now + 60_000).toISOString());
  });

  it('a successful probe resets the failure count', async () => {
    fleet = await startFleet({ rotations: priorityRotation({ failure_threshold: 2, cooldown_seconds: 60 }) });
    fleet.fakes.p1!.enqueue({ type: 'error', status: 500 }, { type: 'error', status: 500 });
    await chat(fleet);
    await chat(fleet);
    fleet.clock.advance(61_000);
    const r = await chat(fleet);
    expect(r.headers.get('x-aisbf-provider')).toBe('p1');
    const s = await fleet.state('r', 'p1');
    expect(s).toMatchObject({ state: 'healthy', failures: 0 });
    // Healthy again: the next failure alone does not cool it.
    fleet.fakes.p1!.enqueue({ type: 'error', status: 500 });
    await chat(fleet);
    expect((await fleet.state('r', 'p1')).state).toBe('healthy');
  });

  it('cools a provider for Retry-After at once on a 429 that sends one', async () => {
    fleet = await startFleet({ rotations: priorityRotation() });
    fleet.fakes.p1!.enqueue({ type: 'error', status: 429, message: 'Rate limit reached', headers: { 'retry-after': '20' } });
    const r = await chat(fleet);
    expect(r.headers.get('x-aisbf-provider')).toBe('p2');
    const s = await fleet.state('r', 'p1');
    expect(s.state).toBe('cooling');
    expect(s.failures).toBe(1);
    expect(s.until).toBe(new Date(fleet.clock.now + 20_000).toISOString());
    fleet.clock.advance(20_001);
    expect((await chat(fleet)).headers.get('x-aisbf-provider')).toBe('p1');
  });

  it('counts a 429 without Retry-After as one failure, without cooling', async () => {
    fleet = await startFleet({ rotations: priorityRotation() });
    fleet.fakes.p1!.enqueue({ type: 'error', status: 429, message: 'Rate limit reached' });
    await chat(fleet);
    expect(await fleet.state('r', 'p1')).toMatchObject({ state: 'healthy', failures: 1 });
  });

  it('reads cooldown_seconds from AISBF 0.4 default_error_cooldown', async () => {
    fleet = await startFleet({ rotations: priorityRotation({ failure_threshold: 1, default_error_cooldown: 42 }) });
    fleet.fakes.p1!.enqueue({ type: 'error', status: 500 });
    await chat(fleet);
    expect((await fleet.state('r', 'p1')).until).toBe(new Date(fleet.clock.now + 42_000).toISOString());
  });

  it('counts a direct provider target but still calls it while cooling, with the plain error mapping', async () => {
    fleet = await startFleet({ rotations: priorityRotation({ failure_threshold: 1 }) });
    fleet.fakes.p1!.setModelBehavior('gpt-4o', { type: 'error', status: 500 });
    await chat(fleet); // rotation: p1 fails once → cooling
    expect((await fleet.state('r', 'p1')).state).toBe('cooling');
    const direct = await chat(fleet, { model: 'gpt-4o' }, '/api/p1/chat/completions');
    expect(direct.status).toBe(502);
    expect(direct.json.error.message).toContain("provider 'p1'");
    expect(direct.json.aisbf_error).toBeUndefined();
    expect(fleet.calls('p1')).toBe(2);
  });
});

describe('the rotation report', () => {
  it('answers 429 with the report and the soonest recovery as Retry-After when every candidate is out', async () => {
    fleet = await startFleet({ rotations: priorityRotation({ failure_threshold: 1, cooldown_seconds: 300 }) });
    fleet.fakes.p1!.enqueue({ type: 'error', status: 500, message: `upstream broke (key ${keyOf('p1')})` });
    fleet.fakes.p2!.enqueue({ type: 'error', status: 429, message: 'slow down', headers: { 'retry-after': '30' } });
    fleet.fakes.p3!.enqueue({ type: 'error', status: 401, message: 'Incorrect API key provided' });
    const first = await chat(fleet);
    expect(first.status).toBe(429);
    expect(first.json.attempted_count).toBe(3);
    expect(first.json.attempted_models).toEqual(['p1/gpt-4o', 'p2/gpt-4o', 'p3/gpt-4o']);

    // Now every candidate is cooling: no upstream is called at all.
    fleet.clock.advance(10_000);
    const r = await chat(fleet);
    expect([fleet.calls('p1'), fleet.calls('p2'), fleet.calls('p3')]).toEqual([1, 1, 1]);
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('20'); // p2's 30 s Retry-After, 10 s later
    expect(r.json.object).toBe('chat.completion');
    expect(r.json.aisbf_error).toBe(true);
    expect(r.json.rotation_id).toBe('r');
    expect(r.json.attempted_count).toBe(0);
    expect(r.json.max_retries).toBe(3);
    expect(r.json.error_details).toHaveLength(3);
    const p2 = r.json.error_details.find((d: any) => d.provider_id === 'p2');
    expect(p2).toMatchObject({ model: 'gpt-4o', state: 'cooling', outcome: 'skipped_cooling', cooldown_remaining_seconds: 20, failure_count: 1 });
    expect(p2.last_error).toContain('slow down');
    const p1 = r.json.error_details.find((d: any) => d.provider_id === 'p1');
    expect(p1.cooldown_remaining_seconds).toBe(290);
    const text: string = r.json.choices[0].message.content;
    expect(text).toContain("Rotation 'r'");
    expect(text).toContain('p2/gpt-4o');
    expect(r.json.error.message).toBe(text);
    // Never a key, anywhere in the answer.
    for (const id of ['p1', 'p2', 'p3']) expect(r.text + first.text).not.toContain(keyOf(id));
  });

  it('answers 200 with aisbf_error when notifyerrors is on, which the openai SDK reads as a completion', async () => {
    fleet = await startFleet({ rotations: priorityRotation({ notifyerrors: true }) });
    for (const id of ['p1', 'p2', 'p3']) fleet.fakes[id]!.enqueue({ type: 'error', status: 503 });
    const { data, response } = await fleet.client().chat.completions.create({ model: 'r', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(response.status).toBe(200);
    expect((data as any).aisbf_error).toBe(true);
    expect((data as any).error).toBeUndefined();
    expect(data.choices[0]!.message.content).toContain("Rotation 'r' could not serve this request");
    expect((data as any).last_error).toContain("provider 'p3'");
  });

  it('inherits notifyerrors from the top of rotations.json', async () => {
    fleet = await startFleet({ rotations: priorityRotation(), rotationsFile: { notifyerrors: true } });
    for (const id of ['p1', 'p2', 'p3']) fleet.fakes[id]!.enqueue({ type: 'error', status: 500 });
    const r = await chat(fleet);
    expect(r.status).toBe(200);
    expect(r.json.aisbf_error).toBe(true);
  });

  it('reaches openai SDK users as a RateLimitError carrying the report', async () => {
    fleet = await startFleet({ rotations: priorityRotation() });
    for (const id of ['p1', 'p2', 'p3']) fleet.fakes[id]!.enqueue({ type: 'error', status: 500 });
    const err = await fleet.client().chat.completions.create({ model: 'r', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect((err as InstanceType<typeof OpenAI.RateLimitError>).message).toContain("Rotation 'r'");
  });
});
