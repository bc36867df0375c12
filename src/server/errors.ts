/**
 * @module The server's error helpers: HttpError (a leaf, errors/http-error.ts) and OpenAI's envelope
 * (inbound/openai-chat/openai-chat-errors.ts), re-exported for the routes.
 */
export { HttpError, envelope, errorTypeForStatus } from '../errors/http-error.js';
export type { ErrorEnvelope, HttpErrorOptions } from '../errors/http-error.js';
export { describeProviderError } from '../routing/describe-provider-error.js';
export { toErrorParts, errorResponse, type ErrorResponseParts } from '../inbound/openai-chat/openai-chat-errors.js';
