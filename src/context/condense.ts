/**
 * @module Condensation for one candidate (CONTRACTS §1.5, §6.6): when the request reaches
 * `condense_context` percent of the model's `context_size`, the configured methods run in the listed
 * order, each on the previous one's output. A method that fails is logged and leaves the messages as
 * they were. A cheap byte bound decides first, so small requests are never tokenized.
 */
import type { CallContext, ChatMessage, ChatRequest } from '../providers/provider-adapter.js';
import type { Candidate } from '../routing/candidate.js';
import type { InternalCaller } from '../routing/internal-call.js';
import type { Runtime } from '../runtime.js';
import { countRequestTokens, upperBoundTokens } from '../tokens/count-tokens.js';
import { makeHelper } from './helper-model.js';
import { algorithmic } from './methods/algorithmic.js';
import { conversational } from './methods/conversational.js';
import { hierarchical } from './methods/hierarchical.js';
import type { CondenseMethod } from './methods/method.js';
import { semantic } from './methods/semantic.js';

export const METHODS: Readonly<Record<string, CondenseMethod>> = {
  hierarchical,
  conversational,
  semantic,
  algorithmic,
  algoritmic: algorithmic,
};

export interface CondensePlan {
  /** Tokens at which condensation starts: floor(context_size × pct / 100). */
  threshold: number;
  methods: string[];
}

/** The candidate's condensation settings, or undefined when it has none (the fast path). */
export function condensePlan(rt: Runtime, cand: Candidate): CondensePlan | undefined {
  const { context_size: size, condense_context: pct, condense_method: method } = cand.settings;
  if (!size || !pct || pct <= 0 || !method) return undefined;
  if (rt.config.providers.condensation?.enabled === false) return undefined;
  const methods = Array.isArray(method) ? method : [method];
  if (!methods.length) return undefined;
  return { threshold: Math.floor((size * Math.min(pct, 100)) / 100), methods };
}

export interface CondenseOutcome {
  req: ChatRequest;
  /** Set when condensation ran: our count of what will be sent. */
  effectiveContext?: number;
  /** Methods that changed or kept the messages without failing, in order. */
  ran: string[];
}

export async function condenseRequest(rt: Runtime, cand: Candidate, req: ChatRequest, ctx: CallContext, plan: CondensePlan, caller?: InternalCaller): Promise<CondenseOutcome> {
  // Provably below the threshold without tokenizing (bytes ≥ tokens).
  if (upperBoundTokens(req, cand.model) < plan.threshold) return { req, ran: [] };
  const before = countRequestTokens(req, cand.model);
  if (before < plan.threshold) return { req, ran: [] };

  const helper = makeHelper(rt, cand, ctx, caller);
  let messages: ChatMessage[] = req.messages;
  const ran: string[] = [];
  for (const name of plan.methods) {
    const method = METHODS[name];
    if (!method) continue; // the schema only admits known names
    try {
      messages = await method(messages, { helper });
      ran.push(name);
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      ctx.log.warn({ provider: cand.providerId, model: cand.model, method: name, err: (err as Error).message }, 'condensation method failed; messages kept as they were');
    }
  }
  const out: ChatRequest = { ...req, messages };
  const after = countRequestTokens(out, cand.model);
  ctx.log.info({ provider: cand.providerId, model: cand.model, before, after, methods: ran }, 'context condensed');
  return { req: out, effectiveContext: after, ran };
}
