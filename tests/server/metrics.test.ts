import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';

let fake: FakeOpenAI;
let aisbf: TestServer;
const TOKEN = 'metrics-test-static-token-123';

beforeAll(async () => {
  fake = await startFakeOpenAI();
  aisbf = await startAisbf({
    providers: { open: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-open-1234567890', models: [] } },
    aisbf: { auth: { enabled: true, tokens: [TOKEN] } },
  });
});
afterAll(async () => {
  await aisbf?.close();
  await fake?.close();
});

const auth = { authorization: `Bearer ${TOKEN}` };

describe('GET /metrics', () => {
  it('needs a valid identity when auth is on', async () => {
    expect((await fetch(`${aisbf.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${aisbf.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await fetch(`${aisbf.url}/metrics`, { headers: auth });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it('labels a model a client named freely as `other`, never with the client text', async () => {
    for (const name of ['my-secret-project-model', 'another free text name']) {
      const r = await fetch(`${aisbf.url}/v1/chat/completions`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ model: `open/${name}`, messages: [{ role: 'user', content: 'hi' }] }) });
      expect(r.status).toBe(200);
    }
    const text = await (await fetch(`${aisbf.url}/metrics`, { headers: auth })).text();
    expect(text).toContain('aisbf_requests_total{route="chat",provider="open",model="other",status_class="2xx"} 2');
    expect(text).not.toContain('secret-project');
    expect(text).not.toContain('free text');
    for (const name of ['aisbf_request_duration_seconds', 'aisbf_upstream_duration_seconds', 'aisbf_time_to_first_token_seconds', 'aisbf_tokens_total', 'aisbf_cost_usd_total', 'aisbf_failovers_total', 'aisbf_cooldown_active', 'aisbf_queue_waiting', 'aisbf_queue_processing', 'aisbf_cache_hits_total', 'nodejs_heap_size_used_bytes']) {
      expect(text, name).toContain(`# TYPE ${name}`);
    }
  });

  it('admin routes need the admin role when auth is on', async () => {
    expect((await fetch(`${aisbf.url}/admin/usage`)).status).toBe(401);
    const ok = await fetch(`${aisbf.url}/admin/usage`, { headers: auth });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as any).totals.requests).toBe(2);
  });
});
