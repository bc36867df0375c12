/**
 * Reading a pass-through stream's usage as its bytes go by: whatever the chunking (down to one byte,
 * splitting `"usage"` and multi-byte characters), the final events' tokens come out.
 */
import { describe, expect, it } from 'vitest';
import { messagesStreamUsage } from '../../src/inbound/anthropic-messages/messages-usage.js';
import { responsesStreamUsage } from '../../src/inbound/responses/responses-usage.js';

const enc = new TextEncoder();
const frame = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;

function feedIn(reader: { feed(b: Uint8Array): void }, text: string, size: number): void {
  const bytes = enc.encode(text);
  for (let i = 0; i < bytes.length; i += size) reader.feed(bytes.subarray(i, i + size));
}

const anthropic =
  frame('message_start', { type: 'message_start', message: { id: 'm', usage: { input_tokens: 30, cache_read_input_tokens: 10, cache_creation_input_tokens: null, output_tokens: 1 } } }) +
  frame('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'h\u00e9llo "usage" 🙂' } }) +
  frame('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 12 } }) +
  frame('message_stop', { type: 'message_stop' });

const responses =
  frame('response.created', { type: 'response.created', response: { usage: null } }) +
  frame('response.output_text.delta', { type: 'response.output_text.delta', delta: 'the "usage" word' }) +
  frame('response.completed', { type: 'response.completed', response: { usage: { input_tokens: 7, output_tokens: 3, input_tokens_details: { cached_tokens: 2 }, output_tokens_details: { reasoning_tokens: 1 } } } });

describe('pass-through usage tap', () => {
  it.each([1, 3, 64, 100_000])('Anthropic: message_start input + the last message_delta output, in %i-byte chunks', (size) => {
    const r = messagesStreamUsage();
    feedIn(r, anthropic, size);
    expect(r.usage()).toMatchObject({ prompt_tokens: 40, completion_tokens: 12, total_tokens: 52, prompt_tokens_details: { cached_tokens: 10 } });
  });

  it.each([1, 5, 100_000])('Responses: response.completed usage with cached and reasoning tokens, in %i-byte chunks', (size) => {
    const r = responsesStreamUsage();
    feedIn(r, responses, size);
    expect(r.usage()).toEqual({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10, prompt_tokens_details: { cached_tokens: 2 }, completion_tokens_details: { reasoning_tokens: 1 } });
  });

  it('skips a line longer than its bound (16 MB) and still reads the usage events after it', () => {
    const r = messagesStreamUsage();
    // A content event of 17 MB with "usage" inside its text, in 1 MB reads, then the stream's real events.
    const huge = `event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"${'u'.repeat(17 * 1024 * 1024)} \\"usage\\""}}\n\n`;
    feedIn(r, huge + anthropic, 1024 * 1024);
    expect(r.usage()).toMatchObject({ prompt_tokens: 40, completion_tokens: 12 });
  });

  it('a line that spans reads is joined once: its usage is read whatever the split', () => {
    const r = messagesStreamUsage();
    const start = frame('message_start', { type: 'message_start', message: { id: 'm', usage: { input_tokens: 5, output_tokens: 1 } } });
    const mid = Math.floor(start.length / 2);
    r.feed(enc.encode(start.slice(0, mid)));
    r.feed(enc.encode(start.slice(mid) + frame('message_delta', { type: 'message_delta', usage: { output_tokens: 4 } }).slice(0, 20)));
    r.feed(enc.encode(frame('message_delta', { type: 'message_delta', usage: { output_tokens: 4 } }).slice(20)));
    expect(r.usage()).toMatchObject({ prompt_tokens: 5, completion_tokens: 4 });
  });

  it('a stream without usage events, or with malformed ones, reports none', () => {
    const r = messagesStreamUsage();
    feedIn(r, 'event: x\ndata: {"usage": oops\n\n' + frame('ping', { type: 'ping' }), 7);
    expect(r.usage()).toBeUndefined();
  });
});
