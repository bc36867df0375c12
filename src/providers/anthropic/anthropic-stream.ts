/**
 * @module The one place Anthropic stream events become ChatStreamParts: text_delta → text,
 * thinking_delta → reasoning, tool_use blocks and their input_json_delta fragments → OpenAI-shaped
 * tool-call deltas (indexed by position among the tool calls, not by Anthropic's block index),
 * message_delta → finish reason and usage. (`ping` events are dropped and `error` events thrown by
 * the SDK before they get here.)
 */
import type { ChatStreamPart, FinishReason } from '../provider-adapter.js';
import { ProviderError } from '../provider-error.js';
import type { AnthropicStreamEvent } from './anthropic-api.js';
import { toOpenAIUsage, type AnthropicCounts } from './anthropic-usage.js';
import { mapAnthropicFinishReason } from './map-anthropic-finish-reason.js';

export async function* anthropicEventsToParts(events: AsyncIterable<AnthropicStreamEvent>, provider: string, model: string): AsyncGenerator<ChatStreamPart> {
  const counts: AnthropicCounts = {};
  /** Anthropic content-block index → OpenAI tool-call index. */
  const toolIndex = new Map<number, number>();
  let finish: FinishReason | undefined;
  let stopped = false;

  for await (const ev of events) {
    switch (ev.type) {
      case 'message_start':
        Object.assign(counts, pickCounts(ev.message.usage));
        break;
      case 'content_block_start': {
        const block = ev.content_block;
        if (block.type === 'text' && block.text) yield { type: 'text-delta', text: block.text };
        else if (block.type === 'thinking' && block.thinking) yield { type: 'reasoning-delta', text: block.thinking };
        else if (block.type === 'tool_use') {
          const index = toolIndex.size;
          toolIndex.set(ev.index, index);
          yield { type: 'tool-call-delta', index, id: block.id, name: block.name, arguments: '' };
          // The API opens a tool_use block with `input: {}` and streams the input as JSON fragments.
          const input = block.input;
          if (input && typeof input === 'object' && Object.keys(input).length > 0) {
            yield { type: 'tool-call-delta', index, arguments: JSON.stringify(input) };
          }
        }
        break;
      }
      case 'content_block_delta': {
        const d = ev.delta;
        if (d.type === 'text_delta') {
          if (d.text) yield { type: 'text-delta', text: d.text };
        } else if (d.type === 'thinking_delta') {
          if (d.thinking) yield { type: 'reasoning-delta', text: d.thinking };
        } else if (d.type === 'input_json_delta') {
          const index = toolIndex.get(ev.index);
          if (index !== undefined && d.partial_json) yield { type: 'tool-call-delta', index, arguments: d.partial_json };
        }
        // signature_delta and citations_delta have no OpenAI counterpart.
        break;
      }
      case 'message_delta':
        if (ev.delta.stop_reason) finish = mapAnthropicFinishReason(ev.delta.stop_reason);
        // message_delta's counts are cumulative; input counts appear here only on newer API versions.
        Object.assign(counts, pickCounts(ev.usage));
        break;
      case 'message_stop':
        stopped = true;
        break;
      default:
        break;
    }
  }
  if (!stopped) {
    // The SDK ends the iteration quietly when the request is aborted; a stream without message_stop
    // is cut short, never complete. (The deadline turns it into a timeout when its clock fired.)
    throw new ProviderError('the Anthropic stream ended before message_stop', { kind: 'connection', provider, model });
  }
  yield { type: 'usage', usage: toOpenAIUsage(counts) };
  yield { type: 'finish', finishReason: finish ?? 'stop' };
}

/** The non-null counts of a usage object, so later events do not erase earlier ones with null. */
function pickCounts(u: object | null | undefined): AnthropicCounts {
  const out: Record<string, unknown> = {};
  if (!u) return out;
  for (const k of ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens', 'output_tokens_details'] as const) {
    const v = (u as Record<string, unknown>)[k];
    if (v !== null && v !== undefined) out[k] = v;
  }
  return out as AnthropicCounts;
}
