import { Writable } from 'node:stream';
import OpenAI from 'openai';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { makeConfigDir, startAisbf, type TestServer } from '../helpers/aisbf-server.js';

const UPSTREAM_KEY = 'sk-upstream-secret-abcdef123456';
let fake: FakeOpenAI;
let aisbf: TestServer;
let logs: string[] = [];
let running: RunningServer;

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${aisbf.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { res, json: (await res.json()) as any };
}

beforeAll(async () => {
  fake = await startFakeOpenAI();
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const providers = {
    openai: { type: 'openai', endpoint: fake.baseURL, api_key: UPSTREAM_KEY, timeout_seconds: 0.5, models: [{ name: 'gpt-4o', context_size: 128000, capabilities: ['chat', 'vision'] }] },
    keyless: { type: 'openai', endpoint: fake.baseURL, api_key: '${KEYLESS_KEY}', forward_client_key: true, models: [{ name: 'gpt-4o-mini' }] },
    dead: { type: 'openai', endpoint: 'http://127.0.0.1:9/v1', api_key: 'k', models: [{ name: 'm' }] },
    off: { type: 'openai', endpoint: fake.baseURL, api_key: 'k', enabled: false, models: [] },
  };
  const rotations = { team: { model_name: 'team', providers: [{ provider_id: 'openai', models: [{ name: 'gpt-4o', weight: 1 }] }] } };
  const configDir = makeConfigDir({ providers, rotations, aisbf: { server: { body_limit_mb: 0.01 } } });
  running = await startServer({ configDir, port: 0, host: '127.0.0.1', log: pino({ level: 'info' }, sink), env: {} });
  aisbf = { url: running.url, configDir, running, writeConfig: () => undefined, close: () => running.close(100) };
});

afterAll(async () => {
  await aisbf.close();
  await fake.close();
});

describe('bad input on the chat routes gets a 4xx in OpenAI envelope naming the problem', () => {
  const ok = { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] };
  for (const path of ['/api/openai/chat/completions', '/v1/chat/completions']) {
    const model = path.startsWith('/v1') ? 'openai/gpt-4o' : 'gpt-4o';
    it(`${path}: malformed JSON`, async () => {
      const { res, json } = await post(path, '{"model": ');
      expect(res.status).toBe(400);
      expect(json.error.code).toBe('invalid_json');
      expect(json.error.type).toBe('invalid_request_error');
    });
    it(`${path}: a JSON array instead of an object`, async () => {
      const { res, json } = await post(path, '[1,2]');
      expect(res.status).toBe(400);
      expect(json.error.message).toContain('must be a JSON object');
    });
    it(`${path}: missing messages`, async () => {
      const { res, json } = await post(path, { model });
      expect(res.status).toBe(400);
      expect(json.error).toEqual({ message: "Missing required parameter: 'messages'.", type: 'invalid_request_error', param: 'messages', code: 'missing_required_parameter' });
    });
    it(`${path}: messages of the wrong type`, async () => {
      const { res, json } = await post(path, { model, messages: 'hello' });
      expect(res.status).toBe(400);
      expect(json.error.param).toBe('messages');
      expect(json.error.code).toBe('invalid_type');
    });
    it(`${path}: an empty messages array`, async () => {
      const { res, json } = await post(path, { model, messages: [] });
      expect(res.status).toBe(400);
      expect(json.error.code).toBe('empty_array');
    });
    it(`${path}: an invalid role`, async () => {
      const { res, json } = await post(path, { model, messages: [{ role: 'wizard', content: 'x' }] });
      expect(res.status).toBe(400);
      expect(json.error.param).toBe('messages[0].role');
    });
    it(`${path}: a wrongly typed temperature`, async () => {
      const { res, json } = await post(path, { ...ok, model, temperature: 'hot' });
      expect(res.status).toBe(400);
      expect(json.error.param).toBe('temperature');
    });
    it(`${path}: a body over the size limit is refused with 413`, async () => {
      const { res, json } = await post(path, { model, messages: [{ role: 'user', content: 'x'.repeat(20_000) }] });
      expect(res.status).toBe(413);
      expect(json.error.message).toContain('body_limit_mb');
    });
  }

  it('a chunked body over the limit (no content-length) is refused with 413', async () => {
    const big = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'y'.repeat(20_000) }] });
    const body = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const res = await fetch(`${aisbf.url}/api/openai/chat/completions`, { method: 'POST', body, duplex: 'half', headers: { 'content-type': 'application/json' } } as RequestInit);
    expect(res.status).toBe(413);
  });

  it('an unknown provider id is a 404 listing the valid ids', async () => {
    const { res, json } = await post('/api/nope/chat/completions', ok);
    expect(res.status).toBe(404);
    expect(json.error.message).toContain('Provider nope not found');
    expect(json.error.message).toContain('openai');
    expect(json.error.message).toContain('team');
  });

  it('an unknown model on /v1 is a 400 saying what is available', async () => {
    const { res, json } = await post('/v1/chat/completions', { ...ok, model: 'gpt-4o' });
    expect(res.status).toBe(400);
    expect(json.error.code).toBe('model_not_found');
    expect(json.error.message).toContain('provider/model');
    expect(json.error.message).toContain('model_aliases');
    expect(json.error.message).not.toContain('((');
  });

  it('a missing model on /v1 is a 400 naming model', async () => {
    const { res, json } = await post('/v1/chat/completions', { messages: ok.messages });
    expect(res.status).toBe(400);
    expect(json.error.param).toBe('model');
  });

  it('an unknown rotation on /api/rotations is a 400 listing rotations', async () => {
    const { res, json } = await post('/api/rotations/chat/completions', { ...ok, model: 'ghost' });
    expect(res.status).toBe(400);
    expect(json.error.message).toBe("Model 'ghost' not found. Available: rotations: team.");
  });

  it('POST /api/{id} is a 404 that lists valid ids and an example path', async () => {
    const { res, json } = await post('/api/openai', ok);
    expect(res.status).toBe(404);
    expect(json.error.message).toContain('POST /api/');
    expect(json.valid_ids).toEqual(expect.arrayContaining(['team', 'openai']));
  });

  it('an unknown route is a 404 in the same envelope', async () => {
    const res = await fetch(`${aisbf.url}/no/such/route`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe('unknown_url');
  });

  it('GET /api/{unknown}/models is a 404', async () => {
    const res = await fetch(`${aisbf.url}/api/nope/models`);
    expect(res.status).toBe(404);
  });
});

