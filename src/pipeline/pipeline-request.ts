/**
 * @module What a caller hands to runRequest and what it gets back. Results carry data only (what
 * served, how many attempts, autoselect's reason, effective_context): the inbound layer renders
 * headers, bodies and logs from them, never the pipeline.
 */
import type { Logger } from 'pino';
import type { CallContext, UploadedFile } from '../providers/provider-adapter.js';
import type { ChatCompletion, ChatRequest, ChatStreamPart, Usage } from '../providers/openai-types.js';
import type { Candidate, ClientKeys } from '../routing/candidate.js';
import type { CapabilityNeed } from '../routing/capability-filter.js';
import type { Scope } from '../routing/resolve-target.js';
import type { RoutingState } from '../routing/routing-state.js';
import type { Runtime } from '../runtime.js';
import type { PipelineStages } from './stages.js';
import type { Identity } from './request-meta.js';

/** The long-lived services the pipeline runs on (AppDeps satisfies this). */
export interface PipelineDeps {
  /** The current runtime; read once per request. */
  runtime(): Runtime;
  log: Logger;
  routing: RoutingState;
  stages: PipelineStages;
  /** Files uploaded to /v1/files, for chat `file_id` parts (jobs/uploaded-files.ts); absent: none are looked up. */
  files?: UploadedFiles;
}

/** Uploaded files as the pipeline hands them to the attempt loop: one id, seen as `identity`. */
export interface UploadedFiles {
  find(fileId: string, identity: Identity): UploadedFile | undefined;
}

/**
 * What should serve the request:
 * - `scope` + `model`: what a client sent on `/api/{id}`, `/api/rotations`, `/api/autoselect` or `/v1`
 *   (resolved autoselect → rotation → provider, errors name the field);
 * - `name`: a configured rotation id or `provider/model` (compat routes, internal callers);
 * - `candidates`: an already planned list (a glasses profile-key group), with its rotation id.
 */
export type TargetRef =
  | { scope: Scope; model: string | undefined }
  | { name: string }
  | { candidates: readonly Candidate[]; rotationId?: string; name: string };

/** Options every request kind shares. */
interface CallOptions {
  target: TargetRef;
  /** Provider keys for this call instead of meta.keys (profile keys; `{}` = configured keys only). */
  keys?: ClientKeys;
  /** Upper bound for each upstream call, below the candidate's own timeout (capability calls). */
  timeoutMs?: number;
  /** Leave health and rate-limit state alone, and try candidates in the given order (helper calls). */
  noHealth?: boolean;
  /** Told once when the request settles (the request log line). */
  observer?: SettleObserver;
}

/** A chat completion: JSON, or a stream when `req.stream` is true. */
export interface ChatCall extends CallOptions {
  kind: 'chat';
  req: ChatRequest;
}

/** Any other capability: `call` runs once per attempted candidate (embeddings, images, audio, video, OCR…). */
export interface CapabilityCall<T> extends CallOptions {
  kind: 'capability';
  /** Keeps only candidates that can serve it (400 naming the capability when none can). */
  need?: CapabilityNeed;
  /** Further narrows the candidates (e.g. vision-capable ones); keeps the order. */
  filter?: (c: Candidate) => boolean;
  call: (c: Candidate, ctx: CallContext) => Promise<T>;
  /** Token usage of a result, for limits and accounting (embeddings, chat-shaped compat calls). */
  usageOf?: (value: T) => Usage | undefined;
  /**
   * True for a served value that is still streaming (a pass-through stream): the request settles
   * when the caller calls `result.end` once, with the usage its final events reported; until then
   * the admission slot is held and the candidate's success is not yet recorded.
   */
  streaming?: (value: T) => boolean;
}

export type PipelineRequest = ChatCall | CapabilityCall<unknown>;

/** What served a request: configured ids (the model part of a direct `provider/model` is the client's). */
export interface ServedBy {
  providerId: string;
  model: string;
  attempts: number;
  /** Set when an autoselect chose: the chosen id and why (`selected`, `only-capable`, `fallback:<why>`). */
  autoselect?: { chosen: string; reason: string };
}

export interface ChatJsonResult {
  kind: 'json';
  completion: ChatCompletion;
  /** Undefined for a cache hit. */
  served: ServedBy | undefined;
  cacheHit: boolean;
}

/** How a stream ended, told by the writer exactly once. */
export interface StreamEnd {
  usage?: Usage;
  /** A failure after the stream began. */
  error?: unknown;
  /** The client went away first. */
  aborted: boolean;
}

/**
 * A chat stream: the writer pulls `parts` (primed: the first part already arrived, so failover
 * happened before any byte), calls `finalizeUsage` for the last chunk and `end` once when it stops
 * however it stops, and `cancel` when the client's socket closes.
 */
export interface ChatStreamResult {
  kind: 'stream';
  parts: AsyncIterator<ChatStreamPart>;
  served: ServedBy | undefined;
  cacheHit: boolean;
  /** Fills usage.effective_context (and our own prompt count when the upstream reported none). */
  finalizeUsage(usage: Usage | undefined): Usage;
  end(outcome: StreamEnd): void;
  /** The client went away: abort the upstream call. */
  cancel(): void;
}

export type ChatResult = ChatJsonResult | ChatStreamResult;

export interface CapabilityResult<T> {
  value: T;
  served: ServedBy;
  /** The candidate that served (its adapter, settings). */
  candidate: Candidate;
  /** The rotation the candidates came from (directly or as an autoselect's fallback). */
  rotationId: string | undefined;
  /** Set when `streaming(value)` was true: call exactly once when the stream ended, however it ended. */
  end?: (outcome: StreamEnd) => void;
}

/** How a request settled, for the request log line (status the client got, what served, tokens). */
export interface SettleInfo {
  readonly status: number;
  readonly providerId: string | undefined;
  readonly model: string | undefined;
  readonly attempts: number;
  readonly usage: Usage | undefined;
  readonly error: unknown;
  readonly aborted: boolean;
  readonly stream: boolean;
}

export interface SettleObserver {
  settled(info: SettleInfo): void;
}
