/**
 * @module createApp(deps) → the Hono app, without listening. Middleware: request id, one log line per
 * request, CORS, optional proxy auth; one onError that turns anything into OpenAI's envelope.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { AppDeps, AppEnv } from './app-env.js';
import { HttpError, envelope, errorResponse } from './errors.js';
import { ProviderError } from '../providers/provider-error.js';
import { ClientGoneError } from '../providers/deadline.js';
import { RequestLog } from './request-log.js';
import { headerOf } from './node-request.js';
import { plainSibling, redactText } from '../log.js';
import { registerStatusRoutes } from './routes/status.js';
import { registerChatRoutes } from './routes/chat.js';
import { registerModelRoutes } from './routes/models.js';
import { registerEmbeddingRoutes } from './routes/embeddings.js';
import { registerImageRoutes } from './routes/images.js';
import { registerAudioRoutes } from './routes/audio.js';
import { registerVideoRoutes } from './routes/videos.js';
import { loggablePath, registerGlassesRoutes } from '../compat/glasses.js';
import { registerVisionAIRoutes } from '../compat/visionai.js';
import { registerPlatformRoutes } from '../compat/platform.js';

const REQUEST_ID_RE = /^[\w.:@-]{1,128}$/;

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  const requestLines = plainSibling(deps.log);
  app.use('*', async function requestContext(c, next) {
    const incoming = headerOf(c, 'x-request-id');
    const id = incoming && REQUEST_ID_RE.test(incoming) ? incoming : randomUUID();
    const reqLog = new RequestLog(requestLines, id, c.req.method, loggablePath(c.req.path));
    c.set('requestId', id);
    c.set('reqLog', reqLog);
    // On node the header goes straight onto the outgoing response: touching c.res.headers would
    // turn every response into a full WHATWG Response and lose @hono/node-server's fast path.
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    if (outgoing) outgoing.setHeader('x-request-id', id);
    await next();
    if (!outgoing) c.res.headers.set('x-request-id', id);
    if (!reqLog.deferred) reqLog.finish(c.res.status);
  });

  const corsOn = cors({ origin: '*', exposeHeaders: ['x-request-id', 'x-aisbf-provider', 'x-aisbf-model', 'x-aisbf-attempts', 'x-aisbf-autoselect', 'retry-after', 'content-disposition', 'x-video-model', 'x-generation-time'] });
  app.use('*', async function corsIfEnabled(c, next) {
    // Only browsers send Origin, and only cross-origin requests need CORS headers.
    if (deps.runtime().config.aisbf.server.cors && headerOf(c, 'origin') !== undefined) return corsOn(c, next);
    await next();
  });

  // Proxy auth (aisbf.json auth.enabled): bearer tokens compared by their SHA-256.
  const proxyAuth = async function proxyAuth(c: Parameters<Parameters<typeof app.use>[1]>[0], next: () => Promise<void>) {
    const auth = deps.runtime().config.aisbf.auth;
    if (!auth.enabled) return next();
    const header = headerOf(c, 'authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    const digest = sha256(token);
    const ok = token !== '' && hashedTokens(auth.tokens).some((t) => t.length === digest.length && timingSafeEqual(t, digest));
    if (!ok) throw new HttpError(401, 'Missing or invalid proxy token: send Authorization: Bearer <token> (aisbf.json auth.tokens).', { code: 'invalid_api_key' });
    return next();
  };
  app.use('/api/*', proxyAuth);
  app.use('/v1/*', proxyAuth);

  registerStatusRoutes(app, deps);
  registerModelRoutes(app, deps);
  // Before the chat routes: their `POST /api/:id` 404 helper would otherwise answer /api/image, /api/llm …
  registerPlatformRoutes(app, deps);
  registerChatRoutes(app, deps);
  registerEmbeddingRoutes(app, deps);
  registerImageRoutes(app, deps);
  registerAudioRoutes(app, deps);
  registerVideoRoutes(app, deps);
  registerGlassesRoutes(app, deps);
  registerVisionAIRoutes(app, deps);

  app.notFound((c) => c.json(envelope(`Unknown route ${c.req.method} ${c.req.path}. See GET / for what this server offers.`, 'invalid_request_error', null, 'unknown_url'), 404));

  app.onError(function onError(err, c) {
    const reqLog = c.get('reqLog');
    const expected = err instanceof HttpError || err instanceof ProviderError || err instanceof ClientGoneError;
    if (!expected) deps.log.error({ reqId: reqLog?.id, err: { name: (err as Error).name, message: redactText(String((err as Error).message)), stack: redactText(String((err as Error).stack)) } }, 'unhandled error');
    if (reqLog) reqLog.error = (err as Error).message;
    return errorResponse(err);
  });

  return app;
}

const hashCache = new WeakMap<readonly string[], Buffer[]>();
/** Tokens may be written as sha256 hex (recommended) or plain; both are compared as digests. */
function hashedTokens(tokens: readonly string[]): Buffer[] {
  let hashed = hashCache.get(tokens);
  if (!hashed) {
    hashed = tokens.map((t) => (/^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : sha256(t)));
    hashCache.set(tokens, hashed);
  }
  return hashed;
}
