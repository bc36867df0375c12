/**
 * @module One chat attempt against one candidate, as the attempt loop runs it. This is where context
 * management sits between routing and the adapter: condensation for the candidate's context size,
 * splitting by max_request_tokens, and the effective_context of what was actually sent. A candidate
 * with neither configured goes straight to its adapter: nothing is tokenized.
 */
import type { CallContext, ChatCompletion, ChatRequest, ChatStreamPart } from '../providers/provider-adapter.js';
import type { Candidate } from '../routing/candidate.js';
import type { InternalCaller } from '../routing/internal-call.js';
import type { Runtime } from '../runtime.js';
import { condensePlan, condenseRequest } from './condense.js';
import { checkContextFits } from './check-context-fits.js';
import { countRequestTokens } from '../tokens/count-tokens.js';
import { chatInPieces, splitRequest, streamInPieces } from './split-request.js';

export interface ChatCallResult<T> {
  value: T;
  /** Tokens actually sent, when we know them without asking the upstream (after condensation). */
  effectiveContext?: number;
}

interface Prepared {
  req: ChatRequest;
  pieces?: ChatRequest[];
  effectiveContext?: number;
}

type Plan = ReturnType<typeof condensePlan>;

/**
 * True when the candidate configures neither condensation nor splitting (the common case): the call
 * then goes straight to its adapter, with no promise or async frame of ours on the way. Without
 * condensation, a context size it has is checked first (issue 17: never a silent truncation).
 */
function plainCall(cand: Candidate, req: ChatRequest, plan: Plan): boolean {
  if (!plan && cand.settings.context_size) checkContextFits(cand, req);
  return !plan && !cand.settings.max_request_tokens;
}

/** Condensation, then splitting (AISBF's order). */
async function prepare(rt: Runtime, cand: Candidate, req: ChatRequest, ctx: CallContext, caller: InternalCaller | undefined, plan: Plan): Promise<Prepared> {
  const max = cand.settings.max_request_tokens;
  let prepared: Prepared = { req };
  if (plan) {
    const c = await condenseRequest(rt, cand, req, ctx, plan, caller);
    prepared = { req: c.req, effectiveContext: c.effectiveContext };
  }
  if (max) {
    const pieces = splitRequest(cand, prepared.req, max);
    if (pieces) {
      ctx.log.info({ provider: cand.providerId, model: cand.model, pieces: pieces.length, max_request_tokens: max }, 'request split into pieces');
      // effective_context of a split request: every token sent, over all pieces.
      const sent = pieces.reduce((n, p) => n + countRequestTokens(p, cand.model), 0);
      return { req: prepared.req, pieces, effectiveContext: sent };
    }
  }
  return prepared;
}

const valueOnly = <T>(value: T): ChatCallResult<T> => ({ value });

/** `caller` runs the condensation helper, when one is configured, as an internal request. */
export function chatCall(rt: Runtime, cand: Candidate, req: ChatRequest, ctx: CallContext, caller?: InternalCaller): Promise<ChatCallResult<ChatCompletion>> {
  const plan = condensePlan(rt, cand);
  if (plainCall(cand, req, plan)) return cand.adapter.chat(req, ctx).then(valueOnly);
  return preparedChat(rt, cand, req, ctx, caller, plan);
}

async function preparedChat(rt: Runtime, cand: Candidate, req: ChatRequest, ctx: CallContext, caller: InternalCaller | undefined, plan: Plan): Promise<ChatCallResult<ChatCompletion>> {
  const p = await prepare(rt, cand, req, ctx, caller, plan);
  if (p.pieces) return { value: await chatInPieces(cand, p.pieces, ctx), effectiveContext: p.effectiveContext };
  return { value: await cand.adapter.chat(p.req, ctx), effectiveContext: p.effectiveContext };
}

/** As chatCall, for a stream: the result itself when nothing is prepared (its caller awaits either). */
export function streamChatCall(rt: Runtime, cand: Candidate, req: ChatRequest, ctx: CallContext, caller?: InternalCaller): ChatCallResult<AsyncIterable<ChatStreamPart>> | Promise<ChatCallResult<AsyncIterable<ChatStreamPart>>> {
  const plan = condensePlan(rt, cand);
  if (plainCall(cand, req, plan)) return { value: cand.adapter.streamChat(req, ctx) };
  return preparedStream(rt, cand, req, ctx, caller, plan);
}

async function preparedStream(rt: Runtime, cand: Candidate, req: ChatRequest, ctx: CallContext, caller: InternalCaller | undefined, plan: Plan): Promise<ChatCallResult<AsyncIterable<ChatStreamPart>>> {
  const p = await prepare(rt, cand, req, ctx, caller, plan);
  if (p.pieces) return { value: streamInPieces(cand, p.pieces, ctx), effectiveContext: p.effectiveContext };
  return { value: cand.adapter.streamChat(p.req, ctx), effectiveContext: p.effectiveContext };
}
