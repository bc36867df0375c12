/**
 * @module runRequest: the one entry every caller uses to reach a model. It runs the stages in one
 * fixed order — identity → limits → cache → plan → admission (inside the attempt loop) → attempts →
 * accounting — and returns data (the answer, what served it), never an HTTP response.
 *
 * Usage (deps: anything with runtime(), log, routing, stages — AppDeps is one):
 *
 *   // Chat, JSON or stream (req.stream decides). Route side:
 *   const meta = requestMetaFromHttp(c, rt, 'chat');             // server/request-meta-from-http.ts
 *   const r = await runRequest(deps, meta, { kind: 'chat', target: { scope, model: req.model }, req, observer: reqLog });
 *   if (r.kind === 'json') → render r.completion, headers from r.served (inbound/served-headers.ts)
 *   else → a writer pulls r.parts, calls r.finalizeUsage(u) for the last chunk, r.end({usage, error, aborted})
 *          exactly once, and r.cancel() when the client's socket closes (inbound/openai-chat/openai-chat-stream-writer.ts).
 *
 *   // Any other capability (embeddings, images, audio, video, OCR, a compat call):
 *   const r = await runRequest(deps, meta, { kind: 'capability', target: { scope, model }, need: NEEDS.embeddings,
 *                                           call: (cand, ctx) => cand.adapter.embed!(req, ctx), usageOf: (v) => v.usage });
 *   r.value, r.served, r.candidate
 *   // A configured target instead of a client's `model`: target: { name: 'my-rotation' } or { name: 'openai/gpt-4o' }.
 *
 *   // An internal call (caused by another request): meta = internalMeta(parentMeta, 'internal:judge'),
 *   // then runRequest as above; identity, limits and cache are skipped, accounting records it with `parent`.
 *   // Code below the pipeline (routing, context) gets an InternalCaller instead (routing/internal-call.ts).
 *
 * Errors are thrown (HttpError, ProviderError, RotationUnavailableError, ClientGoneError) after the
 * request was settled; the inbound layer renders them. On `/v1` and `/api/{id}` a rotation with every
 * member down and none rate-limited becomes a 503 with Retry-After (AISBF's report stays on the
 * `/api/rotations` and `/api/autoselect` bases, and whenever notifyerrors is on).
 */
import { afterResponse } from '../after-response.js';
import { ClientGoneError } from '../providers/deadline.js';
import { ProviderError } from '../providers/provider-error.js';
import type { CallContext } from '../providers/provider-adapter.js';
import type { ChatCompletion, ChatRequest, ChatStreamPart, Usage } from '../providers/openai-types.js';
import { HttpError } from '../errors/http-error.js';
import { estimateRequestTokens } from '../tokens/count-tokens.js';
import { chatCall, streamChatCall } from '../context/chat-call.js';
import type { Candidate } from '../routing/candidate.js';
import type { InternalCallSpec, InternalCaller } from '../routing/internal-call.js';
import { RotationUnavailableError } from '../routing/rotation-report.js';
import { isEmptyChatPart, primeStream, runWithFallback, type AttemptAdmission, type AttemptOptions, type AttemptSlot, type AttemptSuccess, type AttemptTrace } from '../routing/run-with-fallback.js';
import type { Runtime } from '../runtime.js';
import { recordSettled } from './accounting-stage.js';
import { cacheEligible, cacheLookup, collectParts, replayParts } from './cache-stage.js';
import { resolveIdentity } from './identity-stage.js';
import { admitLimits } from './limits-stage.js';
import { planCapability, planChat, resolveRef, type Plan } from './plan-stage.js';
import type {
  CapabilityCall,
  CapabilityResult,
  ChatCall,
  ChatJsonResult,
  ChatResult,
  ChatStreamResult,
  PipelineDeps,
  ServedBy,
  SettleInfo,
  SettleObserver,
  StreamEnd,
  TargetRef,
} from './pipeline-request.js';
import type { RequestMeta } from './request-meta.js';
import type { CachedChat, LimitTicket } from './stages.js';
import { LiteAbort, type AbortLike } from '../providers/lite-abort.js';
import { copyWith } from '../copy-with.js';

