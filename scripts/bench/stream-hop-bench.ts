/**
 * @module In-process: what the stream guard (providers/deadline.ts `guardStream`) costs per chunk,
 * against the async-generator version it replaced (kept here, verbatim in shape, as the "before").
 * CPU time of the process over many chunks: timer noise and other load do not drown a microsecond.
 */
import { Deadline, guardStream, type DeadlineContext, type DeadlineOptions } from '../../src/providers/deadline.js';

/** The 0.1/wave-1 guard: an async generator re-arming per event, delegating to `convert` with yield*. */
async function* generatorGuard<E, P>(ctx: DeadlineContext, opts: DeadlineOptions, open: (s: AbortSignal) => Promise<AsyncIterable<E>>, convert: (e: AsyncIterable<E>) => AsyncIterable<P>): AsyncGenerator<P> {
  const d = new Deadline(ctx.signal, ctx.timeoutMs);
  let finished = false;
  try {
    const source = await open(d.signal);
    async function* rearming(): AsyncGenerator<E> {
      for await (const ev of source) {
        d.arm();
        yield ev;
      }
    }
    yield* convert(rearming());
    if (d.signal.aborted) throw d.signal.reason ?? new Error('aborted');
    finished = true;
  } catch (err) {
    finished = true;
    throw d.classify(err, opts.provider, opts.model ?? ctx.model, opts.mapError, ctx.keySource);
  } finally {
    if (!finished) d.abort();
    d.clear();
  }
}

/** A source that yields `n` ready values, as a socket's async iterator does when data is buffered. */
function source(n: number): AsyncIterable<number> {
  let i = 0;
  return { [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve(i < n ? { done: false, value: i++ } : { done: true, value: undefined }) }) };
}

async function perChunkUs(guard: typeof generatorGuard | typeof guardStream, n: number): Promise<number> {
  const ctx: DeadlineContext = { signal: new AbortController().signal, timeoutMs: 120_000, model: 'm', keySource: undefined } as DeadlineContext;
  const opts: DeadlineOptions = { provider: 'p' };
  const c0 = process.cpuUsage();
  let sum = 0;
  for await (const v of guard(ctx, opts, async () => source(n), (e) => e)) sum += v;
  const c = process.cpuUsage(c0);
  if (sum !== (n * (n - 1)) / 2) throw new Error('stream-hop-bench: lost chunks');
  return (c.user + c.system) / n;
}

type Add = (scenario: string, metric: string, before: number | undefined, after: number, target?: string, pass?: boolean) => void;

export async function benchStreamHop(add: Add): Promise<void> {
  const N = 300_000;
  // Warm both (JIT), then measure each twice, interleaved, and keep the lower.
  await perChunkUs(generatorGuard, N / 10);
  await perChunkUs(guardStream, N / 10);
  const before = Math.min(await perChunkUs(generatorGuard, N), await perChunkUs(generatorGuard, N));
  const after = Math.min(await perChunkUs(guardStream, N), await perChunkUs(guardStream, N));
  add('stream guard (deadline per upstream event), in-process', 'CPU µs/chunk (async generators → iterator)', before, after, 'after < before', after < before);
}
