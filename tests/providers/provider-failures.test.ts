/**
 * What counts as a provider failure, through a real aisbf and fake upstreams: an exception raised in
 * our own code is never one (no provider cools down because of what a client sent); a 404 for an
 * endpoint's path says the endpoint may lack its /v1; a rejected forwarded client key blames the
 * client's key, not a configured one, and does not count against the provider.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { startFakeGemini } from '../fakes/gemini-upstream.js';
import { startFakeOpenAI } from '../fakes/openai-upstream.js';
import { useGateway } from '../helpers/fixture.js';

const KEY = 'AIzaSy-failures-test-key-0123456789';
const THRESHOLD = 2;

/** A JSON text nested 10,000 deep: parses fine, but serializing the parsed value overflows the stack. */
const DEEP_JSON = '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000);

const gw = useGateway({
  fake: async () => ({ gemini: await startFakeGemini({ apiKey: KEY }), openai: await startFakeOpenAI({ models: ['gpt-4o', 'fwd-model'] }) }),
  config: (f) => ({
    providers: {
      g: { type: 'google', endpoint: f.gemini.endpoint, api_key: KEY, models: [{ name: 'gemini-2.0-flash' }] },
      o: { type: 'openai', endpoint: f.openai.baseURL, api_key: 'sk-o', models: [{ name: 'gpt-4o' }] },
      // The README's classic mistake: an OpenAI-compatible endpoint written without its /v1.
      nov1: { type: 'openai', endpoint: f.openai.origin, api_key: 'sk-nov1', models: [{ name: 'gpt-4o' }] },
      fwd: { type: 'openai', endpoint: f.openai.baseURL, forward_client_key: true, models: [{ name: 'fwd-model' }] },
    },
    rotations: {
      r: {
        model_name: 'r',
        strategy: 'priority',
        failure_threshold: THRESHOLD,
        providers: [
          { provider_id: 'g', models: [{ name: 'gemini-2.0-flash', weight: 2 }] },
          { provider_id: 'o', models: [{ name: 'gpt-4o', weight: 1 }] },
        ],
      },
      rf: { model_name: 'rf', strategy: 'priority', failure_threshold: 1, providers: [{ provider_id: 'fwd', models: [{ name: 'fwd-model', weight: 1 }] }] },
    },
  }),
});

async function post(path: string, body: unknown, bearer = 'client-key') {
  const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` }, body: JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

async function candidate(rotation: string, provider: string): Promise<Record<string, any>> {
  const body = (await (await fetch(`${gw.url}/api/rotations`)).json()) as Record<string, { models: Array<Record<string, any>> }>;
  return body[rotation]!.models.find((m) => m.provider_id === provider)!;
}

describe('an exception in our own code is never a provider failure', () => {
  it('does not count requests whose body makes our code throw, and never cools the provider down', async () => {
    // A tool result is JSON-parsed for Gemini's functionResponse; serializing the 10,000-deep value
    // throws RangeError in our process, before anything is sent upstream.
    const hostile = {
      model: 'r',
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: DEEP_JSON },
      ],
    };
    for (let i = 0; i < THRESHOLD + 1; i++) {
      const r = await post('/api/rotations/chat/completions', hostile);
      // Not "provider could not be reached" (502), and nothing upstream blamed.
      expect(r.status).not.toBe(502);
      expect(r.text).not.toMatch(/could not be reached|provider 'g'/);
      expect(r.text).not.toMatch(/at .*\.(?:js|ts):\d+/); // no stack frames
    }
    expect(gw.fake.gemini.chatRequests()).toHaveLength(0);
    const g = await candidate('r', 'g');
    expect(g.state).toBe('healthy');
    expect(g.failures).toBe(0);

    // And it still serves the next (ordinary) request first.
    gw.fake.gemini.enqueue({ type: 'reply', text: 'sunny' });
    const ok = await post('/api/rotations/chat/completions', { model: 'r', messages: [{ role: 'user', content: 'weather?' }] });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-aisbf-provider')).toBe('g');
    expect(ok.json.choices[0].message.content).toBe('sunny');
  });
});

describe('an OpenAI-type endpoint without /v1', () => {
  it('answers 404 saying the endpoint may be missing its /v1, naming the provider and the path tried', async () => {
    const before = gw.fake.openai.requests.length;
    const err = (await gw.sdk('/api/nov1').chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(gw.fake.openai.requests.slice(before).map((r) => r.path)).toEqual(['/chat/completions']);
    const message = (err.error as { message: string }).message;
    expect(message).toContain("provider 'nov1'");
    expect(message).toContain('the path /chat/completions');
    expect(message).toContain('may be missing its /v1');
    expect(message).toContain('Invalid URL (POST /chat/completions)');
    expect(err.code).toBe('endpoint_not_found');
  });
});

describe('a forwarded client key that the provider rejects', () => {
  it("says the CLIENT's key was rejected and how to configure one, answers 401, and does not cool the provider down", async () => {
    gw.fake.openai.setModelBehavior('fwd-model', { type: 'error', status: 401, message: 'Incorrect API key provided: unused-u**********s-on.', code: 'invalid_api_key' });
    try {
      for (let i = 0; i < 2; i++) {
        const r = await post('/api/rotations/chat/completions', { model: 'rf', messages: [{ role: 'user', content: 'hi' }] }, 'unused-unless-auth-is-on');
        expect(r.status).toBe(401);
        const message: string = r.json.error.message;
        expect(message).toContain('rejected the API key the client sent');
        expect(message).toContain('forward_client_key');
        expect(message).toContain('"api_key" of provider \'fwd\' in providers.json');
        expect(message).not.toContain('rejected the configured API key');
      }
      expect(gw.fake.openai.chatRequests().at(-1)!.headers.authorization).toBe('Bearer unused-unless-auth-is-on');
      const fwd = await candidate('rf', 'fwd');
      expect(fwd.failures).toBe(0);
      expect(fwd.state).toBe('healthy');
    } finally {
      gw.fake.openai.setModelBehavior('fwd-model', undefined);
    }
  });
});
