/**
 * @module The texts of an embeddings request, for providers whose APIs take text only (Gemini,
 * Ollama, Hugging Face): token-id input or an empty list is a 400 naming `input`.
 */
import type { EmbedRequest } from './provider-adapter.js';
import { ProviderError } from './provider-error.js';

export function embeddingTexts(input: EmbedRequest['input'], provider: string, model: string, who: string): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'string')) return input as string[];
  throw new ProviderError(`${who} embeddings take text: input must be a string or a non-empty array of strings (not token ids)`, {
    kind: 'bad_request',
    status: 400,
    provider,
    model,
    param: 'input',
  });
}
