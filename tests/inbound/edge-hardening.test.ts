/**
 * Client input at the edge (issue 13): `model` is validated on every inbound route and never reaches
 * a header unencoded; deeply nested JSON is a 400 naming the field, never a stack overflow counted
 * against a provider; a rotation/autoselect id base needs no `model`; every member down on `/v1`
 * answers 503 with Retry-After while `/api/rotations` keeps AISBF's report; X-Client-ID and
 * X-Priority are validated.
 */
import { describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { useGateway } from '../helpers/fixture.js';

const gw = useGateway<FakeOpenAI>({
  fake: () => startFakeOpenAI(),
  config: (fake) => ({
    providers: {
      up: { type: 'openai', endpoint: fake.baseURL, api_key: 'k-up', models: [{ name: 'gpt-4o', capabilities: ['chat', 'embeddings'] }] },
      // Nothing listens on port 9: every call is a connection failure.
      down1: { type: 'openai', endpoint: 'http://127.0.0.1:9/v1', api_key: 'k1', models: [] },
      down2: { type: 'openai', endpoint: 'http://127.0.0.1:9/v1', api_key: 'k2', models: [] },
    },
    rotations: {
      r: { model_name: 'r', providers: [{ provider_id: 'up', models: [{ name: 'gpt-4o', weight: 1 }] }] },
      dead: { model_name: 'dead', strategy: 'priority', providers: [{ provider_id: 'down1', models: [{ name: 'm', weight: 2 }] }, { provider_id: 'down2', models: [{ name: 'm', weight: 1 }] }] },
    },
  }),
});

const hi = [{ role: 'user', content: 'hi' }];

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

async function roteState(id: string, provider: string): Promise<Record<string, any>> {
  const all = (await (await fetch(`${gw.url}/api/rotations`)).json()) as Record<string, { models: Array<Record<string, any>> }>;
  return all[id]!.models.find((m) => m.provider_id === provider)!;
}

describe('model at the edge', () => {
  it.each([
    ['a NUL', 'up/gpt\u00004o'],
    ['a control character', 'up/gpt\u001b[31m'],
    ['a lone surrogate', 'up/gpt\ud800'],
    ['64 KiB', `up/${'x'.repeat(65_536)}`],
  ])('with %s is a 400 naming model on chat and on a capability route', async (_what, model) => {
    for (const path of ['/v1/chat/completions', '/v1/embeddings']) {
      const r = await post(path, { model, messages: hi, input: 'x' });
      expect(r.status, path).toBe(400);
      expect(r.json.error.param).toBe('model');
      expect(r.json.error.type).toBe('invalid_request_error');
    }
    expect(gw.fake.chatRequests()).toHaveLength(0);
  });

  it('a non-ASCII model name reaches the upstream as sent, and the header only percent-encoded', async () => {
    gw.fake.enqueue({ type: 'reply', text: 'ok' });
    const r = await post('/v1/chat/completions', { model: 'up/modèle-ü', messages: hi });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-aisbf-model')).toBe(encodeURIComponent('modèle-ü'));
    expect(r.headers.get('x-aisbf-provider')).toBe('up');
    expect(r.headers.get('x-aisbf-attempts')).toBe('1');
    expect(gw.fake.chatRequests().at(-1)!.body.model).toBe('modèle-ü');
  });
});

describe('nesting depth', () => {
  it.each([
    ['metadata', (d: string) => `{"model":"r","messages":[{"role":"user","content":"hi"}],"metadata":{"a":${d}}}`, /^metadata\.a/],
    ['logit_bias', (d: string) => `{"model":"r","messages":[{"role":"user","content":"hi"}],"logit_bias":${d}}`, /^logit_bias/],
    ['an unknown field', (d: string) => `{"model":"r","messages":[{"role":"user","content":"hi"}],"zzz":${d}}`, /^zzz/],
    ['tool parameters', (d: string) => `{"model":"r","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"p":${d}}}}]}`, /^tools\[0\]\.function\.parameters\.p/],
  ])('10,000 levels in %s: 400 naming the path, provider untouched', async (_what, body, param) => {
    const r = await post('/api/rotations/chat/completions', body(nested(10_000)));
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('json_too_deep');
    expect(r.json.error.param).toMatch(param);
    expect(r.text).not.toMatch(/at .*\.ts:\d+/);
    expect((await roteState('r', 'up')).failures).toBe(0);
  });

  it("a tool call's arguments string nested 10,000 deep is a 400 naming it", async () => {
    const messages = [...hi, { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: nested(10_000) } }] }, { role: 'tool', tool_call_id: 'c1', content: 'x' }];
    const r = await post('/v1/chat/completions', { model: 'up/gpt-4o', messages });
    expect(r.status).toBe(400);
    expect(r.json.error.param).toBe('messages[1].tool_calls[0].function.arguments');
  });

  it('64 levels are fine', async () => {
    gw.fake.enqueue({ type: 'reply', text: 'ok' });
    const r = await post('/v1/chat/completions', `{"model":"up/gpt-4o","messages":[{"role":"user","content":"hi"}],"metadata":${nested(63)}}`);
    expect(r.status).toBe(200);
  });
});

describe('targets', () => {
  it('/api/{rotation id}/chat/completions without model: the id chooses', async () => {
    gw.fake.enqueue({ type: 'reply', text: 'chosen by the id' });
    const r = await post('/api/r/chat/completions', { messages: hi });
    expect(r.status).toBe(200);
    expect(r.json.choices[0].message.content).toBe('chosen by the id');
    expect(r.headers.get('x-aisbf-provider')).toBe('up');
  });

  it('/api/{provider}/chat/completions without model is still a 400 naming model', async () => {
    const r = await post('/api/up/chat/completions', { messages: hi });
    expect(r.status).toBe(400);
    expect(r.json.error.param).toBe('model');
  });

  it('every member down (connection errors): 503 with Retry-After on /v1 and /api/{id}, the report on /api/rotations', async () => {
    const v1 = await post('/v1/chat/completions', { model: 'dead', messages: hi });
    expect(v1.status).toBe(503);
    expect(Number(v1.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(v1.json.error.type).toBe('service_unavailable_error');
    expect(v1.json.error.code).toBe('rotation_unavailable');
    expect(v1.json.rotation_id).toBe('dead');

    const id = await post('/api/dead/chat/completions', { messages: hi });
    expect(id.status).toBe(503);
    expect(id.headers.get('retry-after')).not.toBeNull();

    const report = await post('/api/rotations/chat/completions', { model: 'dead', messages: hi });
    expect(report.status).toBe(429);
    expect(report.json.object).toBe('chat.completion');
    expect(report.json.aisbf_error).toBe(true);
  });
});

describe('request headers', () => {
  it('a bad X-Priority or X-Client-ID is a 400 naming the header', async () => {
    const p = await post('/v1/chat/completions', { model: 'up/gpt-4o', messages: hi }, { 'x-priority': 'urgent' });
    expect(p.status).toBe(400);
    expect(p.json.error.param).toBe('X-Priority');
    const id = await post('/v1/chat/completions', { model: 'up/gpt-4o', messages: hi }, { 'x-client-id': 'x'.repeat(129) });
    expect(id.status).toBe(400);
    expect(id.json.error.param).toBe('X-Client-ID');
  });

  it('good ones pass', async () => {
    gw.fake.enqueue({ type: 'reply', text: 'ok' });
    const r = await post('/v1/chat/completions', { model: 'up/gpt-4o', messages: hi }, { 'x-priority': 'LOW', 'x-client-id': 'my app 1.0' });
    expect(r.status).toBe(200);
  });
});
