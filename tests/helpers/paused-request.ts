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
