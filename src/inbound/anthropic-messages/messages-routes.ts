/**
 * @module The Anthropic Messages API on `/v1/messages` and `/api/{id}/messages` (plus
 * `…/messages/count_tokens`): parse → runRequest → render, errors in Anthropic's envelope. A target
 * whose candidates are all Anthropic-type providers gets the body (and `anthropic-beta`) unchanged;
 * every other target gets the translation onto the internal chat request. A stream whose first part
 * takes long is committed early: `message_start` goes out, then `ping` every 10 s until it arrives.
 */
import { copyWith } from '../../copy-with.js';
import type { Context, Hono } from 'hono';
import type { AppDeps, AppEnv } from '../../server/app-env.js';
import type { ChatStreamResult } from '../../pipeline/run-request.js';
import { runRequest } from '../../pipeline/run-request.js';
import type { Candidate } from '../../routing/candidate.js';
import { resolveTarget, type Scope } from '../../routing/resolve-target.js';
import { countRequestTokens, estimateRequestTokens } from '../../tokens/count-tokens.js';
import { headerOf, sentOnSocket, sseSocketOf } from '../../server/node-request.js';
import { readBodyText } from '../../server/read-body.js';
import { requestMetaFromHttp } from '../../server/request-meta-from-http.js';
import { parseJsonBody } from '../json-body.js';
import { pumpParts } from '../part-frames.js';
import { servedHeaders, sseHeaders } from '../served-headers.js';
import { passThroughTarget, relayPassthrough } from '../passthrough-relay.js';
import { pumpedSseBody, SSE_HEADERS, SseSocket, type SseSink } from '../sse-pump.js';
import { clientStall } from '../client-stall.js';
import { countTokensSchema, messagesRequestSchema, parseOr400 } from './messages-api.js';
import { anthropicErrorResponse, toAnthropicError } from './messages-errors.js';
import { MessagesStreamWriter, PING_FRAME, newMessageId } from './messages-stream-writer.js';
import { translateMessagesRequest } from './parse-messages-request.js';
import { renderMessagesResponse } from './render-messages-response.js';
import { messagesStreamUsage, messagesUsageOfText } from './messages-usage.js';

/** Anthropic's SDKs and Claude Code wait this long in silence before a keep-alive matters. */
export const PING_MS = 10_000;

const EARLY = Symbol('early');

function canPassThrough(c: Candidate): boolean {
  return c.provider.type === 'anthropic' && typeof c.adapter.passthrough === 'function';
}

function forwardedHeaders(c: Context<AppEnv>): Record<string, string> {
  const h: Record<string, string> = {};
  const version = headerOf(c, 'anthropic-version');
  const beta = headerOf(c, 'anthropic-beta');
  if (version) h['anthropic-version'] = version;
  if (beta) h['anthropic-beta'] = beta;
  return h;
}

async function readBody(c: Context<AppEnv>, deps: AppDeps): Promise<Record<string, unknown>> {
  return parseJsonBody(await readBodyText(c, deps.runtime().config.aisbf.server.body_limit_mb * 1024 * 1024));
}

function relay(c: Context<AppEnv>, deps: AppDeps, scope: Scope, body: Record<string, unknown>, api: 'anthropic-messages' | 'anthropic-count-tokens'): Promise<Response> {
  return relayPassthrough(c, deps, {
    route: 'messages',
    scope,
    req: { api, body, stream: api === 'anthropic-messages' && body.stream === true, headers: forwardedHeaders(c) },
    canPassThrough,
    usageOf: messagesUsageOfText,
    streamUsage: messagesStreamUsage,
    errorFrame: (err) => `event: error\ndata: ${JSON.stringify(toAnthropicError(err).body)}\n\n`,
  });
}

/** Writes the Messages events of one stream to `out` (and ends it), message_start first whatever happens next. */
async function pumpMessage(writer: MessagesStreamWriter, pending: Promise<ChatStreamResult>, out: SseSink): Promise<void> {
  const fail = (err: unknown) => {
    const e = toAnthropicError(err).body.error;
    return writer.fail(e.type, e.message);
  };
  let stream: ChatStreamResult;
  try {
    await out.write(writer.start());
    stream = await pending;
  } catch (err) {
    out.write(fail(err));
    out.end();
    return;
  }
  await pumpParts(writer, stream, fail, out);
}

