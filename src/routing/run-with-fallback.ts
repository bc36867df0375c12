/**
 * @module The one attempt loop every route that calls a model goes through. It orders a rotation's
 * candidates (weighted random or priority), caps the calls at max_attempts, skips candidates that are
 * disabled, cooling down or over a rate limit, lets the error-policy table decide what fails over and
 * what counts as a provider failure, records success and failure in the routing state, and reports
 * which candidate served and after how many attempts. When a rotation runs out it throws AISBF's
 * report (RotationUnavailableError); a direct provider target keeps the plain error mapping.
 */
import type { Logger } from 'pino';
import type { RotationConfig } from '../config/schema.js';
import type { CallContext, ChatStreamPart, FileResolver, Usage } from '../providers/provider-adapter.js';
import type { AbortLike } from '../providers/lite-abort.js';
import { ClientGoneError } from '../providers/deadline.js';
import { ProviderError } from '../providers/provider-error.js';
import type { Runtime } from '../runtime.js';
import { HttpError } from '../errors/http-error.js';
import type { Candidate, ClientKeys } from './candidate.js';
import { resolveCooldownPolicy } from './health.js';
import { resolveKeyWithSource } from './resolve-key.js';
import { redactText } from '../log.js';
import { buildRotationError, type CandidateOutcome } from './rotation-report.js';
import type { RoutingState } from './routing-state.js';
import { attemptLimit, orderCandidates } from './weighted-order.js';

export interface AttemptOptions {
  runtime: Runtime;
  keys: ClientKeys;
  /** The client's signal (aborts when it goes away). */
  signal: AbortLike;
  log: Logger;
  /** The request's id, put on every upstream-attempt warning (falls back to the log's own bindings). */
  requestId?: string;
  /**
   * The long-lived health and rate-limit state. Without it candidates are tried in the given order
   * and nothing is recorded (helper calls that should not touch health).
   */
  routing?: RoutingState;
  /** Set when the candidates are a rotation's: its order, attempt cap, cooldown policy and report. */
  rotation?: { id: string; config: RotationConfig };
  /**
   * Streams: the attempt returned once the first part arrived, but the call has only succeeded when
   * the stream ends well, so success is recorded by settle() (else a provider that always dies
   * mid-stream would be reset on every request and never cool down).
   */
  deferSuccess?: boolean;
  /** Admission (per provider/model concurrency); absent when no gate is configured (one branch). */
  admission?: AttemptAdmission;
  /** Stopped models; absent when nothing can be stopped. */
  gate?: { isStopped(candidateKey: string): boolean };
  /** Filled with the attempt count and last candidate as the loop goes. */
  trace?: AttemptTrace;
  /** Finds an uploaded file for a chat `file_id` part (CallContext.resolveFile). */
  resolveFile?: FileResolver;
}

/** How a served response ended, told to the loop's bookkeeping once the response is complete. */
export interface AttemptOutcome {
  /** The response's usage (its total tokens fill the TPM/TPH/TPD windows). */
  usage?: Usage;
  /** A failure after the response began (mid-stream): counted against the candidate. */
  error?: unknown;
}

export interface AttemptSuccess<T> {
  value: T;
  candidate: Candidate;
  attempts: number;
  /**
   * Call once when the response has ended (for streams: from the SSE writer's onEnd) to record its
   * token use and any mid-stream failure. Further calls are ignored.
   */
  settle(outcome: AttemptOutcome): void;
}

/** A concurrency slot held while a candidate serves (admission; released once). */
export interface AttemptSlot {
  release(failed?: boolean): void;
}

/**
 * Admission as the attempt loop sees it (the pipeline adapts its AdmissionStage to this): a slot now
 * or undefined when the candidate is saturated, and a wait for a slot on any of several candidates.
 */
export interface AttemptAdmission {
  tryAcquire(c: Candidate): AttemptSlot | undefined | Promise<AttemptSlot | undefined>;
  acquire(candidates: readonly Candidate[]): Promise<{ candidate: Candidate; slot: AttemptSlot }>;
}

