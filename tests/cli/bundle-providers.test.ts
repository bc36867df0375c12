/**
 * The shipped build against every provider type. The in-process tests run src/ through tsx; what a
 * user runs is bin/aisbf.js → dist/bundle, where esbuild has bundled some packages (the provider SDKs
 * among them, for their first-request load time) and left others external. This starts that build in
 * the foreground on fakes of each provider's wire format and asks each, through the OpenAI SDK, for a
 * completion, a stream and an upstream error, so a package that breaks when bundled fails here; and
 * uploads a batch file (multipart, parsed by busboy, which is bundled as well).
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/anthropic-upstream.js';
import { startFakeGemini, type FakeGemini } from '../fakes/gemini-upstream.js';
import { startFakeHuggingFace, type FakeHuggingFace } from '../fakes/huggingface-upstream.js';
import { startFakeOllama, type FakeOllama } from '../fakes/ollama-upstream.js';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { assertBuilt, freePort, makeCliConfigDir, spawnCli, waitFor } from './cli-harness.js';

let openai: FakeOpenAI;
let anthropic: FakeAnthropic;
let gemini: FakeGemini;
let ollama: FakeOllama;
let hf: FakeHuggingFace;
let dir = '';
let server: ChildProcess;
let client: OpenAI;

beforeAll(async () => {
  assertBuilt();
  [openai, anthropic, gemini, ollama, hf] = await Promise.all([startFakeOpenAI(), startFakeAnthropic(), startFakeGemini(), startFakeOllama(), startFakeHuggingFace()]);
  const port = await freePort();
  dir = makeCliConfigDir(
    {
      providers: {
        oa: { type: 'openai', endpoint: openai.baseURL, api_key: 'sk-upstream-test-1234567890', models: [{ name: 'gpt-4o-mini' }] },
        an: { type: 'anthropic', endpoint: anthropic.endpoint, api_key: anthropic.apiKey, models: [{ name: 'claude-haiku-4-5' }] },
        ge: { type: 'google', endpoint: gemini.endpoint, api_key: gemini.apiKey, models: [{ name: 'gemini-2.5-flash' }] },
        ol: { type: 'ollama', endpoint: ollama.origin, api_key_required: false, models: [{ name: 'llama3.2:latest' }] },
        hf: { type: 'huggingface', endpoint: hf.baseURL, api_key: 'hf_test000000000000000000', models: [{ name: 'meta-llama/Llama-3.1-8B-Instruct' }] },
      },
    },
    port,
  );
  server = spawnCli([], { AISBF_CONFIG_DIR: dir });
  await waitFor('the built daemon to answer /health', () => fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false), 20_000, server);
  client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const gone = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await gone;
  }
  await Promise.all([openai, anthropic, gemini, ollama, hf].map((f) => f?.close()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const MODELS = [
  ['openai', 'oa/gpt-4o-mini'],
  ['anthropic', 'an/claude-haiku-4-5'],
  ['google', 'ge/gemini-2.5-flash'],
  ['ollama', 'ol/llama3.2:latest'],
  ['huggingface', 'hf/meta-llama/Llama-3.1-8B-Instruct'],
] as const;

describe('the bundled daemon (bin/aisbf.js) serves every provider type', () => {
  it.each(MODELS)('%s: a completion and a stream', async (_type, model) => {
    const json = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'say bundled' }] });
    expect(json.choices[0]!.message.content).toContain('bundled');
    const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'say streamed' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toContain('streamed');
  });

  it('takes a multipart upload (a batch input file) and gives it back', async () => {
    const line = JSON.stringify({ custom_id: 'q1', method: 'POST', url: '/v1/chat/completions', body: { model: 'oa/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] } });
    const file = await client.files.create({ file: new File([`${line}\n`], 'lines.jsonl', { type: 'application/jsonl' }), purpose: 'batch' });
    expect(file).toMatchObject({ object: 'file', purpose: 'batch', filename: 'lines.jsonl' });
    const back = await client.files.content(file.id);
    expect(await back.text()).toBe(`${line}\n`);
  });

  it('maps each SDK-served provider\'s upstream error into the OpenAI envelope', async () => {
    openai.enqueue({ type: 'error', status: 400, message: 'bad field from openai', errType: 'invalid_request_error', param: 'messages' });
    anthropic.enqueue({ type: 'error', status: 400, errType: 'invalid_request_error', message: 'bad field from anthropic' });
    gemini.enqueue({ type: 'error', status: 400, statusName: 'INVALID_ARGUMENT', message: 'bad field from gemini' });
    for (const [name, model] of [['openai', 'oa/gpt-4o-mini'], ['anthropic', 'an/claude-haiku-4-5'], ['gemini', 'ge/gemini-2.5-flash']]) {
      const err = await client.chat.completions.create({ model: model!, messages: [{ role: 'user', content: 'x' }] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(OpenAI.BadRequestError);
      expect((err as InstanceType<typeof OpenAI.BadRequestError>).message, name).toContain(`bad field from ${name}`);
    }
  });
});
