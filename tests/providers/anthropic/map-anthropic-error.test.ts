import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { mapAnthropicError } from '../../../src/providers/anthropic/map-anthropic-error.js';

const map = mapAnthropicError('an', 'claude-x');
const apiError = (status: number | undefined, body: unknown, headers: Record<string, string> = {}) =>
  status === undefined ? new Anthropic.APIError(undefined, body as object, undefined, new Headers(headers), (body as any).error.type) : Anthropic.APIError.generate(status, body as object, undefined, new Headers(headers));

describe('mapAnthropicError', () => {
  it("reads Anthropic's error type first, the status second", () => {
    expect(map(apiError(529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }))).toMatchObject({ kind: 'server', status: 529, message: 'Overloaded', code: 'overloaded_error' });
    expect(map(apiError(429, { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }, { 'retry-after': '3' }))).toMatchObject({ kind: 'rate_limit', retryAfterMs: 3000 });
    expect(map(apiError(401, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } }))).toMatchObject({ kind: 'auth', status: 401 });
    expect(map(apiError(400, { type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 250000 tokens > 200000 maximum' } }))).toMatchObject({ kind: 'context_length' });
    expect(map(apiError(404, { type: 'error', error: { type: 'not_found_error', message: 'model: claude-x' } }))).toMatchObject({ kind: 'not_found' });
  });

  it('gives a stream error event (no status) the status of its type', () => {
    expect(map(apiError(undefined, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }))).toMatchObject({ kind: 'server', status: 529 });
  });

  it('classifies connection errors by their cause, and hands our own exceptions back unwrapped', () => {
    const reset = new Anthropic.APIConnectionError({ cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
    expect(map(reset)).toMatchObject({ kind: 'connection', message: 'socket hang up' });
    expect(map(new Anthropic.APIConnectionTimeoutError())).toMatchObject({ kind: 'timeout' });
    const own = new TypeError("Cannot read properties of undefined (reading 'length')");
    expect(map(new Anthropic.APIConnectionError({ cause: own }))).toBe(own);
    expect(map(new RangeError('x'))).toBeUndefined();
  });
});
