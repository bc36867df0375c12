import { ApiError } from '@google/genai';
import { describe, expect, it } from 'vitest';
import { mapGeminiError, parseDuration } from '../../../src/providers/gemini/map-gemini-error.js';

const map = mapGeminiError('gm', 'gemini-x');
const apiError = (status: number, error: unknown) => new ApiError({ message: JSON.stringify({ error }), status });

describe('mapGeminiError', () => {
  it('reads the body the SDK folds into its message: status name, reason, retry delay', () => {
    expect(
      map(
        apiError(429, {
          code: 429,
          message: 'You exceeded your current quota',
          status: 'RESOURCE_EXHAUSTED',
          details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '12s' }],
        }),
      ),
    ).toMatchObject({ kind: 'rate_limit', status: 429, retryAfterMs: 12_000, message: 'You exceeded your current quota', code: 'RESOURCE_EXHAUSTED' });
    expect(
      map(apiError(400, { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }] })),
    ).toMatchObject({ kind: 'auth', code: 'API_KEY_INVALID' });
    expect(map(apiError(404, { code: 404, message: 'models/x is not found', status: 'NOT_FOUND' }))).toMatchObject({ kind: 'not_found', code: null });
    expect(map(apiError(503, { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' }))).toMatchObject({ kind: 'server' });
    expect(map(apiError(504, { code: 504, message: 'Deadline expired', status: 'DEADLINE_EXCEEDED' }))).toMatchObject({ kind: 'timeout' });
    expect(map(apiError(400, { code: 400, message: 'Invalid JSON payload received.', status: 'INVALID_ARGUMENT' }))).toMatchObject({ kind: 'bad_request' });
  });

  it("reads the SDK's own truncated-body errors as malformed, and nothing else that is not an ApiError", () => {
    expect(map(new Error('Incomplete JSON segment at the end'))).toMatchObject({ kind: 'malformed' });
    expect(map(new TypeError('Incomplete JSON segment at the end'))).toBeUndefined();
    expect(map(new RangeError('Maximum call stack size exceeded'))).toBeUndefined();
    expect(map(new Error('a bug of ours'))).toBeUndefined();
  });

  it('parses protobuf durations', () => {
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('x')).toBeUndefined();
  });
});
