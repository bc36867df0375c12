/**
 * Anthropic stream events → parts, replaying recorded event streams: directly through the converter,
 * and byte for byte through the SDK (for the `error` event, which the SDK throws before the converter).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnthropicAdapter } from '../../../src/providers/anthropic/anthropic-adapter.js';
import { anthropicEventsToParts } from '../../../src/providers/anthropic/anthropic-stream.js';
import { ProviderError } from '../../../src/providers/provider-error.js';
import { startReplayUpstream, type ReplayUpstream } from '../../fakes/replay-upstream.js';
import { callContext, collect, iterate, recorded, rejection, sseJson } from '../../helpers/recorded.js';

const EXPECTED = [
  { type: 'reasoning-delta', text: 'The user wants Paris weather.' },
  { type: 'text-delta', text: 'Let me check' },
  { type: 'text-delta', text: ' that.' },
  { type: 'tool-call-delta', index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', arguments: '' },
  { type: 'tool-call-delta', index: 0, arguments: '{"city": "Pa' },
  { type: 'tool-call-delta', index: 0, arguments: 'ris"}' },
  // input 472 + cache writes 0 + cache reads 100; output from message_delta (cumulative).
  { type: 'usage', usage: { prompt_tokens: 572, completion_tokens: 89, total_tokens: 661, prompt_tokens_details: { cached_tokens: 100 } } },
  { type: 'finish', finishReason: 'tool_calls' },
];

describe('anthropicEventsToParts (recorded events)', () => {
  it('thinking, ping, text, tool_use with input_json_delta fragments, message_delta usage', async () => {
    const events = sseJson(recorded('anthropic', 'thinking-text-tool.sse'));
    expect(events.some((e) => e.type === 'ping')).toBe(true);
    expect(await collect(anthropicEventsToParts(iterate(events), 'an', 'claude'))).toEqual(EXPECTED);
  });

  it('a stream that ends before message_stop is cut short: a connection failure, not a finish', async () => {
    const events = sseJson(recorded('anthropic', 'cut-before-stop.sse'));
    const got: unknown[] = [];
    const err = await rejection(
      (async () => {
        for await (const p of anthropicEventsToParts(iterate(events), 'an', 'claude')) got.push(p);
      })(),
    );
    expect(got).toEqual([{ type: 'text-delta', text: 'Hel' }]);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: 'connection', provider: 'an', model: 'claude' });
  });
});

describe('Anthropic SSE through the SDK (recorded bytes)', () => {
  let up: ReplayUpstream;
  beforeAll(async () => {
    up = await startReplayUpstream();
  });
  afterAll(() => up.close());

  const req = { model: 'c', messages: [{ role: 'user' as const, content: 'weather in Paris?' }] };

  it('gives the same parts as the converter alone', async () => {
    up.next({ contentType: 'text/event-stream', body: recorded('anthropic', 'thinking-text-tool.sse') });
    const a = new AnthropicAdapter('an', { endpoint: up.origin, models: [] });
    expect(await collect(a.streamChat(req, callContext({ model: 'claude-sonnet-4-6' })))).toEqual(EXPECTED);
    expect(up.requests.at(-1)!.path).toBe('/v1/messages');
  });

  it('an error event mid-stream becomes a server failure with Anthropic’s words', async () => {
    up.next({ contentType: 'text/event-stream', body: recorded('anthropic', 'error-event.sse') });
    const a = new AnthropicAdapter('an', { endpoint: up.origin, models: [] });
    const got: unknown[] = [];
    const err = await rejection(
      (async () => {
        for await (const p of a.streamChat(req, callContext({ model: 'claude-sonnet-4-6' }))) got.push(p);
      })(),
    );
    expect(got).toEqual([{ type: 'text-delta', text: 'Hel' }]);
    expect(err).toMatchObject({ kind: 'server', status: 529, code: 'overloaded_error', message: 'Overloaded' });
  });
});
