/**
 * @module The Responses API: `POST /v1/responses` (and `/api/{id}/responses`), `GET` / `DELETE
 * /v1/responses/{id}`, `GET /v1/responses/{id}/input_items`. A target whose candidates are all
 * OpenAI-type providers with `responses_api` gets the body unchanged; every other target gets the
 * translation onto the internal chat request, and (with `store`, the default) the response and its
 * input are kept so previous_response_id works on any provider. Errors use OpenAI's envelope.
 */
import type { Context, Hono } from 'hono';
import type { AppDeps, AppEnv } from '../../server/app-env.js';
import type { ChatStreamResult } from '../../pipeline/run-request.js';
import { runRequest } from '../../pipeline/run-request.js';
import type { Identity } from '../../pipeline/request-meta.js';
import { ANONYMOUS } from '../../pipeline/request-meta.js';
import { HttpError } from '../../errors/http-error.js';
import type { Candidate } from '../../routing/candidate.js';
import { resolveTarget, type Scope } from '../../routing/resolve-target.js';
import { ResponseStore } from '../../store/responses.js';
import { headerOf, sentOnSocket, sseSocketOf } from '../../server/node-request.js';
import { readBodyText } from '../../server/read-body.js';
import { requestMetaFromHttp } from '../../server/request-meta-from-http.js';
import { toErrorParts } from '../openai-chat/openai-chat-errors.js';
import { parseJsonBody } from '../json-body.js';
import { pumpParts } from '../part-frames.js';
import { passThroughTarget, relayPassthrough } from '../passthrough-relay.js';
import { servedHeaders, sseHeaders } from '../served-headers.js';
import { pumpedSseBody, SseSocket, type SseSink } from '../sse-pump.js';
import { clientStall } from '../client-stall.js';
import { parseResponsesRequest } from './parse-responses-request.js';
import { finishedResponse } from './render-responses-response.js';
import { newResponseId, responseShell, responseSnapshot, snapshotSerializer } from './response-object.js';
import { failureCode, ResponsesStreamWriter } from './responses-stream-writer.js';
import { responsesStreamUsage, responsesUsageOfText } from './responses-usage.js';

/** Who may read a stored response: the key, the user, or everyone without auth. */
function ownerOf(identity: Identity | undefined): string {
  const id = identity ?? ANONYMOUS;
  if (id.keyId) return `key:${id.keyId}`;
  if (id.user) return `user:${id.user}`;
  return id.kind;
}

function canPassThrough(c: Candidate): boolean {
  return c.provider.type === 'openai' && c.provider.responses_api === true && typeof c.adapter.passthrough === 'function';
}

function notFound(id: string, param: string | null, code: string, what = 'Response'): HttpError {
  return new HttpError(404, `${what} with id '${id}' not found.`, { type: 'invalid_request_error', param, code });
}

function json(body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json', ...headers } });
}

/**
 * Writes the Responses events of one stream to `out` (and ends it); tells `onDone` the final response
 * object however it ended (completed, incomplete, failed, or the client gone: what it had so far).
 */
async function pumpResponse(writer: ResponsesStreamWriter, stream: ChatStreamResult, onDone: (final: Record<string, unknown>) => void, out: SseSink): Promise<void> {
  try {
    const fail = (err: unknown) => {
      const { status, body } = toErrorParts(err);
      return writer.fail(failureCode(status), body.error.message);
    };
    await pumpParts(writer, stream, fail, out, writer.start());
  } finally {
    writer.interrupted();
    onDone(writer.final!);
  }
}

