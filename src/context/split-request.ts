/**
 * @module Splitting a request longer than the model's `max_request_tokens` (CONTRACTS §1.6, §6.7):
 * the conversation is flattened to "role: content" text and cut into pieces measured in tokens, with
 * an overlap; each piece goes as one user message (tools with the first piece only). Outputs are
 * concatenated and usage summed; a later piece failing returns what the earlier pieces produced.
 */
import type { CallContext, ChatCompletion, ChatRequest, ChatStreamPart, FinishReason, ToolCall, Usage } from '../providers/provider-adapter.js';
import { ProviderError } from '../providers/provider-error.js';
import type { Candidate } from '../routing/candidate.js';
import { countRequestTokens, encoderFor, encodingForModel, upperBoundTokens } from '../tokens/count-tokens.js';
import { renderTranscript } from '../tokens/turns.js';

/** Room kept in each piece for message overhead and the reply priming (AISBF kept 200 characters). */
const RESERVE = 200;
const OVERLAP = 100;
/** Between the outputs of consecutive pieces. */
export const PIECE_SEPARATOR = '\n\n';

const decoder = new TextDecoder();

/** The pieces to send, or undefined when the request fits `max`. */
export function splitRequest(cand: Candidate, req: ChatRequest, max: number): ChatRequest[] | undefined {
  if (upperBoundTokens(req, cand.model) <= max) return undefined;
  if (countRequestTokens(req, cand.model) <= max) return undefined;

  const enc = encoderFor(encodingForModel(cand.model));
  const tokens = enc.encode_ordinary(renderTranscript(req.messages));
  const reserve = Math.min(RESERVE, Math.floor(max / 4));
  // The first piece also carries the tool definitions.
  const toolCost = req.tools?.length ? countRequestTokens({ messages: [], tools: req.tools }, cand.model) : 0;
  const firstBudget = max - reserve - toolCost;
  const budget = max - reserve;
  if (firstBudget < 1) {
    throw new ProviderError(`the tool definitions alone exceed max_request_tokens (${max}) of ${cand.key}`, {
      kind: 'context_length',
      status: 400,
      provider: cand.providerId,
      model: cand.model,
    });
  }
  const texts: string[] = [];
  let start = 0;
  for (let i = 0; start < tokens.length; i++) {
    const size = i === 0 ? firstBudget : budget;
    const end = Math.min(tokens.length, start + size);
    texts.push(decoder.decode(enc.decode(tokens.subarray(start, end))));
    if (end >= tokens.length) break;
    // Overlap at most a quarter of a piece, so every piece moves forward.
    start = end - Math.min(OVERLAP, Math.floor(size / 4));
  }
  return texts.map((text, i) => {
    const piece: ChatRequest = { ...req, messages: [{ role: 'user', content: text }] };
    if (i > 0) {
      delete piece.tools;
      delete piece.tool_choice;
      delete piece.parallel_tool_calls;
    }
    return piece;
  });
}

function addUsage(total: Usage | undefined, u: Usage | undefined): Usage | undefined {
  if (!u) return total;
  if (!total) return { prompt_tokens: u.prompt_tokens ?? 0, completion_tokens: u.completion_tokens ?? 0, total_tokens: u.total_tokens ?? 0 };
  return {
    prompt_tokens: total.prompt_tokens + (u.prompt_tokens ?? 0),
    completion_tokens: total.completion_tokens + (u.completion_tokens ?? 0),
    total_tokens: total.total_tokens + (u.total_tokens ?? 0),
  };
}

export function chunkedId(cand: Candidate): string {
  return `chunked-${cand.providerId}-${cand.model}-${Math.floor(Date.now() / 1000)}`;
}

