import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { makeConfigDir } from '../helpers/aisbf-server.js';
import { startServer } from '../../src/server/serve.js';
import { silentLogger } from '../../src/log.js';
import { assertBuilt, runCli } from './cli-harness.js';

let fake: FakeOpenAI;
let dir: string;

beforeAll(async () => {
  assertBuilt();
  fake = await startFakeOpenAI();
  dir = makeConfigDir({
    providers: { openai: { type: 'openai', endpoint: fake.baseURL, api_key: 'sk-cli-usage-1234567890', models: [{ name: 'gpt-4o', price: { input_per_mtok: 2, output_per_mtok: 10 } }, { name: 'gpt-4o-mini', price: { input_per_mtok: 1, output_per_mtok: 1 } }] } },
  });
  // Real requests through a real server on that config dir; closing it flushes the usage writer.
  const server = await startServer({ configDir: dir, port: 0, host: '127.0.0.1', log: silentLogger, env: {} });
  const send = (model: string) =>
    fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-client-id': 'cli-test' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }) });
  fake.enqueue({ type: 'reply', usage: { prompt_tokens: 1000, completion_tokens: 100 } }, { type: 'reply', usage: { prompt_tokens: 1000, completion_tokens: 100 } }, { type: 'reply', usage: { prompt_tokens: 500, completion_tokens: 500 } });
  expect((await send('openai/gpt-4o')).status).toBe(200);
  expect((await send('openai/gpt-4o')).status).toBe(200);
  expect((await send('openai/gpt-4o-mini')).status).toBe(200);
  await server.close(100);
});
afterAll(async () => {
  await fake?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('aisbf usage', () => {
  it('prints requests, tokens and cost by model as a table with a total', async () => {
    const r = await runCli(['usage', '--config', dir, '--by', 'model', '--since', '1d']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[1]).toMatch(/^MODEL\s+REQUESTS\s+ERRORS\s+PROMPT\s+COMPLETION\s+CACHED\s+REASONING\s+COST_USD$/);
    // gpt-4o: 2 × (1000·2 + 100·10)/1e6 = 0.006; gpt-4o-mini: (500 + 500)/1e6 = 0.001
    expect(r.stdout).toMatch(/openai\/gpt-4o\s+2\s+0\s+2000\s+200\s+0\s+0\s+0\.006000/);
    expect(r.stdout).toMatch(/openai\/gpt-4o-mini\s+1\s+0\s+500\s+500\s+0\s+0\s+0\.001000/);
    expect(lines.at(-1)).toMatch(/^TOTAL\s+3\s+0\s+2500\s+700\s+0\s+0\s+0\.007000$/);
  });

  it('groups by client and prints JSON with --json', async () => {
    const r = await runCli(['usage', '--config', dir, '--by', 'client', '--json']);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(body.group_by).toBe('client');
    expect(body.groups).toEqual([expect.objectContaining({ group: 'cli-test', requests: 3 })]);
    expect(body.totals.cost_usd).toBeCloseTo(0.007, 12);
  });

  it('refuses an unreadable --since and an unknown --by with a clear message', async () => {
    const since = await runCli(['usage', '--config', dir, '--since', 'last tuesday']);
    expect(since.code).not.toBe(0);
    expect(since.stderr).toContain('--since');
    const by = await runCli(['usage', '--config', dir, '--by', 'color']);
    expect(by.code).not.toBe(0);
    expect(by.stderr).toMatch(/by|color/);
  });
});
