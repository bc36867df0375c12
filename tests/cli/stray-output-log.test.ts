/**
 * The daemon's stderr is its log file. A dependency's own print — here the Anthropic SDK's
 * console.warn for a deprecated model, on every request it sends — used to land there as plain
 * text lines between the JSON ones (`aisbf logs --json | jq` stopped at them). The real built daemon
 * behind a fake Anthropic upstream, asked three times for a deprecated model through the OpenAI SDK:
 * every line of its log is JSON, and the warning is one of them, once.
 */
import OpenAI from 'openai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic-upstream.js';
import { assertBuilt, cleanup, freePort, makeCliConfigDir, readPid, runCli } from './cli-harness.js';

const DEPRECATED = 'claude-sonnet-4-5';
let fake: FakeAnthropic;
let dir: string;
let port: number;
const pids = new Set<number>();

beforeAll(async () => {
  assertBuilt();
  fake = await startFakeAnthropic({ models: [DEPRECATED] });
  port = await freePort();
  dir = makeCliConfigDir({ providers: { ant: { type: 'anthropic', endpoint: fake.endpoint, api_key: fake.apiKey, models: [{ name: DEPRECATED }] } } }, port);
});

afterAll(async () => {
  const p = readPid(dir);
  if (p) pids.add(p.pid);
  cleanup(pids, [dir]);
  await fake.close();
});

describe("a dependency's own warning in the daemon's log", () => {
  it('is one JSON line, however many requests print it; every line of the log is JSON', async () => {
    const started = await runCli(['daemon', '--config', dir]);
    expect(started.code).toBe(0);
    pids.add(readPid(dir)!.pid);
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/api/ant`, apiKey: 'unused', maxRetries: 0 });
    for (let i = 0; i < 3; i++) {
      fake.enqueue({ type: 'reply', text: `answer ${i}` });
      const r = await client.chat.completions.create({ model: DEPRECATED, messages: [{ role: 'user', content: `question ${i}` }] });
      expect(r.choices[0]!.message.content).toBe(`answer ${i}`);
    }
    expect(fake.chatRequests()).toHaveLength(3);
    const stopped = await runCli(['stop', '--config', dir]);
    expect(stopped.code).toBe(0);

    const lines = readFileSync(join(dir, 'logs', 'aisbf.log'), 'utf8').split('\n').filter(Boolean);
    const parsed = lines.map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`a log line that is not JSON: ${l}`);
      }
    });
    expect(parsed.filter((o) => o.msg === 'request' && o.method === 'POST' && o.status === 200)).toHaveLength(3);
    const warnings = parsed.filter((o) => o.source === 'console.warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn' });
    expect(warnings[0]!.msg).toContain(`The model '${DEPRECATED}' is deprecated`);
  }, 60_000);
});
