/**
 * @module The `"selector": "embeddings"` mode: picks the candidate whose description is closest
 * (cosine similarity) to the request's last user text, using the configured `embedding_model`.
 * Descriptions are embedded once per config load and cached; a request costs one embedding call.
 */
import type { Config } from '../config/load-config.js';
import type { AutoselectConfig } from '../config/schema.js';
import type { CallContext, EmbedResult } from '../providers/provider-adapter.js';
import type { Runtime } from '../runtime.js';
import type { Logger } from 'pino';
import type { Candidate, ClientKeys } from './candidate.js';
import { resolveKey } from './resolve-key.js';
import { candidatesForName } from './target-candidates.js';

/** The request's keys, signal and logger. */
export interface EmbedderContext {
  keys: ClientKeys;
  signal: AbortSignal;
  log: Logger;
}

// Config object → autoselect id → description vectors (in available_models order).
const cache = new WeakMap<Config, Map<string, Promise<number[][]>>>();

function embedder(rt: Runtime, cfg: AutoselectConfig): Candidate {
  if (!cfg.embedding_model) throw new Error('"selector": "embeddings" needs "embedding_model" (provider/model)');
  const c = candidatesForName(rt, cfg.embedding_model).find((x) => typeof x.adapter.embed === 'function');
  if (!c) throw new Error(`embedding_model ${cfg.embedding_model} is not served by a provider that supports embeddings`);
  return c;
}

function vectors(r: EmbedResult): number[][] {
  return [...r.data]
    .sort((a, b) => a.index - b.index)
    .map((d) => {
      if (typeof d.embedding !== 'string') return d.embedding;
      const b = Buffer.from(d.embedding, 'base64');
      return Array.from(new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4));
    });
}

async function embed(rt: Runtime, c: Candidate, input: string[], opts: EmbedderContext, timeoutMs: number): Promise<number[][]> {
  const ctx: CallContext = {
    model: c.model,
    apiKey: resolveKey(c, opts.keys, rt.config.missingKeyEnv),
    signal: opts.signal,
    timeoutMs: Math.min(timeoutMs, rt.timeoutMs(c)),
    log: opts.log,
  };
  const r = await c.adapter.embed!({ model: c.model, input, encoding_format: 'float' }, ctx);
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
  opts: EmbedderContext,
  timeoutMs: number,
): Promise<string> {
  const c = embedder(rt, cfg);
  let perConfig = cache.get(rt.config);
  if (!perConfig) cache.set(rt.config, (perConfig = new Map()));
  let described = perConfig.get(id);
  if (!described) {
    const texts = cfg.available_models.map((m) => m.description || m.model_id);
    described = embed(rt, c, texts, opts, timeoutMs);
    perConfig.set(id, described);
    // A failure is not cached: the next request tries again.
    described.catch(() => perConfig.delete(id));
  }
  const [descriptions, [q]] = await Promise.all([described, embed(rt, c, [query], opts, timeoutMs)]);
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
