/**
 * @module A fake OpenAI-compatible chat upstream that holds every request until the test lets it go:
 * the order requests reach it (each carries a marker, its last user message) and how many it holds
 * at once are what the admission tests assert on — never timings. JSON answers are OpenAI's
 * `chat.completion`; streams send their first chunk at once and the rest (then `[DONE]`) on release.
 */
import { startFakeServer, sendJson, type FakeServer } from './fake-server.js';

export interface HeldRequest {
  marker: string;
  model: string;
  stream: boolean;
  /** Answers (JSON) or ends the stream. */
  release(): void;
}

export interface GatedOpenAI extends FakeServer {
  baseURL: string;
  /** Markers in the order their requests arrived. */
  arrivals: string[];
  /** Requests being held right now. */
  held: HeldRequest[];
  /** Most requests held at the same time. */
  peakHeld: number;
  /** Resolves once `n` requests have arrived in total. */
  arrived(n: number): Promise<void>;
  /** Releases the held request with this marker (throws if it is not held). */
  release(marker: string): void;
  /** Answers at once from now on (no holding), or holds again. */
  passThrough: boolean;
}

export async function startGatedOpenAI(): Promise<GatedOpenAI> {
  const arrivals: string[] = [];
  const held: HeldRequest[] = [];
  let waiters: Array<{ n: number; resolve: () => void }> = [];
  const gated = {} as GatedOpenAI;
  const server = await startFakeServer((req, res) => {
    if (req.path !== '/v1/chat/completions') return sendJson(res, 404, { error: { message: 'not here', type: 'invalid_request_error', param: null, code: null } });
    const msgs: Array<{ role: string; content: unknown }> = req.body?.messages ?? [];
    const marker = String(msgs.at(-1)?.content ?? '');
    const model = String(req.body?.model ?? '');
    const stream = req.body?.stream === true;
    arrivals.push(marker);
    const base = { id: `chatcmpl-${arrivals.length}`, created: 1715367049, model };
    const usage = { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 };
    const answer = () => {
      if (!stream) return sendJson(res, 200, { ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: `ok ${marker}` }, finish_reason: 'stop', logprobs: null }], usage });
      res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: ' end' }, finish_reason: 'stop' }] })}\n\n`);
      res.end('data: [DONE]\n\n');
    };
    if (stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: 'start' }, finish_reason: null }] })}\n\n`);
    }
    for (const w of waiters.filter((w) => arrivals.length >= w.n)) w.resolve();
    waiters = waiters.filter((w) => arrivals.length < w.n);
    if (gated.passThrough) return answer();
    return new Promise<void>((resolve) => {
      const h: HeldRequest = {
        marker,
        model,
        stream,
        release: () => {
          held.splice(held.indexOf(h), 1);
          answer();
          resolve();
        },
      };
      held.push(h);
      gated.peakHeld = Math.max(gated.peakHeld, held.length);
      res.on('close', () => {
        const i = held.indexOf(h);
        if (i >= 0) held.splice(i, 1);
        resolve();
      });
    });
  });
  return Object.assign(gated, server, {
    baseURL: `${server.origin}/v1`,
    arrivals,
    held,
    peakHeld: 0,
    passThrough: false,
    arrived: (n: number) => (arrivals.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }))),
    release: (marker: string) => {
      const h = held.find((x) => x.marker === marker);
      if (!h) throw new Error(`no held request ${marker} (held: ${held.map((x) => x.marker).join(', ')})`);
      h.release();
    },
  });
}
