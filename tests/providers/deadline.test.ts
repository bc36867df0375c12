import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ClientGoneError, guardOwnStream, guardStream, withDeadline } from '../../src/providers/deadline.js';
import { ProviderError, transportErrorKind } from '../../src/providers/provider-error.js';
import { createNodeHttpFetch } from '../../src/providers/node-http-fetch.js';
import { callContext, collect, rejection } from '../helpers/recorded.js';

const deep = (n: number): unknown => {
  let v: unknown = 'leaf';
  for (let i = 0; i < n; i++) v = { v };
  return v;
};

/** A port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('withDeadline: our own exceptions are never provider failures', () => {
  it('lets a RangeError from JSON.stringify of a 10,000-deep body through unchanged', async () => {
    const err = await rejection(withDeadline(callContext(), { provider: 'p' }, async () => JSON.stringify(deep(10_000))));
    expect(err).toBeInstanceOf(RangeError);
    expect(err).not.toBeInstanceOf(ProviderError);
    expect((err as Error).message).toMatch(/call stack/i);
  });

  it('lets a TypeError of our own code through unchanged, also when a mapper does not know it', async () => {
    const own = new TypeError("Cannot read properties of undefined (reading 'x')");
    const err = await rejection(withDeadline(callContext(), { provider: 'p', mapError: () => undefined }, async () => Promise.reject(own)));
    expect(err).toBe(own);
  });

  it('throws what a mapper hands back unwrapped (our exception inside an SDK connection error)', async () => {
    const own = new RangeError('Maximum call stack size exceeded');
    const wrapper = Object.assign(new Error('Connection error.'), { cause: own });
    const err = await rejection(withDeadline(callContext(), { provider: 'p', mapError: (e) => ((e as Error).cause as Error) }, async () => Promise.reject(wrapper)));
    expect(err).toBe(own);
  });

  it('turns a refused connection (a real socket error) into a connection failure', async () => {
    const port = await closedPort();
    const fetch = createNodeHttpFetch();
    const err = await rejection(withDeadline(callContext({ model: 'm' }), { provider: 'p' }, (signal) => fetch(`http://127.0.0.1:${port}/x`, { signal })));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: 'connection', provider: 'p', model: 'm' });
  });

  it('turns our clock firing into a timeout, and the client leaving into ClientGoneError', async () => {
    const hang = (signal: AbortSignal) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
    const timeout = await rejection(withDeadline(callContext({ timeoutMs: 20 }), { provider: 'p' }, hang));
    expect(timeout).toMatchObject({ kind: 'timeout' });
    const ac = new AbortController();
    const gone = withDeadline(callContext({ signal: ac.signal }), { provider: 'p' }, hang);
    ac.abort(new Error('socket closed'));
    expect(await rejection(gone)).toBeInstanceOf(ClientGoneError);
  });

  it('names the model of the options over the call (listModels uses "*")', async () => {
    const err = await rejection(withDeadline(callContext({ model: 'm' }), { provider: 'p', model: '*' }, async () => Promise.reject(Object.assign(new Error('x'), { code: 'ECONNRESET' }))));
    expect(err).toMatchObject({ kind: 'connection', model: '*' });
  });

  it('says the CLIENT key was rejected when the key came from the client', async () => {
    const auth = () => Promise.reject(new ProviderError('Incorrect API key provided', { kind: 'auth', status: 401, provider: 'p', model: 'm' }));
    const configured = await rejection(withDeadline(callContext({ model: 'm' }), { provider: 'p' }, auth));
    expect(configured).toMatchObject({ kind: 'auth', message: 'Incorrect API key provided' });
    const client = (await rejection(withDeadline(callContext({ model: 'm', keySource: 'client' }), { provider: 'p' }, auth))) as ProviderError;
    expect(client.kind).toBe('client_auth');
    expect(client.clientStatus).toBe(401);
    expect(client.policy.countsAsFailure).toBe(false);
    expect(client.message).toContain('rejected the API key the client sent (upstream status 401)');
    expect(client.message).toContain('"api_key" of provider \'p\' in providers.json');
    expect(client.message).toContain('${MY_PROVIDER_KEY}');
  });
});

describe('guardStream', () => {
  it('lets our own exception in the converter through unchanged', async () => {
    const own = new TypeError('converter bug');
    const parts = guardStream(
      callContext(),
      { provider: 'p' },
      async () => (async function* () {
        yield 1;
      })(),
      async function* (events) {
        for await (const _ of events) throw own;
      },
    );
    expect(await rejection(collect(parts))).toBe(own);
  });

  it('classifies a socket reset mid-stream as a connection failure', async () => {
    const parts = guardStream(
      callContext(),
      { provider: 'p' },
      async () => (async function* () {
        yield 'a';
        throw Object.assign(new TypeError('terminated'), { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });
      })(),
      (events) => events,
    );
    expect(await rejection(collect(parts))).toMatchObject({ kind: 'connection', message: 'terminated' });
  });

  it('re-arms its clock per event: a slow but steady stream is not timed out', async () => {
    const parts = guardStream(
      callContext({ timeoutMs: 200 }),
      { provider: 'p' },
      async () => (async function* () {
        // 8 × 40 ms: longer in total than the timeout, never that long between two events.
        for (let i = 0; i < 8; i++) {
          await new Promise((r) => setTimeout(r, 40));
          yield i;
        }
      })(),
      (events) => events,
    );
    expect(await collect(parts)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('counts only while its consumer waits: a consumer slower than the timeout does not time the upstream out', async () => {
    let upstream: AbortSignal | undefined;
    const parts = guardStream(
      callContext({ timeoutMs: 100 }),
      { provider: 'p' },
      async (signal) => {
        upstream = signal;
        // An SDK's stream: it reads only when asked, so each event is ready at once.
        return (async function* () {
          for (let i = 0; i < 3; i++) yield i;
        })();
      },
      (events) => events,
    );
    const got: number[] = [];
    for await (const p of parts) {
      got.push(p);
      // The client is slow to read: 2.5 times the timeout between two asks.
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(got).toEqual([0, 1, 2]);
    expect(upstream!.aborted).toBe(false);
  });
});

describe('guardOwnStream (a stream that arms and classifies itself)', () => {
  /** A self-guarded stream as the OpenAI adapter's: arm per event, the guard's error, ended() at the end. */
  function own(events: (signal: { aborted: boolean }) => AsyncGenerator<number>, timeoutMs = 0) {
    let upstream: { aborted: boolean } | undefined;
    const parts = guardOwnStream<number>(callContext({ timeoutMs }), { provider: 'p' }, async (signal, guard) => {
      upstream = signal;
      return (async function* () {
        try {
          for await (const ev of events(signal)) {
            guard.arm();
            yield ev;
          }
        } catch (err) {
          throw guard.fail(err);
        }
        guard.ended();
      })();
    });
    return { parts, upstream: () => upstream! };
  }

  it('re-arms its clock per event: a slow but steady stream is not timed out', async () => {
    const { parts } = own(async function* () {
      for (let i = 0; i < 8; i++) {
        await new Promise((r) => setTimeout(r, 40));
        yield i;
      }
    }, 200);
    expect(await collect(parts)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('times out a stall as a provider timeout and aborts the upstream request', async () => {
    const { parts, upstream } = own(async function* (signal) {
      yield 1;
      // An upstream that sends nothing more: its read ends only when the request is aborted.
      while (!signal.aborted) await new Promise((r) => setTimeout(r, 10));
      throw new DOMException('aborted', 'AbortError');
    }, 100);
    const err = await rejection(collect(parts));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: 'timeout', provider: 'p' });
    expect(upstream().aborted).toBe(true);
  });

  it('treats a quiet end after its clock fired as a timeout, not a complete answer', async () => {
    const { parts } = own(async function* (signal) {
      yield 1;
      while (!signal.aborted) await new Promise((r) => setTimeout(r, 10));
      // The SDKs end a stream quietly when its request is aborted.
    }, 100);
    expect(await rejection(collect(parts))).toMatchObject({ kind: 'timeout' });
  });

  it('classifies a socket reset mid-stream, and lets our own exception through unchanged', async () => {
    const reset = own(async function* () {
      yield 1;
      throw Object.assign(new TypeError('terminated'), { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });
    });
    expect(await rejection(collect(reset.parts))).toMatchObject({ kind: 'connection', message: 'terminated' });
    const bug = new TypeError('our own bug');
    const ours = own(async function* () {
      yield 1;
      throw bug;
    });
    expect(await rejection(collect(ours.parts))).toBe(bug);
  });

  it('classifies a failure to open the stream', async () => {
    const parts = guardOwnStream<number>(callContext(), { provider: 'p' }, async () => {
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    });
    expect(await rejection(collect(parts))).toMatchObject({ kind: 'connection', provider: 'p' });
  });

  it('aborts the upstream request when the consumer stops early', async () => {
    const { parts, upstream } = own(async function* () {
      for (let i = 0; ; i++) yield i;
    });
    for await (const p of parts) if (p === 2) break;
    expect(upstream().aborted).toBe(true);
  });
});

