/**
 * @module The bench's load driver (node:http, keep-alive): closed loop (N workers back to back),
 * open loop (a fixed arrival rate, latency measured from the scheduled send time so queueing is not
 * hidden), and streaming (time to first byte and to last byte). Every loop is bounded in time.
 */
import { Agent, request } from 'node:http';

export interface LoadTarget {
  name: string;
  /** http://127.0.0.1:PORT */
  origin: string;
  path: string;
  body: string | Buffer;
  /** Bodies used in turn instead of `body` (e.g. one per simulated client). */
  variants?: Array<{ body: string | Buffer; headers?: Record<string, string> }>;
  headers?: Record<string, string>;
  method?: 'POST' | 'GET';
  /** Multipart and other non-JSON bodies. */
  contentType?: string;
}

export interface Sample {
  ok: number;
  errors: number;
  /** Latencies in ms. */
  lat: number[];
  ttfb: number[];
  seconds: number;
}

let turn = 0;

function once(t: LoadTarget, agent: Agent, stream: boolean): Promise<{ ok: boolean; ttfb: number; total: number }> {
  const url = new URL(t.origin);
  const v = t.variants?.[turn++ % t.variants.length];
  const body = v?.body ?? t.body;
  const start = performance.now();
  return new Promise((resolve) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: t.path,
        method: t.method ?? 'POST',
        headers: { 'content-type': t.contentType ?? 'application/json', 'content-length': Buffer.byteLength(body), ...t.headers, ...v?.headers },
      },
      (res) => {
        let ttfb = 0;
        let tail = '';
        res.on('data', (c: Buffer) => {
          if (!ttfb) ttfb = performance.now() - start;
          if (stream) tail = (tail + c.toString('latin1')).slice(-32);
        });
        res.on('end', () => {
          const ok = res.statusCode === 200 && (!stream || tail.endsWith('data: [DONE]\n\n'));
          resolve({ ok, ttfb, total: performance.now() - start });
        });
        res.on('error', () => resolve({ ok: false, ttfb, total: performance.now() - start }));
      },
    );
    req.on('error', () => resolve({ ok: false, ttfb: 0, total: performance.now() - start }));
    req.setTimeout(10_000, () => req.destroy());
    if (t.method !== 'GET') req.end(body);
    else req.end();
  });
}

/** N workers, each sending the next request when the last returns, for `seconds`. */
export async function closedLoop(t: LoadTarget, concurrency: number, seconds: number, stream = false): Promise<Sample> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const sample: Sample = { ok: 0, errors: 0, lat: [], ttfb: [], seconds };
  const end = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const r = await once(t, agent, stream);
      if (r.ok) {
        sample.ok++;
        sample.lat.push(r.total);
        sample.ttfb.push(r.ttfb);
      } else sample.errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return sample;
}

/** A fixed arrival rate for `seconds`; latency counts from the scheduled send time. */
export async function openLoop(t: LoadTarget, rate: number, seconds: number): Promise<Sample> {
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const sample: Sample = { ok: 0, errors: 0, lat: [], ttfb: [], seconds };
  const start = performance.now();
  const total = Math.round(rate * seconds);
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      once(t, agent, false).then((r) => {
        if (r.ok) {
          sample.ok++;
          sample.lat.push(performance.now() - due);
        } else sample.errors++;
      }),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  return sample;
}

export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}