/** Filled by the loop as it goes, so a caller can still say how many attempts a failure took. */
export interface AttemptTrace {
  attempts: number;
  /** The last candidate called (or the one that served). */
  candidate?: Candidate;
}

export async function runWithFallback<T>(
  candidates: readonly Candidate[],
  attempt: (c: Candidate, ctx: CallContext) => Promise<T>,
  opts: AttemptOptions,
): Promise<AttemptSuccess<T>> {
  const { routing, rotation, runtime: rt, admission, gate } = opts;
  const ordered = rotation ? orderCandidates(candidates, rotation.config.strategy, routing?.random) : [...candidates];
  const limit = rotation ? attemptLimit(ordered.length, rotation.config.max_attempts) : ordered.length;
  const outcomes: CandidateOutcome[] = [];
  let lastError: ProviderError | undefined;
  let attempts = 0;
  /** After a context-length failure, only candidates with a larger context_size are worth trying. */
  let contextFloor: number | undefined;
  /** Candidates passed over because their admission gate was full (only with admission). */
  let saturated: Candidate[] | undefined;

  /** Calls one candidate; returns the success, or undefined when the loop should move on. */
  const tryOne = async (c: Candidate, now: number | undefined, slot: AttemptSlot | undefined): Promise<AttemptSuccess<T> | undefined> => {
    let apiKey: string | undefined;
    let keySource: CallContext['keySource'];
    try {
      ({ key: apiKey, source: keySource } = resolveKeyWithSource(c, opts.keys, rt.config.missingKeyEnv));
    } catch (err) {
      slot?.release();
      if (!(err instanceof ProviderError)) throw err;
      lastError = err;
      outcomes.push({ candidate: c, outcome: 'skipped_no_key', error: err });
      return undefined;
    }
    attempts++;
    if (opts.trace) {
      opts.trace.attempts = attempts;
      opts.trace.candidate = c;
    }
    routing?.limits.recordCall(c, now);
    const ctx: CallContext = {
      model: c.model,
      apiKey,
      keySource,
      signal: opts.signal,
      timeoutMs: rt.timeoutMs(c),
      log: opts.log,
      imagePolicy: rt.imagePolicy,
      // Chat file parts (issue 19): how this candidate reads them, their limits, uploaded files.
      capabilities: c.settings.capabilities,
      documents: rt.config.aisbf.ocr,
      resolveFile: opts.resolveFile,
    };
    try {
      const value = await attempt(c, ctx);
      if (!opts.deferSuccess) {
        routing?.health.recordSuccess(c.key);
        slot?.release();
        slot = undefined;
      }
      return { value, candidate: c, attempts, settle: settler(c, opts, slot) };
    } catch (err) {
      slot?.release(true);
      // Only the provider layer's own verdict counts against a provider. Anything else (a TypeError,
      // a RangeError from a stack overflow: our bugs or hostile input) is ours: never counted, never
      // failed over, and it reaches the client as our own 500 (issue 13).
      if (!(err instanceof ProviderError)) throw err;
      lastError = err;
      routing?.health.recordFailure(c.key, err, policyOf(opts, c));
      outcomes.push({ candidate: c, outcome: 'failed', error: err });
      opts.log.warn({ reqId: opts.requestId, provider: c.providerId, model: c.model, kind: err.kind, status: err.status, error: redactText(err.message) }, 'upstream attempt failed');
      if (!err.policy.failsOver) throw err;
      if (err.policy.needsLargerContext) contextFloor = Math.max(contextFloor ?? 0, c.settings.context_size ?? 0);
      return undefined;
    }
  };

  for (const c of ordered) {
    if (opts.signal.aborted) throw new ClientGoneError();
    if (attempts >= limit) {
      outcomes.push({ candidate: c, outcome: 'not_tried' });
      continue;
    }
    if (!c.provider.enabled) {
      outcomes.push({ candidate: c, outcome: 'skipped_disabled' });
      continue;
    }
    if (gate && gate.isStopped(c.key)) {
      // Named directly, a stopped model says so; a rotation passes over it.
      if (!rotation) throw new HttpError(503, `Model '${c.key}' is stopped by an administrator.`, { code: 'model_stopped', param: 'model' });
      outcomes.push({ candidate: c, outcome: 'skipped_stopped' });
      continue;
    }
    if (contextFloor !== undefined && !((c.settings.context_size ?? 0) > contextFloor)) {
      outcomes.push({ candidate: c, outcome: 'skipped_context_too_small' });
      continue;
    }
    const now = routing?.clock();
    // A direct provider target is what the client asked for by name: it is always called (its
    // failures are still counted and shown); cooldowns steer rotations away from a candidate.
    if (routing && rotation && routing.health.coolingUntil(c.key, now) !== undefined) {
      outcomes.push({ candidate: c, outcome: 'skipped_cooling' });
      continue;
    }
    const block = routing?.limits.blocked(c, now);
    if (block) {
      outcomes.push({ candidate: c, outcome: 'skipped_rate_limited' });
      continue;
    }
    let slot: AttemptSlot | undefined;
    if (admission) {
      // A saturated member is passed over; only when every one is saturated does the request wait.
      const got = admission.tryAcquire(c);
      slot = got instanceof Promise ? await got : got;
      if (!slot) {
        (saturated ??= []).push(c);
        continue;
      }
    }
    const r = await tryOne(c, now, slot);
    if (r) return r;
  }
  while (saturated && saturated.length && attempts < limit) {
    if (opts.signal.aborted) throw new ClientGoneError();
    const got = await admission!.acquire(saturated);
    saturated.splice(saturated.indexOf(got.candidate), 1);
    const r = await tryOne(got.candidate, routing?.clock(), got.slot);
    if (r) return r;
  }
  if (saturated) for (const c of saturated) outcomes.push({ candidate: c, outcome: 'not_tried' });
  throw exhausted(opts, outcomes, lastError, limit);
}

