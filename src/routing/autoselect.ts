/**
 * @module Autoselect (CONTRACTS §1.8, §6.8): drops the candidates that cannot serve the request, then
 * asks the selection model (or compares embeddings) which one fits, and falls back on any doubt. The
 * result names the chosen target, why, and its candidates for the attempt loop; the route shows it
 * as `x-aisbf-autoselect: <chosen>; reason=<selected|only-capable|fallback:<why>>`.
 */
import type { CallContext, ChatCompletion, ChatRequest } from '../providers/provider-adapter.js';
import { ClientGoneError } from '../providers/deadline.js';
import { ProviderError } from '../providers/provider-error.js';
import type { Runtime } from '../runtime.js';
import { lastUserText, renderTranscript, textOf } from '../context/turns.js';
import { buildSelectorRequest } from './autoselect-prompt.js';
import { capabilityCheck } from './autoselect-capable.js';
import { selectByEmbeddings } from './autoselect-embeddings.js';
import type { Candidate } from './candidate.js';
import { parseAutoselectReply } from './parse-autoselect-reply.js';
import { runWithFallback, type AttemptOptions } from './run-with-fallback.js';
import { candidatesForName } from './target-candidates.js';

export const DEFAULT_AUTOSELECT_TIMEOUT_SECONDS = 10;

export interface AutoselectChoice {
  /** The chosen model_id (a rotation id or provider/model). */
  chosen: string;
  /** `selected`, `only-capable` or `fallback:<why>`. */
  reason: string;
  /** The chosen target's candidates (those that can serve the request, when any can). */
  candidates: Candidate[];
  /** The `x-aisbf-autoselect` header value. */
  header: string;
}

interface Option {
  id: string;
  description: string;
  candidates: Candidate[];
}

function headerSafe(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?');
}

/** The rotation (order, attempt cap, cooldowns) a name runs under, when it names one. */
function rotationOf(rt: Runtime, name: string): AttemptOptions['rotation'] {
  const config = rt.config.rotations.rotations[name];
  return config ? { id: name, config } : undefined;
}

function whyFailed(err: unknown): string {
  if (err instanceof ProviderError && err.kind === 'timeout') return 'timeout';
  return 'error';
}

/** `opts` are the request's (keys, signal, routing state); the selector gets its own rotation. */
export async function selectAutoselect(rt: Runtime, id: string, req: ChatRequest, opts: Omit<AttemptOptions, 'rotation'>): Promise<AutoselectChoice> {
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
    opts.log.debug({ autoselect: id, chosen, reason }, 'autoselect decision');
    return { chosen, reason, candidates: serving.length ? serving : all, header: headerSafe(`${chosen}; reason=${reason}`) };
  };

  if (!capable.length) return choose(cfg.fallback, 'fallback:none-capable');
  if (capable.length === 1) return choose(capable[0]!.id, 'only-capable');

  const timeoutMs = 1000 * (cfg.timeout_seconds ?? DEFAULT_AUTOSELECT_TIMEOUT_SECONDS);
  const known = (answer: string): string | undefined =>
    capable.find((o) => o.id === answer)?.id ?? capable.find((o) => o.id.toLowerCase() === answer.toLowerCase())?.id;

  if (cfg.selector === 'embeddings') {
    try {
      const query = lastUserText(req.messages) || renderTranscript(req.messages);
      const picked = await selectByEmbeddings(rt, id, cfg, query, new Set(capable.map((o) => o.id)), opts, timeoutMs);
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
    const selectors = candidatesForName(rt, cfg.selection_model);
    const deadline = Date.now() + timeoutMs;
    const selReq = buildSelectorRequest(rt.config.autoselectPrompt, req, capable, cfg.fallback, '');
    const r = await runWithFallback(
      selectors,
      async (c, ctx: CallContext): Promise<ChatCompletion> => {
        const left = deadline - Date.now();
        try {
          if (left <= 0) throw new ProviderError(`autoselect gave up after ${timeoutMs} ms`, { kind: 'timeout', provider: c.providerId, model: c.model });
          return await c.adapter.chat({ ...selReq, model: c.model }, { ...ctx, timeoutMs: Math.min(ctx.timeoutMs, left) });
        } catch (err) {
          lastFailure = err;
          throw err;
        }
      },
      { ...opts, rotation: rotationOf(rt, cfg.selection_model) },
    );
    r.settle({ usage: r.value.usage });
    reply = textOf(r.value.choices?.[0]?.message?.content ?? null);
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
