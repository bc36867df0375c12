import { describe, expect, it } from 'vitest';
import { LiteAbort, toAbortSignal, type AbortLike } from '../../src/providers/lite-abort.js';

describe('LiteAbort', () => {
  it('calls each listener once, in order, functions and handleEvent objects alike', () => {
    const s = new LiteAbort();
    const seen: string[] = [];
    s.addEventListener('abort', () => seen.push('a'));
    s.addEventListener('abort', { handleEvent: () => seen.push('b') });
    s.addEventListener('abort', () => seen.push('c'));
    s.abort('why');
    s.abort('again');
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(s.aborted).toBe(true);
    expect(s.reason).toBe('why');
  });

  it('runs every listener even when one throws, then throws the first error to whoever aborted', () => {
    const s = new LiteAbort();
    const seen: string[] = [];
    s.addEventListener('abort', () => {
      throw new Error('first');
    });
    s.addEventListener('abort', () => seen.push('second ran'));
    expect(() => s.abort('x')).toThrow('first');
    expect(seen).toEqual(['second ran']);
    expect(s.aborted).toBe(true);
  });

  it('forgets a removed listener, whether it was the only one or one of several', () => {
    const one = new LiteAbort();
    const f = () => {
      throw new Error('removed listener called');
    };
    one.addEventListener('abort', f);
    one.removeEventListener('abort', f);
    one.abort(1);

    const several = new LiteAbort();
    const seen: number[] = [];
    const g = () => seen.push(2);
    several.addEventListener('abort', () => seen.push(1));
    several.addEventListener('abort', g);
    several.addEventListener('abort', () => seen.push(3));
    several.removeEventListener('abort', g);
    several.abort(1);
    expect(seen).toEqual([1, 3]);
  });

  it('never calls a listener added after it aborted (check `aborted` first, as with AbortSignal)', () => {
    const s = new LiteAbort();
    s.abort('x');
    let called = false;
    s.addEventListener('abort', () => (called = true));
    expect(called).toBe(false);
  });

  it('makes a real AbortSignal only when asked, which aborts with it (before or after it was made)', () => {
    const early = new LiteAbort();
    const signal = early.signal;
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(early.signal).toBe(signal);
    const heard: unknown[] = [];
    signal.addEventListener('abort', () => heard.push(signal.reason));
    early.abort(new Error('gone'));
    expect(signal.aborted).toBe(true);
    expect((heard[0] as Error).message).toBe('gone');

    const late = new LiteAbort();
    late.abort('timeout');
    expect(late.signal.aborted).toBe(true);
    expect(late.signal.reason).toBe('timeout');
  });

  it('toAbortSignal: a LiteAbort gives its real signal; a real AbortSignal is passed as is', () => {
    const lite = new LiteAbort();
    expect(toAbortSignal(lite)).toBe(lite.signal);
    const real = new AbortController().signal;
    expect(toAbortSignal(real)).toBe(real);
    // A real AbortSignal satisfies AbortLike (the request path takes either).
    const asLike: AbortLike = real;
    expect(asLike.aborted).toBe(false);
  });
});
