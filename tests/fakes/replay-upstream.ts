/**
 * @module A fake upstream that replays recorded answers byte for byte: each request takes the next
 * queued answer (status, content type, body), and an SSE/NDJSON body is written one event per write,
 * so clients parse it incrementally as they would a real stream. Requests are recorded.
 */
import { startFakeServer, type FakeServer } from './fake-server.js';

export interface ReplayAnswer {
  status?: number;
  contentType?: string;
  body: string;
  headers?: Record<string, string>;
}

export interface ReplayUpstream extends FakeServer {
  /** Queues answers, consumed in order; with none queued the fake answers 404 "404 page not found". */
  next(...a: ReplayAnswer[]): void;
}

/** Splits a stream body into its events (SSE: blank-line separated; NDJSON: lines). */
function pieces(body: string, contentType: string): string[] {
  if (contentType.includes('event-stream')) return body.split(/(?<=\r?\n\r?\n)/);
  if (contentType.includes('ndjson')) return body.split(/(?<=\n)/);
  return [body];
}

export async function startReplayUpstream(): Promise<ReplayUpstream> {
  const queue: ReplayAnswer[] = [];
  const fake = (await startFakeServer(async (_req, res) => {
    const a = queue.shift() ?? { status: 404, contentType: 'text/plain; charset=utf-8', body: '404 page not found' };
    const contentType = a.contentType ?? 'application/json';
    res.writeHead(a.status ?? 200, { 'content-type': contentType, ...a.headers });
    for (const p of pieces(a.body, contentType)) {
      res.write(p);
      await new Promise<void>((r) => setImmediate(r));
    }
    res.end();
  })) as ReplayUpstream;
  fake.next = (...a) => void queue.push(...a);
  return fake;
}
