import { describe, expect, it } from 'vitest';
import { convertToOllamaRequest } from '../../../src/providers/ollama/convert-to-ollama-request.js';
import type { ChatRequest } from '../../../src/providers/openai-types.js';

const c = { provider: 'ol', ctx: { model: 'qwen3', signal: new AbortController().signal } };

describe('convertToOllamaRequest', () => {
  it('translates messages, tools, options, format and think exactly', async () => {
    const req: ChatRequest = {
      model: 'ol/qwen3',
      messages: [
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
        { role: 'assistant', content: '', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"cat"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'a cat' },
      ],
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }],
      max_completion_tokens: 50,
      temperature: 0.1,
      stop: 'END',
      seed: 3,
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
      reasoning_effort: 'high',
    };
    expect(await convertToOllamaRequest(req, true, c, { num_ctx: 16384 })).toEqual({
      model: 'qwen3',
      stream: true,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'What is this?', images: ['AAAA'] },
        { role: 'assistant', content: '', tool_calls: [{ id: 'call_1', function: { index: 0, name: 'lookup', arguments: { q: 'cat' } } }] },
        { role: 'tool', content: 'a cat', tool_name: 'lookup', tool_call_id: 'call_1' },
      ],
      tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }],
      format: { type: 'object' },
      options: { num_ctx: 16384, num_predict: 50, temperature: 0.1, stop: ['END'], seed: 3 },
      think: 'high',
    });
  });

  it('honours tool_choice none by offering no tools, and refuses a named tool that is not offered', async () => {
    const base: ChatRequest = { model: 'x', messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'a' } }] };
    expect((await convertToOllamaRequest({ ...base, tool_choice: 'none' }, false, c)).tools).toBeUndefined();
    await expect(convertToOllamaRequest({ ...base, tool_choice: { type: 'function', function: { name: 'b' } } }, false, c)).rejects.toMatchObject({ kind: 'bad_request', param: 'tool_choice' });
  });
});
