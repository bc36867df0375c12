/**
 * @module accounting: the one SettledRequest of a request, built when it settles (a JSON answer just
 * after it was handed back, see after-response.ts; streams when they end; errors too), with token
 * usage by type and its cost. Nothing is built when neither the accounting stage nor the limits
 * ticket wants it.
 */
import type { Usage } from '../providers/openai-types.js';
import type { RequestMeta } from './request-meta.js';
import type { LimitTicket, PipelineStages, SettledRequest, TokenUsage } from './stages.js';

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Upstream usage → tokens by type: OpenAI's details objects, Anthropic's cache fields when present. */
export function tokenUsage(u: Usage): TokenUsage {
  const pd = u.prompt_tokens_details as { cached_tokens?: unknown } | undefined;
  const cd = u.completion_tokens_details as { reasoning_tokens?: unknown } | undefined;
  const t: TokenUsage = {
    prompt: u.prompt_tokens ?? 0,
    completion: u.completion_tokens ?? 0,
    cached: num(pd?.cached_tokens) ?? num(u.cache_read_input_tokens) ?? 0,
    reasoning: num(cd?.reasoning_tokens) ?? 0,
  };
  const write = num(u.cache_creation_input_tokens);
  if (write !== undefined) t.cacheWrite = write;
  if (u.effective_context !== undefined) t.effectiveContext = u.effective_context;
  return t;
}

export interface SettleFacts {
  meta: RequestMeta;
  target: string | undefined;
  providerId: string | undefined;
  model: string | undefined;
  attempts: number;
  status: number;
  errorCode: string | undefined;
  usage: Usage | undefined;
  stream: boolean;
  cacheHit: boolean;
  aborted: boolean;
  ttftMs: number | undefined;
  /** ms since epoch when the first upstream attempt began (undefined: none began). */
  upstreamStartedAt?: number;
}

/** Records the request and settles its ticket; never throws (a failing recorder must not fail the answer). */
export function recordSettled(stages: PipelineStages, ticket: LimitTicket | undefined, f: SettleFacts): void {
  if (stages.accounting.inactive && (!ticket || ticket.inactive)) return;
  const usage = f.usage ? tokenUsage(f.usage) : undefined;
  let costUsd: number | undefined;
  if (f.cacheHit) costUsd = 0;
  else if (usage && f.providerId && f.model) costUsd = stages.prices.cost(f.providerId, f.model, usage);
  const settled: SettledRequest = {
    meta: f.meta,
    target: f.target,
    providerId: f.providerId,
    model: f.model,
    attempts: f.attempts,
    status: f.status,
    errorCode: f.errorCode,
    usage,
    costUsd,
    latencyMs: Date.now() - f.meta.startedAt,
    upstreamMs: f.upstreamStartedAt === undefined ? undefined : Date.now() - f.upstreamStartedAt,
    ttftMs: f.ttftMs,
    stream: f.stream,
    cacheHit: f.cacheHit,
    failovers: f.status < 400 ? Math.max(0, f.attempts - 1) : f.attempts,
    aborted: f.aborted || undefined,
  };
  try {
    stages.accounting.record(settled);
  } catch {
    // Accounting never fails a request.
  }
  ticket?.settle(settled);
}