export function registerResponsesRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const store = new ResponseStore(deps.db, {
    retentionDays: () => deps.runtime().config.aisbf.history.retention_days,
  });

  async function create(c: Context<AppEnv>, scope: Scope): Promise<Response> {
    const rt = deps.runtime();
    const reqLog = c.get('reqLog');
    if (scope.base === 'id') resolveTarget(rt, scope, '*');
    const meta = requestMetaFromHttp(c, rt, 'responses');
    const raw = parseJsonBody(await readBodyText(c, rt.config.aisbf.server.body_limit_mb * 1024 * 1024));
    const owner = ownerOf(meta.identity);
    const prevId = typeof raw.previous_response_id === 'string' ? raw.previous_response_id : undefined;
    const history = prevId !== undefined ? store.history(prevId, owner) : undefined;
    // A response id we don't hold may be the upstream's own: only a pass-through target can continue it.
    const relay = !history && passThroughTarget(deps, scope, raw.model as string | undefined, canPassThrough);
    if (prevId !== undefined && !history && !relay) throw notFound(prevId, 'previous_response_id', 'previous_response_not_found', 'Previous response');
    if (relay) {
      return relayPassthrough(c, deps, {
        route: 'responses',
        scope,
        req: { api: 'openai-responses', body: raw, stream: raw.stream === true },
        canPassThrough,
        usageOf: responsesUsageOfText,
        streamUsage: responsesStreamUsage,
        errorFrame: (err) => {
          const e = toErrorParts(err).body.error;
          return `event: error\ndata: ${JSON.stringify({ type: 'error', code: e.code, message: e.message, param: e.param, sequence_number: 0 })}\n\n`;
        },
      });
    }

    const parsed = parseResponsesRequest(raw, history);
    if (parsed.notes.length) deps.log.info({ reqId: reqLog.id, dropped: parsed.notes }, 'responses: dropped what the target cannot run');
    const id = newResponseId();
    const createdAt = Math.floor(Date.now() / 1000);
    const model = parsed.body.model ?? (scope.base === 'id' ? scope.id : '');
    const shell = responseShell(parsed.body, id, createdAt, model);
    const keep = (response: Record<string, unknown>) => {
      if (parsed.body.store === false) return;
      store.put({ id, owner, createdAt, previousResponseId: prevId ?? null, response, inputItems: parsed.inputItems });
    };
    const r = await runRequest(deps, meta, { kind: 'chat', target: { scope, model: parsed.body.model }, req: parsed.chat, observer: reqLog });
    if (r.kind === 'json') {
      const finished = finishedResponse(r.completion);
      // The store serializes its copy later, off the request path; the client's is written here once.
      keep(responseSnapshot(shell, finished));
      return new Response(snapshotSerializer(shell)(finished), { status: 200, headers: { 'content-type': 'application/json', ...servedHeaders(r.served) } });
    }
    reqLog.deferred = true;
    const writer = new ResponsesStreamWriter(shell);
    const pump = (out: SseSink) => pumpResponse(writer, r, keep, out);
    const headers = sseHeaders(r.served, reqLog.id);
    const stall = clientStall(c, deps);
    const outgoing = sseSocketOf(c);
    if (outgoing) {
      return sentOnSocket(pump(new SseSocket(outgoing, 200, headers, { stall, onClose: () => r.cancel() })), deps.log, reqLog.id);
    }
    return new Response(pumpedSseBody(pump, () => r.cancel(), { stall }), { status: 200, headers });
  }

  const stored = (c: Context<AppEnv>) => {
    const id = c.req.param('id') ?? '';
    const owner = ownerOf(requestMetaFromHttp(c, deps.runtime(), 'responses').identity);
    const r = store.get(id, owner);
    if (!r) throw notFound(id, null, 'not_found');
    return { r, owner };
  };

  app.post('/v1/responses', (c) => create(c, { base: 'v1' }));
  app.post('/api/:id/responses', (c) => create(c, { base: 'id', id: c.req.param('id') }));
  app.get('/v1/responses/:id', (c) => json(stored(c).r.response));
  app.delete('/v1/responses/:id', (c) => {
    const { r, owner } = stored(c);
    store.delete(r.id, owner);
    return json({ id: r.id, object: 'response', deleted: true });
  });
  app.get('/v1/responses/:id/input_items', (c) => {
    const { r } = stored(c);
    const order = c.req.query('order') ?? 'desc';
    if (order !== 'asc' && order !== 'desc') throw new HttpError(400, "Invalid 'order': expected asc or desc.", { param: 'order', code: 'invalid_value' });
    const limitText = c.req.query('limit') ?? '20';
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new HttpError(400, "Invalid 'limit': an integer from 1 to 100.", { param: 'limit', code: 'invalid_value' });
    let items = order === 'desc' ? [...r.inputItems].reverse() : r.inputItems;
    const after = c.req.query('after');
    if (after !== undefined) {
      const at = items.findIndex((i) => i.id === after);
      if (at < 0) throw new HttpError(400, `Invalid 'after': no input item '${after}' in this response.`, { param: 'after', code: 'invalid_value' });
      items = items.slice(at + 1);
    }
    const page = items.slice(0, limit);
    return json({ object: 'list', data: page, first_id: (page[0]?.id as string | undefined) ?? null, last_id: (page.at(-1)?.id as string | undefined) ?? null, has_more: items.length > limit });
  });
}
