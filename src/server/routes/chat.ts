/**
 * @module Chat completions on every base: `/api/{id}`, `/api/rotations`, `/api/autoselect`, `/v1`.
 * Parse once at the edge, resolve the target, run the attempt loop, answer JSON or SSE with the
 * headers that say what served the request.
 */
import type { Context, Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.js';
import type { ChatCompletion, ChatRequest, ChatStreamPart, Usage } from '../../providers/provider-adapter.js';
import { ClientGoneError } from '../../providers/deadline.js';
import { candidatesFor, rotationFor } from '../../routing/target-candidates.js';
import { RotationUnavailableError, rotationReportResponse } from '../../routing/rotation-report.js';
import { isEmptyChatPart, primeStream, runWithFallback, type AttemptSuccess } from '../../routing/run-with-fallback.js';
import { resolveTarget, type Scope } from '../../routing/resolve-target.js';
import { clientKeys } from '../client-keys.js';
import { headerOf } from '../node-request.js';
import { HttpError } from '../errors.js';
import { SSE_HEADERS, chatStreamBody, newCompletionId, writeChatStream, type StreamMeta } from '../openai-sse.js';
import type { ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { parseChatRequest, parseJsonBody } from '../openai-schemas.js';
import { readBodyText } from '../read-body.js';
import type { Candidate } from '../../routing/candidate.js';
import { chatCall, streamChatCall } from '../../context/chat-call.js';
import { countRequestTokens } from '../../context/count-tokens.js';
import { selectAutoselect } from '../../routing/autoselect.js';

function servedHeaders(r: AttemptSuccess<unknown>): Record<string, string> {
  return { 'x-aisbf-provider': r.candidate.providerId, 'x-aisbf-model': r.candidate.model, 'x-aisbf-attempts': String(r.attempts) };
}

/**
 * effective_context: tokens actually sent. Without condensation that is the upstream's prompt count;
 * an upstream that reports no usage at all gets our own count of the prompt.
 */
function withEffectiveContext(usage: Usage | undefined, effective: number | undefined, countPrompt: () => number): Usage {
  if (!usage) {
    const n = effective ?? countPrompt();
    return { prompt_tokens: n, completion_tokens: 0, total_tokens: n, effective_context: n };
  }
  const u: Usage = { ...usage };
  u.effective_context = effective ?? u.effective_context ?? u.prompt_tokens;
  return u;
}

async function handleChat(c: Context<AppEnv>, deps: AppDeps, scope: Scope): Promise<Response> {
  const rt = deps.runtime();
  const reqLog = c.get('reqLog');
  // An unknown /api/{id} is a 404 whatever the body says.
  if (scope.base === 'id') resolveTarget(rt, scope, '*');
  const body = parseJsonBody(await readBodyText(c, rt.config.aisbf.server.body_limit_mb * 1024 * 1024));
  const req: ChatRequest = parseChatRequest(body);
  const target = resolveTarget(rt, scope, req.model);
  const keys = clientKeys(c, rt);
  // Autoselect picks its target first (selection model or embeddings); the chosen one then runs.
  const selected =
    target.kind === 'autoselect' ? await selectAutoselect(rt, target.id, req, { runtime: rt, keys, signal: c.req.raw.signal, log: deps.log, routing: deps.routing }) : undefined;
  const candidates: Candidate[] = selected?.candidates ?? candidatesFor(rt, target);
  const autoselectHeader: Record<string, string> = selected ? { 'x-aisbf-autoselect': selected.header } : {};

  // The client's signal, plus our own abort for when the SSE body is cancelled.
  const abort = new AbortController();
  const clientSignal = c.req.raw.signal;
  if (clientSignal.aborted) throw new ClientGoneError();
  const onClientGone = () => abort.abort(new ClientGoneError());
  clientSignal.addEventListener('abort', onClientGone, { once: true });
  const opts = { runtime: rt, keys, signal: abort.signal, log: deps.log, routing: deps.routing, rotation: rotationFor(rt, selected ? { kind: 'rotation', id: selected.chosen } : target) };
  // A rotation with nothing left answers AISBF's report (JSON or SSE), not an error envelope.
  const report = (err: unknown): Response => {
    if (err instanceof RotationUnavailableError) return rotationReportResponse(err, { stream: req.stream === true, model: req.model ?? err.report.rotation_id, extraHeaders: { ...autoselectHeader, 'x-request-id': reqLog.id } });
    throw err;
  };

  if (!req.stream) {
    try {
      const r = await runWithFallback(candidates, (cand, ctx) => chatCall(rt, cand, req, ctx), opts);
      const completion: ChatCompletion = r.value.value;
      completion.usage = withEffectiveContext(completion.usage, r.value.effectiveContext, () => countRequestTokens(req, r.candidate.model));
      r.settle({ usage: completion.usage });
      reqLog.provider = r.candidate.providerId;
      reqLog.model = r.candidate.model;
      reqLog.attempts = r.attempts;
      reqLog.promptTokens = completion.usage.prompt_tokens;
      reqLog.completionTokens = completion.usage.completion_tokens;
      return new Response(JSON.stringify(completion), { status: 200, headers: { 'content-type': 'application/json', ...servedHeaders(r), ...autoselectHeader } });
    } catch (err) {
      return report(err);
    } finally {
      clientSignal.removeEventListener('abort', onClientGone);
    }
  }

  let r: AttemptSuccess<{ parts: AsyncIterator<ChatStreamPart>; effectiveContext?: number }>;
  try {
    r = await runWithFallback(
      candidates,
      async (cand, ctx) => {
        const call = await streamChatCall(rt, cand, req, ctx);
        return { parts: await primeStream(call.value, isEmptyChatPart), effectiveContext: call.effectiveContext };
      },
      { ...opts, deferSuccess: true },
    );
  } catch (err) {
    clientSignal.removeEventListener('abort', onClientGone);
    return report(err);
  }
  reqLog.provider = r.candidate.providerId;
  reqLog.model = r.candidate.model;
  reqLog.attempts = r.attempts;
  reqLog.deferred = true;
  const effectiveContext = r.value.effectiveContext;
  const meta: StreamMeta = {
    id: newCompletionId(),
    model: req.model,
    created: Math.floor(Date.now() / 1000),
    includeUsage: req.stream_options?.include_usage === true,
    finalizeUsage: (u) => withEffectiveContext(u, effectiveContext, () => countRequestTokens(req, r.candidate.model)),
    onEnd: ({ usage, error, aborted }) => {
      clientSignal.removeEventListener('abort', onClientGone);
      if (aborted) abort.abort(new ClientGoneError());
      // Token windows and mid-stream failures are recorded against the candidate that served.
      r.settle({ usage, error });
      reqLog.promptTokens = usage?.prompt_tokens;
      reqLog.completionTokens = usage?.completion_tokens;
      if (error) reqLog.error = (error as Error).message;
      reqLog.finish(200, { aborted });
    },
  };
  const headers = { ...SSE_HEADERS, ...servedHeaders(r), ...autoselectHeader, 'x-request-id': reqLog.id };
  const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
  // Browsers (Origin) take the web-stream path: the CORS middleware adds its headers to that response.
  if (outgoing && headerOf(c, 'origin') === undefined) {
    // Straight onto node's socket: see writeChatStream (frames of one upstream read leave together).
    void writeChatStream(outgoing, headers, r.value.parts, meta, onClientGone).catch((err: unknown) => deps.log.warn({ err: { message: (err as Error).message } }, 'writing a stream failed'));
    return RESPONSE_ALREADY_SENT;
  }
  return new Response(chatStreamBody(r.value.parts, meta), { status: 200, headers });
}

export function registerChatRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.post('/api/rotations/chat/completions', (c) => handleChat(c, deps, { base: 'rotations' }));
  app.post('/api/autoselect/chat/completions', (c) => handleChat(c, deps, { base: 'autoselect' }));
  app.post('/api/:id/chat/completions', (c) => handleChat(c, deps, { base: 'id', id: c.req.param('id') }));
  app.post('/v1/chat/completions', (c) => handleChat(c, deps, { base: 'v1' }));

  // AISBF: a bare POST to /api/{id} is a mistake; say what would have worked.
  app.post('/api/:id', (c) => {
    const rt = deps.runtime();
    const ids = [...Object.keys(rt.config.autoselect), ...Object.keys(rt.config.rotations.rotations), ...Object.keys(rt.config.providers.providers)];
    const id = c.req.param('id');
    throw new HttpError(404, `No endpoint at POST /api/${id}. Valid ids: ${ids.join(', ')}. Example: POST /api/${ids[0] ?? 'openai'}/chat/completions`, {
      code: 'unknown_url',
      body: { valid_ids: ids },
    });
  });
}
