/**
 * routeStrayOutput: what a dependency prints itself (console.warn / console.error, node's process
 * warnings) becomes one JSON log line through a real pino logger, without a stack or a key, and a
 * text that repeats is logged once an hour with the count left out.
 */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../src/log.js';
import { REPEAT_MS, routeStrayOutput } from '../src/stray-output.js';

let lines: Array<Record<string, unknown>> = [];
let remove: (() => void) | undefined;
let now = 1_000_000;

function install(): void {
  lines = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const log = createLogger({ level: 'info', destination });
  remove = routeStrayOutput({ log, clock: () => now });
}

afterEach(() => {
  remove?.();
  remove = undefined;
  vi.restoreAllMocks();
});

// pino's stream writes synchronously to a Writable only at its next tick.
const settle = () => new Promise((r) => setImmediate(r));

describe('routeStrayOutput', () => {
  it('logs a console.warn as one warn line with its source, nothing on stderr', async () => {
    const stderr = vi.spyOn(process.stderr, 'write');
    install();
    console.warn("The model 'claude-sonnet-4-5' is deprecated and will reach end-of-life on November 30th, 2026\nPlease migrate to a newer model.");
    await settle();
    expect(stderr).not.toHaveBeenCalled();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', source: 'console.warn' });
    expect(lines[0]!.msg).toContain("The model 'claude-sonnet-4-5' is deprecated");
  });

  it('logs a repeated text once, then again after an hour with how many were left out', async () => {
    install();
    for (let i = 0; i < 5; i++) console.warn('per-request warning');
    now += REPEAT_MS - 1;
    console.warn('per-request warning');
    await settle();
    expect(lines).toHaveLength(1);
    now += 2;
    console.warn('per-request warning');
    console.warn('another text');
    await settle();
    expect(lines.map((l) => [l.msg, l.repeats_left_out])).toEqual([
      ['per-request warning', undefined],
      ['per-request warning', 5],
      ['another text', undefined],
    ]);
  });

  it('writes an Error as its name and message, never its stack, and redacts a key', async () => {
    install();
    const err = new Error('upstream said no for Bearer sk-live-abcdefghijklmnop');
    console.error('caught:', err);
    await settle();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'error', source: 'console.error' });
    expect(lines[0]!.msg).toBe('caught: Error: upstream said no for Bearer [redacted]');
    expect(JSON.stringify(lines[0])).not.toMatch(/\n\s+at /);
    expect(JSON.stringify(lines[0])).not.toContain('abcdefghijklmnop');
  });

  it('redacts before it cuts (no prefix of a key at the cut) and redacts an object it prints', async () => {
    install();
    console.warn(`${'x'.repeat(1995)} sk-abcdefghijklmnop`);
    console.warn('request options', { headers: { authorization: 'Bearer sk-live-abcdefghijklmnop' } });
    await settle();
    expect(lines).toHaveLength(2);
    expect(lines[0]!.msg).toBe(`${'x'.repeat(1995)} [red…`);
    expect(lines[1]!.msg).toContain('[redacted]');
    expect(JSON.stringify(lines)).not.toMatch(/sk-ab|abcdefghijklmnop/);
  });

  it("takes node's process warnings in place of node's own printer", async () => {
    const stderr = vi.spyOn(process.stderr, 'write');
    install();
    process.emitWarning('a test warning', 'DeprecationWarning');
    await new Promise((r) => setTimeout(r, 10)); // node emits it on a later tick
    expect(stderr).not.toHaveBeenCalled();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', source: 'process warning', msg: 'DeprecationWarning: a test warning' });
  });

  it('cuts a long text, and the removal gives console and node their printers back', async () => {
    const printers = { warn: console.warn, error: console.error, warning: process.listeners('warning') };
    install();
    expect(console.warn).not.toBe(printers.warn);
    console.warn('x'.repeat(5000));
    await settle();
    expect((lines[0]!.msg as string).length).toBe(2001);
    remove!();
    remove = undefined;
    expect(console.warn).toBe(printers.warn);
    expect(console.error).toBe(printers.error);
    expect(process.listeners('warning')).toEqual(printers.warning);
  });
});