function policyOf(opts: AttemptOptions, c: Candidate): ReturnType<typeof resolveCooldownPolicy> {
  return resolveCooldownPolicy(opts.rotation?.config, c.provider, opts.runtime.config.rotations);
}

/** What the client gets when no candidate served the request. */
function exhausted(opts: AttemptOptions, outcomes: readonly CandidateOutcome[], lastError: ProviderError | undefined, limit: number): Error {
  const { routing, rotation } = opts;
  // Unavailable = something is wrong on the providers' side (failures counted, cooldowns, limits,
  // disabled providers). When every candidate failed only because of the request itself (its context
  // is too long for all of them, no key anywhere), the plain upstream error says more than a report.
  const unavailable = outcomes.some(
    (o) => o.outcome === 'skipped_cooling' || o.outcome === 'skipped_rate_limited' || o.outcome === 'skipped_disabled' || o.outcome === 'skipped_stopped' || (o.outcome === 'failed' && o.error!.policy.countsAsFailure),
  );
  if (rotation && routing && (unavailable || !lastError)) {
    return buildRotationError({
      rotationId: rotation.id,
      outcomes,
      stateOf: (c) => routing.candidateState(c),
      now: routing.clock(),
      maxRetries: limit,
      lastError,
      notifyErrors: rotation.config.notifyerrors ?? opts.runtime.config.rotations.notifyerrors,
    });
  }
  // Several candidates and none has a key: name every variable to set, not only the last one's.
  const noKey = outcomes.filter((o) => o.outcome === 'skipped_no_key');
  if (noKey.length > 1 && noKey.length === outcomes.length) {
    const missing = [...new Set(noKey.map((o) => opts.runtime.config.missingKeyEnv.get(o.candidate.providerId) ?? `api_key of provider '${o.candidate.providerId}'`))];
    return new ProviderError(`No provider${rotation ? ` in rotation '${rotation.id}'` : ''} has an API key: set ${missing.join(', ')}, or send one in the x-aisbf-provider-key header`, {
      kind: 'missing_key',
      status: 401,
      provider: noKey.map((o) => o.candidate.providerId).join(','),
      model: '-',
      code: 'missing_api_key',
    });
  }
  if (lastError) return lastError;
  // A direct target that was not called: it is over its rate limit (disabled ones never get here).
  const limited = outcomes.find((o) => o.outcome === 'skipped_rate_limited');
  if (limited && routing) {
    const block = routing.limits.blocked(limited.candidate);
    const wait = Math.max(1, Math.ceil(((block?.until ?? routing.clock()) - routing.clock()) / 1000));
    return new HttpError(429, `${limited.candidate.key} is over its rate limit (${block?.reason ?? 'rate_limit'}); retry in ${wait} s.`, {
      code: 'rate_limit_exceeded',
      headers: { 'retry-after': String(wait) },
    });
  }
  return new HttpError(503, 'Provider temporarily unavailable: no candidate could serve this request.', { code: 'no_candidate_available' });
}