export type * from './pipeline-request.js';

export function runRequest(deps: PipelineDeps, meta: RequestMeta, request: ChatCall): Promise<ChatResult>;
export function runRequest<T>(deps: PipelineDeps, meta: RequestMeta, request: CapabilityCall<T>): Promise<CapabilityResult<T>>;
export function runRequest(deps: PipelineDeps, meta: RequestMeta, request: ChatCall | CapabilityCall<unknown>): Promise<ChatResult | CapabilityResult<unknown>> {
  return request.kind === 'chat' ? runChat(deps, meta, request) : runCapability(deps, meta, request);
}

/** The meta of a call made on behalf of `parent` (selector, condensation helper, glasses judge). */
export function internalMeta(parent: RequestMeta, route: string, keys = parent.keys): RequestMeta {
  return { ...parent, route, requestId: `${parent.requestId}:${route.slice(route.indexOf(':') + 1)}`, parent: parent.requestId, keys, credentials: undefined, startedAt: Date.now() };
}

/**
 * One request's state from entry to settlement. It is also what the attempt loop fills (trace),
 * asks for slots (admission), what lower layers call back for internal calls, and what the observer
 * reads when the request settles — one object instead of a closure per job.
 */
class RequestRun implements AttemptTrace, AttemptAdmission, InternalCaller, SettleInfo {
  attempts = 0;
  /** When the attempt loop first called an upstream (aisbf_upstream_duration_seconds). */
  upstreamStartedAt: number | undefined = undefined;
  private current: Candidate | undefined = undefined;
  target: string | undefined = undefined;
  ticket: LimitTicket | undefined = undefined;
  autoselect: ServedBy['autoselect'] = undefined;
  status = 0;
  usage: Usage | undefined = undefined;
  error: unknown = undefined;
  aborted = false;
  cacheHit = false;
  ttftMs: number | undefined = undefined;
  private settled = false;

  constructor(
    readonly deps: PipelineDeps,
    readonly rt: Runtime,
    readonly meta: RequestMeta,
    public stream: boolean,
    private readonly observer: SettleObserver | undefined,
  ) {}

  /** Set by the attempt loop right before it calls a candidate. */
  get candidate(): Candidate | undefined {
    return this.current;
  }

  set candidate(c: Candidate | undefined) {
    this.upstreamStartedAt ??= Date.now();
    this.current = c;
  }

  get providerId(): string | undefined {
    return this.candidate?.providerId;
  }

  get model(): string | undefined {
    return this.candidate?.model;
  }

  served(): ServedBy {
    const c = this.candidate!;
    return { providerId: c.providerId, model: c.model, attempts: this.attempts, autoselect: this.autoselect };
  }

  tryAcquire(c: Candidate): AttemptSlot | undefined | Promise<AttemptSlot | undefined> {
    return this.deps.stages.admission.tryAcquire(c, this.meta);
  }

  acquire(candidates: readonly Candidate[]): Promise<{ candidate: Candidate; slot: AttemptSlot }> {
    return this.deps.stages.admission.acquire(candidates, this.meta);
  }

  async callInternal<T>(spec: InternalCallSpec<T>): Promise<T> {
    const meta = internalMeta(this.meta, spec.route, spec.keys ?? this.meta.keys);
    const r = await runCapability(this.deps, meta, {
      kind: 'capability',
      target: { name: spec.name },
      call: spec.call,
      usageOf: spec.usageOf,
      noHealth: spec.noHealth,
      filter: spec.filter,
      timeoutMs: spec.timeoutMs,
    });
    return r.value;
  }

  /** The attempt loop's options for this request and plan. */
  attemptOptions(plan: Plan, call: { keys?: RequestMeta['keys']; noHealth?: boolean }, signal: AbortLike): AttemptOptions {
    const { stages } = this.deps;
    return {
      runtime: this.rt,
      keys: call.keys ?? this.meta.keys,
      signal,
      log: this.deps.log,
      requestId: this.meta.requestId,
      routing: call.noHealth ? undefined : this.deps.routing,
      rotation: call.noHealth ? undefined : plan.rotation,
      admission: stages.admission.inactive ? undefined : this,
      gate: stages.modelGate.inactive ? undefined : stages.modelGate,
      trace: this,
      // Chat `file_id` parts: the caller's own uploads (identity is resolved by now).
      resolveFile: this.deps.files && ((id) => Promise.resolve(this.deps.files!.find(id, this.meta.identity))),
    };
  }