async function handleMessages(c: Context<AppEnv>, deps: AppDeps, scope: Scope): Promise<Response> {
  const reqLog = c.get('reqLog');
  try {
    const rt = deps.runtime();
    if (scope.base === 'id') resolveTarget(rt, scope, '*');
    const raw = await readBody(c, deps);
    const body = parseOr400(messagesRequestSchema, raw, '');
    const model = body.model;
    // Pass-through targets get the body as it came: blocks we do not know are theirs to judge.
    if (passThroughTarget(deps, scope, model, canPassThrough)) return await relay(c, deps, scope, raw, 'anthropic-messages');
    const parsed = translateMessagesRequest(body);
    if (parsed.notes.length) deps.log.info({ reqId: reqLog.id, dropped: parsed.notes }, 'messages: dropped what a non-Anthropic target cannot take');

    const meta = requestMetaFromHttp(c, rt, 'messages');
    const chat = parsed.chat;
    const id = newMessageId();
    const run = runRequest(deps, meta, { kind: 'chat', target: { scope, model }, req: chat, observer: reqLog });
    if (!chat.stream) {
      const r = await run;
      if (r.kind !== 'json') throw new Error('expected a JSON answer');
      const inputTokens = r.completion.usage?.prompt_tokens ?? estimateRequestTokens(chat, model);
      return new Response(JSON.stringify(renderMessagesResponse(r.completion, { id, model, inputTokens })), {
        status: 200,
        headers: Object.assign({ 'content-type': 'application/json' }, servedHeaders(r.served), { 'request-id': reqLog.id }),
      });
    }

    // message_start carries input usage before the upstream has said anything: estimated (exact when
    // the encoder is already built) on the next turn of the event loop, once the upstream call has gone
    // out, so the estimate (0.2–0.7 ms for a 128 KB agent prompt, ~30 ms the first time) runs while
    // the upstream works instead of before it is asked.
    const inputTokens = new Promise<number>((resolve) =>
      setImmediate(() => {
        try {
          resolve(estimateRequestTokens(chat, model));
        } catch (err) {
          // A figure for message_start is not worth failing the stream over.
          deps.log.warn({ reqId: reqLog.id, err: { message: (err as Error).message } }, 'estimating input tokens failed');
          resolve(0);
        }
      }),
    );
    const pending = run.then((r) => {
      if (r.kind !== 'stream') throw new Error('expected a stream');
      return r;
    });
    let timer: NodeJS.Timeout | undefined;
    const early = new Promise<typeof EARLY>((resolve) => {
      timer = setTimeout(() => resolve(EARLY), PING_MS);
      timer.unref?.();
    });
    // Failures that come before the first byte still get a proper status.
    const first = await Promise.race([pending, early]).finally(() => clearTimeout(timer));
    // Headers before the first byte may be sent without knowing what serves (EARLY): then none of ours.
    const headers = first === EARLY ? Object.assign({}, SSE_HEADERS, { 'x-request-id': reqLog.id }) : sseHeaders(first.served, reqLog.id);
    headers['request-id'] = reqLog.id;
    const writer = new MessagesStreamWriter({ id, model, inputTokens: await inputTokens });
    const pump = (out: SseSink) => pumpMessage(writer, pending, out);
    reqLog.deferred = true;
    const stall = clientStall(c, deps);
    const opts = { keepAliveMs: PING_MS, keepAliveFrame: PING_FRAME, stall };
    const cancel = () => void pending.then((s) => s.cancel(), () => undefined);
    const outgoing = sseSocketOf(c);
    if (outgoing) {
      return sentOnSocket(pump(new SseSocket(outgoing, 200, headers, copyWith(opts, { onClose: cancel }))), deps.log, reqLog.id);
    }
    return new Response(pumpedSseBody(pump, cancel, opts), { status: 200, headers });
  } catch (err) {
    reqLog.error = (err as Error).message;
    return anthropicErrorResponse(err, reqLog.id);
  }
}

async function handleCountTokens(c: Context<AppEnv>, deps: AppDeps, scope: Scope): Promise<Response> {
  const reqLog = c.get('reqLog');
  try {
    const rt = deps.runtime();
    if (scope.base === 'id') resolveTarget(rt, scope, '*');
    const raw = await readBody(c, deps);
    const body = parseOr400(countTokensSchema, raw, '');
    if (passThroughTarget(deps, scope, body.model, canPassThrough)) return await relay(c, deps, scope, raw, 'anthropic-count-tokens');
    // Resolving the target is the check that the model exists; the count is ours.
    resolveTarget(rt, scope, body.model);
    const { chat } = translateMessagesRequest({ ...body, max_tokens: body.max_tokens ?? 1 });
    return new Response(JSON.stringify({ input_tokens: countRequestTokens(chat, body.model) }), { status: 200, headers: { 'content-type': 'application/json' } });
  } catch (err) {
    reqLog.error = (err as Error).message;
    return anthropicErrorResponse(err, reqLog.id);
  }
}

export function registerMessagesRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.post('/v1/messages', (c) => handleMessages(c, deps, { base: 'v1' }));
  app.post('/v1/messages/count_tokens', (c) => handleCountTokens(c, deps, { base: 'v1' }));
  app.post('/api/:id/messages', (c) => handleMessages(c, deps, { base: 'id', id: c.req.param('id') }));
  app.post('/api/:id/messages/count_tokens', (c) => handleCountTokens(c, deps, { base: 'id', id: c.req.param('id') }));
}
