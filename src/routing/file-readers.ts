/**
 * @module A rotation's members that can take a request's chat `file` parts (issue 19): those that
 * declare `documents` or `vision`, or declare nothing — the rule of autoselect's filter and of
 * providers/with-documents.ts. Without it, a text-only member tried first would end the request
 * with its 400 although another member reads the file.
 */
import { HttpError } from '../errors/http-error.js';
import type { ChatRequest } from '../providers/provider-adapter.js';
import { hasFileParts } from '../providers/render-file-parts.js';
import { documentMode } from '../providers/with-documents.js';
import type { Candidate } from './candidate.js';

export function fileReaders(candidates: readonly Candidate[], req: ChatRequest, rotationId: string): readonly Candidate[] {
  if (!hasFileParts(req)) return candidates;
  const able = candidates.filter((c) => documentMode(c.provider.type, c.settings.capabilities) !== 'refuse');
  if (able.length) return able;
  throw new HttpError(
    400,
    `No member of rotation '${rotationId}' can read file parts: none declares the 'documents' or the 'vision' capability. ` +
      `Add "documents" (native PDF input) or "vision" (pages sent as images) to a member's capabilities, or choose another model.`,
    { param: 'messages', code: 'unsupported_capability' },
  );
}
