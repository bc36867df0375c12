import { createServer } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';

/** A port with nothing listening on it (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

let fake: FakeOpenAI;
let aisbf: TestServer;
let deadPort: number;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  deadPort = await closedPort();
  aisbf = await startAisbf(
    {
      providers: {
        good: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-good', models: [{ name: 'gpt-4o' }] },
        flaky: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-flaky', models: [{ name: 'gpt-4o-mini' }] },
        keyless: { type: 'anthropic', api_key: '${KEYLESS_KEY}', models: [] },
        local: { type: 'ollama', endpoint: `http://127.0.0.1:${deadPort}`, api_key_required: false, models: [] },
        off: { type: 'openai', endpoint: fake.baseURL, enabled: false, models: [] },
      },
      rotationsFile: { failure_threshold: 1, cooldown_seconds: 600 },
      rotations: { r: { providers: [{ provider_id: 'flaky', models: [{ name: 'gpt-4o-mini', weight: 1 }] }] } },
    },
    {},
  );
});

afterAll(async () => {
  await aisbf?.close();
  await fake?.close();
});

const health = async (query = '') => (await (await fetch(`${aisbf.url}/health${query}`)).json()) as any;

describe('/health reports what can serve', () => {
  it('is degraded, listing why, when an enabled provider has no key; a disabled one does not count', async () => {
    const h = await health();
    expect(h.status).toBe('degraded');
    expect(h.providers.good).toEqual({ type: 'openai', ready: true, status: 'ready' });
    expect(h.providers.keyless).toMatchObject({ ready: false, status: 'no key (set KEYLESS_KEY)' });
    expect(h.providers.off).toMatchObject({ ready: false, status: 'disabled' });
    expect(h.problems).toContain('keyless: no key (set KEYLESS_KEY)');
    expect(h.problems.some((p: string) => p.startsWith('off:'))).toBe(false);
  });

  it('shows a cooldown with its end time instead of "ready"', async () => {
    fake.setModelBehavior('gpt-4o-mini', { type: 'error', status: 503, message: 'overloaded' });
    const client = new OpenAI({ baseURL: `${aisbf.url}/api/rotations`, apiKey: 'x', maxRetries: 0 });
    await expect(client.chat.completions.create({ model: 'r', messages: [{ role: 'user', content: 'hi' }] })).rejects.toThrow();
    fake.setModelBehavior('gpt-4o-mini', undefined);
    const h = await health();
    const flaky = h.providers.flaky;
    expect(flaky.ready).toBe(false);
    expect(flaky.cooldowns).toHaveLength(1);
    expect(flaky.cooldowns[0]).toMatchObject({ model: 'gpt-4o-mini', failures: 1 });
    expect(Date.parse(flaky.cooldowns[0].until)).toBeGreaterThan(Date.now() + 500_000);
    expect(flaky.status).toBe(`cooling down until ${flaky.cooldowns[0].until} (gpt-4o-mini)`);
    expect(h.problems).toContain(`flaky: ${flaky.status}`);
    const root = (await (await fetch(`${aisbf.url}/`)).json()) as any;
    expect(root.provider_status.flaky).toBe(flaky.status);
  });

  it('probes endpoints on ?probe=1 (an Ollama with nothing listening is unreachable), at most once per 10 s', async () => {
    const before = await health();
    expect(before.providers.local.ready).toBe(true); // nothing known without a probe
    const h = await health('?probe=1');
    expect(h.providers.local.ready).toBe(false);
    expect(h.providers.local.status).toMatch(new RegExp(`^unreachable: connection refused \\(nothing listening\\) \\(http://127\\.0\\.0\\.1:${deadPort}, probed `));
    expect(h.providers.good.probe).toMatchObject({ ok: true, target: fake.baseURL });
    expect(h.providers.off.probe).toBeUndefined();
    const again = await health('?probe=1');
    expect(again.providers.local.probe.at).toBe(h.providers.local.probe.at);
    // Without ?probe=1 the newest probe is still reported.
    expect((await health()).providers.local.ready).toBe(false);
  });
});
