/**
 * @module The interfaces of the pipeline's stages (identity → limits → cache → plan → admission →
 * attempts → accounting; docs/architecture.md says why admission follows the cache) and their no-op versions. Features fill a stage by providing an
 * implementation in `PipelineStages`; routes never change for that. With nothing configured each
 * stage is one branch on the hot path.
 */
import type { Candidate } from '../routing/candidate.js';
import type { ChatCompletion, ChatRequest, ChatStreamPart } from '../providers/provider-adapter.js';
import { NO_TICKET } from '../identity/no-ticket.js';
import { ANONYMOUS, type Identity, type RequestMeta } from './request-meta.js';

/** Token counts of one settled request, by type (usage records, prices, key tpm windows). */
export interface TokenUsage {
  prompt: number;
  completion: number;
  /** Prompt tokens served from the provider's prompt cache (priced as cached input). */
  cached: number;
  /** Completion tokens spent on reasoning (priced as reasoning when the catalogue says so). */
  reasoning: number;
  /** Prompt tokens written to the provider's prompt cache (Anthropic cache_creation). */
  cacheWrite?: number;
  /** Tokens actually sent after condensation (usage.effective_context). */
  effectiveContext?: number;
}

/** What one request cost and how it ended: the accounting stage's input (CONTRACTS §7.4 item 28). */
export interface SettledRequest {
  meta: RequestMeta;
  /** What the client asked for: `provider/model`, a rotation id or an autoselect id (configured ids only). */
  target?: string;
  /** The candidate that served (or the last one tried). */
  providerId?: string;
  model?: string;
  attempts: number;
  /** Status the client got; 200 for a stream that began. */
  status: number;
  /** Our error code (`rate_limit_exceeded`, `queue_full`, …) or the upstream's kind. */
  errorCode?: string;
  usage?: TokenUsage;
  /** USD; 0 for cache hits and local models; undefined when no price is known. */
  costUsd?: number;
  latencyMs: number;
  /** ms from the first upstream attempt to the end (undefined when no upstream was called: refused, cache hit). */
  upstreamMs?: number;
  /** Streams: ms to the first part. */
  ttftMs?: number;
  stream: boolean;
  cacheHit: boolean;
  /** Candidates that failed before the one that served. */
  failovers: number;
  /** Client went away before the answer ended. */
  aborted?: boolean;
}

/** identity: the request's credentials → an Identity. Throws HttpError 401 (bad or missing) or 400. */
export interface IdentityStage {
  resolve(meta: RequestMeta): Identity | Promise<Identity>;
  /** True when auth is off: every caller is anonymous and the pipeline skips the stage. */
  readonly inactive?: boolean;
}

/** What the limits stage holds for a request until it settles (a parallel slot, a pending spend). */
export interface LimitTicket {
  /** Called exactly once when the request settled: release slots (if `release` has not), add tokens and spend. */
  settle(outcome: SettledRequest): void;
  /**
   * Frees what the request holds (its parallel slot) at once, when the answer is handed back: the
   * rest of `settle` may run after the response is sent, but a client's next request must find the
   * slot free. Idempotent; `settle` calls it too.
   */
  release(): void;
  /** True for a ticket that holds nothing (no limits): the pipeline may skip building the record. */
  readonly inactive?: boolean;
}

/**
 * limits: the identity's model scope (403 `model_not_allowed`), rpm / tpm / max_parallel (429
 * `rate_limit_exceeded`) and budget (429 `budget_exceeded`), each with Retry-After.
 */
export interface LimitsStage {
  admit(meta: RequestMeta, target: string): LimitTicket | Promise<LimitTicket>;
}

export interface AdmissionSlot {
  /** Frees the slot (once; later calls are ignored). `failed` counts the request in total_failed. */
  release(failed?: boolean): void;
}

/** The seed's `/admin/queue/{id}` numbers for one gate (a provider or a provider/model). */
export interface QueueStats {
  model: string;
  processing: number;
  waiting: number;
  max_concurrent: number | null;
  max_waiting: number | null;
  total_processed: number;
  total_failed: number;
  total_timeout: number;
  utilization: number;
}

