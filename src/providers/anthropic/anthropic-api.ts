/**
 * @module The Anthropic Messages API wire types this adapter uses (taken from the official SDK, so
 * they match what it sends and parses) and the API's fixed values. They never leave this folder.
 */
import type Anthropic from '@anthropic-ai/sdk';

/**
 * SDK 1.x no longer types the sampling parameters (`temperature`, `top_p`); the Messages API still
 * reads them on the models that support them, and the SDK sends body fields as given.
 */
export type AnthropicMessageParams = Anthropic.MessageCreateParamsNonStreaming & { temperature?: number; top_p?: number };
export type AnthropicMessageParam = Anthropic.MessageParam;
export type AnthropicContentParam = Anthropic.ContentBlockParam;
export type AnthropicTextParam = Anthropic.TextBlockParam;
export type AnthropicImageParam = Anthropic.ImageBlockParam;
export type AnthropicToolResultParam = Anthropic.ToolResultBlockParam;
export type AnthropicTool = Anthropic.Tool;
export type AnthropicToolChoice = Anthropic.ToolChoice;
export type AnthropicMessage = Anthropic.Message;
export type AnthropicStopReason = Anthropic.StopReason;
export type AnthropicStreamEvent = Anthropic.RawMessageStreamEvent;
export type AnthropicModelInfo = Anthropic.ModelInfo;

export const ANTHROPIC_DEFAULT_ENDPOINT = 'https://api.anthropic.com';

/**
 * The Messages API requires `max_tokens`; OpenAI clients usually send none. 4096 fits every current
 * Claude model's output limit; a providers.json model entry may set its own `max_tokens`.
 */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

/** The image types the Messages API accepts in a base64 source. */
export const ANTHROPIC_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const;
export type AnthropicImageType = (typeof ANTHROPIC_IMAGE_TYPES)[number];

/** Extended-thinking budgets for OpenAI's `reasoning_effort` (the API's minimum budget is 1024). */
export const THINKING_BUDGETS: Readonly<Record<string, number>> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16384,
  xhigh: 32768,
};
export const THINKING_MIN_BUDGET = 1024;
