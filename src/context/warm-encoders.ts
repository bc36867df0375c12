/**
 * @module Builds, ahead of time, the tiktoken encoders a config will need. Building one takes
 * hundreds of milliseconds of synchronous WASM work; done at start-up it never stalls a request.
 */
import type { Config } from '../config/load-config.js';
import type { ModelSettings } from '../routing/candidate.js';
import { encoderFor, encodingForModel, type EncodingName } from '../tokens/count-tokens.js';

function countsTokens(s: ModelSettings): boolean {
  return !!((s.context_size && s.condense_context && s.condense_method) || s.max_request_tokens);
}

/** The encodings the config's condensation / splitting settings use (empty: nothing to build). */
export function encodingsNeeded(config: Config): EncodingName[] {
  const needed = new Set<EncodingName>();
  for (const p of Object.values(config.providers.providers)) {
    for (const m of p.models) if (countsTokens(m)) needed.add(encodingForModel(m.name));
  }
  for (const r of Object.values(config.rotations.rotations)) {
    for (const rp of r.providers) for (const m of rp.models) if (countsTokens(m)) needed.add(encodingForModel(m.name));
  }
  return [...needed];
}

/** Builds those encoders now; returns the ones built. Call once after a config (re)load. */
export function warmEncoders(config: Config): EncodingName[] {
  const needed = encodingsNeeded(config);
  for (const e of needed) encoderFor(e);
  return needed;
}