/**
 * admission: per provider/model concurrency with a priority queue (CONTRACTS §7.3 item 26). The
 * attempt loop asks `tryAcquire` for each candidate in order (a rotation passes over a saturated
 * member), and only when none is free waits with `acquire`.
 */
export interface AdmissionStage {
  /** True when no candidate can ever wait or be refused (nothing configured): skip the stage. */
  readonly inactive: boolean;
  /**
   * A slot now, or undefined when the candidate is saturated. Unlimited candidates always get one.
   * A shared backend (the cluster primary, Redis) answers with a promise; the local queue never does.
   */
  tryAcquire(c: Candidate, meta: RequestMeta): AdmissionSlot | undefined | Promise<AdmissionSlot | undefined>;
  /** Waits for a slot on one of `candidates`; throws HttpError 429 `queue_full`, 503 `queue_timeout`, or ClientGoneError. */
  acquire(candidates: readonly Candidate[], meta: RequestMeta): Promise<{ candidate: Candidate; slot: AdmissionSlot }>;
  /** `/admin/queue/{id}`; undefined when the id has no limit. */
  stats(id: string): QueueStats | undefined;
  /** Every gate in use (metrics: aisbf_queue_waiting / aisbf_queue_processing). */
  snapshot(): QueueStats[];
}

/** A cached chat answer: the JSON completion, or the parts of a stream that ended well. */
export type CachedChat = { kind: 'json'; completion: ChatCompletion } | { kind: 'stream'; parts: ChatStreamPart[] };

/** cache: exact match on the normalised request, partitioned by key (CONTRACTS §7.8 item 36). */
export interface CacheStage {
  readonly inactive: boolean;
  lookup(meta: RequestMeta, target: string, req: ChatRequest): CachedChat | undefined | Promise<CachedChat | undefined>;
  store(meta: RequestMeta, target: string, req: ChatRequest, answer: CachedChat): void;
}

/** accounting: one usage record per request, metrics, spend. Never throws, never blocks. */
export interface AccountingStage {
  record(settled: SettledRequest): void;
  /** True when nothing is recorded: with inactive tickets too, no SettledRequest is built at all. */
  readonly inactive?: boolean;
}

/**
 * Stopped models (CONTRACTS §7.4, filled by accounting/admin): a stopped candidate is skipped by
 * rotations and, named directly, answers 503 `model_stopped`.
 */
export interface ModelGate {
  /** True when nothing is ever stopped: the attempt loop skips the check. */
  readonly inactive: boolean;
  /** `candidateKey` is `provider/model`. */
  isStopped(candidateKey: string): boolean;
}

/** Prices (USD) from the catalogue and providers.json overrides; undefined = unknown model. */
export interface PriceBook {
  cost(providerId: string, model: string, usage: TokenUsage): number | undefined;
}

export interface PipelineStages {
  identity: IdentityStage;
  limits: LimitsStage;
  admission: AdmissionStage;
  cache: CacheStage;
  accounting: AccountingStage;
  prices: PriceBook;
  modelGate: ModelGate;
}

const FREE_SLOT: AdmissionSlot = { release() {} };

/** Every stage off: anonymous callers, no limits, no queue, no cache, nothing recorded. */
export function noopStages(): PipelineStages {
  return {
    identity: { resolve: () => ANONYMOUS, inactive: true },
    limits: { admit: () => NO_TICKET },
    admission: {
      inactive: true,
      tryAcquire: () => FREE_SLOT,
      acquire: async (candidates) => ({ candidate: candidates[0]!, slot: FREE_SLOT }),
      stats: () => undefined,
      snapshot: () => [],
    },
    cache: { inactive: true, lookup: () => undefined, store() {} },
    accounting: { record() {}, inactive: true },
    prices: { cost: () => undefined },
    modelGate: { inactive: true, isStopped: () => false },
  };
}
