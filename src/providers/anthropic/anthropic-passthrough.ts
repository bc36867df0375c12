/**
 * @module Anthropic Messages pass-through (issue 17): a Messages body from an Anthropic client goes to
 * `POST {endpoint}/v1/messages` (or `/v1/messages/count_tokens`) unchanged but for `model`, with the
 * client's `anthropic-version` and `anthropic-beta` headers; errors map like the SDK path's.
 */
import Anthropic from '@anthropic-ai/sdk';
import { createNodeHttpFetch } from '../node-http-fetch.js';
import type { CallContext, PassthroughRequest, PassthroughResponse } from '../provider-adapter.js';
import { ProviderError } from '../provider-error.js';
import { passthroughPost } from '../passthrough-http.js';
import { mapAnthropicError } from './map-anthropic-error.js';

const transport = createNodeHttpFetch();

export function anthropicPassthrough(provider: string, baseURL: string, req: PassthroughRequest, ctx: CallContext): Promise<PassthroughResponse> {
  const key = ctx.apiKey ?? 'no-key';
  const path = req.api === 'anthropic-count-tokens' ? '/v1/messages/count_tokens' : '/v1/messages';
  return passthroughPost(
    {
      fetch: transport,
      url: baseURL + path,
      provider,
      headers: { 'x-api-key': key, authorization: `Bearer ${key}`, 'anthropic-version': req.headers?.['anthropic-version'] ?? '2023-06-01' },
      toError(status, payload, retryAfter) {
        const headers = new Headers(retryAfter ? { 'retry-after': retryAfter } : {});
        const apiError = Anthropic.APIError.generate(status, payload as object, undefined, headers);
        return mapAnthropicError(provider, ctx.model)(apiError) ?? new ProviderError(`HTTP ${status}`, { kind: 'server', status, provider, model: ctx.model });
      },
    },
    req,
    ctx,
  );
}
