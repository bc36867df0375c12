/**
 * @module The helper model condensation asks for summaries (CONTRACTS §1.5): providers.json
 * `condensation.model` naming a rotation, else `provider_id` + `model` (with that provider's configured
 * key) — both as internal requests through the pipeline — else the request's own candidate and key.
 */
import type { CallContext, ChatCompletion, ChatMessage, ChatRequest } from '../providers/provider-adapter.js';
import type { Candidate } from '../routing/candidate.js';
import type { InternalCaller } from '../routing/internal-call.js';
import type { Runtime } from '../runtime.js';
import { textOf } from '../tokens/turns.js';
import { providerModelRef } from '../config/model-ref.js';

export interface HelperOptions {
  temperature: number;
  max_tokens: number;
}

/** Sends one prompt to the helper model and returns its text; throws when it gives none. */
export type Helper = (messages: ChatMessage[], opts: HelperOptions) => Promise<string>;

function replyText(c: ChatCompletion): string {
  const text = textOf(c.choices?.[0]?.message?.content ?? null).trim();
  if (!text) throw new Error('the helper model answered with no text');
  return text;
}

/** The configured helper target (a rotation id or provider/model), or undefined for "the request's own". */
function helperTarget(rt: Runtime): string | undefined {
  const cfg = rt.config.providers.condensation;
  if (!cfg) return undefined;
  if (cfg.model && rt.rotations.has(cfg.model)) return cfg.model;
  if (cfg.provider_id && cfg.model) return `${cfg.provider_id}/${cfg.model}`;
  // Our additions: `model` as "provider/model", and AISBF's unused `rotation_id`.
  if (cfg.model && providerModelRef(rt.config.providers.providers, cfg.model)) return cfg.model;
  if (cfg.rotation_id && rt.rotations.has(cfg.rotation_id)) return cfg.rotation_id;
  return undefined;
}

/** `caller` runs a configured helper as an internal request; without one only "own" can serve. */
export function makeHelper(rt: Runtime, own: Candidate, ctx: CallContext, caller?: InternalCaller): Helper {
  return async (messages, opts) => {
    const req: ChatRequest = { model: own.model, messages, temperature: opts.temperature, max_tokens: opts.max_tokens, stream: false };
    const configured = helperTarget(rt);
    if (!configured || !caller) return replyText(await own.adapter.chat(req, ctx));
    // Configured helpers use their configured keys, never the client's, and leave health alone.
    const completion = await caller.callInternal({
      route: 'internal:condense',
      name: configured,
      keys: {},
      noHealth: true,
      call: (c, cctx) => c.adapter.chat({ ...req, model: c.model }, cctx),
      usageOf: (v) => v.usage,
    });
    return replyText(completion);
  };
}
