import { describe, expect, it } from 'vitest';
import { convertToAnthropicRequest, JSON_OBJECT_INSTRUCTION } from '../../../src/providers/anthropic/convert-to-anthropic-request.js';
import type { ChatRequest } from '../../../src/providers/openai-types.js';
import { ProviderError } from '../../../src/providers/provider-error.js';

const where = { provider: 'an', model: 'claude-sonnet-4-6' };
const PNG_B64 = 'iVBORw0KGgo=';

describe('convertToAnthropicRequest', () => {
  it('translates a full tool conversation exactly', () => {
    const req: ChatRequest = {
      model: 'an/claude',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}` } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '18°C' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      tool_choice: 'required',
      parallel_tool_calls: false,
      temperature: 1.7,
      stop: 'END',
      max_tokens: 300,
      user: 'u-1',
      response_format: { type: 'json_object' },
    };
    expect(convertToAnthropicRequest(req, where)).toEqual({
      model: 'claude-sonnet-4-6',
      max_tokens: 300,
      system: `Be brief.\n\n${JSON_OBJECT_INSTRUCTION}`,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Weather?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_B64 } },
          ],
        },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: '18°C' }] },
      ],
      tools: [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      temperature: 1,
      stop_sequences: ['END'],
      metadata: { user_id: 'u-1' },
    });
  });

  it('turns reasoning_effort into a thinking budget on top of the default max_tokens, and drops temperature', () => {
    const p = convertToAnthropicRequest({ model: 'x', messages: [{ role: 'user', content: 'hi' }], reasoning_effort: 'low', temperature: 0.3 }, where);
    expect(p).toMatchObject({ max_tokens: 4096 + 2048, thinking: { type: 'enabled', budget_tokens: 2048 } });
    expect(p.temperature).toBeUndefined();
  });

  it('refuses what Anthropic cannot do with a 400 naming the field', () => {
    const bad = (req: Partial<ChatRequest>) => {
      try {
        convertToAnthropicRequest({ model: 'x', messages: [{ role: 'user', content: 'hi' }], ...req } as ChatRequest, where);
      } catch (err) {
        return err as ProviderError;
      }
      throw new Error('expected a 400');
    };
    expect(bad({ n: 2 })).toMatchObject({ kind: 'bad_request', param: 'n' });
    expect(bad({ messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{not json' } }] }] })).toMatchObject({
      kind: 'bad_request',
      param: 'messages[0].tool_calls[0].function.arguments',
    });
  });
});
