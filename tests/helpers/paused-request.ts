/**
 * A raw HTTP client that reads nothing of the answer until told to, for the tests of a client that
 * stops reading (back-pressure all the way to the upstream) or leaves mid-stream. An SDK would read
 * at once; node's `request` with the response paused is the client that does not.
 */
import { request, type IncomingMessage } from 'node:http';

/** POSTs `body` as JSON to `url` and resolves with the response paused (status and headers read, no body). */
export function postPaused(url: string, body: unknown, headers: Record<string, string> = {}): Promise<IncomingMessage> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      res.pause();
      resolve(res);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** Reads a (paused) response to its end, as text. */
export async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.resume();
  await new Promise((r) => res.on('end', r));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Reads what is left of a response aisbf closed: a client that stopped reading cannot notice the
 * close until it reads again (its socket is not polled meanwhile), then finds the stream cut short.
 */
export function readCut(res: IncomingMessage): Promise<{ text: string; complete: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    res.on('data', (c: Buffer) => (text += c.toString('utf8')));
    res.on('error', () => undefined);
    res.on('close', () => resolve({ text, complete: res.complete }));
    res.resume();
  });
}

/**
 * Waits until `count()` (what an upstream has written so far) stops growing for `quietMs`, and returns
 * where it stopped: an upstream held back by a client that does not read stops somewhere short of its
 * end, wherever the buffers on the way (which the host sizes) happen to fill. Asserting that it
 * stopped short, rather than below a fixed share, does not move with the host.
 */
export async function settledCount(count: () => number, quietMs = 300, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = count();
  let since = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    const now = count();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return now;
    }
  }
  throw new Error(`the upstream kept writing for ${timeoutMs} ms (${last} events): nothing held it back`);
}
