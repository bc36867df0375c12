import { afterEach, describe, expect, it } from 'vitest';
import { chat, sseData, startFleet, type Fleet } from './rotation-fixture.js';

let fleet: Fleet;
afterEach(async () => {
  await fleet?.close();
});

function streamedText(text: string): string {
  return sseData(text)
    .filter((f) => f !== '[DONE]' && f.choices?.length)
    .map((f) => f.choices[0].delta.content ?? '')
    .join('');
}

describe('a rotation over three providers', () => {
  it('keeps serving, streamed and not, while one dies, one rate-limits and one recovers', async () => {
    fleet = await startFleet({
      rotations: (ids) => ({
        r: {
          strategy: 'priority',
          failure_threshold: 2,
          cooldown_seconds: 60,
          providers: [
            { provider_id: ids[0], models: [{ name: 'gpt-4o', weight: 3 }] }, // p1: dies
            { provider_id: ids[2], models: [{ name: 'gpt-4o', weight: 2 }] }, // p3: broken, then recovers
            { provider_id: ids[1], models: [{ name: 'gpt-4o', weight: 1, rate_limit: 10 }] }, // p2: one call per 10 s
          ],
        },
      }),
    });
    const t0 = fleet.clock.now;
    const served: string[] = [];
    const step = async (atSeconds: number, stream: boolean, word: string) => {
      fleet.clock.now = t0 + atSeconds * 1000;
      const r = await chat(fleet, { stream, messages: [{ role: 'user', content: word }] });
      expect(r.status, `request at t=${atSeconds}s: ${r.text.slice(0, 300)}`).toBe(200);
      expect(stream ? streamedText(r.text) : r.json.choices[0].message.content).toBe(`echo: ${word}`);
      served.push(r.headers.get('x-aisbf-provider')!);
    };

    await step(0, false, 'one');
    // p1 dies (connection refused from now on); p3 answers 500 until it is fixed.
    await fleet.fakes.p1!.close();
    fleet.fakes.p3!.setModelBehavior('gpt-4o', { type: 'error', status: 500, message: 'internal error' });
    await step(1, true, 'two'); // p1 fails, p3 fails, p2 serves
    await step(11, false, 'three'); // both fail again → both cooling until t=71; p2's spacing has passed
    await step(21, true, 'four'); // only p2 is left, and it is free again
    fleet.fakes.p3!.setModelBehavior('gpt-4o', undefined); // p3 is fixed, but still cooling
    await step(31, false, 'five');
    await step(71, true, 'six'); // cooldowns over: p1's probe fails (cooled again at once), p3's probe succeeds
    await step(72, false, 'seven');
    // p3 now rate-limits upstream for 20 s: p2 takes over, then p3 is back.
    fleet.fakes.p3!.enqueue({ type: 'error', status: 429, message: 'Rate limit reached for requests', headers: { 'retry-after': '20' } });
    await step(73, true, 'eight');
    await step(83, false, 'nine');
    await step(93, true, 'ten');

    expect(served).toEqual(['p1', 'p2', 'p2', 'p2', 'p2', 'p3', 'p3', 'p2', 'p2', 'p3']);
    // p1: two failures cooled it; the half-open probe at t=71 failed once and cooled it again.
    expect(await fleet.state('r', 'p1')).toMatchObject({ state: 'cooling', failures: 3, until: new Date(t0 + 131_000).toISOString() });
    expect(await fleet.state('r', 'p3')).toMatchObject({ state: 'healthy', failures: 0 });
    expect(await fleet.state('r', 'p2')).toMatchObject({ state: 'healthy' });
    // p1's fake only saw the call before it died; its 3 failures (t=1, 11, 71) show it was never
    // called while cooling (at t=21, 31, 72, 73, 83, 93 each call would have counted once more).
    expect(fleet.calls('p1')).toBe(1);
  });
});
