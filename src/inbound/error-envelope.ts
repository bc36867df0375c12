/**
 * @module Which envelope an error is rendered in, by the route the client called: Anthropic's
 * `{"type":"error","error":{…}}` on the Messages routes (Claude Code and the Anthropic SDKs read
 * nothing else), OpenAI's `{"error":{…}}` everywhere else (chat, Responses, the capability routes).
 * Used where an error is rendered outside a route's own handler: the auth guard's 401/403, the
 * app's onError and its unknown-route 404.
 */
import { anthropicErrorResponse } from './anthropic-messages/messages-errors.js';
import { errorResponse } from './openai-chat/openai-chat-errors.js';

/** `/v1/messages…` and `/api/{id}/messages…` (count_tokens, and paths under them we do not serve). */
const MESSAGES_PATH = /^\/(?:v1|api\/[^/]+)\/messages(?:\/|$)/;

export function speaksAnthropic(path: string): boolean {
  return MESSAGES_PATH.test(path);
}

export function clientErrorResponse(path: string, err: unknown, requestId?: string): Response {
  return speaksAnthropic(path) ? anthropicErrorResponse(err, requestId) : errorResponse(err);
}
