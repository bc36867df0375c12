/**
 * @module The glasses app's routes (Frame-Backend compat, CONTRACTS.md §2 and §6.12–6.15):
 * `POST /auth-{auth_key}`, `POST /profile`, `GET|POST /prompt-{username}` and `POST /process`.
 * Errors keep Frame-Backend's shapes (FastAPI's `{"detail"}`, slowapi's `{"error":"Rate limit
 * exceeded: …"}`), not OpenAI's envelope. `GET /health` is served by routes/status.ts.
 */
import { readRequestBytes } from '../server/read-body.js';
import { requestMetaFromHttp } from '../server/request-meta-from-http.js';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context, Hono } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { z } from 'zod';
import type { AppDeps, AppEnv } from '../server/app-env.js';
import type { Config } from '../config/load-config.js';
import { DebugLog } from '../glasses/debug-log.js';
import { checkImage, ImageCheckError } from '../media/image-check.js';
import { AuthKeyVerifier } from '../glasses/auth-key.js';
import { SlidingWindowLimiter, describeLimit } from '../glasses/sliding-window.js';
import { runCascade } from '../glasses/cascade.js';
import {
  API_KEY_NAMES,
  encryptionKey,
  ensureImagesDir,
  imagesDir,
  openApiKeys,
  openGlassesStores,
  sealApiKeys,
  type ProfileApiKeys,
} from '../glasses/glasses-data.js';
import type { ProfileRecord } from '../store/profiles.js';
import { normalizeIp } from '../store/blacklist.js';

type Ctx = Context<AppEnv>;
type GlassesConfig = Config['aisbf']['glasses'];

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** Failed auth-key checks one IP may make per minute on any glasses route (brute-force guard). */
const AUTH_FAILURES_PER_MINUTE = 10;
const JSON_BODY_LIMIT = 64 * 1024;
const MAX_PROMPT_CHARS = 4000;

export interface GlassesRouteOptions {
  /** Clock for the rate limiters (tests). */
  now?: () => number;
}

/** Frame-Backend puts the auth key in the path (`/auth-{auth_key}`): request logs show it redacted. */
export function loggablePath(path: string): string {
  return path.startsWith('/auth-') ? '/auth-[redacted]' : path;
}

/** FastAPI's HTTPException body. */
function detail(c: Ctx, status: 400 | 401 | 403 | 404 | 413 | 422 | 500, message: string): Response {
  return c.json({ detail: message }, status);
}

function rateLimited(c: Ctx, limit: string, retryAfterSeconds: number): Response {
  return c.json({ error: `Rate limit exceeded: ${limit}` }, 429, { 'Retry-After': String(retryAfterSeconds) });
}

