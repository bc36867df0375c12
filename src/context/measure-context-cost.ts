/**
 * @module What context management costs per request, for `npm run bench`: the one-off encoder build,
 * the byte bound every condensation-configured request pays, and the exact count paid only near a
 * threshold. A candidate without condensation or max_request_tokens pays none of these.
 */
import type { ChatMessage, ChatRequest } from '../providers/provider-adapter.js';
import { countRequestTokens, encoderFor, encodingForModel, upperBoundTokens } from '../tokens/count-tokens.js';

export interface ContextCost {
  model: string;
  encoding: string;
  messages: number;
  /** Exact prompt tokens (OpenAI's accounting). */
  tokens: number;
  /** The byte upper bound (what decides whether to count at all). */
  bound: number;
  /** Building the encoder, once per process (0 when it was already built). */
  encoderInitMs: number;
  /** Mean cost of the byte bound per request, in microseconds. */
  boundMicros: number;
  /** The first exact count of this request, in microseconds (nothing cached yet). */
  countFirstMicros: number;
  /** Mean cost of the exact count when the same request comes again (long strings cached). */
  countMicros: number;
}

function meanMicros(iterations: number, run: () => void): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) run();
  return Number(process.hrtime.bigint() - start) / 1000 / iterations;
}

/** A conversation of roughly `approxTokens` tokens (about 25 tokens a message), for benchmarks. */
export function syntheticConversation(approxTokens: number): ChatMessage[] {
  const msgs: ChatMessage[] = [{ role: 'system', content: 'You are a helpful assistant.' }];
  for (let i = 0; msgs.length * 25 < approxTokens; i++) {
    msgs.push({ role: i % 2 ? 'assistant' : 'user', content: `Message ${i}: a sentence of ordinary prose about topic ${i % 17}, with some detail.` });
  }
  return msgs;
}

export function measureContextCost(req: Pick<ChatRequest, 'messages' | 'tools'>, model = 'gpt-4o', iterations = 20): ContextCost {
  const encoding = encodingForModel(model);
  const t0 = process.hrtime.bigint();
  encoderFor(encoding);
  const encoderInitMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const t1 = process.hrtime.bigint();
  const tokens = countRequestTokens(req, model);
  const countFirstMicros = Number(process.hrtime.bigint() - t1) / 1000;
  return {
    model,
    encoding,
    messages: req.messages.length,
    tokens,
    countFirstMicros,
    bound: upperBoundTokens(req, model),
    encoderInitMs,
    boundMicros: meanMicros(iterations, () => upperBoundTokens(req, model)),
    countMicros: meanMicros(iterations, () => countRequestTokens(req, model)),
  };
}
