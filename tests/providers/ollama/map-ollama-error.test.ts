import { describe, expect, it } from 'vitest';
import { mapOllamaError } from '../../../src/providers/ollama/map-ollama-error.js';
import type { OllamaCall } from '../../../src/providers/ollama/ollama-client.js';

/** The shape of the ollama SDK's (unexported) ResponseError. */
const responseError = (error: string, status_code: number) => Object.assign(new Error(error), { name: 'ResponseError', error, status_code });
const answered = (status = 200, headers: Record<string, string> = {}): OllamaCall => ({ signal: new AbortController().signal, response: new Response('', { status, headers }) });

describe('mapOllamaError', () => {
  it('maps HTTP errors by status, with Retry-After from the recorded response', () => {
    const map = mapOllamaError('ol', 'llama', answered(429, { 'retry-after': '2' }));
    expect(map(responseError('too many requests', 429))).toMatchObject({ kind: 'rate_limit', retryAfterMs: 2000, message: 'too many requests' });
    expect(map(responseError("model 'llama' not found", 404))).toMatchObject({ kind: 'not_found', status: 404 });
    expect(map(responseError('registry.ollama.ai/library/llama does not support tools', 400))).toMatchObject({ kind: 'bad_request' });
  });

  it('reads plain Errors as the upstream’s only once the upstream has answered', () => {
    const after = mapOllamaError('ol', 'llama', answered());
    expect(after(new Error('an error was encountered while running the model: unexpected EOF'))).toMatchObject({ kind: 'server' });
    expect(after(new Error('Did not receive done or success response in stream.'))).toMatchObject({ kind: 'connection' });
    expect(after(new Error('Missing body'))).toMatchObject({ kind: 'malformed' });
    // Before any answer, a plain Error is ours: not a provider failure.
    const before = mapOllamaError('ol', 'llama', { signal: new AbortController().signal });
    expect(before(new Error('a bug of ours'))).toBeUndefined();
  });

  it('rewords network failures (a code in the cause chain) and leaves other TypeErrors alone', () => {
    const map = mapOllamaError('ol', 'llama');
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:11434'), { code: 'ECONNREFUSED' }) });
    expect(map(refused)).toMatchObject({ kind: 'connection', message: 'Ollama connection failed: connect ECONNREFUSED 127.0.0.1:11434' });
    const slow = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('Headers Timeout Error'), { code: 'UND_ERR_HEADERS_TIMEOUT' }) });
    expect(map(slow)).toMatchObject({ kind: 'timeout' });
    expect(map(Object.assign(new TypeError('x is not a function'), { cause: new Error('no code') }))).toBeUndefined();
  });
});
