import { describe, expect, it } from 'vitest';
import { convertToGeminiRequest } from '../../../src/providers/gemini/convert-to-gemini-request.js';
import type { ChatRequest } from '../../../src/providers/openai-types.js';

const opts = {
  provider: 'gm',
  model: 'gemini-2.0-flash',
  loadImage: async (url: string) => ({ mediaType: 'image/png', base64: url.split(',')[1]! }),
};

describe('convertToGeminiRequest', () => {
  it('translates messages, tools, tool_choice, sampling and JSON mode exactly', async () => {
    const req: ChatRequest = {
      model: 'gm/x',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' }, extra_content: { google: { thought_signature: 'SIG' } } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp":18}' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      max_tokens: 100,
      temperature: 0.5,
      top_p: 0.9,
      seed: 7,
      stop: ['END'],
      response_format: { type: 'json_object' },
    };
    const p = await convertToGeminiRequest(req, opts);
    expect(p.model).toBe('gemini-2.0-flash');
    expect(p.contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather?' }, { inlineData: { mimeType: 'image/png', data: 'AAAA' } }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'SIG' }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 18 } } }] },
    ]);
    expect(p.config).toMatchObject({
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      tools: [{ functionDeclarations: [{ name: 'get_weather', description: 'Weather' }] }],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
      maxOutputTokens: 100,
      temperature: 0.5,
      topP: 0.9,
      seed: 7,
      stopSequences: ['END'],
      responseMimeType: 'application/json',
    });
    expect(p.config?.thinkingConfig).toBeUndefined();
  });

  it('asks thinking models for thought summaries, and maps reasoning_effort to a budget', async () => {
    const msg = [{ role: 'user' as const, content: 'hi' }];
    expect((await convertToGeminiRequest({ model: 'x', messages: msg }, { ...opts, model: 'gemini-2.5-flash' })).config?.thinkingConfig).toEqual({ includeThoughts: true });
    expect((await convertToGeminiRequest({ model: 'x', messages: msg, reasoning_effort: 'none' }, { ...opts, model: 'gemini-2.5-flash' })).config?.thinkingConfig).toEqual({ thinkingBudget: 0 });
  });

  it('refuses an invalid function name with a 400 naming the field', async () => {
    const req: ChatRequest = { model: 'x', messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'has space' } }] };
    await expect(convertToGeminiRequest(req, opts)).rejects.toMatchObject({ kind: 'bad_request', param: 'tools[0].function.name' });
  });

  it('refuses a tool schema whose $refs expand exponentially, quickly and with a 400 naming the field', async () => {
    // 20 definitions, each with four properties referring to the next: 4^20 nodes if inlined.
    const $defs: Record<string, unknown> = { n20: { type: 'string' } };
    for (let i = 0; i < 20; i++) $defs[`n${i}`] = { type: 'object', properties: Object.fromEntries([0, 1, 2, 3].map((k) => [`p${k}`, { $ref: `#/$defs/n${i + 1}` }])) };
    const req: ChatRequest = {
      model: 'x',
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ type: 'function', function: { name: 'bomb', parameters: { type: 'object', properties: { x: { $ref: '#/$defs/n0' } }, $defs } } }],
    };
    await expect(convertToGeminiRequest(req, opts)).rejects.toMatchObject({ kind: 'bad_request', status: 400, param: 'tools[0].function.parameters' });
  });
});
