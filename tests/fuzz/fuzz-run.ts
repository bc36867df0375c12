/**
 * @module The fuzz run: a real aisbf started in-process against fake upstreams (OpenAI, Anthropic,
 * Ollama wire formats), hostile bodies from fuzz-cases.ts sent over real sockets to every inbound
 * route, and every answer checked: a 2xx, or a 4xx carrying an error body (OpenAI's envelope on /api
 * and /v1; the compat apps' own shapes elsewhere). Never a 5xx, a reset, a hang or a stack frame; no
 * provider failure counted; the server alive at the end. Used by `npm run fuzz` and a CI test.
 */
import { request } from 'node:http';
import { startFakeAnthropic } from '../fakes/anthropic-upstream.js';
import { startFakeOllama } from '../fakes/ollama-upstream.js';
import { startFakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';
import { createLogger } from '../../src/log.js';
import { makeJpeg } from '../helpers/glasses-frames.js';
import { hashAuthKey } from '../../src/glasses/auth-key.js';
import { openGlassesStores } from '../../src/glasses/glasses-data.js';
import { makeCase, seededRandom, type FuzzCase, type FuzzRoute } from './fuzz-cases.js';

const JPEG = makeJpeg(8, 8);
const WAV = Buffer.concat([Buffer.from('RIFF'), Buffer.from([36, 0, 0, 0]), Buffer.from('WAVEfmt '), Buffer.alloc(24, 0)]);
const CHAT = { model: 'openai/gpt-4o', messages: [{ role: 'user', content: 'hello' }], temperature: 0.5, max_tokens: 16, metadata: { a: '1' } };
const GLASSES_KEY = 'fuzz-glasses-key-0001';

/**
 * Every inbound route that takes a body. A new inbound API is one line here; routes that answer the
 * unknown-route 404 at start (not built yet) are left out of the run and listed in the report.
 */
export const FUZZ_ROUTES: FuzzRoute[] = [
  { path: '/v1/chat/completions', body: 'json', valid: CHAT },
  { path: '/v1/chat/completions', body: 'json', valid: { ...CHAT, model: 'r', stream: true, stream_options: { include_usage: true } } },
  { path: '/api/openai/chat/completions', body: 'json', valid: { ...CHAT, model: 'gpt-4o' } },
  { path: '/api/anthropic/chat/completions', body: 'json', valid: { ...CHAT, model: 'claude-haiku-4-5', tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }] } },
  { path: '/api/ollama/chat/completions', body: 'json', valid: { ...CHAT, model: 'llama3.2' } },
  { path: '/api/r/chat/completions', body: 'json', valid: { messages: CHAT.messages } },
  { path: '/api/rotations/chat/completions', body: 'json', valid: { ...CHAT, model: 'r' } },
  { path: '/api/autoselect/chat/completions', body: 'json', valid: { ...CHAT, model: 'auto' } },
  { path: '/v1/embeddings', body: 'json', valid: { model: 'openai/text-embedding-3-small', input: ['hello', 'world'] } },
  { path: '/v1/images/generations', body: 'json', valid: { model: 'openai/gpt-image-1', prompt: 'a cat', n: 1, size: '1024x1024' } },
  { path: '/v1/images/edits', body: 'multipart', valid: { model: 'openai/gpt-image-1', prompt: 'make it blue' }, files: { image: { filename: 'a.png', type: 'image/png', bytes: JPEG } } },
  { path: '/v1/audio/speech', body: 'json', valid: { model: 'openai/gpt-4o-mini-tts', voice: 'alloy', input: 'hello', response_format: 'wav' } },
  { path: '/v1/audio/transcriptions', body: 'multipart', valid: { model: 'openai/whisper-1' }, files: { file: { filename: 'a.wav', type: 'audio/wav', bytes: WAV } } },
  { path: '/v1/responses', body: 'json', valid: { model: 'openai/gpt-4o', input: 'hello', max_output_tokens: 16 } },
  { path: '/v1/messages', body: 'json', valid: { model: 'anthropic/claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hello' }] } },
  { path: '/process', body: 'multipart', valid: { username: 'fuzz', auth_key: GLASSES_KEY, prompt: 'what is this' }, files: { image: { filename: 'f.jpg', type: 'image/jpeg', bytes: JPEG } }, compat: true },
  { path: '/analyze', body: 'json', valid: { image: JPEG.toString('base64') }, compat: true },
  { path: '/api/image', body: 'json', valid: { prompt: 'a cat', height: 512, width: 512 }, compat: true },
  { path: '/api/edit-image', body: 'json', valid: { prompt: 'blue', image: JPEG.toString('base64') }, compat: true },
  { path: '/api/llm', body: 'json', valid: { messages: [{ role: 'user', content: 'hi' }], max_tokens: 16 }, compat: true },
  { path: '/api/tts', body: 'json', valid: { text: 'hello' }, compat: true },
  { path: '/api/stt', body: 'multipart', valid: {}, files: { audio: { filename: 'a.wav', type: 'audio/wav', bytes: WAV } }, compat: true },
  { path: '/api/embedding', body: 'json', valid: { text: 'hello' }, compat: true },
];

