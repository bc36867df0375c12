/**
 * Ollama's streamed `/api/chat` NDJSON → parts, replaying recorded lines: directly through the
 * converter, and byte for byte through the SDK (for a mid-stream `{"error"}` line).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OllamaAdapter } from '../../../src/providers/ollama/ollama-adapter.js';
import { ollamaLinesToParts } from '../../../src/providers/ollama/ollama-stream.js';
import { startReplayUpstream, type ReplayUpstream } from '../../fakes/replay-upstream.js';
import { callContext, collect, iterate, ndjson, recorded, rejection } from '../../helpers/recorded.js';

const EXPECTED = [
  { type: 'reasoning-delta', text: 'The user wants' },
  { type: 'reasoning-delta', text: ' the weather.' },
  { type: 'text-delta', text: 'Checking.' },
  { type: 'tool-call-delta', index: 0, id: 'call_0q5rwbde', name: 'get_current_weather', arguments: '' },
  { type: 'tool-call-delta', index: 0, arguments: '{"format":"celsius","location":"Toronto"}' },
  { type: 'usage', usage: { prompt_tokens: 217, completion_tokens: 35, total_tokens: 252 } },
  // done_reason "stop" after a tool call is OpenAI's "tool_calls".
  { type: 'finish', finishReason: 'tool_calls' },
];

describe('ollamaLinesToParts (recorded lines)', () => {
  it('thinking, content, tool_calls, and the done line with counts', async () => {
    const lines = ndjson(recorded('ollama', 'thinking-text-tool-calls.ndjson'));
    expect(await collect(ollamaLinesToParts(iterate(lines), 'ol', 'qwen3'))).toEqual(EXPECTED);
  });

  it('a line that is not a chat response is malformed', async () => {
    expect(await rejection(collect(ollamaLinesToParts(iterate([{ nope: true }]), 'ol', 'qwen3')))).toMatchObject({ kind: 'malformed' });
  });
});

describe('Ollama NDJSON through the SDK (recorded bytes)', () => {
  let up: ReplayUpstream;
  beforeAll(async () => {
    up = await startReplayUpstream();
  });
  afterAll(() => up.close());
  const req = { model: 'x', messages: [{ role: 'user' as const, content: 'Weather in Toronto?' }] };

  it('gives the same parts, from /api/chat', async () => {
    up.next({ contentType: 'application/x-ndjson', body: recorded('ollama', 'thinking-text-tool-calls.ndjson') });
    const a = new OllamaAdapter('ol', { endpoint: up.origin });
    expect(await collect(a.streamChat(req, callContext({ model: 'qwen3', apiKey: undefined })))).toEqual(EXPECTED);
    expect(up.requests.at(-1)).toMatchObject({ path: '/api/chat', body: { model: 'qwen3', stream: true, messages: [{ role: 'user', content: 'Weather in Toronto?' }] } });
  });

  it('an {"error"} line mid-stream is a server failure in Ollama’s words', async () => {
    up.next({ contentType: 'application/x-ndjson', body: recorded('ollama', 'error-mid-stream.ndjson') });
    const a = new OllamaAdapter('ol', { endpoint: up.origin });
    const got: unknown[] = [];
    const err = await rejection(
      (async () => {
        for await (const p of a.streamChat(req, callContext({ model: 'qwen3' }))) got.push(p);
      })(),
    );
    expect(got).toEqual([{ type: 'text-delta', text: 'Checking.' }]);
    expect(err).toMatchObject({ kind: 'server', message: 'an error was encountered while running the model: unexpected EOF' });
  });
});
