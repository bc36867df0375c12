/**
 * @module A rotation over several fake OpenAI upstreams (one fake per provider), an aisbf on a temp
 * config with an injected clock, and helpers to read candidate state — for the routing tests.
 */
import OpenAI from 'openai';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestConfig, type TestServer } from '../helpers/aisbf-server.js';

export interface ManualClock {
  now: number;
  advance(ms: number): void;
}

export interface Fleet {
  fakes: Record<string, FakeOpenAI>;
  aisbf: TestServer;
  clock: ManualClock;
  /** The openai SDK on aisbf's /api/rotations base (model = rotation id). */
  client(): OpenAI;
  /** Chat requests each fake received. */
  calls(id: string): number;
  /** GET /api/rotations → the candidate entry of provider `id` in rotation `rid`. */
  state(rid: string, id: string): Promise<Record<string, any>>;
  close(): Promise<void>;
}

export interface FleetOptions {
  ids?: string[];
  /** Extra providers.json fields per provider id. */
  provider?: Record<string, Record<string, unknown>>;
  /** rotations.json `rotations`, given the provider ids. */
  rotations(ids: string[]): Record<string, unknown>;
  rotationsFile?: Record<string, unknown>;
}

/** A secret-looking key per provider, to prove none ever reaches a client. */
export const keyOf = (id: string) => `sk-${id}-secret-0123456789abcdef`;

export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  const ids = opts.ids ?? ['p1', 'p2', 'p3'];
  const fakes: Record<string, FakeOpenAI> = {};
  for (const id of ids) fakes[id] = await startFakeOpenAI();
  const providers: Record<string, unknown> = {};
  for (const id of ids) providers[id] = { type: 'openai', endpoint: fakes[id]!.baseURL, api_key: keyOf(id), models: [], ...opts.provider?.[id] };
  const clock: ManualClock = {
    now: Date.UTC(2026, 0, 1, 12, 0, 0),
    advance(ms) {
      this.now += ms;
    },
  };
  const cfg: TestConfig = { providers, rotations: opts.rotations(ids), rotationsFile: opts.rotationsFile };
  const aisbf = await startAisbf(cfg, {}, { clock: () => clock.now });
  return {
    fakes,
    aisbf,
    clock,
    client: () => new OpenAI({ baseURL: `${aisbf.url}/api/rotations`, apiKey: 'client-key', maxRetries: 0 }),
    calls: (id) => fakes[id]!.chatRequests().length,
    async state(rid, id) {
      const res = await fetch(`${aisbf.url}/api/rotations`);
      const body = (await res.json()) as Record<string, { models: Array<Record<string, any>> }>;
      const entry = body[rid]!.models.find((m) => m.provider_id === id);
      if (!entry) throw new Error(`no candidate ${id} in ${rid}`);
      return entry;
    },
    async close() {
      await aisbf.close();
      for (const f of Object.values(fakes)) await f.close();
    },
  };
}

/** A priority rotation `r` over the given ids, weights descending in the order given. */
export function priorityRotation(extra: Record<string, unknown> = {}, model = 'gpt-4o', models: Record<string, Record<string, unknown>> = {}) {
  return (ids: string[]) => ({
    r: {
      model_name: 'r',
      strategy: 'priority',
      ...extra,
      providers: ids.map((id, i) => ({ provider_id: id, models: [{ name: model, weight: ids.length - i, ...models[id] }] })),
    },
  });
}

/** POSTs a chat request to a rotation and returns status, headers and parsed body. */
export async function chat(fleet: Fleet, body: Record<string, unknown> = {}, path = '/api/rotations/chat/completions') {
  const res = await fetch(`${fleet.aisbf.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'r', messages: [{ role: 'user', content: 'hello' }], ...body }),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Parses an SSE body into its data payloads (the JSON objects, and "[DONE]"). */
export function sseData(text: string): Array<any> {
  return text
    .split('\n\n')
    .map((f) => f.trim())
    .filter((f) => f.startsWith('data: '))
    .map((f) => f.slice(6))
    .map((d) => (d === '[DONE]' ? d : JSON.parse(d)));
}