export interface FuzzOptions {
  seed: number;
  cases: number;
  /** Stop starting new cases after this long. */
  seconds: number;
  concurrency?: number;
  /** Progress lines (the CLI prints them; the test does not). */
  progress?: (line: string) => void;
}

export interface FuzzFailure {
  n: number;
  kind: string;
  route: string;
  what: string;
  problem: string;
}

export interface FuzzReport {
  seed: number;
  sent: number;
  byStatus: Record<string, number>;
  byKind: Record<string, number>;
  routes: string[];
  missingRoutes: string[];
  failures: FuzzFailure[];
  seconds: number;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(base: URL, path: string, method: string, headers: Record<string, string>, body: Buffer | undefined, timeoutMs: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, path, method, headers: body ? { ...headers, 'content-length': String(body.length) } : headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no complete answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

const STACK_FRAME = /\bat (?:async )?[\w$.<>[\] ]*\(?(?:file:\/\/|node:|\/)[^\s)]*:\d+:\d+\)?/;

/** What is wrong with an answer, or undefined when it is acceptable. */
export function judge(route: FuzzRoute, a: Answer): string | undefined {
  if (STACK_FRAME.test(a.body)) return `a stack frame in the body: ${STACK_FRAME.exec(a.body)![0]}`;
  if (a.status >= 500) return `status ${a.status}: ${a.body.slice(0, 300)}`;
  if (a.status >= 200 && a.status < 300) return undefined;
  if (a.status < 400) return `status ${a.status}`;
  let json: unknown;
  try {
    json = JSON.parse(a.body);
  } catch {
    return `status ${a.status} with a body that is not JSON: ${a.body.slice(0, 200)}`;
  }
  const o = json as { error?: { message?: unknown; type?: unknown } | string; detail?: unknown; message?: unknown };
  if (route.compat) {
    if (o && (typeof o.detail === 'string' || Array.isArray(o.detail) || o.error !== undefined || typeof o.message === 'string')) return undefined;
    return `status ${a.status} without an error body: ${a.body.slice(0, 200)}`;
  }
  if (typeof o?.error === 'object' && o.error && typeof o.error.message === 'string' && typeof o.error.type === 'string') return undefined;
  return `status ${a.status} without OpenAI's error envelope: ${a.body.slice(0, 200)}`;
}

async function startTarget(): Promise<{ aisbf: TestServer; close(): Promise<void> }> {
  const [openai, anthropic, ollama] = await Promise.all([startFakeOpenAI({ models: ['gpt-4o', 'text-embedding-3-small'] }), startFakeAnthropic(), startFakeOllama({ models: ['llama3.2:latest'] })]);
  const aisbf = await startAisbf({
    providers: {
      openai: {
        type: 'openai', endpoint: openai.baseURL, api_key: 'sk-fuzz-openai',
        models: [
          { name: 'gpt-4o', context_size: 128000, capabilities: ['chat', 'vision', 'tools'] },
          { name: 'text-embedding-3-small', capabilities: ['embeddings'] },
          { name: 'gpt-image-1', capabilities: ['image'] },
          { name: 'gpt-4o-mini-tts', capabilities: ['speech'] },
          { name: 'whisper-1', capabilities: ['transcription'] },
          { name: 'vis-1', capabilities: ['chat', 'vision'] },
        ],
      },
      anthropic: { type: 'anthropic', endpoint: anthropic.origin, api_key: anthropic.apiKey, models: [{ name: 'claude-haiku-4-5', capabilities: ['chat', 'vision', 'tools'] }] },
      ollama: { type: 'ollama', endpoint: ollama.origin, api_key_required: false, models: [{ name: 'llama3.2', capabilities: ['chat', 'tools'] }] },
    },
    rotations: {
      r: {
        providers: [
          { provider_id: 'openai', models: [{ name: 'gpt-4o', weight: 2 }] },
          { provider_id: 'anthropic', models: [{ name: 'claude-haiku-4-5', weight: 1 }] },
          { provider_id: 'ollama', models: [{ name: 'llama3.2', weight: 1 }] },
        ],
      },
    },
    autoselect: { auto: { selection_model: 'openai/gpt-4o', fallback: 'r', available_models: [{ model_id: 'r', description: 'everything' }] } },
    aisbf: {
      glasses: { cascade: ['openai/gpt-4o'], auth_rate_limit_per_minute: 0, profile_rate_limit_per_minute: 0, rate_limit_per_hour: 0 },
      visionai: { target: 'openai/vis-1' },
      platform: {
        image: 'openai/gpt-image-1', edit_image: 'openai/gpt-image-1', llm: 'openai/gpt-4o', tts: 'openai/gpt-4o-mini-tts',
        stt: 'openai/whisper-1', embedding: 'openai/text-embedding-3-small',
      },
    },
  }, {}, { log: process.env.FUZZ_LOG ? createLogger({ level: 'info', destination: process.env.FUZZ_LOG, sync: true }) : undefined });
  // VisionAI's model answers a classification, as a real vision model asked for that schema would.
  openai.setModelBehavior('vis-1', { type: 'reply', text: '{"label":"mug","confidence":80,"predictions":[{"label":"mug","confidence":80},{"label":"cup","confidence":15}]}' });
  openGlassesStores(aisbf.running.deps.db).profiles.create('fuzz', await hashAuthKey(GLASSES_KEY));
  return {
    aisbf,
    close: async () => {
      await aisbf.close();
      await Promise.all([openai.close(), anthropic.close(), ollama.close()]);
    },
  };
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const started = Date.now();
  const target = await startTarget();
  const base = new URL(target.aisbf.url);
  const report: FuzzReport = { seed: opts.seed, sent: 0, byStatus: {}, byKind: {}, routes: [], missingRoutes: [], failures: [], seconds: 0 };
  try {
    // Routes not built (yet) answer the unknown-route 404: leave them out, say so.
    const routes: FuzzRoute[] = [];
    for (const r of FUZZ_ROUTES) {
      const a = await send(base, r.path, 'POST', { 'content-type': 'application/json' }, Buffer.from('{}'), 10_000);
      if (a.status === 404 && a.body.includes('"unknown_url"')) {
        if (!report.missingRoutes.includes(r.path)) report.missingRoutes.push(r.path);
      } else {
        routes.push(r);
        if (!report.routes.includes(r.path)) report.routes.push(r.path);
      }
    }
    const rnd = seededRandom(opts.seed);
    // Cases are made in order from the seed (replayable), then sent a few at a time.
    const deadline = started + opts.seconds * 1000;
    let next = 0;
    const worker = async () => {
      while (next < opts.cases && Date.now() < deadline) {
        const n = next++;
        const c: FuzzCase = makeCase(rnd, routes);
        report.byKind[c.kind] = (report.byKind[c.kind] ?? 0) + 1;
        let problem: string | undefined;
        try {
          const a = await send(base, c.route.path, 'POST', c.headers, c.body, 60_000);
          report.byStatus[a.status] = (report.byStatus[a.status] ?? 0) + 1;
          problem = judge(c.route, a);
        } catch (err) {
          report.byStatus.error = (report.byStatus.error ?? 0) + 1;
          problem = `no answer: ${(err as Error).message}`;
        }
        report.sent++;
        if (problem) report.failures.push({ n, kind: c.kind, route: c.route.path, what: c.what.slice(0, 200), problem: problem.slice(0, 400) });
        if (report.sent % 250 === 0) opts.progress?.(`${report.sent} cases, ${report.failures.length} failures`);
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency ?? 6 }, worker));

    // Afterwards: alive, and no provider blamed for what clients sent.
    const health = await send(base, '/health', 'GET', {}, undefined, 10_000).catch((err: Error) => ({ status: 0, headers: {}, body: err.message }));
    if (health.status !== 200) report.failures.push({ n: -1, kind: 'after', route: '/health', what: 'server alive', problem: `GET /health answered ${health.status}: ${health.body.slice(0, 200)}` });
    for (const r of target.aisbf.running.deps.routing.health.all()) {
      if (r.failures > 0 || r.cooldownUntil > Date.now()) {
        report.failures.push({ n: -1, kind: 'after', route: r.key, what: 'provider health', problem: `${r.failures} failure(s) counted against ${r.key}${r.cooldownUntil > Date.now() ? ', cooling down' : ''}; last: ${r.lastError ?? ''}` });
      }
    }
  } finally {
    await target.close();
  }
  report.seconds = Math.round((Date.now() - started) / 100) / 10;
  return report;
}