describe('transportErrorKind', () => {
  it.each([
    [Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }), 'connection'],
    [Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), 'connection'],
    [Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }), 'connection'],
    [Object.assign(new Error('getaddrinfo ENOTFOUND x'), { code: 'ENOTFOUND' }), 'connection'],
    [Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('Headers Timeout Error'), { code: 'UND_ERR_HEADERS_TIMEOUT' }) }), 'timeout'],
    [Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' }), 'timeout'],
    [Object.assign(new Error('Parse Error: Invalid header value char'), { code: 'HPE_INVALID_HEADER_TOKEN' }), 'malformed'],
    [new DOMException('no answer', 'TimeoutError'), 'timeout'],
    [new SyntaxError('Unexpected token < in JSON at position 0'), 'malformed'],
  ])('%s → %s', (err, kind) => {
    expect(transportErrorKind(err)).toBe(kind);
  });

  it.each([
    [new RangeError('Maximum call stack size exceeded')],
    [new TypeError("Cannot read properties of undefined (reading 'choices')")],
    [new Error('something of ours')],
    [Object.assign(new Error('invalid url'), { code: 'ERR_INVALID_URL' })],
    ['a string'],
    [undefined],
  ])('%s is not an upstream failure', (err) => {
    expect(transportErrorKind(err)).toBeUndefined();
  });
});
