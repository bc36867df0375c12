import { describe, expect, it } from 'vitest';
import { isPlainContentChunk, sseData } from '../../src/providers/openai/openai-chat-http.js';

const chunk = (choice: string, extra = '') => `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[${choice}]${extra}}`;

describe('which OpenAI stream chunks are forwarded without parsing', () => {
  it('forwards ordinary content chunks, with or without usage:null', () => {
    expect(isPlainContentChunk(chunk('{"index":0,"delta":{"content":"hi"},"logprobs":null,"finish_reason":null}'))).toBe(true);
    expect(isPlainContentChunk(chunk('{"index":0,"delta":{"content":"hi"},"finish_reason":null}', ',"usage":null'))).toBe(true);
  });

  it('parses finish chunks, usage chunks and error events', () => {
    expect(isPlainContentChunk(chunk('{"index":0,"delta":{},"finish_reason":"stop"}'))).toBe(false);
    expect(isPlainContentChunk(chunk('', ',"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}'))).toBe(false);
    expect(isPlainContentChunk('{"error":{"message":"boom"}}')).toBe(false);
    // A content chunk that also carries usage (some compatible servers), compact or spaced.
    expect(isPlainContentChunk(chunk('{"index":0,"delta":{"content":"hi"},"finish_reason":null}', ',"usage":{"prompt_tokens":1}'))).toBe(false);
    expect(isPlainContentChunk(chunk('{"index":0,"delta":{"content":"hi"},"finish_reason":null}', ',"usage" : {"prompt_tokens":1}'))).toBe(false);
    expect(isPlainContentChunk(chunk('{"index":0,"delta":{"content":"hi"},"finish_reason":null}', ',"error":{"message":"late"}'))).toBe(false);
    // n > 1: one choice still running, the other finished.
    expect(isPlainContentChunk(chunk('{"index":0,"delta":{"content":"a"},"finish_reason":null},{"index":1,"delta":{},"finish_reason":"length"}'))).toBe(false);
  });

  it('parses chunks from serializers that put spaces after colons', () => {
    expect(isPlainContentChunk('{"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3}}')).toBe(false);
    expect(isPlainContentChunk('{"choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": null}]}')).toBe(false);
  });

  it('is not fooled by the same words inside the generated text', () => {
    const text = JSON.stringify('he said "finish_reason":"stop" and "usage":{ and "error"');
    expect(isPlainContentChunk(chunk(`{"index":0,"delta":{"content":${text}},"finish_reason":null}`))).toBe(true);
  });
});

describe('SSE decoding', () => {
  it('joins multi-line data, ignores comments and event names, and copes with split reads and CRLF', async () => {
    const bytes = ['data: {"a":', '1}\r\n\r\n: keep-alive\n\nevent: x\ndata: line1\ndata: line2\n\n', 'data: [DONE]\n\n'].map((s) => new TextEncoder().encode(s));
    async function* source() {
      yield* bytes;
    }
    const out: string[] = [];
    for await (const d of sseData(source())) out.push(d);
    expect(out).toEqual(['{"a":1}', 'line1\nline2', '[DONE]']);
  });
});
