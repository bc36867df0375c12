/**
 * BatchedLogStream: lines gather and reach the sink as one string (at 4 KiB, or 100 ms after the
 * first), in order; flush hands them over at once; at exit they are written synchronously, into
 * sonic-boom (stdout's sink) and the rotating log file alike — checked in a real child process
 * (batched-log-exit-child.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { BatchedLogStream, type BatchSink } from '../src/batched-log-stream.js';

const dir = mkdtempSync(join(tmpdir(), 'aisbf-batched-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A sink that records what it was handed (the contract's other side, not one of our modules). */
function recordingSink(): BatchSink & { writes: string[]; flushes: number } {
  const sink = {
    writes: [] as string[],
    flushes: 0,
    write(chunk: string) {
      sink.writes.push(chunk);
      return true;
    },
    flush(cb?: (err?: Error) => void) {
      sink.flushes++;
      cb?.();
    },
  };
  return sink;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('BatchedLogStream', () => {
  it('holds lines below the size and hands them over together after the delay, in order', async () => {
    const sink = recordingSink();
    const s = new BatchedLogStream(sink, 4096, 40);
    s.write('a\n');
    s.write('b\n');
    s.write('c\n');
    expect(sink.writes).toEqual([]);
    await sleep(80);
    expect(sink.writes).toEqual(['a\nb\nc\n']);
    // The timer starts again with the next first line.
    s.write('d\n');
    await sleep(80);
    expect(sink.writes).toEqual(['a\nb\nc\n', 'd\n']);
    await s.close();
  });

  it('hands a batch over as soon as it reaches the size, without waiting', async () => {
    const sink = recordingSink();
    const s = new BatchedLogStream(sink, 10, 60_000);
    s.write('12345\n');
    expect(sink.writes).toEqual([]);
    s.write('6789\n'); // 11 characters: over the size
    expect(sink.writes).toEqual(['12345\n6789\n']);
    s.write('x\n');
    expect(sink.writes).toHaveLength(1);
    s.flush();
    expect(sink.writes).toEqual(['12345\n6789\n', 'x\n']);
    await s.close();
  });

  it('flush hands over what is gathered, then asks the sink to flush and calls back', async () => {
    const sink = recordingSink();
    const s = new BatchedLogStream(sink, 4096, 60_000);
    s.write('only line\n');
    await new Promise<void>((done) => s.flush(() => done()));
    expect(sink.writes).toEqual(['only line\n']);
    expect(sink.flushes).toBe(1);
    await s.close();
  });

  it('close hands over what is gathered, waits for the sink, and takes its exit hook off', async () => {
    const before = process.listenerCount('exit');
    const sink = recordingSink();
    const s = new BatchedLogStream(sink, 4096, 60_000);
    expect(process.listenerCount('exit')).toBe(before + 1);
    s.write('last\n');
    await s.close();
    expect(sink.writes).toEqual(['last\n']);
    expect(sink.flushes).toBe(1);
    expect(process.listenerCount('exit')).toBe(before);
  });

  it('close resolves even when the sink throws (already destroyed)', async () => {
    const destroyed: BatchSink = {
      write: () => {
        throw new Error('SonicBoom destroyed');
      },
      flush: (cb) => cb?.(),
    };
    const s = new BatchedLogStream(destroyed, 4096, 60_000);
    s.write('lost\n');
    await expect(s.close()).resolves.toBeUndefined();
  });

  it('writes through sonic-boom to a file, lines whole and in order', async () => {
    const file = join(dir, 'sonic.log');
    const out = pino.destination({ dest: file, sync: false, minLength: 1 }); // as the daemon's stdout (src/cli/serve.ts)
    await new Promise((r) => out.once('ready', r));
    const s = new BatchedLogStream(out, 100, 60_000);
    const lines = Array.from({ length: 50 }, (_, i) => `{"n":${i},"msg":"é ✓ line"}\n`);
    for (const l of lines) s.write(l);
    await new Promise<void>((done) => s.flush(() => done()));
    await s.close();
    expect(readFileSync(file, 'utf8')).toBe(lines.join(''));
  });

  it('at exit, a sink that throws ends nothing with a stack trace: the exit code stands', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'batched-log-exit-child.ts'), 'throwing', join(dir, 'unused.log')], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(3);
  });

  it.each([
    ['sonic-boom (stdout’s sink)', 'sonic'],
    ['the rotating log file', 'rotating'],
  ])('at exit, gathered lines reach %s', (_name, kind) => {
    const file = join(dir, `exit-${kind}.log`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'batched-log-exit-child.ts'), kind, file], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(3);
    const got = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(got.map((l) => l.i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(got.every((l) => l.msg === 'before exit')).toBe(true);
  });
});
