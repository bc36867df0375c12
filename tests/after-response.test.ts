import { describe, expect, it } from 'vitest';
import { afterResponse, onAfterResponseError } from '../src/after-response.js';

const nextImmediate = () => new Promise((r) => setImmediate(r));

describe('afterResponse', () => {
  it("runs queued jobs after the current turn's callbacks and promise chains, in order", async () => {
    const seen: string[] = [];
    afterResponse(() => seen.push('first'));
    // What renders and writes an answer: promise continuations of the same turn.
    void Promise.resolve()
      .then(() => seen.push('render'))
      .then(() => seen.push('write'));
    afterResponse(() => seen.push('second'));
    seen.push('sync');
    await nextImmediate();
    expect(seen).toEqual(['sync', 'render', 'write', 'first', 'second']);
  });

  it('a job that throws is reported and does not stop the others', async () => {
    const reported: unknown[] = [];
    onAfterResponseError((err) => reported.push(err));
    const seen: number[] = [];
    afterResponse(() => seen.push(1));
    afterResponse(() => {
      throw new Error('boom');
    });
    afterResponse(() => seen.push(3));
    await nextImmediate();
    expect(seen).toEqual([1, 3]);
    expect(reported).toHaveLength(1);
    expect((reported[0] as Error).message).toBe('boom');
    onAfterResponseError(() => {});
  });

  it('takes one Immediate for all the jobs of a turn', async () => {
    const original = globalThis.setImmediate;
    let scheduled = 0;
    globalThis.setImmediate = ((fn: () => void) => {
      scheduled++;
      return original(fn);
    }) as typeof setImmediate;
    try {
      let ran = 0;
      for (let i = 0; i < 100; i++) afterResponse(() => ran++);
      expect(scheduled).toBe(1);
      await new Promise((r) => original(r));
      expect(ran).toBe(100);
    } finally {
      globalThis.setImmediate = original;
    }
  });
});