function settler(c: Candidate, opts: AttemptOptions, slot: AttemptSlot | undefined): (o: AttemptOutcome) => void {
  const { routing } = opts;
  const successPending = opts.deferSuccess === true;
  let settled = false;
  return (o) => {
    if (settled) return;
    settled = true;
    slot?.release(o.error !== undefined);
    if (!routing) return;
    const tokens = o.usage?.total_tokens ?? (o.usage ? o.usage.prompt_tokens + o.usage.completion_tokens : 0);
    if (tokens > 0) routing.limits.recordTokens(c, tokens);
    // Too late to fail over, but the provider did fail: count it (DESIGN.md error policy, last row).
    if (o.error instanceof ProviderError) routing.health.recordFailure(c.key, o.error, policyOf(opts, c), undefined, true);
    else if (successPending && !o.error) routing.health.recordSuccess(c.key);
  };
}

/** A stream part that shows the client nothing yet (OpenAI's leading role-only chunk, an empty delta). */
export function isEmptyChatPart(p: ChatStreamPart): boolean {
  if (p.type === 'text-delta' || p.type === 'reasoning-delta') return p.text === '';
  if (p.type !== 'chunk') return false;
  return p.chunk.choices.every((c) => {
    const d = c.delta;
    return !c.finish_reason && !d.content && !d.reasoning_content && !d.tool_calls && !d.function_call && !d.refusal && !d.audio;
  });
}

/** Leading empty parts held back while priming; more than this and the stream counts as started. */
const MAX_HELD_PARTS = 16;

/**
 * Starts a stream and waits for its first part, so a failure before any byte reaches the client can
 * still fail over. With `isEmpty`, leading parts that carry nothing (an upstream that sends the
 * role chunk and then dies) are held back too, so that failure still fails over. Returns an
 * iterator that yields the held parts again, then the rest.
 */
export async function primeStream<P>(source: AsyncIterable<P>, isEmpty?: (p: P) => boolean): Promise<AsyncIterator<P>> {
  const it = source[Symbol.asyncIterator]();
  const held: IteratorResult<P>[] = [];
  try {
    for (;;) {
      const r = await it.next();
      held.push(r);
      if (r.done || !isEmpty || !isEmpty(r.value) || held.length >= MAX_HELD_PARTS) break;
    }
  } catch (err) {
    // The failed stream is over; make sure its upstream request is too before failing over.
    await it.return?.().catch(() => undefined);
    throw err;
  }
  return {
    next: () => {
      const r = held.shift();
      return r ? Promise.resolve(r) : it.next();
    },
    return: async (v?: unknown) => {
      await it.return?.(v);
      return { done: true, value: undefined };
    },
  };
}
