/**
 * dispatchPart: which writer call each part becomes. A plain chunk as it came (RawChunkPart) whose
 * only delta is content hands its JSON string literal on unparsed (`textLiteral`); every other shape is
 * parsed and fed as decoded text, tool calls, finish and usage, so the fast path never changes what a
 * writer sees, only how.
 */
import { describe, expect, it } from 'vitest';
import { dispatchPart, type PartSink } from '../../src/inbound/part-events.js';
import { RawChunkPart, type ChatStreamPart } from '../../src/providers/openai-types.js';

/** Every call a writer got, in order. */
function record(parts: ChatStreamPart[]): unknown[][] {
  const calls: unknown[][] = [];
  const sink: PartSink = {
    text: (t) => calls.push(['text', t]),
    textLiteral: (l) => calls.push(['textLiteral', l]),
    reasoning: (t) => calls.push(['reasoning', t]),
    toolCall: (...a) => calls.push(['toolCall', ...a]),
    finish: (r) => calls.push(['finish', r]),
    usage: (u) => calls.push(['usage', u]),
  };
  for (const p of parts) dispatchPart(p, sink);
  return calls;
}

const HEAD = '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","service_tier":"default","system_fingerprint":"fp_1",';
const chunk = (choice: string, tail = '') => new RawChunkPart(`${HEAD}"choices":[${choice}]${tail}}`);

describe('dispatchPart', () => {
  it("hands a content-only chunk's literal on as it came: escapes, non-ASCII and all", () => {
    const literal = JSON.stringify('Say "hi" \\ \n\t café 😀 \u2028');
    const calls = record([chunk(`{"index":0,"delta":{"content":${literal}},"logprobs":null,"finish_reason":null}`, ',"usage":null,"obfuscation":"x"')]);
    expect(calls).toEqual([['textLiteral', literal]]);
    // The literal is the text: what a writer splices decodes to what the parse would have given.
    expect(JSON.parse(calls[0]![1] as string)).toBe('Say "hi" \\ \n\t café 😀 \u2028');
  });

  it('keeps a literal with escaped quotes and keys inside the text whole', () => {
    const text = 'a "delta":{"content":"x"} b\\';
    const literal = JSON.stringify(text);
    expect(record([chunk(`{"index":0,"delta":{"content":${literal}},"logprobs":null,"finish_reason":null}`)])).toEqual([['textLiteral', literal]]);
  });

  it('takes only what JSON allows in a string: a raw control character or a bad escape is parsed, and fails as JSON does', () => {
    // A raw CR spliced into an SSE event would end its line at the client.
    const rawCr = chunk('{"index":0,"delta":{"content":"a\rb"},"logprobs":null,"finish_reason":null}');
    expect(() => record([rawCr])).toThrow(SyntaxError);
    const badEscape = chunk('{"index":0,"delta":{"content":"a\\x41"},"logprobs":null,"finish_reason":null}');
    expect(() => record([badEscape])).toThrow(SyntaxError);
    // Every escape JSON has is taken.
    const literal = '"q\\" s\\\\ \\/ \\b\\f\\n\\r\\t \\u00e9\\ud83d\\ude00"';
    expect(record([chunk(`{"index":0,"delta":{"content":${literal}},"logprobs":null,"finish_reason":null}`)])).toEqual([['textLiteral', literal]]);
    expect(JSON.parse(literal)).toBe('q" s\\ / \b\f\n\r\t é😀');
  });

  it('parses every other shape and feeds decoded text', () => {
    expect(
      record([
        // The first chunk: role and an empty content.
        chunk('{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}'),
        // Role and text in one.
        chunk('{"index":0,"delta":{"role":"assistant","content":"Hi"},"logprobs":null,"finish_reason":null}'),
        // An empty content alone: nothing.
        chunk('{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":null}'),
        // Reasoning and content in one delta.
        chunk('{"index":0,"delta":{"content":"b","reasoning_content":"a"},"logprobs":null,"finish_reason":null}'),
        // Content and a tool call.
        chunk('{"index":0,"delta":{"content":"c","tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":""}}]},"logprobs":null,"finish_reason":null}'),
        // A serializer that puts delta before index.
        chunk('{"delta":{"content":"d"},"index":0,"finish_reason":null}'),
        // A spaced serializer.
        new RawChunkPart(`${HEAD}"choices": [{"index": 0, "delta": {"content": "e"}, "finish_reason": null}]}`),
      ]),
    ).toEqual([
      ['text', 'Hi'],
      ['reasoning', 'a'],
      ['text', 'b'],
      ['text', 'c'],
      ['toolCall', 0, 'call_1', 'f', ''],
      ['text', 'd'],
      ['text', 'e'],
    ]);
  });

  it('parses a finish chunk and other parts as before', () => {
    const finish: ChatStreamPart = { type: 'chunk', final: true, chunk: { id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'z' }, logprobs: null, finish_reason: 'stop' }] } };
    expect(
      record([
        finish,
        { type: 'text-delta', text: 'plain' },
        { type: 'text-delta', text: '' },
        { type: 'usage', usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } },
      ]),
    ).toEqual([
      ['text', 'z'],
      ['finish', 'stop'],
      ['text', 'plain'],
      ['usage', { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }],
    ]);
  });
});
