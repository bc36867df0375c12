import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';
import { makeJpeg, processForm } from '../helpers/glasses-frames.js';
import { hashAuthKey } from '../../src/glasses/auth-key.js';
import { openGlassesStores } from '../../src/glasses/glasses-data.js';

// `sel` plays autoselect's selection model, `work` serves the chosen target.
let sel: FakeOpenAI;
let work: FakeOpenAI;
let aisbf: TestServer;

beforeAll(async () => {
  sel = await startFakeOpenAI();
  work = await startFakeOpenAI();
  aisbf = await startAisbf({
    providers: {
      sel: { type: 'openai', endpoint: sel.baseURL, api_key: 'sk-sel-1234567890', models: [{ name: 'picker', price: { input_per_mtok: 1, output_per_mtok: 1 } }] },
      work: { type: 'openai', endpoint: work.baseURL, api_key: 'sk-work-1234567890', models: [{ name: 'coder', price: { input_per_mtok: 3, output_per_mtok: 3 } }] },
    },
    rotations: {
      coding: { providers: [{ provider_id: 'work', models: [{ name: 'coder', weight: 1 }] }] },
      general: { providers: [{ provider_id: 'work', models: [{ name: 'coder', weight: 1 }] }] },
    },
    autoselect: {
      auto: { selection_model: 'sel/picker', fallback: 'general', available_models: [{ model_id: 'coding', description: 'Code.' }, { model_id: 'general', description: 'Anything else.' }] },
    },
  });
});
afterAll(async () => {
  await aisbf?.close();
  await sel?.close();
  await work?.close();
});

describe('internal calls', () => {
  it("records autoselect's selector call as route internal:selector under the request that caused it", async () => {
    // The selector takes at least 300 ms: time before the first upstream attempt of the request itself.
    sel.enqueue({ type: 'reply', text: '<aisbf_model_autoselection>coding</aisbf_model_autoselection>', usage: { prompt_tokens: 300, completion_tokens: 5 }, headerDelayMs: 300 });
    work.enqueue({ type: 'reply', text: 'done', usage: { prompt_tokens: 20, completion_tokens: 10 } });
    const r = await fetch(`${aisbf.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'parent-1' }, body: JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: 'fix my code' }] }) });
    expect(r.status).toBe(200);
    const acc = aisbf.running.deps.accounting!;
    acc.writer.flush();
    const rows = acc.usage.forRequest('parent-1');
    const own = rows.find((x) => x.request_id === 'parent-1')!;
    const selector = rows.find((x) => x.route === 'internal:selector')!;
    expect(own).toMatchObject({ route: 'chat', target: 'auto', provider: 'work', model: 'coder', prompt_tokens: 20, completion_tokens: 10 });
    expect(own.cost_usd).toBeCloseTo(90 / 1e6, 12);
    expect(selector).toMatchObject({ parent_id: 'parent-1', provider: 'sel', model: 'picker', prompt_tokens: 300, completion_tokens: 5 });
    expect(selector.cost_usd).toBeCloseTo(305 / 1e6, 12);
    expect(selector.request_id).not.toBe('parent-1');

    const usage: any = await (await fetch(`${aisbf.url}/admin/usage?group_by=model`)).json();
    expect(usage.totals.requests).toBe(2);
    expect(usage.totals.cost_usd).toBeCloseTo(395 / 1e6, 12);
    const metrics = await (await fetch(`${aisbf.url}/metrics`)).text();
    expect(metrics).toContain('aisbf_requests_total{route="internal:selector",provider="sel",model="picker",status_class="2xx"} 1');
    // Upstream time is the served call's own, not the request's: the selector's 300 ms are not in it.
    const sum = (name: string, labels: string) => Number(new RegExp(`^${name}_sum\\{${labels}\\} (\\S+)$`, 'm').exec(metrics)![1]);
    const total = sum('aisbf_request_duration_seconds', 'route="chat",provider="work",model="coder"');
    const upstream = sum('aisbf_upstream_duration_seconds', 'provider="work",model="coder"');
    expect(total).toBeGreaterThanOrEqual(0.3);
    expect(upstream).toBeGreaterThan(0);
    expect(upstream).toBeLessThanOrEqual(total - 0.3);
  });
});

describe('the glasses cascade', () => {
  it('records each cascade call, the check and the judge as internal calls of the /process request', async () => {
    const [v1, v2, judge] = await Promise.all([startFakeOpenAI(), startFakeOpenAI(), startFakeOpenAI()]);
    const server = await startAisbf({
      providers: {
        v1: { type: 'openai', endpoint: v1.baseURL, api_key: 'sk-v1-1234567890', models: [{ name: 'see-1' }] },
        v2: { type: 'openai', endpoint: v2.baseURL, api_key: 'sk-v2-1234567890', models: [{ name: 'see-2' }] },
        judge: { type: 'openai', endpoint: judge.baseURL, api_key: 'sk-judge-1234567890', models: [{ name: 'judge-1' }] },
      },
      aisbf: { glasses: { cascade: ['v1/see-1', 'v2/see-2'], judge: 'judge/judge-1' } },
    });
    try {
      expect(openGlassesStores(server.running.deps.db).profiles.create('alice', await hashAuthKey('alice-key-000000001'))).toBe(true);
      v1.enqueue({ type: 'reply', text: 'A mug.' }, { type: 'reply', text: 'YES' });
      v2.enqueue({ type: 'reply', text: 'A red mug.' });
      judge.enqueue({ type: 'reply', text: 'A red mug on a desk.' });
      const form = processForm({ image: makeJpeg(64, 48), username: 'alice', authKey: 'alice-key-000000001' });
      const r = await fetch(`${server.url}/process`, { method: 'POST', body: form, headers: { 'x-request-id': 'glasses-1' } });
      expect(r.status).toBe(200);
      const acc = server.running.deps.accounting!;
      acc.writer.flush();
      const internal = acc.usage.forRequest('glasses-1').filter((x) => x.parent_id === 'glasses-1');
      expect(internal.map((x) => `${x.route} ${x.provider}/${x.model}`).sort()).toEqual([
        'internal:check v1/see-1',
        'internal:glasses v1/see-1',
        'internal:glasses v2/see-2',
        'internal:judge judge/judge-1',
      ]);
    } finally {
      await server.close();
      await Promise.all([v1.close(), v2.close(), judge.close()]);
    }
  });
});