describe('keys', () => {
  it('a provider whose key variable is unset answers 401 naming the variable', async () => {
    const { res, json } = await post('/api/keyless/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(401);
    expect(json.error.message).toContain('KEYLESS_KEY');
  });

  it('the client can bring the key in x-aisbf-provider-key', async () => {
    const { res } = await post('/api/keyless/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, { 'x-aisbf-provider-key': 'sk-client-own' });
    expect(res.status).toBe(200);
    expect(fake.chatRequests().at(-1)!.headers.authorization).toBe('Bearer sk-client-own');
  });

  it("forwards the client's bearer as the provider key when none is configured, proxy auth is off and the provider opts in", async () => {
    const { res } = await post('/api/keyless/chat/completions', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, { authorization: 'Bearer sk-client-bearer' });
    expect(res.status).toBe(200);
    expect(fake.chatRequests().at(-1)!.headers.authorization).toBe('Bearer sk-client-bearer');
  });

  it('the configured key wins over the client bearer', async () => {
    await post('/api/openai/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { authorization: 'Bearer sk-client-bearer' });
    expect(fake.chatRequests().at(-1)!.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
  });

  it('never writes a key or auth header into the logs', async () => {
    fake.enqueue({ type: 'error', status: 401, message: `Incorrect API key provided: ${UPSTREAM_KEY}.`, code: 'invalid_api_key' });
    const { res, json } = await post('/api/openai/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { authorization: 'Bearer sk-client-bearer-xyz', 'x-aisbf-provider-key': 'sk-override-777777' });
    // The rejected key is the one the client brought (x-aisbf-provider-key): its 401, not a provider failure.
    expect(res.status).toBe(401);
    expect(JSON.stringify(json)).not.toContain('sk-override-777777');
    await new Promise((r) => setTimeout(r, 50));
    const all = logs.join('');
    expect(all).toContain('"route":"/api/openai/chat/completions"');
    for (const secret of [UPSTREAM_KEY, 'sk-client-bearer-xyz', 'sk-override-777777']) expect(all).not.toContain(secret);
  });
});

describe('upstream faults', () => {
  it('an upstream that hangs past timeout_seconds gives 504 and the upstream request is aborted', async () => {
    fake.enqueue({ type: 'hang' });
    const aborted = fake.nextAbort();
    const { res, json } = await post('/api/openai/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(504);
    expect(json.error.message).toContain('did not answer in time');
    await aborted;
  });

  it('an upstream that answers garbage gives 502', async () => {
    fake.enqueue({ type: 'garbage' });
    const { res, json } = await post('/api/openai/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(502);
    expect(json.error.message).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  it('an upstream that refuses connections gives 502 naming the provider', async () => {
    const { res, json } = await post('/api/dead/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(502);
    expect(json.error.message).toContain("provider 'dead'");
  });

  it('a disabled provider answers 503', async () => {
    const { res } = await post('/api/off/chat/completions', { model: 'x', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(503);
  });

  it('an upstream 400 keeps its status and message and does not count as a failure', async () => {
    fake.enqueue({ type: 'error', status: 400, message: "Invalid value for 'logit_bias'.", param: 'logit_bias', code: 'invalid_value' });
    const { res, json } = await post('/api/openai/chat/completions', { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.status).toBe(400);
    expect(json.error.message).toBe("Invalid value for 'logit_bias'.");
    expect(json.error.param).toBe('logit_bias');
  });
});

describe('pass-through of what we do not model', () => {
  it('sends unknown request fields upstream unchanged and returns unknown response fields', async () => {
    fake.enqueue({ type: 'reply', text: 'ok', extra: { custom_upstream_field: { a: 1 } } });
    const client = new OpenAI({ baseURL: `${aisbf.url}/api/openai`, apiKey: 'x', maxRetries: 0 });
    const r = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      logprobs: true,
      top_logprobs: 2,
      seed: 7,
      n: 1,
      user: 'user-1',
      metadata: { team: 'a' },
      store: false,
      // A field no SDK knows about yet.
      ...({ future_field: 'kept' } as object),
    });
    expect((r as unknown as Record<string, unknown>).custom_upstream_field).toEqual({ a: 1 });
    const sent = fake.chatRequests().at(-1)!.body;
    expect(sent).toMatchObject({ logprobs: true, top_logprobs: 2, seed: 7, n: 1, user: 'user-1', metadata: { team: 'a' }, store: false, future_field: 'kept' });
  });
});

describe('status, health, models', () => {
  it("GET / answers AISBF's status shape with each provider's state", async () => {
    const res = await fetch(`${aisbf.url}/`);
    const json = (await res.json()) as any;
    expect(json.message).toBe('AI Proxy Server is running');
    expect(json.providers).toEqual(['openai', 'keyless', 'dead', 'off']);
    expect(json.rotations).toEqual(['team']);
    expect(json.autoselect).toEqual([]);
    expect(json.provider_status.keyless).toBe('no key (set KEYLESS_KEY)');
    expect(json.provider_status.off).toBe('disabled');
    expect(JSON.stringify(json)).not.toContain(UPSTREAM_KEY);
  });

  it('GET /health answers liveness and readiness without calling upstream', async () => {
    const before = fake.requests.length;
    const json = (await (await fetch(`${aisbf.url}/health`)).json()) as any;
    // The keyless provider cannot serve: the server is up, but degraded (tests/server/health.test.ts).
    expect(json.status).toBe('degraded');
    expect(Date.parse(json.timestamp)).not.toBeNaN();
    expect(json.providers.openai).toEqual({ type: 'openai', ready: true, status: 'ready' });
    expect(json.providers.keyless.ready).toBe(false);
    expect(fake.requests.length).toBe(before);
  });

  it('echoes a valid x-request-id and generates one otherwise', async () => {
    const mine = await fetch(`${aisbf.url}/health`, { headers: { 'x-request-id': 'trace-123' } });
    expect(mine.headers.get('x-request-id')).toBe('trace-123');
    const generated = await fetch(`${aisbf.url}/health`, { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('lists a provider’s models from its API with AISBF fields, for the openai SDK', async () => {
    const client = new OpenAI({ baseURL: `${aisbf.url}/api/openai`, apiKey: 'x', maxRetries: 0 });
    const models = [];
    for await (const m of client.models.list()) models.push(m as unknown as Record<string, unknown>);
    expect(models.map((m) => m.id)).toEqual(fake.models);
    const gpt = models.find((m) => m.id === 'gpt-4o')!;
    expect(gpt).toMatchObject({ object: 'model', owned_by: 'system', provider_id: 'openai', weight: 1, context_size: 128000, rate_limit: null });
  });

  it('answers the bare AISBF array with ?format=array', async () => {
    const json = (await (await fetch(`${aisbf.url}/api/openai/models?format=array`)).json()) as any[];
    expect(Array.isArray(json)).toBe(true);
    expect(json[0].provider_id).toBe('openai');
  });

  it('falls back to the providers.json models when the provider cannot be reached', async () => {
    const res = await fetch(`${aisbf.url}/api/dead/models`);
    expect(res.headers.get('x-aisbf-models-source')).toBe('config');
    const json = (await res.json()) as any;
    expect(json.data.map((m: any) => m.id)).toEqual(['m']);
  });

  it('lists provider/model ids, rotations and autoselect ids on /v1/models', async () => {
    const client = new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: 'x', maxRetries: 0 });
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining(['openai/gpt-4o', 'keyless/gpt-4o-mini', 'team']));
    const one = await client.models.retrieve('openai/gpt-4o');
    expect(one.id).toBe('openai/gpt-4o');
  });

  it('lists a rotation’s models on /api/{rotation}/models', async () => {
    const json = (await (await fetch(`${aisbf.url}/api/team/models`)).json()) as any;
    expect(json.data[0]).toMatchObject({ id: 'openai/gpt-4o', provider_id: 'openai', weight: 1, rotation_id: 'team' });
  });
});

describe('proxy auth', () => {
  let secured: TestServer;
  beforeAll(async () => {
    secured = await startAisbf({
      providers: { openai: { type: 'openai', endpoint: fake.baseURL, api_key_required: false, models: [] } },
      aisbf: { auth: { enabled: true, tokens: ['team-token-1'] } },
    });
  });
  afterAll(() => secured.close());

  it('refuses /api and /v1 without a valid token', async () => {
    const res = await fetch(`${secured.url}/v1/models`);
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error.type).toBe('authentication_error');
    const wrong = await fetch(`${secured.url}/v1/models`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
  });

  it('lets a valid token through and does not forward it upstream', async () => {
    const client = new OpenAI({ baseURL: `${secured.url}/api/openai`, apiKey: 'team-token-1', maxRetries: 0 });
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    expect(fake.chatRequests().at(-1)!.headers.authorization).not.toContain('team-token-1');
  });

  it('keeps /health open', async () => {
    expect((await fetch(`${secured.url}/health`)).status).toBe(200);
  });
});

describe('CORS', () => {
  it('answers a browser preflight and marks browser responses, streamed and not', async () => {
    const pre = await fetch(`${aisbf.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    for (const stream of [false, true]) {
      const res = await fetch(`${aisbf.url}/api/openai/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'http://localhost:3000' },
        body: JSON.stringify({ model: 'gpt-4o', stream, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('access-control-expose-headers')).toContain('x-aisbf-provider');
      expect(res.headers.get('x-request-id')).toBeTruthy();
      await res.text();
    }
  });

  it('sends no CORS headers to non-browser clients', async () => {
    const res = await fetch(`${aisbf.url}/health`);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('request log level', () => {
  it('follows a level change of the main logger (config reload)', async () => {
    const { requestLineWriter } = await import('../../src/log.js');
    const lines: string[] = [];
    const main = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }));
    const write = requestLineWriter(main);
    write('info', { reqId: 'one', method: 'GET', route: '/health', status: 200, ms: 1 });
    main.level = 'warn';
    write('info', { reqId: 'two', method: 'GET', route: '/health', status: 200, ms: 1 });
    write('warn', { reqId: 'three', method: 'GET', route: '/health', status: 502, ms: 1 });
    await new Promise((r) => setImmediate(r));
    expect(lines.join('')).toContain('"reqId":"one"');
    expect(lines.join('')).not.toContain('"reqId":"two"');
    expect(lines.join('')).toContain('"reqId":"three"');
  });
});
