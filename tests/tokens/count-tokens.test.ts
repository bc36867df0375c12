import { get_encoding } from 'tiktoken';
import { describe, expect, it } from 'vitest';
import {
  countMessageTokens,
  countTextTokens,
  encodingForModel,
  imageTokens,
  upperBoundTokens,
} from '../../src/tokens/count-tokens.js';
import type { ChatMessage, ToolDefinition } from '../../src/providers/provider-adapter.js';
import { makePng } from '../helpers/png.js';

// An independent reference: a fresh encoder (not the module's cache).
const ref = { cl100k_base: get_encoding('cl100k_base'), o200k_base: get_encoding('o200k_base') };
const n = (enc: keyof typeof ref, s: string) => ref[enc].encode(s).length;
const png = (w: number, h: number) => `data:image/png;base64,${makePng(w, h).toString('base64')}`;

describe('token counting', () => {
  it('counts "hello world" as 2 tokens in both encodings', () => {
    expect(countTextTokens('hello world', 'cl100k_base')).toBe(2);
    expect(countTextTokens('hello world', 'o200k_base')).toBe(2);
  });

  it('picks o200k_base for the gpt-4o / gpt-4.1 / o-series / gpt-5 families and cl100k_base otherwise', () => {
    for (const m of ['gpt-4o', 'gpt-4o-mini', 'openai/gpt-4.1-mini', 'o1', 'o3-mini', 'o4-mini', 'gpt-5', 'gpt-5-nano', 'chatgpt-4o-latest']) expect(encodingForModel(m)).toBe('o200k_base');
    for (const m of ['gpt-4', 'gpt-3.5-turbo', 'claude-sonnet-4-6', 'llama3.2', 'gemini-2.5-flash', 'solo1']) expect(encodingForModel(m)).toBe('cl100k_base');
  });

  it("adds OpenAI's per-message overhead: 3 per message, 1 per name, 3 to prime the reply", () => {
    const msgs: ChatMessage[] = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'hello world', name: 'ann' },
    ];
    const expected = 3 + n('o200k_base', 'system') + n('o200k_base', 'You are terse.') + 3 + n('o200k_base', 'user') + 2 + 1 + n('o200k_base', 'ann') + 3;
    expect(countMessageTokens(msgs, 'gpt-4o')).toBe(expected);
    // OpenAI's documented per-message rule gives 9 for one "hello world" user message.
    expect(countMessageTokens([{ role: 'user', content: 'hello world' }], 'gpt-4')).toBe(9);
  });

  it('counts text parts and ignores special-token text as special', () => {
    const msgs: ChatMessage[] = [{ role: 'user', content: [{ type: 'text', text: 'a <|endoftext|> b' }] }];
    expect(countMessageTokens(msgs, 'gpt-4')).toBe(3 + 1 + ref.cl100k_base.encode('a <|endoftext|> b', [], []).length + 3);
  });

  it("counts images by OpenAI's tile rule (documented examples)", () => {
    expect(imageTokens(png(2, 2), 'low')).toBe(85);
    expect(imageTokens(png(1024, 1024), 'high')).toBe(765); // 4 tiles
    expect(imageTokens(png(2048, 4096), 'high')).toBe(1105); // → 1024×2048 → 768×1536: 6 tiles
    expect(imageTokens(png(512, 512), undefined)).toBe(255); // 1 tile
    expect(imageTokens('https://example.com/cat.jpg', 'high')).toBe(765); // size unknown: 1024×1024
    const msgs: ChatMessage[] = [{ role: 'user', content: [{ type: 'image_url', image_url: { url: png(1024, 1024), detail: 'high' } }] }];
    expect(countMessageTokens(msgs, 'gpt-4o')).toBe(3 + 1 + 765 + 3);
  });

  it('counts tool definitions and tool calls', () => {
    const tools: ToolDefinition[] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Get the weather.',
          parameters: { type: 'object', properties: { city: { type: 'string', description: 'City name.' }, unit: { type: 'string', enum: ['c', 'f'] } } },
        },
      },
    ];
    const msgs: ChatMessage[] = [{ role: 'user', content: 'weather?' }];
    const base = countMessageTokens(msgs, 'gpt-4o');
    // Cookbook formula for gpt-4o: 7 per function + "name:description" + 3 + per property 3 + line, enums -3 + 3 each, 12 at the end.
    const e = (s: string) => n('o200k_base', s);
    const toolCost = 7 + e('get_weather:Get the weather') + 3 + 3 + e('city:string:City name') + 3 + -3 + (3 + e('c')) + (3 + e('f')) + e('unit:string:') + 12;
    expect(countMessageTokens(msgs, 'gpt-4o', tools)).toBe(base + toolCost);

    const withCall: ChatMessage[] = [
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'rain' },
    ];
    expect(countMessageTokens(withCall, 'gpt-4o')).toBeGreaterThan(countMessageTokens([{ role: 'assistant', content: null }, { role: 'tool', content: 'rain' }], 'gpt-4o'));
  });

  it('has a byte upper bound that is never below the exact count', () => {
    const samples = ['hello world', 'ünïcödé text — ok?', '日本語のテキストです', '   spaces    and\n\nnewlines\t', '{"json": [1, 2, 3]}', '🙂🙂🙂 emoji', 'x'.repeat(5000)];
    for (const model of ['gpt-4o', 'gpt-4']) {
      for (const s of samples) {
        const req = { messages: [{ role: 'user' as const, content: s, name: 'n' }], tools: [{ type: 'function' as const, function: { name: 'f', description: s, parameters: { type: 'object', properties: { p: { type: 'string', description: s, enum: [s] } } } } }] };
        expect(upperBoundTokens(req, model)).toBeGreaterThanOrEqual(countMessageTokens(req.messages, model, req.tools));
      }
    }
  });
});

describe('measureContextCost', () => {
  it('reports the exact count, the bound and what each costs', async () => {
    const { measureContextCost, syntheticConversation } = await import('../../src/context/measure-context-cost.js');
    const messages = syntheticConversation(2000);
    const cost = measureContextCost({ messages }, 'gpt-4o', 3);
    expect(cost.tokens).toBe(countMessageTokens(messages, 'gpt-4o'));
    expect(cost.bound).toBeGreaterThanOrEqual(cost.tokens);
    expect(cost.tokens).toBeGreaterThan(1000);
    expect(cost.countMicros).toBeGreaterThan(0);
    expect(cost.boundMicros).toBeGreaterThan(0);
    expect(cost.encoding).toBe('o200k_base');
  });
});
