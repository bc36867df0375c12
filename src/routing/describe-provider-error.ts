/**
 * @module What a ProviderError says to a client: the upstream's words for request errors, ours
 * otherwise (rotation reports, error envelopes, the glasses cascade's error list).
 */
import type { ProviderError } from '../providers/provider-error.js';

export function describeProviderError(err: ProviderError): string {
  const where = `provider '${err.provider}' (model '${err.model}')`;
  switch (err.kind) {
    case 'auth':
      return `${where} rejected the configured API key (upstream status ${err.status ?? 'unknown'}); check that provider's api_key`;
    case 'missing_key':
      return err.message;
    case 'timeout':
      return `${where} did not answer in time: ${err.message}`;
    case 'connection':
      return `${where} could not be reached: ${err.message}`;
    case 'malformed':
      return `${where} sent a response that could not be read: ${err.message}`;
    case 'rate_limit':
      return `${where} is rate limiting requests: ${err.message}`;
    case 'server':
      return `${where} failed with status ${err.status ?? 'unknown'}: ${err.message}`;
    case 'stream_interrupted':
      return `${where} failed mid-stream: ${err.message}`;
    default:
      return err.message;
  }
}