/** The client's address: the socket's, or with `trust_proxy` the entry our reverse proxy appended. */
function clientIp(c: Ctx, cfg: GlassesConfig): string {
  if (cfg.trust_proxy) {
    const xff = c.req.header('x-forwarded-for');
    const lastHop = xff?.split(',').map((s) => s.trim()).filter(Boolean).at(-1);
    if (lastHop) return normalizeIp(lastHop);
  }
  try {
    return normalizeIp(getConnInfo(c).remote.address ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

/** Limiters by name, rebuilt when a config reload changes their limit. */
class Limiters {
  private readonly map = new Map<string, SlidingWindowLimiter>();
  constructor(private readonly now: () => number) {}
  get(name: string, limit: number, windowMs: number): SlidingWindowLimiter {
    let l = this.map.get(name);
    if (!l || l.limit !== limit || l.windowMs !== windowMs) {
      l = new SlidingWindowLimiter(limit, windowMs, this.now);
      this.map.set(name, l);
    }
    return l;
  }
}

/** Reads a body up to `limit` bytes; undefined when it is larger (declared or counted). */
const TOO_LARGE = new Error('too large');
async function readLimited(req: Request, limit: number): Promise<Uint8Array | undefined> {
  try {
    return await readRequestBytes(req, limit, () => TOO_LARGE);
  } catch (err) {
    if (err === TOO_LARGE) return undefined;
    throw err;
  }
}

type JsonRead = { ok: true; value: unknown } | { ok: false; response: Response };

/** A small JSON body: an empty body reads as {}; too large is 413, not JSON is 422. */
async function readJson(c: Ctx): Promise<JsonRead> {
  const bytes = await readLimited(c.req.raw, JSON_BODY_LIMIT);
  if (!bytes) return { ok: false, response: detail(c, 413, `Request body is larger than ${JSON_BODY_LIMIT / 1024} KB`) };
  const text = Buffer.from(bytes).toString('utf8').trim();
  if (!text) return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, response: detail(c, 422, 'Body is not valid JSON') };
  }
}

function mb(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round((n / 1024 / 1024) * 10) / 10} MB` : `${Math.round(n / 1024)} KB`;
}

const profileBody = z.object({
  username: z.string().min(1),
  api_keys: z.record(z.string(), z.string().nullable()).default({}),
  auth_key: z.string().optional(),
});

const promptBody = z.object({
  prompt: z.string().nullish(),
  auth_key: z.string().optional(),
});

export function registerGlassesRoutes(app: Hono<AppEnv>, deps: AppDeps, opts: GlassesRouteOptions = {}): void {
  const stores = openGlassesStores(deps.db);
  const verifier = new AuthKeyVerifier();
  const limiters = new Limiters(opts.now ?? Date.now);
  const glassesConfig = () => deps.runtime().config.aisbf.glasses;

  /** Blacklisted IPs get 403 on every glasses route (read from the DB, so CLI changes apply at once). */
  function blocked(c: Ctx, ip: string): Response | undefined {
    if (stores.blacklist.has(ip)) return detail(c, 403, `IP ${ip} is blacklisted`);
    return undefined;
  }

  /**
   * The profile, if `key` is its auth key. Failed checks are counted per IP; an IP with too many
   * gets 429 before any check, so auth keys cannot be guessed through any route.
   */
  async function authenticate(c: Ctx, ip: string, username: string, key: string | undefined): Promise<ProfileRecord | Response | undefined> {
    const failures = limiters.get('auth-failures', AUTH_FAILURES_PER_MINUTE, MINUTE);
    const state = failures.check(ip);
    if (!state.allowed) return rateLimited(c, describeLimit(AUTH_FAILURES_PER_MINUTE, MINUTE), state.retryAfterSeconds);
    const profile = stores.profiles.get(username);
    if (profile && key && (await verifier.verify(key, profile.authHash))) return profile;
    failures.hit(ip);
    return undefined;
  }

  const authKeyOf = (c: Ctx, bodyKey: unknown): string | undefined => c.req.header('x-auth-key') ?? (typeof bodyKey === 'string' ? bodyKey : undefined);

  app.post('/:slug{auth-.+}', async (c) => {
    const cfg = glassesConfig();
    const ip = clientIp(c, cfg);
    const no = blocked(c, ip);
    if (no) return no;
    const limit = cfg.auth_rate_limit_per_minute;
    const d = limiters.get('auth', limit, MINUTE).hit(ip);
    if (!d.allowed) return rateLimited(c, describeLimit(limit, MINUTE), d.retryAfterSeconds);
    const key = c.req.param('slug').slice('auth-'.length);
    for (const p of stores.profiles.list()) {
      if (await verifier.verify(key, p.authHash)) return c.json({ success: true, message: 'Authenticated' });
    }
    return c.json({ success: false, message: 'Invalid auth key' });
  });

  app.post('/profile', async (c) => {
    const cfg = glassesConfig();
    const ip = clientIp(c, cfg);
    const no = blocked(c, ip);
    if (no) return no;
    const limit = cfg.profile_rate_limit_per_minute;
    const d = limiters.get('profile', limit, MINUTE).hit(ip);
    if (!d.allowed) return rateLimited(c, describeLimit(limit, MINUTE), d.retryAfterSeconds);
    const raw = await readJson(c);
    if (!raw.ok) return raw.response;
    const parsed = profileBody.safeParse(raw.value);
    if (!parsed.success) return detail(c, 422, 'Body must be JSON {"username": string, "api_keys": {"gemini_api_key"?, "deepseek_api_key"?, "qwen_api_key"?, "chatgpt_api_key"?: string}}');
    const unknown = Object.keys(parsed.data.api_keys).filter((k) => !(API_KEY_NAMES as readonly string[]).includes(k));
    if (unknown.length) return detail(c, 422, `Unknown api_keys field(s): ${unknown.join(', ')}; use ${API_KEY_NAMES.join(', ')}`);
    const auth = await authenticate(c, ip, parsed.data.username, authKeyOf(c, parsed.data.auth_key));
    if (auth instanceof Response) return auth;
    if (!auth) return c.json({ message: 'Authentication required' }, 401);
    const keys: ProfileApiKeys = {};
    for (const name of API_KEY_NAMES) {
      const v = parsed.data.api_keys[name]?.trim();
      if (v) keys[name] = v;
    }
    const { sealed, names } = sealApiKeys(encryptionKey(deps.runtime().config), auth.username, keys);
    stores.profiles.setApiKeys(auth.username, sealed, names);
    return c.json({ message: 'User profile authenticated' });
  });

  const promptView = (p: ProfileRecord, cfg: GlassesConfig) => ({
    username: p.username,
    prompt: p.prompt ?? cfg.default_prompt,
    is_custom: p.prompt !== null,
    default_prompt: cfg.default_prompt,
  });

  app.get('/:slug{prompt-.+}', async (c) => {
    const cfg = glassesConfig();
    const ip = clientIp(c, cfg);
    const no = blocked(c, ip);
    if (no) return no;
    const username = c.req.param('slug').slice('prompt-'.length);
    const auth = await authenticate(c, ip, username, authKeyOf(c, c.req.query('auth_key')));
    if (auth instanceof Response) return auth;
    if (!auth) return detail(c, 401, 'User not authenticated');
    return c.json(promptView(auth, cfg));
  });

  app.post('/:slug{prompt-.+}', async (c) => {
    const cfg = glassesConfig();
    const ip = clientIp(c, cfg);
    const no = blocked(c, ip);
    if (no) return no;
    const username = c.req.param('slug').slice('prompt-'.length);
    const raw = await readJson(c);
    if (!raw.ok) return raw.response;
    const parsed = promptBody.safeParse(raw.value);
    if (!parsed.success) return detail(c, 422, 'Body must be JSON {"prompt": string} (an empty prompt restores the default)');
    const auth = await authenticate(c, ip, username, authKeyOf(c, parsed.data.auth_key));
    if (auth instanceof Response) return auth;
    if (!auth) return detail(c, 401, 'User not authenticated');
    const text = parsed.data.prompt?.trim() ?? '';
    if (text.length > MAX_PROMPT_CHARS) return detail(c, 422, `prompt is longer than ${MAX_PROMPT_CHARS} characters`);
    stores.profiles.setPrompt(auth.username, text || null);
    const updated = stores.profiles.get(auth.username) ?? auth;
    return c.json({ success: true, message: text ? 'Custom prompt set' : 'Default prompt restored', ...promptView(updated, cfg) });
  });

  app.post('/process', async (c) => {
    const started = Date.now();
    const rt = deps.runtime();
    const cfg = rt.config.aisbf.glasses;
    const debug = new DebugLog();
    const ip = clientIp(c, cfg);
    const no = blocked(c, ip);
    if (no) return no;

    const maxImage = Math.round(cfg.max_image_mb * 1024 * 1024);
    const tooLarge = () => detail(c, 413, `Image too large: the limit is ${mb(maxImage)} (glasses.max_image_mb)`);
    const type = c.req.header('content-type') ?? '';
    if (!/^multipart\/form-data/i.test(type)) return detail(c, 400, 'Send multipart/form-data with fields image (file), username and optional prompt');
    // The frame plus room for the other fields and multipart framing.
    const body = await readLimited(c.req.raw, maxImage + 64 * 1024);
    if (!body) return tooLarge();
    let form: FormData;
    try {
      form = await new Response(body, { headers: { 'content-type': type } }).formData();
    } catch {
      return detail(c, 400, 'Malformed multipart/form-data body');
    }
    const username = form.get('username');
    if (typeof username !== 'string' || !username) return detail(c, 422, 'Missing form field: username');
    const formKey = form.get('auth_key');
    const auth = await authenticate(c, ip, username, authKeyOf(c, formKey));
    if (auth instanceof Response) return auth;
    if (!auth) return detail(c, 401, 'User not authenticated');

    const perHour = cfg.rate_limit_per_hour;
    const d = limiters.get('process', perHour, HOUR).hit(auth.username);
    if (!d.allowed) return rateLimited(c, describeLimit(perHour, HOUR), d.retryAfterSeconds);

    debug.add('START', `Frame from ${auth.username}`);
    const file = form.get('image');
    if (!file || typeof file === 'string') return detail(c, 400, 'Invalid image: send the frame as a file in the "image" field');
    if (file.size > maxImage) return tooLarge();
    const bytes = new Uint8Array(await file.arrayBuffer());
    let image;
    try {
      image = checkImage(bytes);
    } catch (err) {
      if (err instanceof ImageCheckError) return detail(c, 400, `Invalid image: ${err.message}`);
      throw err;
    }
    debug.add('IMAGE', `${image.kind.toUpperCase()} ${image.width}x${image.height}, ${bytes.byteLength} bytes`);

    if (cfg.cascade.length === 0) return detail(c, 400, 'No AI services configured');
    const formPrompt = form.get('prompt');
    const prompt = (typeof formPrompt === 'string' && formPrompt.trim()) || auth.prompt || cfg.default_prompt;

    const meta = requestMetaFromHttp(c, rt, 'glasses');
    const outcome = await runCascade({
      runtime: rt,
      cascade: cfg.cascade,
      judge: cfg.judge || undefined,
      prompt,
      image: { mime: image.mime, base64: Buffer.from(bytes).toString('base64') },
      profileKeys: openApiKeys(encryptionKey(rt.config), auth, deps.log),
      deps,
      meta,
      log: deps.log,
      timeoutMs: cfg.timeout_seconds * 1000,
      debug,
    });

    const answer = outcome.answer ?? 'No valid response received';
    const success = outcome.answer !== null;
    const error = success ? null : `All AI services failed: ${outcome.errors.join('; ') || 'no answer'}`;
    // The /process request's own usage record (its model calls are recorded as internal calls under it).
    deps.stages.accounting.record({ meta, status: 200, errorCode: success ? undefined : 'no_answer', attempts: 0, latencyMs: Date.now() - meta.startedAt, stream: false, cacheHit: false, failovers: 0 });
    const processingTime = (Date.now() - started) / 1000;
    debug.add('DONE', `${success ? 'Answered' : 'No answer'} in ${processingTime.toFixed(2)} s`);

    // Stored under a name we generate; the row and the file are deleted together by the cleanup.
    const dir = imagesDir(rt.config);
    const imageFile = `${randomBytes(16).toString('hex')}.${image.ext}`;
    let stored: string | null = imageFile;
    try {
      ensureImagesDir(dir);
      await writeFile(join(dir, imageFile), bytes, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      stored = null;
      deps.log.warn({ err: (err as Error).message }, 'glasses: cannot store the frame');
    }
    stores.activity.insert({
      username: auth.username,
      ip,
      requestType: 'image_process',
      imageFile: stored,
      imageBytes: stored ? bytes.byteLength : 0,
      prompt,
      aiResponses: outcome.responses,
      finalAnswer: answer,
      errors: outcome.errors,
      processingTime,
      createdAt: Date.now(),
    });
    stores.profiles.recordRequest(auth.username);

    return c.json({
      answer,
      ai_responses: outcome.responses,
      processing_time: Math.round(processingTime * 1000) / 1000,
      prompt_used: prompt,
      success,
      error,
      debug_messages: debug.lines,
    });
  });
}
