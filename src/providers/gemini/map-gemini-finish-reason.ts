/**
 * @module Gemini `finishReason` (and a prompt blocked outright) → OpenAI `finish_reason`.
 */
import type { FinishReason } from '../provider-adapter.js';

/** Reasons Gemini gives when its safety/policy filters stopped the answer. */
const FILTERED = new Set([
  'SAFETY', 'RECITATION', 'PROHIBITED_CONTENT', 'BLOCKLIST', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION',
]);

/**
 * `hasToolCalls`: the answer carried functionCall parts. Gemini says STOP for those; OpenAI clients
 * look for `tool_calls` to know they must run them.
 */
export function mapGeminiFinishReason(reason: string | undefined, hasToolCalls: boolean): FinishReason {
  if (reason === 'MAX_TOKENS') return 'length';
  if (reason && FILTERED.has(reason)) return 'content_filter';
  if (hasToolCalls) return 'tool_calls';
  return 'stop';
}
