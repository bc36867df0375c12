/**
 * @module Autoselect (CONTRACTS §1.8, §6.8): drops the candidates that cannot serve the request, then
 * asks the selection model (or compares embeddings) which one fits, and falls back on any doubt. The
 * result names the chosen target, why, and its candidates for the attempt loop; the inbound layer shows
 * it as `x-aisbf-autoselect: <chosen>; reason=<selected|only-capable|fallback:<why>>`.
 */
import type { CallContext, ChatCompletion, ChatRequest } from '../providers/provider-adapter.js';
import { ClientGoneError } from '../providers/deadline.js';
import { ProviderError } from '../providers/provider-error.js';
import type { Runtime } from '../runtime.js';
import { lastUserText, renderTranscript, textOf } from '../tokens/turns.js';
import { buildSelectorRequest } from './autoselect-prompt.js';
import { capabilityCheck } from './autoselect-capable.js';
import { selectByEmbeddings, type EmbedderContext } from './autoselect-embeddings.js';
import type { Candidate } from './candidate.js';
import { parseAutoselectReply } from './parse-autoselect-reply.js';
import type { InternalCaller } from './internal-call.js';
import { candidatesForName } from './target-candidates.js';

export const DEFAULT_AUTOSELECT_TIMEOUT_SECONDS = 10;

export interface AutoselectChoice {
  /** The chosen model_id (a rotation id or provider/model). */
  chosen: string;
  /** `selected`, `only-capable` or `fallback:<why>`. */
  reason: string;
  /** The chosen target's candidates (those that can serve the request, when any can). */
  candidates: Candidate[];
}

interface Option {
  id: string;
  description: string;
  candidates: Candidate[];
}

/** The request's keys, signal and logger, and how the selector's own call goes through the pipeline. */
export interface AutoselectContext extends EmbedderContext {
  caller: InternalCaller;
}

function whyFailed(err: unknown): string {
  if (err instanceof ProviderError && err.kind === 'timeout') return 'timeout';
  return 'error';
}

/** The selection model's call runs as an internal request (its rotation, health and records apply). */
export async function selectAutoselect(rt: Runtime, id: string, req: ChatRequest, opts: AutoselectContext): Promise<AutoselectChoice> {
  const cfg = rt.config.autoselect[id];
  if (!cfg) throw new Error(`unknown autoselect id ${id}`);
  const check = capabilityCheck(req);

  const capable: Option[] = [];
  for (const m of cfg.available_models) {
    let cands: Candidate[];
    try {
      cands = candidatesForName(rt, m.model_id);
    } catch (err) {
      opts.log.warn({ autoselect: id, model_id: m.model_id, err: (err as Error).message }, 'autoselect candidate cannot be resolved; skipped');
      continue;
    }
    const serving = cands.filter((c) => check.canServe(c));
    if (serving.length) capable.push({ id: m.model_id, description: m.description, candidates: serving });
  }

  const choose = (chosen: string, reason: string): AutoselectChoice => {
    const all = capable.find((o) => o.id === chosen)?.candidates ?? candidatesForName(rt, chosen);
    const serving = all.filter((c) => check.canServe(c));
    // A fallback that cannot serve the request (a prompt over its context_size, images it cannot
    // see) would only fail: the first capable candidate takes its place. With none capable, the
    // fallback's own error (e.g. the sizes, issue 17) is the honest answer.
    if (!serving.length && reason.startsWith('fallback:') && capable.length) return choose(capable[0]!.id, reason);
    opts.log.debug({ autoselect: id, chosen, reason }, 'autoselect decision');
    return { chosen, reason, candidates: serving.length ? serving : all };
  };

  if (!capable.length) return choose(cfg.fallback, 'fallback:none-capable');
  if (capable.length === 1) return choose(capable[0]!.id, 'only-capable');

  const timeoutMs = 1000 * (cfg.timeout_seconds ?? DEFAULT_AUTOSELECT_TIMEOUT_SECONDS);
  const known = (answer: string): string | undefined =>
    capable.find((o) => o.id === answer)?.id ?? capable.find((o) => o.id.toLowerCase() === answer.toLowerCase())?.id;

  if (cfg.selector === 'embeddings') {
    try {
      const query = lastUserText(req.messages) || renderTranscript(req.messages);
      const picked = await selectByEmbeddings(rt, id, cfg, query, new Set(capable.map((o) => o.id)), opts.caller, timeoutMs);
      return choose(picked, 'selected');
    } catch (err) {
      if (err instanceof ClientGoneError || opts.signal.aborted) throw err;
      opts.log.warn({ autoselect: id, err: (err as Error).message }, 'autoselect embeddings failed; using the fallback');
      return choose(cfg.fallback, `fallback:${whyFailed(err)}`);
    }
  }

  let reply: string;
  // The loop may wrap the last failure in a rotation report; keep the upstream's own error for the reason.
  let lastFailure: unknown;
  try {
    const deadline = Date.now() + timeoutMs;
    const selReq = buildSelectorRequest(rt.config.autoselectPrompt, req, capable, cfg.fallback, '');
    const completion = await opts.caller.callInternal({
      route: 'internal:selector',
      name: cfg.selection_model,
      call: async (c, ctx: CallContext): Promise<ChatCompletion> => {
        const left = deadline - Date.now();
        try {
          if (left <= 0) throw new ProviderError(`autoselect gave up after ${timeoutMs} ms`, { kind: 'timeout', provider: c.providerId, model: c.model });
          return await c.adapter.chat({ ...selReq, model: c.model }, { ...ctx, timeoutMs: Math.min(ctx.timeoutMs, left) });
        } catch (err) {
          lastFailure = err;
          throw err;
        }
      },
      usageOf: (v) => v.usage,
    });
    reply = textOf(completion.choices?.[0]?.message?.content ?? null);
  } catch (err) {
    if (err instanceof ClientGoneError || opts.signal.aborted) throw err;
    opts.log.warn({ autoselect: id, err: (err as Error).message }, 'autoselect selection model failed; using the fallback');
    return choose(cfg.fallback, `fallback:${whyFailed(lastFailure ?? err)}`);
  }
  const answer = parseAutoselectReply(reply);
  if (!answer) return choose(cfg.fallback, 'fallback:no-tag');
  const picked = known(answer);
  if (!picked) return choose(cfg.fallback, 'fallback:unknown-id');
  return choose(picked, 'selected');
}
