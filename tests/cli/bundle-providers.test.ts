/**
 * The shipped build against every provider type. The in-process tests run src/ through tsx; what a
 * user runs is bin/aisbf.js → dist/bundle, where esbuild has bundled some packages (the provider SDKs
 * among them, for their first-request load time) and left others external. This starts that build in
 * the foreground on fakes of each provider's wire format and asks each, through the OpenAI SDK, for a
 * completion, a stream and an upstream error, so a package that breaks when bundled fails here; and
 * uploads a batch file (multipart, parsed by busboy, which is bundled as well).
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEveryProvider, type EveryProvider } from '../fakes/every-provider.js';
import { startBuiltDaemon, type BuiltDaemon } from './cli-harness.js';

let fakes: EveryProvider | undefined;
let daemon: BuiltDaemon | undefined;
let client: OpenAI;

beforeAll(async () => {
  fakes = await startEveryProvider();
  daemon = await startBuiltDaemon({ providers: fakes.providers });
  client = new OpenAI({ baseURL: `http://127.0.0.1:${daemon.port}/v1`, apiKey: 'unused', maxRetries: 0 });
});

afterAll(async () => {
  await daemon?.close();
  await fakes?.close();
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
    fakes!.openai.enqueue({ type: 'error', status: 400, message: 'bad field from openai', errType: 'invalid_request_error', param: 'messages' });
    fakes!.anthropic.enqueue({ type: 'error', status: 400, errType: 'invalid_request_error', message: 'bad field from anthropic' });
    fakes!.gemini.enqueue({ type: 'error', status: 400, statusName: 'INVALID_ARGUMENT', message: 'bad field from gemini' });
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
