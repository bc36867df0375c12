/**
 * @module The OpenAI chat answers that are not chunk streams: the JSON completion with the headers
 * that say what served it, and AISBF's rotation report (a `chat.completion`, or its SSE form, with
 * the report fields; 200 when notifyerrors is on, else 429 carrying OpenAI's `error` envelope too so
 * SDK clients raise a readable error).
 */
import type { ChatJsonResult } from '../../pipeline/run-request.js';
import type { RotationUnavailableError } from '../../routing/rotation-report.js';
import { servedHeaders } from '../served-headers.js';
import { rawJsonOf } from '../../providers/raw-json.js';
import { spliceUsage, spliceUsageBytes } from './splice-usage.js';
import { newCompletionId, singleMessageStream } from './openai-chat-stream-writer.js';
import { SSE_HEADERS } from '../sse-pump.js';

/**
 * The completion as JSON. When the adapter kept the upstream's text (the OpenAI-type adapters do),
 * those bytes go out with the usage the pipeline completed spliced in: the upstream's own formatting,
 * and no second serialization of the whole body (sent as bytes when the text is ASCII: raw-json.ts).
 * Otherwise (a converted answer, a split request's merged one) the object is serialized.
 */
export function renderChatJson(r: ChatJsonResult): Response {
  const raw = rawJsonOf(r.completion);
  let body: string | Buffer | undefined;
  if (raw !== undefined && r.completion.usage !== undefined) {
    const usageJson = JSON.stringify(r.completion.usage);
    body = raw.asciiBytes !== undefined ? spliceUsageBytes(raw.asciiBytes, raw.text, usageJson) : spliceUsage(raw.text, usageJson);
  }
  return new Response(body ?? JSON.stringify(r.completion), { status: 200, headers: { 'content-type': 'application/json', ...servedHeaders(r.served) } });
}

export function renderRotationReport(err: RotationUnavailableError, opts: { stream: boolean; model: string; extraHeaders?: Record<string, string> }): Response {
  const status = err.notifyErrors ? 200 : 429;
  const headers: Record<string, string> = { ...err.options.headers, ...opts.extraHeaders };
  const id = newCompletionId();
  const created = Math.floor(Date.now() / 1000);
  if (opts.stream) {
    const body = singleMessageStream(err.text, { id, model: opts.model, created }, { aisbf_error: true, rotation_id: err.report.rotation_id });
    return new Response(body, { status, headers: { ...SSE_HEADERS, ...headers } });
  }
  const completion = {
    id,
    object: 'chat.completion',
    created,
    model: opts.model,
    choices: [{ index: 0, message: { role: 'assistant', content: err.text }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    ...err.report,
    ...(status === 429 ? { error: { message: err.text, type: 'rate_limit_error', param: null, code: 'rotation_unavailable' } } : {}),
  };
  return new Response(JSON.stringify(completion), { status, headers: { 'content-type': 'application/json', ...headers } });
}
