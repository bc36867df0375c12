import { afterEach, describe, expect, it } from 'vitest';
import { chat, priorityRotation, startFleet, type Fleet } from './rotation-fixture.js';

let fleet: Fleet;
afterEach(async () => {
  await fleet?.close();
});

describe('rate_limit (seconds between calls)', () => {
  it('skips a model called less than rate_limit seconds ago instead of waiting, across requests', async () => {
    fleet = await startFleet({ ids: ['p1', 'p2'], rotations: priorityRotation({}, 'gpt-4o', { p1: { rate_limit: 10 } }) });
    expect((await chat(fleet)).headers.get('x-aisbf-provider')).toBe('p1');
    const second = await chat(fleet);
    expect(second.headers.get('x-aisbf-provider')).toBe('p2');
    expect(second.headers.get('x-aisbf-attempts')).toBe('1');
    const s = await fleet.state('r', 'p1');
    expect(s.state).toBe('rate_limited');
    expect(s.until).toBe(new Date(fleet.clock.now + 10_000).toISOString());
    expect(s.status).toBe(`rate-limited until ${s.until}`);
    fleet.clock.advance(10_000);
    expect((await chat(fleet)).headers.get('x-aisbf-provider')).toBe('p1');
    expect(fleet.calls('p1')).toBe(2);
  });

  it('applies a provider-level rate_limit from providers.json to every model of that provider', async () => {
    fleet = await startFleet({
      ids: ['p1', 'p2'],
      provider: { p1: { rate_limit: 5 } },
      rotations: (ids) => ({
        r: {
          strategy: 'priority',
          providers: [
            { provider_id: ids[0], models: [{ name: 'gpt-4o', weight: 10 }, { name: 'gpt-4o-mini', weight: 9 }] },
            { provider_id: ids[1], models: [{ name: 'gpt-4o', weight: 1 }] },
          ],
        },
      }),
    });
    expect((await chat(fleet)).headers.get('x-aisbf-model')).toBe('gpt-4o');
    const r = await chat(fleet);
    // The other model of p1 is held back by the provider's spacing too.
    expect(r.headers.get('x-aisbf-provider')).toBe('p2');
    fleet.clock.advance(5_000);
    expect((await chat(fleet)).headers.get('x-aisbf-provider')).toBe('p1');
  });

  it('answers the report with 429 and Retry-After when every candidate is rate limited', async () => {
    fleet = await startFleet({ ids: ['p1', 'p2'], rotations: priorityRotation({}, 'gpt-4o', { p1: { rate_limit: 10 }, p2: { rate_limit: 30 } }) });
    await chat(fleet);
    await chat(fleet);
    fleet.clock.advance(4_000);
    const r = await chat(fleet);
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('6');
    expect(r.json.error_details.map((d: any) => [d.provider_id, d.state, d.outcome, d.cooldown_remaining_seconds])).toEqual([
      ['p1', 'rate_limited', 'skipped_rate_limited', 6],
      ['p2', 'rate_limited', 'skipped_rate_limited', 26],
    ]);
    expect([fleet.calls('p1'), fleet.calls('p2')]).toEqual([1, 1]);
  });

  it('answers a direct provider target over its limit with a plain 429 and Retry-After', async () => {
    fleet = await startFleet({ ids: ['p1'], provider: { p1: { rate_limit: 3 } }, rotations: priorityRotation() });
    expect((await chat(fleet, { model: 'gpt-4o' }, '/api/p1/chat/completions')).status).toBe(200);
    const r = await chat(fleet, { model: 'gpt-4o' }, '/api/p1/chat/completions');
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('3');
    expect(r.json.error.code).toBe('rate_limit_exceeded');
    expect(r.json.error.message).toContain('p1/gpt-4o');
    expect(fleet.calls('p1')).toBe(1);
  });
});

describe('token windows (rate_limit_TPM/TPH/TPD)', () => {
  it('fills the TPM window from response usage and skips the model until the window slides', async () => {
    fleet = await startFleet({ ids: ['p1', 'p2'], rotations: priorityRotation({}, 'gpt-4o', { p1: { rate_limit_TPM: 100 } }) });
    fleet.fakes.p1!.enqueue({ type: 'reply', text: 'first', usage: { prompt_tokens: 40, completion_tokens: 20 } });
    expect((await chat(fleet)).headers.get('x-aisbf-provider')).toBe('p1');
    fleet.clock.advance(10_000);
    fleet.fakes.p1!.enqueue({ type: 'reply', text: 'second', usage: { prompt_tokens: 30, completion_tokens: 10 } });
    expect((await chat(fleet)).headers.get('x-aisbf-provider')).toBe('p1'); // 60 used: room left
    // 100 used within the minute: the window is full.
    fleet.clock.advance(1_000);
    const third = await chat(fleet);
    expect(third.headers.get('x-aisbf-provider')).toBe('p2');
    const s = await fleet.state('r', 'p1');
    expect(s.state).toBe('rate_limited');
    expect(s.limit).toBe('TPM 100');
    // The first call's 60 tokens leave the window 60 s after it: 49 s from now.
    expect(s.until).toBe(new Date(fleet.clock.now + 49_000).toISOString());
    fleet.clock.advance(49_000);
    expect((await chat(fleet)).headers.get('x-aisbf-provider')).toBe('p1');
  });

  it('counts streamed usage too', async () => {
    fleet = await startFleet({ ids: ['p1', 'p2'], rotations: priorityRotation({}, 'gpt-4o', { p1: { rate_limit_TPH: 50 } }) });
    fleet.fakes.p1!.enqueue({ type: 'reply', text: 'streamed', usage: { prompt_tokens: 45, completion_tokens: 5 } });
    const r = await chat(fleet, { stream: true });
    expect(r.headers.get('x-aisbf-provider')).toBe('p1');
    expect(await fleet.state('r', 'p1')).toMatchObject({ state: 'rate_limited', limit: 'TPH 50' });
    expect((await chat(fleet, { stream: true })).headers.get('x-aisbf-provider')).toBe('p2');
  });
});
