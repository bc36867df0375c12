/**
 * @module How code below the pipeline (autoselect's selector, the condensation helper) makes a call
 * of its own without importing the pipeline: the pipeline hands it an InternalCaller, which runs the
 * call through runRequest as an internal request whose parent is the request being served.
 */
import type { CallContext } from '../providers/provider-adapter.js';
import type { Usage } from '../providers/openai-types.js';
import type { Candidate, ClientKeys } from './candidate.js';

export interface InternalCallSpec<T> {
  /** 'internal:selector', 'internal:condense', 'internal:judge', … */
  route: string;
  /** A configured rotation id or `provider/model`. */
  name: string;
  call: (c: Candidate, ctx: CallContext) => Promise<T>;
  usageOf?: (value: T) => Usage | undefined;
  /** Keys for the call instead of the parent's (`{}`: configured keys only). */
  keys?: ClientKeys;
  /** Leave health and rate-limit state alone. */
  noHealth?: boolean;
  /** Keeps only the candidates that can run `call` (e.g. those whose adapter embeds); order kept. */
  filter?: (c: Candidate) => boolean;
  /** Upper bound for each upstream call, below the candidate's own timeout. */
  timeoutMs?: number;
}

export interface InternalCaller {
  callInternal<T>(spec: InternalCallSpec<T>): Promise<T>;
}
