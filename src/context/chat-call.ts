/**
 * @module One chat attempt against one candidate, as the attempt loop runs it. This is where context
 * management sits between routing and the adapter: condensation for the candidate's context size,
 * splitting by max_request_tokens, and the effective_context of what was actually sent.
 */
import type { CallContext, ChatCompletion, ChatRequest, ChatStreamPart } from '../providers/provider-adapter.js';
import type { Candidate } from '../routing/candidate.js';
import type { Runtime } from '../runtime.js';

export interface ChatCallResult<T> {
  value: T;
  /** Tokens actually sent, when we know them without asking the upstream (after condensation). */
  effectiveContext?: number;
}

export async function chatCall(rt: Runtime, cand: Candidate, req: ChatRequest, ctx: CallContext): Promise<ChatCallResult<ChatCompletion>> {
  void rt;
  return { value: await cand.adapter.chat(req, ctx) };
}

export async function streamChatCall(rt: Runtime, cand: Candidate, req: ChatRequest, ctx: CallContext): Promise<ChatCallResult<AsyncIterable<ChatStreamPart>>> {
  void rt;
  return { value: cand.adapter.streamChat(req, ctx) };
}
