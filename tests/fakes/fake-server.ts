/**
 * @module The bones every fake upstream shares: a node:http server on 127.0.0.1 (random port) that
 * records each request (method, path, headers, parsed body), counts connections the client closed
 * before the answer ended, and hands the request to a wire-format-specific handler.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: any;
  rawBody: Buffer;
}

export interface FakeServer {
  /** http://127.0.0.1:PORT */
  origin: string;
  port: number;
  requests: RecordedRequest[];
  /** Requests whose connection the client (aisbf) closed before the response ended. */
  clientAborts: number;
  /** TCP connections accepted so far (keep-alive reuse shows as fewer connections than requests). */
  connections: number;
  /** Resolves when the next client abort happens. */
  nextAbort(): Promise<void>;
  close(): Promise<void>;
}

export type FakeHandler = (req: RecordedRequest, res: ServerResponse, raw: IncomingMessage) => void | Promise<void>;

export async function startFakeServer(handler: FakeHandler): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  let abortWaiters: Array<() => void> = [];
  const fake: FakeServer = {
    origin: '',
    port: 0,
    requests,
    clientAborts: 0,
    connections: 0,
    nextAbort: () => new Promise<void>((resolve) => abortWaiters.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://fake');
      let body: unknown = undefined;
      const type = req.headers['content-type'] ?? '';
      if (rawBody.length && type.includes('json')) {
        try {
          body = JSON.parse(rawBody.toString('utf8'));
        } catch {
          body = rawBody.toString('utf8');
        }
      }
      const rec: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body, rawBody };
      requests.push(rec);
      res.on('close', () => {
        if (!res.writableFinished) {
          fake.clientAborts++;
          const w = abortWaiters;
          abortWaiters = [];
          for (const f of w) f();
        }
      });
      Promise.resolve(handler(rec, res, req)).catch((err) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: String(err), type: 'server_error' } }));
      });
    });
  });
  server.on('connection', () => fake.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.port = (server.address() as AddressInfo).port;
  fake.origin = `http://127.0.0.1:${fake.port}`;
  return fake;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A fake upstream's stream: frames 0…n−1 as fast as the response's socket takes them (waiting for
 * 'drain'), then `end`, unless the response closes first (the gateway let go of it). `onFrame` is
 * told each index before its frame is written. Resolves true when the stream was cut before its end.
 */
export async function writeFrames(res: ServerResponse, n: number, frame: (i: number) => string, end: string, onFrame?: (i: number) => void): Promise<boolean> {
  for (let i = 0; i < n; i++) {
    if (res.destroyed) return true;
    onFrame?.(i);
    if (!res.write(frame(i))) await drainedOrClosed(res);
  }
  if (res.destroyed) return true;
  res.end(end);
  return false;
}

/** A fake upstream's response took what was written ('drain'), or closed: both listeners go either way. */
export function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}

/** Writes an error JSON body with a status and optional headers. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