  /** Exactly once: the accounting record, the limits ticket, the observer (request log). */
  settle(status: number, usage: Usage | undefined, error: unknown, aborted: boolean): void {
    if (this.settled) return;
    this.settled = true;
    this.status = status;
    this.usage = usage;
    this.error = error;
    this.aborted = aborted;
    recordSettled(this.deps.stages, this.ticket, {
      meta: this.meta,
      target: this.target,
      providerId: this.candidate?.providerId,
      model: this.candidate?.model,
      attempts: this.attempts,
      status,
      errorCode: error === undefined ? undefined : errorCodeOf(error),
      usage,
      stream: this.stream,
      cacheHit: this.cacheHit,
      aborted,
      ttftMs: this.ttftMs,
      upstreamStartedAt: this.upstreamStartedAt,
    });
    this.observer?.settled(this);
  }

  /**
   * Settles a success once its answer is handed back: the record, the key's counters and the request
   * line wait for the next Immediate (after-response.ts), never the response itself. The key's
   * parallel slot is freed now, before the answer is written: a client that sends its next request
   * as soon as it has this answer must not find the slot still taken.
   */
  settleOk(usage: Usage | undefined): void {
    this.ticket?.release();
    afterResponse(() => this.settle(200, usage, undefined, false));
  }

  /** Settles a failure and returns the error the client should get. */
  fail(err: unknown, ref: TargetRef): unknown {
    const out = clientFacing(err, ref);
    if (this.autoselect && out !== null && typeof out === 'object') failedAutoselect.set(out, this.autoselect);
    this.settle(statusOf(out), undefined, out, err instanceof ClientGoneError);
    return out;
  }
}

const failedAutoselect = new WeakMap<object, NonNullable<ServedBy['autoselect']>>();

/** What an autoselect had chosen before the request failed (its header still goes out with the error). */
export function autoselectOfError(err: unknown): ServedBy['autoselect'] {
  return err !== null && typeof err === 'object' ? failedAutoselect.get(err) : undefined;
}

function statusOf(err: unknown): number {
  if (err instanceof RotationUnavailableError) return err.notifyErrors ? 200 : 429;
  if (err instanceof HttpError) return err.status;
  if (err instanceof ProviderError) return err.clientStatus;
  if (err instanceof ClientGoneError) return 499;
  return 500;
}

function errorCodeOf(err: unknown): string | undefined {
  if (err instanceof HttpError) return err.options.code ?? undefined;
  if (err instanceof ProviderError) return err.code ?? err.kind;
  if (err instanceof ClientGoneError) return 'client_gone';
  return 'internal_error';
}

/** How long a client is told to wait when no member says when it recovers. */
const DEFAULT_RETRY_AFTER_SECONDS = 30;

/**
 * AISBF's rotation report is the contract of `/api/rotations` (and `/api/autoselect`). On `/v1` and
 * `/api/{id}`, every member down with none rate-limited is a plain 503 with Retry-After, which SDKs
 * retry, instead of a 429 that says "slow down" when nothing was rate limiting.
 */
function clientFacing(err: unknown, ref: TargetRef): unknown {
  if (!(err instanceof RotationUnavailableError) || err.notifyErrors || err.rateLimited) return err;
  if (!('scope' in ref) || (ref.scope.base !== 'v1' && ref.scope.base !== 'id')) return err;
  return new HttpError(503, err.text, {
    code: 'rotation_unavailable',
    headers: { 'retry-after': String(err.retryAfterSeconds ?? DEFAULT_RETRY_AFTER_SECONDS) },
    body: { ...err.report },
  });
}

/**
 * effective_context: tokens actually sent. Without condensation that is the upstream's prompt count;
 * an upstream that reports no usage at all gets our own count of the prompt.
 */
