/**
 * @module Which candidates can serve a request at all (CONTRACTS §6.8): images need `vision`, tools
 * need `tools`, file parts `documents` or `vision`, and the prompt must fit `context_size`. A model
 * whose capabilities or context size are not configured is not filtered on them. Tokens are counted
 * only when a byte bound says the prompt might not fit, and then once per encoding.
 */
import type { ChatRequest } from '../providers/provider-adapter.js';
import { countRequestTokens, encodingForModel, upperBoundTokens, type EncodingName } from '../tokens/count-tokens.js';
import type { Candidate } from './candidate.js';

export interface CapabilityCheck {
  canServe(c: Candidate): boolean;
}

function hasImages(req: ChatRequest): boolean {
  return req.messages.some((m) => Array.isArray(m.content) && m.content.some((p) => p.type === 'image_url'));
}

export function capabilityCheck(req: ChatRequest): CapabilityCheck {
  const needsVision = hasImages(req);
  // A file part (PDF, text) needs `documents`, or `vision` (its pages are rendered): issue 19.
  const needsDocuments = req.messages.some((m) => Array.isArray(m.content) && m.content.some((p) => p.type === 'file'));
  const needsTools = !!req.tools?.length;
  // Both measures once per encoding, however many candidates ask.
  const bound = new Map<EncodingName, number>();
  const exact = new Map<EncodingName, number>();
  const fits = (c: Candidate, size: number): boolean => {
    const enc = encodingForModel(c.model);
    let b = bound.get(enc);
    if (b === undefined) {
      b = upperBoundTokens(req, c.model);
      bound.set(enc, b);
    }
    if (b <= size) return true;
    let n = exact.get(enc);
    if (n === undefined) {
      n = countRequestTokens(req, c.model);
      exact.set(enc, n);
    }
    return n <= size;
  };
  return {
    canServe(c) {
      const caps = c.settings.capabilities;
      if (caps && needsVision && !caps.includes('vision')) return false;
      if (caps && needsDocuments && !caps.includes('documents') && !caps.includes('vision')) return false;
      if (caps && needsTools && !caps.includes('tools')) return false;
      const size = c.settings.context_size;
      return !size || fits(c, size);
    },
  };
}
