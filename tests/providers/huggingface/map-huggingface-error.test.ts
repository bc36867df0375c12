import { describe, expect, it } from 'vitest';
import { normalizeHuggingFaceError, refineHuggingFaceError } from '../../../src/providers/huggingface/map-huggingface-error.js';
import { ProviderError } from '../../../src/providers/provider-error.js';

const pe = (status: number, kind: ProviderError['kind'], message: string, code: string | null = null) => new ProviderError(message, { kind, status, provider: 'hf', model: 'org/m', code });

describe('normalizeHuggingFaceError', () => {
  it("turns HF's error shapes into OpenAI's envelope", () => {
    expect(normalizeHuggingFaceError(503, JSON.stringify({ error: 'Model org/m is currently loading', estimated_time: 20.5 }))).toEqual({
      envelope: { error: { message: 'Model org/m is currently loading', type: 'server_error', param: null, code: 'model_loading', estimated_time: 20.5 } },
      retryAfterSeconds: 21,
    });
    expect(normalizeHuggingFaceError(422, JSON.stringify({ detail: [{ msg: 'field required' }, { msg: 'bad value' }] })).envelope.error.message).toBe('field required; bad value');
    expect(normalizeHuggingFaceError(502, '<html><body><h1>502 Bad Gateway</h1></body></html>').envelope.error.message).toBe('502 Bad Gateway');
  });
});

describe('refineHuggingFaceError', () => {
  it('re-classifies what only HF says', () => {
    expect(refineHuggingFaceError(pe(400, 'bad_request', 'The requested model does not exist', 'model_not_found'))).toMatchObject({ kind: 'not_found', status: 404 });
    expect(refineHuggingFaceError(pe(402, 'bad_request', 'You have exceeded your monthly included credits'))).toMatchObject({ kind: 'auth', status: 402 });
    expect(refineHuggingFaceError(pe(402, 'bad_request', 'credits'), 'client')).toMatchObject({ kind: 'client_auth', status: 402 });
    const other = new TypeError('ours');
    expect(refineHuggingFaceError(other)).toBe(other);
  });
});
