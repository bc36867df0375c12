import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../../helpers/aisbf-server.js';

let fake: FakeOpenAI;
let aisbf: TestServer;
let sdk: OpenAI;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  aisbf = await startAisbf({
    providers: {
      alpha: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-alpha-secret-1234567890', models: [{ name: 'gpt-4o' }] },
      beta: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-beta-secret-1234567890', models: [{ name: 'gpt-4o-mini' }] },
    },
    rotationsFile: { failure_threshold: 1, cooldown_seconds: 600 },
    rotations: {
      pair: { strategy: 'weighted', providers: [{ provider_id: 'alpha', models: [{ name: 'gpt-4o', weight: 3 }] }, { provider_id: 'beta', models: [{ name: 'gpt-4o-mini', weight: 1 }] }] },
    },
    autoselect: {
      smart: { selection_model: 'alpha/gpt-4o', fallback: 'pair', available_models: [{ model_id: 'beta/gpt-4o-mini', description: 'small' }, { model_id: 'pair', description: 'the pair' }] },
    },
  });
  sdk = new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await aisbf?.close();
  await fake?.close();
});

async function state(): Promise<any> {
  const r = await fetch(`${aisbf.url}/admin/state`);
  expect(r.status).toBe(200);
  return r.json();
}

describe('GET /admin/state', () => {
  it('shows rotations with members and weights, autoselect targets, health and auth, all live', async () => {
    const s = await state();
    expect(s).toMatchObject({ object: 'aisbf.state', auth_enabled: false, accounting: true, batches: expect.any(Boolean), health: { status: 'healthy' } });
    expect(Date.parse(s.now)).not.toBeNaN();
    expect(s.rotations).toEqual([
      {
        id: 'pair', model_name: null, strategy: 'weighted',
        members: [
          { provider: 'alpha', model: 'gpt-4o', weight: 3, state: 'healthy', until: null, cooldown_remaining_seconds: null, failures: 0, last_error: null },
          { provider: 'beta', model: 'gpt-4o-mini', weight: 1, state: 'healthy', until: null, cooldown_remaining_seconds: null, failures: 0, last_error: null },
        ],
      },
    ]);
    expect(s.autoselect).toHaveLength(1);
    expect(s.autoselect[0]).toMatchObject({
      id: 'smart', selector: 'chat',
      selection_model: { target: 'alpha/gpt-4o', kind: 'model', state: 'healthy' },
      fallback: { target: 'pair', kind: 'rotation', state: 'healthy', ready_members: 2, members: 2 },
    });
    expect(s.autoselect[0].models.map((m: any) => [m.target, m.kind, m.description])).toEqual([['beta/gpt-4o-mini', 'model', 'small'], ['pair', 'rotation', 'the pair']]);
    expect(s.feed).toMatchObject({ clients: 0, dropped: 0 });
  });

  it('shows a failing member cooling down, with the time left and its last error redacted', async () => {
    fake.setModelBehavior('gpt-4o-mini', { type: 'error', status: 500, message: 'upstream exploded (key sk-beta-secret-1234567890)' });
    try {
      await expect(sdk.chat.completions.create({ model: 'beta/gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 502 });
    } finally {
      fake.setModelBehavior('gpt-4o-mini', undefined);
    }
    const s = await state();
    const beta = s.rotations[0].members[1];
    expect(beta).toMatchObject({ provider: 'beta', state: 'cooling', failures: 1 });
    expect(beta.cooldown_remaining_seconds).toBeGreaterThan(500);
    expect(beta.cooldown_remaining_seconds).toBeLessThanOrEqual(600);
    expect(beta.last_error).toContain('500');
    expect(beta.last_error).not.toContain('sk-beta-secret-1234567890');
    expect(s.health.status).toBe('degraded');
    expect(s.autoselect[0].fallback).toMatchObject({ ready_members: 1, members: 2, state: 'healthy' });
    expect(s.autoselect[0].models[0]).toMatchObject({ target: 'beta/gpt-4o-mini', state: 'cooling' });

    // /admin/models, which the page shows beside it, agrees.
    const models: any = await (await fetch(`${aisbf.url}/admin/models`)).json();
    expect(models.data.find((m: any) => m.id === 'beta/gpt-4o-mini')).toMatchObject({ health: 'cooling', failures: 1 });

    // A stopped member says so.
    expect((await fetch(`${aisbf.url}/admin/models/alpha/stop`, { method: 'POST' })).status).toBe(200);
    expect((await state()).rotations[0].members[0].state).toBe('stopped');
    expect((await fetch(`${aisbf.url}/admin/models/alpha/start`, { method: 'POST' })).status).toBe(200);
  });
});

describe('GET /admin/usage/series', () => {
  it('buckets requests, tokens and cost over 24h, 7d and 30d, grouped by model, key or client', async () => {
    await sdk.chat.completions.create({ model: 'alpha/gpt-4o', messages: [{ role: 'user', content: 'count me' }] });
    await sdk.chat.completions.create({ model: 'alpha/gpt-4o', messages: [{ role: 'user', content: 'count me too' }] });
    const r = await fetch(`${aisbf.url}/admin/usage/series?range=24h&group_by=model`);
    expect(r.status).toBe(200);
    const body: any = await r.json();
    expect(body).toMatchObject({ object: 'usage.series', range: '24h', group_by: 'model', bucket_seconds: 3600 });
    expect(body.buckets).toHaveLength(24);
    expect(Date.parse(body.to)).toBeGreaterThan(Date.now());
    const alpha = body.series.find((s: any) => s.group === 'alpha/gpt-4o');
    expect(alpha.requests.reduce((a: number, b: number) => a + b, 0)).toBe(2);
    expect(alpha.requests.at(-1)).toBe(2);
    expect(alpha.tokens.at(-1)).toBeGreaterThan(0);
    expect(alpha.requests).toHaveLength(24);
    const beta = body.series.find((s: any) => s.group === 'beta/gpt-4o-mini');
    expect(beta.errors.at(-1)).toBe(1);

    const week: any = await (await fetch(`${aisbf.url}/admin/usage/series?range=7d&group_by=client`)).json();
    expect(week).toMatchObject({ bucket_seconds: 21600 });
    expect(week.buckets).toHaveLength(28);
    expect(week.series.length).toBeGreaterThan(0);
    const month: any = await (await fetch(`${aisbf.url}/admin/usage/series?range=30d&group_by=key`)).json();
    expect(month.buckets).toHaveLength(30);
    // Auth is off: no key on any record.
    expect(month.series.map((s: any) => s.group)).toEqual(['']);
  });

  it('names the bad parameter', async () => {
    const bad = await fetch(`${aisbf.url}/admin/usage/series?range=1y`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error).toMatchObject({ param: 'range', code: 'invalid_value' });
    const group = await fetch(`${aisbf.url}/admin/usage/series?group_by=weather`);
    expect(group.status).toBe(400);
    expect(((await group.json()) as any).error).toMatchObject({ param: 'group_by', code: 'invalid_value' });
  });
});
