import { describe, expect, it } from 'vitest';
import { isPlainContentChunk } from '../../src/providers/openai/openai-stream-parts.js';

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
    // The same with the finished choice first: the last finish reason alone does not decide.
    expect(isPlainContentChunk(chunk('{"index":0,"delta":{},"finish_reason":"stop"},{"index":1,"delta":{"content":"a"},"finish_reason":null}'))).toBe(false);
    // A finish reason that is neither null nor a string is not ordinary either.
    expect(isPlainContentChunk(chunk('{"index":0,"delta":{"content":"a"},"finish_reason":0}'))).toBe(false);
  });

  it('parses the few plain chunks the unquoted check cannot tell apart (slower, same answer)', () => {
    // A content string that ends in "error" or "usage", a key ending in _reason with a value (OpenRouter).
    expect(isPlainContentChunk(chunk('{"index":0,"delta":{"content":"an error"},"finish_reason":null}'))).toBe(false);
    expect(isPlainContentChunk(chunk('{"index":0,"delta":{"content":"fair usage"},"finish_reason":null}'))).toBe(false);
    expect(isPlainContentChunk(chunk('{"index":0,"delta":{"content":"a"},"finish_reason":null,"native_finish_reason":"x"}'))).toBe(false);
    // The same words not at a string's end stay on the fast path.
    expect(isPlainContentChunk(chunk('{"index":0,"delta":{"content":"error usage errors"},"finish_reason":null}'))).toBe(true);
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
