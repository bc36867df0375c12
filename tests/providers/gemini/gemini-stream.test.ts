/**
 * Gemini `streamGenerateContent?alt=sse` chunks → parts, replaying recorded chunks: directly through
 * the converter, and byte for byte through the SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GeminiAdapter } from '../../../src/providers/gemini/gemini-adapter.js';
import { geminiStreamToParts } from '../../../src/providers/gemini/gemini-stream.js';
import { startReplayUpstream, type ReplayUpstream } from '../../fakes/replay-upstream.js';
import { callContext, collect, iterate, recorded, rejection, sseJson } from '../../helpers/recorded.js';

const EXPECTED = [
  { type: 'reasoning-delta', text: '**Checking the weather**\n\nThe user asks about Paris.' },
  { type: 'text-delta', text: 'Let me look that up.' },
  // No id from Gemini: one is made; the thought signature is not a part (it rides on the call in JSON answers).
  { type: 'tool-call-delta', index: 0, id: expect.stringMatching(/^call_/), name: 'get_weather', arguments: '{"city":"Paris"}' },
  // usageMetadata is a running total: the last one counts; thoughts are completion tokens.
  { type: 'usage', usage: { prompt_tokens: 31, completion_tokens: 73, total_tokens: 104, completion_tokens_details: { reasoning_tokens: 52 } } },
  { type: 'finish', finishReason: 'tool_calls' },
];

describe('geminiStreamToParts (recorded chunks)', () => {
  it('thought text, text, a functionCall with thoughtSignature, usageMetadata, finishReason', async () => {
    const chunks = sseJson(recorded('gemini', 'thought-text-function-call.sse'));
    expect(chunks[2].candidates[0].content.parts[0].thoughtSignature).toBeTruthy();
    expect(await collect(geminiStreamToParts('gm', 'gemini-2.5-flash')(iterate(chunks)))).toEqual(EXPECTED);
  });

  it('a stream without a finishReason was cut short: malformed', async () => {
    const chunks = sseJson(recorded('gemini', 'cut-without-finish.sse'));
    expect(await rejection(collect(geminiStreamToParts('gm', 'g')(iterate(chunks))))).toMatchObject({ kind: 'malformed', provider: 'gm' });
  });
});

describe('Gemini SSE through the SDK (recorded bytes)', () => {
  let up: ReplayUpstream;
  beforeAll(async () => {
    up = await startReplayUpstream();
  });
  afterAll(() => up.close());

  it('gives the same parts, from :streamGenerateContent?alt=sse', async () => {
    up.next({ contentType: 'text/event-stream', body: recorded('gemini', 'thought-text-function-call.sse') });
    const a = new GeminiAdapter('gm', { endpoint: up.origin });
    const parts = await collect(a.streamChat({ model: 'x', messages: [{ role: 'user', content: 'Weather in Paris?' }] }, callContext({ model: 'gemini-2.5-flash' })));
    expect(parts).toEqual(EXPECTED);
    const sent = up.requests.at(-1)!;
    expect(sent.path).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent');
    expect(sent.query.get('alt')).toBe('sse');
    expect(sent.headers['x-goog-api-key']).toBe('sk-test');
  });
});
