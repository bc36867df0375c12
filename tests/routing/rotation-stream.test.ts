import { afterEach, describe, expect, it } from 'vitest';
import { chat, keyOf, priorityRotation, sseData, startFleet, type Fleet } from './rotation-fixture.js';

let fleet: Fleet;
afterEach(async () => {
  await fleet?.close();
});

function content(frames: any[]): string {
  return frames.filter((f) => f !== '[DONE]' && f.choices?.length).map((f) => f.choices[0].delta.content ?? '').join('');
}

describe('streaming failover', () => {
  it('retries a stream that fails before its first part on the next candidate, sending nothing of the failure', async () => {
    fleet = await startFleet({ rotations: priorityRotation() });
    fleet.fakes.p1!.enqueue({ type: 'error', status: 500 });
    const stream = await fleet.client().chat.completions.create({ model: 'r', messages: [{ role: 'user', content: 'one two' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('echo: one two');
    expect(fleet.calls('p1')).toBe(1);
    expect(fleet.calls('p2')).toBe(1);
    expect((await fleet.state('r', 'p1')).failures).toBe(1);
  });

  it('fails over when the upstream sends only its role chunk and then resets', async () => {
    fleet = await startFleet({ rotations: priorityRotation() });
    fleet.fakes.p1!.enqueue({ type: 'reset', afterChunks: 0 });
    const r = await chat(fleet, { stream: true, messages: [{ role: 'user', content: 'still here' }] });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-aisbf-provider')).toBe('p2');
    expect(r.headers.get('x-aisbf-attempts')).toBe('2');
    const frames = sseData(r.text);
    expect(content(frames)).toBe('echo: still here');
    expect(frames.filter((f) => f !== '[DONE]' && f.choices?.[0]?.delta?.role === 'assistant')).toHaveLength(1);
    expect(frames.some((f) => f.error)).toBe(false);
    expect(frames.at(-1)).toBe('[DONE]');
  });

  it('fails over a stream that sends no first byte within timeout_seconds', async () => {
    fleet = await startFleet({ rotations: priorityRotation(), provider: { p1: { timeout_seconds: 0.3 } } });
    fleet.fakes.p1!.enqueue({ type: 'hang' });
    const r = await chat(fleet, { stream: true });
    expect(r.headers.get('x-aisbf-provider')).toBe('p2');
    expect(content(sseData(r.text))).toBe('echo: hello');
    expect((await fleet.state('r', 'p1')).last_error).toMatch(/timeout/);
  });

  it('ends a stream that fails after its first part with an SSE error frame and [DONE], and counts the failure', async () => {
    fleet = await startFleet({ rotations: priorityRotation() });
    fleet.fakes.p1!.enqueue({ type: 'reset', afterChunks: 2, chunkDelayMs: 30 });
    const r = await chat(fleet, { stream: true, messages: [{ role: 'user', content: 'a b c d e f' }] });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-aisbf-provider')).toBe('p1');
    const frames = sseData(r.text);
    expect(content(frames)).toBe('echo: a ');
    const err = frames.find((f) => f !== '[DONE]' && f.error);
    expect(err.error.message).toContain("provider 'p1'");
    expect(frames.at(-1)).toBe('[DONE]');
    expect(fleet.calls('p2')).toBe(0); // too late to fail over
    const s = await fleet.state('r', 'p1');
    expect(s.failures).toBe(1);
    expect(r.text).not.toContain(keyOf('p1'));
  });

  it('counts mid-stream failures towards the cooldown', async () => {
    fleet = await startFleet({ rotations: priorityRotation({ failure_threshold: 2 }) });
    fleet.fakes.p1!.enqueue({ type: 'reset', afterChunks: 1, chunkDelayMs: 30 }, { type: 'reset', afterChunks: 1, chunkDelayMs: 30 });
    await chat(fleet, { stream: true });
    await chat(fleet, { stream: true });
    expect((await fleet.state('r', 'p1')).state).toBe('cooling');
    const r = await chat(fleet, { stream: true });
    expect(r.headers.get('x-aisbf-provider')).toBe('p2');
  });

  it('sends the rotation report as SSE with 429 when every candidate fails', async () => {
    fleet = await startFleet({ rotations: priorityRotation() });
    for (const id of ['p1', 'p2', 'p3']) fleet.fakes[id]!.enqueue({ type: 'error', status: 503 });
    const r = await chat(fleet, { stream: true });
    expect(r.status).toBe(429);
    expect(r.headers.get('content-type')).toContain('text/event-stream');
    const frames = sseData(r.text);
    expect(frames.at(-1)).toBe('[DONE]');
    expect(frames[0].object).toBe('chat.completion.chunk');
    expect(frames[0].aisbf_error).toBe(true);
    expect(frames[0].rotation_id).toBe('r');
    expect(content(frames)).toContain("Rotation 'r' could not serve this request");
    expect(frames[1].choices[0].finish_reason).toBe('stop');
  });

  it('streams the report with 200 to openai SDK clients when notifyerrors is on', async () => {
    fleet = await startFleet({ rotations: priorityRotation({ notifyerrors: true }) });
    for (const id of ['p1', 'p2', 'p3']) fleet.fakes[id]!.enqueue({ type: 'error', status: 500 });
    const stream = await fleet.client().chat.completions.create({ model: 'r', messages: [{ role: 'user', content: 'hi' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toContain('p3/gpt-4o');
    expect(text).toContain('Attempted 3 of at most 3');
  });
});
