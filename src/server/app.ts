/**
 * @module createApp(deps) → the Hono app, without listening. Middleware: request id, one log line per
 * request, CORS, optional proxy auth; one onError that turns anything into OpenAI's envelope.
 */
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { AppDeps, AppEnv } from './app-env.js';
import { HttpError, envelope } from './errors.js';
import { clientErrorResponse, speaksAnthropic } from '../inbound/error-envelope.js';
import { ProviderError } from '../providers/provider-error.js';
import { ClientGoneError } from '../providers/deadline.js';
import { RequestLog } from './request-log.js';
import { headerOf, outgoingOf } from './node-request.js';
import { inProcessOf } from './in-process-call.js';
import { redactText, requestLineWriter } from '../log.js';
import { registerStatusRoutes } from './routes/status.js';
import { registerChatRoutes } from './routes/chat.js';
import { registerResponsesRoutes } from '../inbound/responses/responses-routes.js';
import { registerMessagesRoutes } from '../inbound/anthropic-messages/messages-routes.js';
import { registerModelRoutes } from './routes/models.js';
import { registerEmbeddingRoutes } from './routes/embeddings.js';
import { registerImageRoutes } from './routes/images.js';
import { registerAudioRoutes } from './routes/audio.js';
import { registerVideoRoutes } from './routes/videos.js';
import { loggablePath, registerGlassesRoutes } from '../compat/glasses.js';
import { registerVisionAIRoutes } from '../compat/visionai.js';
import { registerPlatformRoutes } from '../compat/platform/index.js';
import { registerJobRoutes } from '../jobs/index.js';
import { registerOcrRoutes } from '../compat/ocr/ocr-route.js';
import { GUARDED_PATHS, identityMiddleware } from './identity-middleware.js';
import { adminGuard } from './admin-guard.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerAdminKeyRoutes } from './routes/admin-keys.js';
import { registerAdminRoutes } from './routes/admin.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerAdminEventRoutes } from './routes/admin-events.js';
import { registerAdminStateRoutes } from './routes/admin-state.js';
import { registerUiRoutes } from './routes/ui.js';
import { afterResponse, onAfterResponseError } from '../after-response.js';
import { MemoRouter } from './memo-router.js';

const REQUEST_ID_RE = /^[\w.:@-]{1,128}$/;

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>({ router: new MemoRouter() });

  const requestLines = requestLineWriter(deps.log);
  // A failing after-response job (our own bug: accounting never throws) is reported as onError would.
  onAfterResponseError((err) => {
    deps.log.error({ err: { name: (err as Error)?.name, message: redactText(String((err as Error)?.message)) } }, 'after-response job failed');
    deps.accounting?.crashes.record(err, { route: 'after response' });
  });
  const corsOn = cors({ origin: '*', exposeHeaders: ['x-request-id', 'x-aisbf-provider', 'x-aisbf-model', 'x-aisbf-attempts', 'x-aisbf-autoselect', 'x-aisbf-cache', 'retry-after', 'content-disposition', 'x-video-model', 'x-generation-time'] });
  // The request's context and, when a browser asks, CORS, in one middleware: hono runs each
  // middleware in an async frame of its own per request. CORS never throws, so what the routes
  // throw is still turned into a response (onError) before this middleware reads the status.
  app.use('*', async function requestContext(c, next) {
    const incoming = headerOf(c, 'x-request-id');
    const id = incoming && REQUEST_ID_RE.test(incoming) ? incoming : randomUUID();
    const reqLog = new RequestLog(requestLines, id, c.req.method, loggablePath(c.req.path));
    c.set('requestId', id);
    c.set('reqLog', reqLog);
    // On node the header goes straight onto the outgoing response: touching c.res.headers would
    // turn every response into a full WHATWG Response and lose @hono/node-server's fast path.
    const outgoing = outgoingOf(c);
    if (outgoing) outgoing.setHeader('x-request-id', id);
    // An in-process call (a batch line) arrives as its caller, and chose its own request id.
    const inProcess = inProcessOf(c);
    if (inProcess?.identity) c.set('identity', inProcess.identity);
    // Only browsers send Origin, and only cross-origin requests need CORS headers. A preflight is
    // answered by CORS itself (what hono would do with a middleware's returned response).
    if (deps.runtime().config.aisbf.server.cors && headerOf(c, 'origin') !== undefined) {
      const preflight = await corsOn(c, next);
      if (preflight) c.res = preflight;
    } else {
      await next();
    }
    if (!outgoing && !inProcess) c.res.headers.set('x-request-id', id);
    // The line is written once the answer is on its way (it then also times the write).
    if (!reqLog.deferred) {
      const status = c.res.status;
      afterResponse(() => reqLog.finish(status));
    }
  });

  // Auth (aisbf.json auth.enabled): API keys, access tokens and static tokens on the guarded paths.
  const identityGuard = identityMiddleware(deps.identity);
  for (const path of GUARDED_PATHS) app.use(path, identityGuard);
  app.use('/admin/*', adminGuard({ identity: deps.identity }));

  registerStatusRoutes(app, deps);
  registerAuthRoutes(app, deps);
  registerAdminKeyRoutes(app, deps);
  registerAdminRoutes(app, deps);
  // The dashboard (GET /ui) and the admin JSON only it needs.
  registerAdminStateRoutes(app, deps, registerAdminEventRoutes(app, deps));
  registerUiRoutes(app, deps);
  registerMetricsRoute(app, deps);
  registerModelRoutes(app, deps);
  // Before the chat routes: their `POST /api/:id` 404 helper would otherwise answer /api/image, /api/llm …
  // Files, batches and /api/chat jobs (before the chat routes' `POST /api/:id` helper).
  registerJobRoutes(app, deps);
  registerPlatformRoutes(app, deps);
  registerOcrRoutes(app, deps);
  registerChatRoutes(app, deps);
  registerResponsesRoutes(app, deps);
  registerMessagesRoutes(app, deps);
  registerEmbeddingRoutes(app, deps);
  registerImageRoutes(app, deps);
  registerAudioRoutes(app, deps);
  registerVideoRoutes(app, deps);
  registerGlassesRoutes(app, deps);
  registerVisionAIRoutes(app, deps);

  app.notFound((c) => {
    const message = `Unknown route ${c.req.method} ${c.req.path}. See GET / for what this server offers.`;
    // Anthropic clients (under /v1/messages) read only Anthropic's envelope.
    if (speaksAnthropic(c.req.path)) return clientErrorResponse(c.req.path, new HttpError(404, message, { code: 'unknown_url' }), c.get('reqLog')?.id);
    return c.json(envelope(message, 'invalid_request_error', null, 'unknown_url'), 404);
  });

  app.onError(function onError(err, c) {
    const reqLog = c.get('reqLog');
    const expected = err instanceof HttpError || err instanceof ProviderError || err instanceof ClientGoneError;
    if (!expected) deps.log.error({ reqId: reqLog?.id, err: { name: (err as Error).name, message: redactText(String((err as Error).message)) } }, 'unhandled error');
    // Our own fault: the stack goes to /admin/crashes (and only there).
    if (!expected) deps.accounting?.crashes.record(err, { requestId: reqLog?.id, route: `${c.req.method} ${loggablePath(c.req.path)}` });
    if (reqLog) reqLog.error = (err as Error).message;
    // The client's own envelope: Anthropic's on the Messages routes (e.g. the auth guard's 401), else OpenAI's.
    return clientErrorResponse(c.req.path, err, reqLog?.id);
  });

  return app;
}
