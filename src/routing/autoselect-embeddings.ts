/**
 * @module The `"selector": "embeddings"` mode: picks the candidate whose description is closest
 * (cosine similarity) to the request's last user text, using the configured `embedding_model`.
 * Descriptions are embedded once per config load and cached; a request costs one embedding call.
 * Both calls are internal requests through the pipeline (failover over a rotation, health, records).
 */
import type { Config } from '../config/load-config.js';
import type { AutoselectConfig } from '../config/schema.js';
import type { EmbedResult } from '../providers/provider-adapter.js';
import type { Runtime } from '../runtime.js';
import type { Logger } from 'pino';
import type { ClientKeys } from './candidate.js';
import type { InternalCaller } from './internal-call.js';
import type { AbortLike } from '../providers/lite-abort.js';

/** The request's keys, signal and logger. */
export interface EmbedderContext {
  keys: ClientKeys;
  signal: AbortLike;
  log: Logger;
}

// Config object → autoselect id → description vectors (in available_models order).
const cache = new WeakMap<Config, Map<string, Promise<number[][]>>>();

function vectors(r: EmbedResult): number[][] {
  return [...r.data]
    .sort((a, b) => a.index - b.index)
    .map((d) => {
      if (typeof d.embedding !== 'string') return d.embedding;
      const b = Buffer.from(d.embedding, 'base64');
      return Array.from(new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4));
    });
}

async function embed(caller: InternalCaller, name: string, input: string[], timeoutMs: number): Promise<number[][]> {
  const r = await caller.callInternal<EmbedResult>({
    route: 'internal:selector-embed',
    name,
    filter: (c) => typeof c.adapter.embed === 'function',
    timeoutMs,
    call: (c, ctx) => c.adapter.embed!({ model: c.model, input, encoding_format: 'float' }, ctx),
    usageOf: (v) => (v.usage ? { prompt_tokens: v.usage.prompt_tokens ?? 0, completion_tokens: 0, total_tokens: v.usage.total_tokens ?? v.usage.prompt_tokens ?? 0 } : undefined),
  });
  const v = vectors(r);
  if (v.length !== input.length) throw new Error(`embedding_model returned ${v.length} vectors for ${input.length} inputs`);
  return v;
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/** Returns the model_id among `allowed` closest to `query`. */
export async function selectByEmbeddings(
  rt: Runtime,
  id: string,
  cfg: AutoselectConfig,
  query: string,
  allowed: ReadonlySet<string>,
  caller: InternalCaller,
  timeoutMs: number,
): Promise<string> {
  const name = cfg.embedding_model;
  if (!name) throw new Error('"selector": "embeddings" needs "embedding_model" (provider/model)');
  let perConfig = cache.get(rt.config);
  if (!perConfig) cache.set(rt.config, (perConfig = new Map()));
  let described = perConfig.get(id);
  if (!described) {
    const texts = cfg.available_models.map((m) => m.description || m.model_id);
    described = embed(caller, name, texts, timeoutMs);
    perConfig.set(id, described);
    // A failure is not cached: the next request tries again.
    described.catch(() => perConfig.delete(id));
  }
  const [descriptions, [q]] = await Promise.all([described, embed(caller, name, [query], timeoutMs)]);
  let best: string | undefined;
  let bestScore = -Infinity;
  cfg.available_models.forEach((m, i) => {
    if (!allowed.has(m.model_id)) return;
    const s = cosine(q!, descriptions[i]!);
    if (s > bestScore) {
      bestScore = s;
      best = m.model_id;
    }
  });
  if (!best) throw new Error('no candidate to compare');
  return best;
}
