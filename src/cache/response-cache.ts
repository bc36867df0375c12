/**
 * @module The cache stage (CONTRACTS §7.8 item 36): exact match on the normalised request,
 * partitioned by key. Never for `n > 1`, `Cache-Control: no-cache|no-store`, errors, truncated
 * streams, or answers that call tools (their result depends on what the tools do next).
 */
import type { Runtime } from '../runtime.js';
import type { ChatRequest, ChatStreamPart } from '../providers/openai-types.js';
import type { RequestMeta } from '../pipeline/request-meta.js';
import type { CacheStage, CachedChat } from '../pipeline/stages.js';
import { chatCacheKey } from './cache-key.js';
import { MemoryCacheStore, type CacheStore } from './cache-store.js';

interface CacheSettings {
  enabled: boolean;
  ttlMs: number;
  maxBytes: number;
}

function settingsOf(rt: Runtime): CacheSettings {
  const c = (rt.config.aisbf as { cache?: { enabled?: boolean; ttl_seconds?: number; max_mb?: number } }).cache;
  return { enabled: c?.enabled === true, ttlMs: 1000 * (c?.ttl_seconds ?? 3600), maxBytes: Math.round((c?.max_mb ?? 64) * 1024 * 1024) };
}

/** Parts as plain data (a raw upstream chunk keeps its text; its parsed form is rebuilt on replay). */
function plainPart(p: ChatStreamPart): unknown {
  if (p.type === 'chunk') return { type: 'chunk', raw: p.raw ?? JSON.stringify(p.chunk), final: p.final || undefined };
  return p;
}

function revivePart(p: { type: string; raw?: string; final?: boolean }): ChatStreamPart {
  if (p.type !== 'chunk') return p as ChatStreamPart;
  const raw = p.raw!;
  let parsed: unknown;
  return {
    type: 'chunk',
    raw,
    final: p.final,
    get chunk() {
      return (parsed ??= JSON.parse(raw));
    },
  } as ChatStreamPart;
}

function callsTools(answer: CachedChat): boolean {
  if (answer.kind === 'json') return answer.completion.choices.some((c) => c.finish_reason === 'tool_calls' || (c.message.tool_calls?.length ?? 0) > 0);
  return answer.parts.some((p) => p.type === 'tool-call-delta' || (p.type === 'finish' && p.finishReason === 'tool_calls') || (p.type === 'chunk' && (p.raw ?? '').includes('"tool_calls"')));
}

export class ResponseCache implements CacheStage {
  private seen: Runtime | undefined;
  private settings: CacheSettings = { enabled: false, ttlMs: 0, maxBytes: 0 };
  readonly memory: MemoryCacheStore;

  /** `store` defaults to the in-process LRU; the Redis store is passed with storage.redis. */
  constructor(
    private readonly runtime: () => Runtime,
    private backend?: CacheStore,
  ) {
    this.memory = new MemoryCacheStore(0);
    this.refresh();
  }

  private refresh(): CacheSettings {
    const rt = this.runtime();
    if (rt !== this.seen) {
      this.seen = rt;
      this.settings = settingsOf(rt);
      this.memory.setMaxBytes(this.settings.maxBytes);
    }
    return this.settings;
  }

  get inactive(): boolean {
    return !this.refresh().enabled;
  }

  private usable(meta: RequestMeta, req: ChatRequest): boolean {
    return !meta.noCache && (req.n === undefined || req.n === null || req.n === 1) && this.refresh().enabled;
  }

  /** A miss hashes once: the key found by lookup is the one its answer is stored under. */
  private readonly keys = new WeakMap<ChatRequest, string>();

  private keyOf(meta: RequestMeta, target: string, req: ChatRequest): string {
    let k = this.keys.get(req);
    if (k === undefined) {
      k = `aisbf:cache:${chatCacheKey(meta, target, req)}`;
      this.keys.set(req, k);
    }
    return k;
  }

  async lookup(meta: RequestMeta, target: string, req: ChatRequest): Promise<CachedChat | undefined> {
    if (!this.usable(meta, req)) return undefined;
    let v: { kind: 'json'; completion: CachedChat & { kind: 'json' } } | { kind: 'stream'; parts: Array<{ type: string }> };
    try {
      const text = await (this.backend ?? this.memory).get(this.keyOf(meta, target, req));
      if (text === undefined) return undefined;
      v = JSON.parse(text) as typeof v;
    } catch {
      // A store that failed (the primary or Redis away) or an unreadable entry is a miss, never an error.
      return undefined;
    }
    if (v.kind === 'stream') return { kind: 'stream', parts: v.parts.map(revivePart) };
    return v as unknown as CachedChat;
  }

  store(meta: RequestMeta, target: string, req: ChatRequest, answer: CachedChat): void {
    if (!this.usable(meta, req) || callsTools(answer)) return;
    const value = answer.kind === 'json' ? JSON.stringify(answer) : JSON.stringify({ kind: 'stream', parts: answer.parts.map(plainPart) });
    (this.backend ?? this.memory).set(this.keyOf(meta, target, req), value, this.settings.ttlMs);
  }

  /** With storage.redis: share answers between instances. */
  useStore(store: CacheStore | undefined): void {
    this.backend = store;
  }
}