function withEffectiveContext(usage: Usage | undefined, effective: number | undefined, req: ChatRequest, model: string): Usage {
  if (!usage) {
    const n = effective ?? estimateRequestTokens(req, model);
    return { prompt_tokens: n, completion_tokens: 0, total_tokens: n, effective_context: n };
  }
  return copyWith(usage, { effective_context: effective ?? usage.effective_context ?? usage.prompt_tokens });
}

interface PrimedStream {
  parts: AsyncIterator<ChatStreamPart>;
  effectiveContext?: number;
}

async function runChat(deps: PipelineDeps, meta: RequestMeta, call: ChatCall): Promise<ChatResult> {
  const rt = deps.runtime();
  const { stages } = deps;
  const req = call.req;
  const run = new RequestRun(deps, rt, meta, req.stream === true, call.observer);
  try {
    // Each stage answers at once unless it has to wait (a key to look up, a shared store, a selector):
    // awaited only then, so the common request passes them without a turn of the microtask queue.
    const identified = resolveIdentity(stages, meta);
    if (identified) await identified;
    const resolved = resolveRef(rt, call.target);
    run.target = resolved.name;
    const ticket = admitLimits(stages, meta, resolved.name);
    run.ticket = ticket instanceof Promise ? await ticket : ticket;
    // A stopped model answers nothing, not even from the cache: an operator stops a model to stop
    // its answers (a rotation's cached answer stays, since the rotation itself is not stopped).
    const stoppedDirect = resolved.target?.kind === 'provider' && !stages.modelGate.inactive && stages.modelGate.isStopped(resolved.name);
    const cacheable = !stoppedDirect && cacheEligible(stages, meta, req);
    if (cacheable) {
      const hit = await cacheLookup(stages, meta, resolved.name, req);
      if (hit) return cachedAnswer(run, hit);
    }
    const planned = planChat(rt, call.target, resolved, req, { keys: meta.keys, signal: meta.signal, log: deps.log, caller: run });
    const plan = planned instanceof Promise ? await planned : planned;
    run.autoselect = plan.autoselect;

    if (!run.stream) {
      const r = await runWithFallback(plan.candidates, (cand, ctx) => chatCall(rt, cand, req, ctx, run), run.attemptOptions(plan, call, meta.signal));
      const completion: ChatCompletion = r.value.value;
      completion.usage = withEffectiveContext(completion.usage, r.value.effectiveContext, req, r.candidate.model);
      r.settle({ usage: completion.usage });
      if (cacheable) stages.cache.store(meta, resolved.name, req, { kind: 'json', completion });
      run.settleOk(completion.usage);
      const result: ChatJsonResult = { kind: 'json', completion, served: run.served(), cacheHit: false };
      return result;
    }

    // Our own abort too: the writer cancels the upstream call when the client's socket closes.
    const abort = new LiteAbort();
    if (meta.signal.aborted) throw new ClientGoneError();
    const stream = new ChatStream(run, abort, cacheable ? [] : undefined, req);
    meta.signal.addEventListener('abort', stream, { once: true });
    let r: AttemptSuccess<PrimedStream>;
    try {
      r = await runWithFallback(
        plan.candidates,
        async (cand: Candidate, ctx: CallContext): Promise<PrimedStream> => {
          const c = await streamChatCall(rt, cand, req, ctx, run);
          return { parts: await primeStream(c.value, isEmptyChatPart), effectiveContext: c.effectiveContext };
        },
        copyWith(run.attemptOptions(plan, call, abort), { deferSuccess: true }),
      );
    } catch (err) {
      meta.signal.removeEventListener('abort', stream);
      throw err;
    }
    run.ttftMs = Date.now() - meta.startedAt;
    stream.begin(r, resolved.name);
    return stream;
  } catch (err) {
    throw run.fail(err, call.target);
  }
}

