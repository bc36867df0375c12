/**
 * @module Responses API pass-through (issue 17) for OpenAI-type providers that declare
 * `"responses_api": true`: the client's body goes to `POST {endpoint}/responses` unchanged but for
 * `model`, on the pool's transport; errors map like the chat calls'.
 */
import type { CallContext, PassthroughRequest, PassthroughResponse } from '../provider-adapter.js';
import { passthroughPost } from '../passthrough-http.js';
import { upstreamError } from './map-openai-error.js';
import type { NodeHttpFetch } from '../node-http-fetch.js';

export function openaiResponsesPassthrough(provider: string, t: { fetch: NodeHttpFetch; baseURL: string }, req: PassthroughRequest, ctx: CallContext): Promise<PassthroughResponse> {
  return passthroughPost(
    {
      fetch: t.fetch,
      url: `${t.baseURL}/responses`,
      provider,
      headers: { authorization: `Bearer ${ctx.apiKey ?? 'no-key'}` },
      toError: (status, payload, retryAfter) => upstreamError(provider, ctx.model, status, payload, retryAfter),
    },
    req,
    ctx,
  );
}
