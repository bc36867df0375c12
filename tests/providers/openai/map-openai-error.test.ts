import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { isPathNotFound, mapOpenAIError, upstreamError } from '../../../src/providers/openai/map-openai-error.js';
import { ProviderError } from '../../../src/providers/provider-error.js';

const map = mapOpenAIError('oa', 'gpt-x', 'http://127.0.0.1:9/v1');
const apiError = (status: number, body: unknown, headers: Record<string, string> = {}) => OpenAI.APIError.generate(status, body as object, undefined, new Headers(headers));

describe('mapOpenAIError', () => {
  it('maps statuses onto kinds, keeping the upstream words, code, param and Retry-After', () => {
    expect(map(apiError(429, { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } }, { 'retry-after': '7' }))).toMatchObject({
      kind: 'rate_limit',
      status: 429,
      message: 'Rate limit reached',
      code: 'rate_limit_exceeded',
      retryAfterMs: 7000,
      provider: 'oa',
      model: 'gpt-x',
    });
    expect(map(apiError(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } }))).toMatchObject({ kind: 'auth', status: 401 });
    expect(map(apiError(400, { error: { message: 'bad temperature', type: 'invalid_request_error', param: 'temperature', code: null } }))).toMatchObject({ kind: 'bad_request', param: 'temperature' });
    expect(map(apiError(400, { error: { message: 'too long', type: 'invalid_request_error', code: 'context_length_exceeded' } }))).toMatchObject({ kind: 'context_length' });
    expect(map(apiError(503, { error: { message: 'overloaded', type: 'server_error' } }))).toMatchObject({ kind: 'server', status: 503 });
  });

  it('keeps a model-not-found 404 a model error', () => {
    const err = map(apiError(404, { error: { message: 'The model `gpt-x` does not exist or you do not have access to it.', type: 'invalid_request_error', code: 'model_not_found' } }));
    expect(err).toMatchObject({ kind: 'not_found', code: 'model_not_found' });
  });

  it('says a 404 for the path itself may be a missing /v1', () => {
    const noV1 = mapOpenAIError('local', 'm', 'http://127.0.0.1:9')(apiError(404, { error: { message: 'Invalid URL (POST /embeddings)', type: 'invalid_request_error' } })) as ProviderError;
    expect(noV1).toMatchObject({ kind: 'not_found', status: 404, code: 'endpoint_not_found' });
    expect(noV1.message).toContain("provider 'local' answered 404 for the path /… itself");
    expect(noV1.message).toContain('may be missing its /v1');
    const withV1 = map(apiError(404, { detail: 'Not Found' })) as ProviderError;
    expect(withV1.message).toContain("check the endpoint of provider 'oa'");
  });

  it('classifies connection errors by their cause, and hands our own exceptions back unwrapped', () => {
    const refused = new OpenAI.APIConnectionError({ cause: Object.assign(new TypeError('fetch failed: connect ECONNREFUSED'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }) });
    expect(map(refused)).toMatchObject({ kind: 'connection', message: 'fetch failed: connect ECONNREFUSED' });
    expect(map(new OpenAI.APIConnectionTimeoutError())).toMatchObject({ kind: 'timeout' });
    const own = new RangeError('Maximum call stack size exceeded');
    expect(map(new OpenAI.APIConnectionError({ cause: own }))).toBe(own);
  });

  it('leaves errors that are not the SDK’s, and user aborts, to the deadline', () => {
    expect(map(new TypeError('x'))).toBeUndefined();
    expect(map(new OpenAI.APIUserAbortError())).toBeUndefined();
  });
});

describe('upstreamError (the direct chat calls)', () => {
  it('reads an error event inside a 200 stream as a server failure', () => {
    expect(upstreamError('oa', 'm', undefined, { error: { message: 'The server had an error', type: 'server_error' } }, null)).toMatchObject({ kind: 'server', message: 'The server had an error' });
  });

  it('names the provider and the exact path of a 404 on the path', () => {
    const e = upstreamError('lmstudio', 'm', 404, '404 page not found', null, undefined, '/chat/completions');
    expect(e.message).toBe(
      "provider 'lmstudio' answered 404 for the path /chat/completions itself, not for a model: the endpoint of provider 'lmstudio' may be missing its /v1 (OpenAI-compatible servers serve /v1/chat/completions). Upstream said: 404 page not found",
    );
  });

  it('tells model errors from path errors', () => {
    expect(isPathNotFound('model_not_found', 'x')).toBe(false);
    expect(isPathNotFound(null, "model 'llama9' not found")).toBe(false);
    expect(isPathNotFound(null, 'Cannot POST /chat/completions')).toBe(true);
    expect(isPathNotFound(null, 'Not Found')).toBe(true);
  });
});
