/**
 * @module The helper model condensation asks for summaries (CONTRACTS §1.5): providers.json
 * `condensation.model` naming a rotation (through the attempt loop), else `provider_id` + `model`
 * (with that provider's configured key), else the request's own candidate and key.
 */
import type { CallContext, ChatCompletion, ChatMessage, ChatRequest } from '../providers/provider-adapter.js';
import type { Candidate } from '../routing/candidate.js';
import { runWithFallback } from '../routing/run-with-fallback.js';
import { candidatesForName, providerCandidate } from '../routing/target-candidates.js';
import type { Runtime } from '../runtime.js';
import { textOf } from './turns.js';

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

function helperCandidates(rt: Runtime): Candidate[] | undefined {
  const cfg = rt.config.providers.condensation;
  if (!cfg) return undefined;
  if (cfg.model && rt.rotations.has(cfg.model)) return candidatesForName(rt, cfg.model);
  if (cfg.provider_id && cfg.model) return [providerCandidate(rt, cfg.provider_id, cfg.model)];
  // Our additions: `model` as "provider/model", and AISBF's unused `rotation_id`.
  const slash = cfg.model?.indexOf('/') ?? -1;
  if (cfg.model && slash > 0 && rt.config.providers.providers[cfg.model.slice(0, slash)]) return candidatesForName(rt, cfg.model);
  if (cfg.rotation_id && rt.rotations.has(cfg.rotation_id)) return candidatesForName(rt, cfg.rotation_id);
  return undefined;
}

export function makeHelper(rt: Runtime, own: Candidate, ctx: CallContext): Helper {
  return async (messages, opts) => {
    const req: ChatRequest = { model: own.model, messages, temperature: opts.temperature, max_tokens: opts.max_tokens, stream: false };
    const configured = helperCandidates(rt);
    if (!configured) return replyText(await own.adapter.chat(req, ctx));
    // Configured helpers use their configured keys, never the client's.
    const r = await runWithFallback(configured, (c, cctx) => c.adapter.chat({ ...req, model: c.model }, cctx), {
      runtime: rt,
      keys: {},
      signal: ctx.signal,
      log: ctx.log,
    });
    return replyText(r.value);
  };
}