function cachedAnswer(run: RequestRun, hit: CachedChat): ChatResult {
  run.cacheHit = true;
  if (hit.kind === 'json') {
    run.settleOk(hit.completion.usage);
    return { kind: 'json', completion: hit.completion, served: undefined, cacheHit: true };
  }
  const stream = new ChatStream(run, undefined, undefined, undefined);
  stream.parts = replayParts(hit.parts);
  run.ttftMs = Date.now() - run.meta.startedAt;
  return stream;
}

/** A chat stream handed to the writer; also the listener of the client's abort signal. */
class ChatStream implements ChatStreamResult {
  readonly kind = 'stream';
  parts: AsyncIterator<ChatStreamPart> = replayParts([]);
  served: ServedBy | undefined = undefined;
  readonly cacheHit: boolean;
  private success: AttemptSuccess<PrimedStream> | undefined;
  private target = '';

  constructor(
    private readonly run: RequestRun,
    private readonly abort: LiteAbort | undefined,
    /** Parts kept for the cache (only while it is on). */
    private readonly collected: ChatStreamPart[] | undefined,
    private readonly req: ChatRequest | undefined,
  ) {
    this.cacheHit = run.cacheHit;
  }

  begin(r: AttemptSuccess<PrimedStream>, target: string): void {
    this.success = r;
    this.target = target;
    this.served = this.run.served();
    this.parts = this.collected ? collectParts(r.value.parts, this.collected) : r.value.parts;
  }

  /** The client's signal aborted (EventListener object: no closure per request). */
  handleEvent(): void {
    this.cancel();
  }

  cancel(): void {
    this.abort?.abort(new ClientGoneError());
  }

  finalizeUsage(usage: Usage | undefined): Usage {
    const r = this.success;
    if (!r || !this.req) return usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
    return withEffectiveContext(usage, r.value.effectiveContext, this.req, r.candidate.model);
  }

  end(outcome: StreamEnd): void {
    const run = this.run;
    run.meta.signal.removeEventListener('abort', this);
    if (outcome.aborted) this.cancel();
    // Token windows and mid-stream failures are recorded against the candidate that served.
    this.success?.settle({ usage: outcome.usage, error: outcome.error });
    if (this.collected && !outcome.error && !outcome.aborted && this.req) {
      run.deps.stages.cache.store(run.meta, this.target, this.req, { kind: 'stream', parts: this.collected });
    }
    run.settle(200, outcome.usage, outcome.error, outcome.aborted);
  }
}

async function runCapability<T>(deps: PipelineDeps, meta: RequestMeta, call: CapabilityCall<T>): Promise<CapabilityResult<T>> {
  const rt = deps.runtime();
  const { stages } = deps;
  const run = new RequestRun(deps, rt, meta, false, call.observer);
  try {
    await resolveIdentity(stages, meta);
    const resolved = resolveRef(rt, call.target);
    run.target = resolved.name;
    run.ticket = await admitLimits(stages, meta, resolved.name);
    const plan = planCapability(rt, call.target, resolved, call.need, call.filter);
    const timeoutMs = call.timeoutMs;
    const attempt = timeoutMs === undefined ? call.call : (c: Candidate, ctx: CallContext) => call.call(c, { ...ctx, timeoutMs: Math.min(ctx.timeoutMs, timeoutMs) });
    const opts = run.attemptOptions(plan, call, meta.signal);
    // A call whose value may still be streaming records its candidate's success only when it ends.
    if (call.streaming) opts.deferSuccess = true;
    const r = await runWithFallback(plan.candidates, attempt, opts);
    const result: CapabilityResult<T> = { value: r.value, served: run.served(), candidate: r.candidate, rotationId: plan.rotation?.id };
    if (call.streaming?.(r.value)) {
      run.stream = true;
      run.ttftMs = Date.now() - meta.startedAt;
      // Deferred settle: once, when the caller's stream ends (tokens from its final events).
      result.end = (o: StreamEnd) => {
        r.settle({ usage: o.usage, error: o.error });
        run.settle(200, o.usage, o.error, o.aborted);
      };
      return result;
    }
    const usage = call.usageOf?.(r.value);
    r.settle({ usage });
    run.settleOk(usage);
    return result;
  } catch (err) {
    throw run.fail(err, call.target);
  }
}
