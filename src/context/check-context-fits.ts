/**
 * @module A request larger than the candidate's `context_size`, with no condensation configured for
 * it, is refused before the call with a context-length error that states both sizes (never a silent
 * truncation upstream). The error fails over to a candidate with a larger context, like an upstream's
 * own. The check first measures in bytes (no tokenizing) and counts tokens only when that bound is over.
 */
import type { ChatRequest } from '../providers/openai-types.js';
import { ProviderError } from '../providers/provider-error.js';
import type { Candidate } from '../routing/candidate.js';
import { countRequestTokens, upperBoundTokens } from '../tokens/count-tokens.js';

export function checkContextFits(cand: Candidate, req: ChatRequest): void {
  const size = cand.settings.context_size;
  if (!size || upperBoundTokens(req, cand.model) <= size) return;
  const n = countRequestTokens(req, cand.model);
  if (n <= size) return;
  throw new ProviderError(
    `The request is ${n} tokens, larger than the context_size of ${size} tokens of '${cand.providerId}/${cand.model}', and no condensation is configured for that model (condense_context and condense_method in providers.json).`,
    { kind: 'context_length', status: 400, provider: cand.providerId, model: cand.model, code: 'context_length_exceeded' },
  );
}
