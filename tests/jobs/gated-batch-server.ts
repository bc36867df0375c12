/**
 * @module The fixture of the batch tests that watch lines at the upstream: a gated fake OpenAI upstream
 * (it holds each request until the test releases it), one aisbf with provider `local` (model `m`) on
 * it, an openai SDK client, and `until` to wait for a state without timings.
 */
import OpenAI from 'openai';
import { startGatedOpenAI, type GatedOpenAI } from '../fakes/gated-openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';

export interface GatedBatchServer {
  up: GatedOpenAI;
  aisbf: TestServer;
  client: OpenAI;
  /** Lets every held request go, then stops aisbf and the upstream. */
  close(): Promise<void>;
}

export async function startGatedBatchServer(opts: { model?: Record<string, unknown>; batches: Record<string, unknown> }): Promise<GatedBatchServer> {
  const up = await startGatedOpenAI();
  const aisbf = await startAisbf({
    providers: { local: { type: 'openai', endpoint: up.baseURL, api_key: 'sk-up', models: [{ name: 'm', ...opts.model }] } },
    aisbf: { batches: opts.batches },
  });
  const client = new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: 'k', maxRetries: 0 });
  return {
    up,
    aisbf,
    client,
    async close() {
      up.passThrough = true;
      for (const h of [...up.held]) h.release();
      await aisbf.close();
      await up.close();
    },
  };
}

/** Polls `get` every 10 ms until `ok` accepts its value (at most 5 s). */
export async function until<T>(what: string, get: () => Promise<T> | T, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const v = await get();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never: ${what}`);
}