/** Sends the pieces one after another and joins the answers into one chat.completion. */
export async function chatInPieces(cand: Candidate, pieces: ChatRequest[], ctx: CallContext): Promise<ChatCompletion> {
  const texts: string[] = [];
  let toolCalls: ToolCall[] | undefined;
  let usage: Usage | undefined;
  let finish: FinishReason | null = 'stop';
  let failure: ProviderError | Error | undefined;
  let done = 0;
  for (const [i, piece] of pieces.entries()) {
    let r: ChatCompletion;
    try {
      r = await cand.adapter.chat(piece, ctx);
    } catch (err) {
      // Nothing to return yet (or the client left): the attempt loop decides.
      if (i === 0 || ctx.signal.aborted) throw err;
      failure = err as Error;
      ctx.log.warn({ provider: cand.providerId, model: cand.model, piece: i + 1, of: pieces.length, err: failure.message }, 'split request: a later piece failed; returning the partial result');
      break;
    }
    done++;
    const choice = r.choices?.[0];
    const content = choice?.message?.content;
    if (typeof content === 'string' && content) texts.push(content);
    if (choice?.message?.tool_calls?.length) toolCalls = [...(toolCalls ?? []), ...choice.message.tool_calls];
    finish = choice?.finish_reason ?? finish;
    usage = addUsage(usage, r.usage);
  }
  const message: ChatCompletion['choices'][number]['message'] = { role: 'assistant', content: texts.join(PIECE_SEPARATOR) || null };
  if (toolCalls) message.tool_calls = toolCalls;
  const completion: ChatCompletion = {
    id: chunkedId(cand),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: cand.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: failure ? 'length' : finish }],
    aisbf_chunked: true,
    aisbf_total_chunks: pieces.length,
  };
  if (usage) completion.usage = usage;
  if (failure) {
    completion.aisbf_partial = true;
    completion.aisbf_completed_chunks = done;
    completion.aisbf_error = failure.message;
  }
  return completion;
}

/** An upstream's verbatim chunks as plain parts, so pieces from one stream can follow another's. */
async function* plainParts(source: AsyncIterable<ChatStreamPart>): AsyncGenerator<ChatStreamPart> {
  for await (const part of source) {
    if (part.type !== 'chunk') {
      yield part;
      continue;
    }
    for (const choice of part.chunk.choices) {
      const d = choice.delta as { content?: unknown; reasoning_content?: unknown; tool_calls?: unknown };
      if (typeof d.reasoning_content === 'string' && d.reasoning_content) yield { type: 'reasoning-delta', text: d.reasoning_content };
      if (typeof d.content === 'string' && d.content) yield { type: 'text-delta', text: d.content };
      if (Array.isArray(d.tool_calls)) {
        for (const tc of d.tool_calls as Array<{ index?: number; id?: string; function?: { name?: string; arguments?: string } }>) {
          yield { type: 'tool-call-delta', index: tc.index ?? 0, id: tc.id, name: tc.function?.name, arguments: tc.function?.arguments };
        }
      }
      if (choice.finish_reason) yield { type: 'finish', finishReason: choice.finish_reason };
    }
  }
}

/**
 * Streams the pieces' outputs one after another as one answer: one finish at the end, usage summed.
 * If a later piece fails, the stream ends there with finish_reason "length".
 */
export async function* streamInPieces(cand: Candidate, pieces: ChatRequest[], ctx: CallContext): AsyncGenerator<ChatStreamPart> {
  let usage: Usage | undefined;
  let finish: FinishReason = 'stop';
  let yielded = false;
  let anyText = false;
  for (const [i, piece] of pieces.entries()) {
    let pieceText = false;
    try {
      for await (const part of plainParts(cand.adapter.streamChat(piece, ctx))) {
        if (part.type === 'finish') finish = part.finishReason;
        else if (part.type === 'usage') usage = addUsage(usage, part.usage);
        else {
          if (part.type === 'text-delta') {
            if (anyText && !pieceText) yield { type: 'text-delta', text: PIECE_SEPARATOR };
            pieceText = anyText = true;
          }
          yielded = true;
          yield part;
        }
      }
    } catch (err) {
      if (!yielded || ctx.signal.aborted) throw err;
      ctx.log.warn({ provider: cand.providerId, model: cand.model, piece: i + 1, of: pieces.length, err: (err as Error).message }, 'split stream: a later piece failed; ending with the partial answer');
      finish = 'length';
      break;
    }
  }
  if (usage) yield { type: 'usage', usage };
  yield { type: 'finish', finishReason: finish };
}
