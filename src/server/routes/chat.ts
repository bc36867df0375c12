/**
 * @module Chat completions on every base: `/api/{id}`, `/api/rotations`, `/api/autoselect`, `/v1`.
 * A thin translator: OpenAI chat in (inbound/openai-chat), runRequest, OpenAI chat out (JSON, SSE,
 * or AISBF's rotation report).
 */
import type { Context, Hono } from 'hono';
import type { AppDeps, AppEnv } from '../app-env.js';
import type { ChatRequest } from '../../providers/openai-types.js';
import { RotationUnavailableError } from '../../routing/rotation-report.js';
import { resolveTarget, type Scope } from '../../routing/resolve-target.js';
import { autoselectOfError, runRequest } from '../../pipeline/run-request.js';
import { sentOnSocket, sseSocketOf } from '../node-request.js';
import { HttpError } from '../../errors/http-error.js';
import { readBodyText } from '../read-body.js';
import { requestMetaFromHttp } from '../request-meta-from-http.js';
import { parseJsonBody } from '../../inbound/json-body.js';
import { parseChatRequest } from '../../inbound/openai-chat/parse-openai-chat-request.js';
import { chatStreamBody, newCompletionId, writeChatStream, type StreamMeta } from '../../inbound/openai-chat/openai-chat-stream-writer.js';
import { renderChatJson, renderRotationReport } from '../../inbound/openai-chat/render-openai-chat-response.js';
import { headerValue, sseHeaders } from '../../inbound/served-headers.js';
import { clientStall } from '../../inbound/client-stall.js';

async function handleChat(c: Context<AppEnv>, deps: AppDeps, scope: Scope): Promise<Response> {
  const rt = deps.runtime();
  const reqLog = c.get('reqLog');
  // An unknown /api/{id} is a 404 whatever the body says.
  if (scope.base === 'id') resolveTarget(rt, scope, '*');
  const meta = requestMetaFromHttp(c, rt, 'chat');
  const req: ChatRequest = parseChatRequest(parseJsonBody(await readBodyText(c, rt.config.aisbf.server.body_limit_mb * 1024 * 1024)));
  // On /api/{rotation or autoselect id} the id chooses; `model` may be left out (README).
  const target = { scope, model: req.model as string | undefined };
  if (target.model === undefined && scope.base === 'id') req.model = scope.id;
  let result;
  try {
    result = await runRequest(deps, meta, { kind: 'chat', target, req, observer: reqLog });
  } catch (err) {
    // A rotation with nothing left answers AISBF's report (JSON or SSE), not an error envelope.
    if (!(err instanceof RotationUnavailableError)) throw err;
    const chosen = autoselectOfError(err);
    return renderRotationReport(err, {
      stream: req.stream === true,
      model: req.model ?? err.report.rotation_id,
      extraHeaders: { ...(chosen ? { 'x-aisbf-autoselect': headerValue(`${chosen.chosen}; reason=${chosen.reason}`) } : {}), 'x-request-id': reqLog.id },
    });
  }
  if (result.kind === 'json') return renderChatJson(result);

  reqLog.deferred = true;
  const streamMeta: StreamMeta = {
    id: newCompletionId(),
    model: req.model ?? '',
    created: Math.floor(Date.now() / 1000),
    includeUsage: req.stream_options?.include_usage === true,
  };
  const headers = sseHeaders(result.served, reqLog.id);
  const stall = clientStall(c, deps);
  const outgoing = sseSocketOf(c);
  if (outgoing) {
    // Straight onto node's socket: see writeChatStream (frames of one upstream read leave together).
    return sentOnSocket(writeChatStream(outgoing, headers, result, streamMeta, stall), deps.log, reqLog.id);
  }
  return new Response(chatStreamBody(result, streamMeta, stall), { status: 200, headers });
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
