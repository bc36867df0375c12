/**
 * Usage the upstream does not report: a stream with no usage chunk, a stream the client leaves, and
 * message_start's input count on the Messages API. aisbf fills the prompt count in with an estimate
 * and never loads tiktoken for it (its WASM and one encoder cost ~60–70 MB of RSS and block the event
 * loop for 0.3–2.5 s). A config that needs exact counts (`max_request_tokens`) builds the encoder at
 * start-up, and then the same figures are exact.
 *
 * vitest's forks pool runs each test file in its own process, so node's require cache tells whether
 * this process ever loaded tiktoken.
 */
import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAisbf, usageRowsOf, type TestServer } from '../helpers/aisbf-server.js';

const require = createRequire(import.meta.url);
const tiktokenLoaded = (): boolean => Object.keys(require.cache).some((p) => p.includes('/node_modules/tiktoken/'));
const PROSE = readFileSync(new URL('../tokens/fixtures/en.txt', import.meta.url), 'utf8');
const messages = [
  { role: 'system' as const, content: 'You are a helpful assistant.' },
  { role: 'user' as const, content: PROSE },
];

const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

/** An OpenAI-compatible upstream whose streams never carry usage; model "gpt-4o-hang" stops after one chunk. */
async function startUpstream(): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as { model: string };
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(chunk({ role: 'assistant', content: 'Hello' }));
      if (body.model === 'gpt-4o-hang') return;
      res.write(chunk({ content: ' there.' }));
      res.write(chunk({}, 'stop'));
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

let up: Awaited<ReturnType<typeof startUpstream>>;
beforeAll(async () => {
  up = await startUpstream();
});
afterAll(async () => {
  await up?.close();
});

const config = (maxRequestTokens?: number) => ({
  providers: {
    oa: {
      type: 'openai',
      endpoint: `${up.url}/v1`,
      api_key: 'sk-test-oa-1234567890',
      models: ['gpt-4o-mini', 'gpt-4o-hang'].map((name) => ({ name, capabilities: ['chat'], ...(maxRequestTokens ? { max_request_tokens: maxRequestTokens } : {}) })),
    },
  },
});

const usageRow = (aisbf: TestServer, requestId: string) => usageRowsOf(aisbf, requestId)[0];

/** Streams chat with include_usage; returns the usage chunk the client got. */
async function streamedUsage(aisbf: TestServer, requestId: string) {
  const client = new OpenAI({ baseURL: `${aisbf.url}/v1`, apiKey: 'x', maxRetries: 0, defaultHeaders: { 'x-request-id': requestId } });
  const stream = await client.chat.completions.create({ model: 'oa/gpt-4o-mini', messages, stream: true, stream_options: { include_usage: true } });
  let usage: OpenAI.CompletionUsage | undefined;
  let text = '';
  for await (const c of stream) {
    text += c.choices[0]?.delta.content ?? '';
    if (c.usage) usage = c.usage;
  }
  expect(text).toBe('Hello there.');
  return usage;
}

/** Starts a stream and leaves after its first bytes. */
async function leaveStream(aisbf: TestServer, requestId: string): Promise<void> {
  await new Promise<void>((done, fail) => {
    const req = request(`${aisbf.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': requestId } }, (res) => {
      res.once('data', () => {
        req.destroy();
        done();
      });
    });
    req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : fail(err)));
    req.end(JSON.stringify({ model: 'oa/gpt-4o-hang', messages, stream: true }));
  });
}

async function messagesInputTokens(aisbf: TestServer): Promise<number> {
  const client = new Anthropic({ baseURL: aisbf.url, apiKey: 'x', maxRetries: 0 });
  const stream = client.messages.stream({ model: 'oa/gpt-4o-mini', max_tokens: 100, system: 'You are a helpful assistant.', messages: [{ role: 'user', content: PROSE }] });
  let input = -1;
  stream.on('streamEvent', (e) => {
    if (e.type === 'message_start') input = e.message.usage.input_tokens;
  });
  const final = await stream.finalMessage();
  expect(final.content[0]).toMatchObject({ type: 'text', text: 'Hello there.' });
  return input;
}

describe('usage the upstream does not report', () => {
  const seen: { streamed?: number; left?: number; messages?: number } = {};

  describe('with no config that needs exact counts', () => {
    let aisbf: TestServer;
    beforeAll(async () => {
      aisbf = await startAisbf(config());
    });
    afterAll(async () => {
      await aisbf?.close();
    });

    it('a stream without a usage chunk: the client gets an estimated prompt count, and it is recorded', async () => {
      const usage = await streamedUsage(aisbf, 'no-usage-1');
      expect(usage?.prompt_tokens).toBeGreaterThan(200);
      expect(usage?.completion_tokens).toBe(0);
      await expect.poll(() => usageRow(aisbf, 'no-usage-1'), { timeout: 5000 }).toMatchObject({ status: 200, prompt_tokens: usage!.prompt_tokens });
      seen.streamed = usage!.prompt_tokens;
    });

    it('a stream the client leaves: recorded aborted (after its 200 began) with the same estimated prompt count', async () => {
      await leaveStream(aisbf, 'left-1');
      await expect.poll(() => usageRow(aisbf, 'left-1'), { timeout: 5000 }).toMatchObject({ status: 200, aborted: 1 });
      seen.left = usageRow(aisbf, 'left-1')!.prompt_tokens;
      expect(seen.left).toBe(seen.streamed);
    });

    it("Messages to an OpenAI-type target: message_start's input_tokens is the same estimate", async () => {
      seen.messages = await messagesInputTokens(aisbf);
      expect(seen.messages).toBeGreaterThan(200);
    });

    it('loaded no tokenizer for any of it', () => {
      expect(tiktokenLoaded()).toBe(false);
    });
  });

  describe('with max_request_tokens (the encoder is built at start-up)', () => {
    let aisbf: TestServer;
    beforeAll(async () => {
      aisbf = await startAisbf(config(100_000));
    });
    afterAll(async () => {
      await aisbf?.close();
    });

    it('the same figures are exact, and the estimates were within 20% of them', async () => {
      expect(tiktokenLoaded()).toBe(true);
      const exact = (await streamedUsage(aisbf, 'no-usage-2'))!.prompt_tokens;
      const { countRequestTokens } = await import('../../src/tokens/count-tokens.js');
      expect(exact).toBe(countRequestTokens({ messages }, 'gpt-4o-mini'));
      await leaveStream(aisbf, 'left-2');
      await expect.poll(() => usageRow(aisbf, 'left-2')?.prompt_tokens, { timeout: 5000 }).toBe(exact);
      for (const estimate of [seen.streamed!, seen.left!, seen.messages!]) expect(Math.abs(estimate - exact) / exact).toBeLessThan(0.2);
    });
  });
});
