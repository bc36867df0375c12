/**
 * @module The one client test suite every provider type must pass unchanged: the official openai SDK
 * talks to a real aisbf server, which talks to the provider's faithful fake upstream. Each provider's
 * test file supplies a ProviderFixture and calls runProviderSuite.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { useGateway } from '../helpers/fixture.js';
import { makePng } from '../helpers/png.js';
import type { ProviderFixture } from './provider-fixture.js';

const PNG = makePng(4, 4, [0, 128, 255]);
const PNG_B64 = PNG.toString('base64');

const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};
const TIME_TOOL = {
  type: 'function' as const,
  function: { name: 'get_time', description: 'Current time in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

/** Serves the test PNG at /cat.png (127.0.0.1, random port), for image-URL tests. */
async function startImageServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.url === '/cat.png') {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length });
      res.end(PNG);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/cat.png`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms))]);
}

export function runProviderSuite(f: ProviderFixture): void {
  describe(`the OpenAI client suite against provider type of "${f.id}"`, () => {
    const gw = useGateway({
      fake: async () => {
        await f.start();
        return { upstream: { close: () => f.stop() }, images: await startImageServer() };
      },
      config: () => ({ providers: { [f.id]: f.providerConfig() }, aisbf: { images: { allow_private_addresses: true } } }),
      base: `/api/${f.id}`,
    });

    const last = () => {
      const reqs = f.chatRequests();
      expect(reqs.length).toBeGreaterThan(0);
      return reqs[reqs.length - 1]!;
    };

    it('answers a plain chat completion in OpenAI shape with usage and effective_context', async () => {
      f.reply({ text: 'Hello from the fake', usage: { input: 12, output: 5 } });
      const r = await gw.client.chat.completions.create({ model: f.model, messages: [{ role: 'user', content: 'Say hello' }] });
      expect(r.object).toBe('chat.completion');
      expect(r.id).toBeTruthy();
      expect(r.choices).toHaveLength(1);
      expect(r.choices[0]!.message.role).toBe('assistant');
      expect(r.choices[0]!.message.content).toBe('Hello from the fake');
      expect(r.choices[0]!.finish_reason).toBe('stop');
      expect(r.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 });
      expect((r.usage as unknown as { effective_context: number }).effective_context).toBe(12);
    });

    it('streams text deltas in chat.completion.chunk frames', async () => {
      f.reply({ text: 'one two three four', usage: { input: 9, output: 4 } });
      const stream = await gw.client.chat.completions.create({ model: f.model, messages: [{ role: 'user', content: 'count' }], stream: true });
      let text = '';
      let finish: string | null = null;
      let chunks = 0;
      let sawRole = false;
      for await (const chunk of stream) {
        chunks++;
        expect(chunk.object).toBe('chat.completion.chunk');
        const choice = chunk.choices[0];
        if (choice?.delta.role === 'assistant') sawRole = true;
        text += choice?.delta.content ?? '';
        if (choice?.finish_reason) finish = choice.finish_reason;
      }
      expect(text).toBe('one two three four');
      expect(finish).toBe('stop');
      expect(sawRole).toBe(true);
      expect(chunks).toBeGreaterThanOrEqual(2);
    });

    it('puts usage with effective_context in a final chunk when include_usage is set', async () => {
      f.reply({ text: 'counted', usage: { input: 21, output: 3 } });
      const stream = await gw.client.chat.completions.create({ model: f.model, messages: [{ role: 'user', content: 'count' }], stream: true, stream_options: { include_usage: true } });
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      const final = chunks[chunks.length - 1]!;
      expect(final.choices).toEqual([]);
      expect(final.usage).toMatchObject({ prompt_tokens: 21, completion_tokens: 3, total_tokens: 24 });
      expect((final.usage as unknown as { effective_context: number }).effective_context).toBe(21);
    });

    it('ends the raw SSE body with data: [DONE]', async () => {
      f.reply({ text: 'raw' });
      const res = await fetch(`${gw.aisbf.url}/api/${f.id}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer client-key' },
        body: JSON.stringify({ model: f.model, messages: [{ role: 'user', content: 'raw' }], stream: true }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const body = await res.text();
      expect(body.endsWith('data: [DONE]\n\n')).toBe(true);
    });

    it('places system and developer messages where the provider expects them', async () => {
      f.reply({ text: 'ok' });
      await gw.client.chat.completions.create({
        model: f.model,
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'developer', content: 'Answer in French.' },
          { role: 'user', content: 'hi' },
        ],
      });
      const system = f.systemPromptOf(last()) ?? '';
      expect(system).toContain('You are terse.');
      expect(system).toContain('Answer in French.');
    });

    it('sends an image given as a data: URL', async () => {
      f.reply({ text: 'a blue square' });
      const r = await gw.client.chat.completions.create({
        model: f.model,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_B64}` } }] }],
      });
      expect(r.choices[0]!.message.content).toBe('a blue square');
      const images = f.imagesOf(last());
      expect(images).toHaveLength(1);
      expect(images[0]!.base64).toBe(PNG_B64);
      expect(images[0]!.mediaType).toBe('image/png');
    });

    it('sends an image given as an http URL (passed on, or fetched where the provider needs bytes)', async () => {
      f.reply({ text: 'fetched' });
      await gw.client.chat.completions.create({
        model: f.model,
        messages: [{ role: 'user', content: [{ type: 'text', text: 'Describe' }, { type: 'image_url', image_url: { url: gw.fake.images.url } }] }],
      });
      const images = f.imagesOf(last());
      expect(images).toHaveLength(1);
      const img = images[0]!;
      if (img.url !== undefined) expect(img.url).toBe(gw.fake.images.url);
      else expect(img.base64).toBe(PNG_B64);
    });

    it('round-trips a tool call: call, tool result, answer', async () => {
      f.reply({ toolCalls: [{ id: 'call_abc123', name: 'get_weather', arguments: '{"city":"Paris"}' }], finish: 'tool_calls' });
      const first = await gw.client.chat.completions.create({
        model: f.model,
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
        tools: [WEATHER_TOOL],
        tool_choice: 'auto',
      });
      expect(f.toolNamesOf(last())).toContain('get_weather');
      const msg = first.choices[0]!.message;
      expect(first.choices[0]!.finish_reason).toBe('tool_calls');
      expect(msg.tool_calls).toHaveLength(1);
      const call = msg.tool_calls![0]!;
      expect(call.type).toBe('function');
      expect(call.id).toBeTruthy();
      if (call.type !== 'function') throw new Error('expected a function call');
      expect(call.function.name).toBe('get_weather');
      expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });

      f.reply({ text: 'It is 21 degrees in Paris.' });
      const second = await gw.client.chat.completions.create({
        model: f.model,
        tools: [WEATHER_TOOL],
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: call.id, content: '{"temp_c":21}' },
        ],
      });
      expect(second.choices[0]!.message.content).toBe('It is 21 degrees in Paris.');
      const results = f.toolResultsOf(last());
      expect(results).toHaveLength(1);
      expect(results[0]!.content).toContain('21');
      expect(results[0]!.callId === call.id || results[0]!.name === 'get_weather').toBe(true);
    });

    it('streams parallel tool calls as OpenAI tool_call deltas', async () => {
      f.reply({
        toolCalls: [
          { id: 'call_w1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
          { id: 'call_t1', name: 'get_time', arguments: '{"city":"Lima"}' },
        ],
        finish: 'tool_calls',
      });
      const stream = await gw.client.chat.completions.create({
        model: f.model,
        messages: [{ role: 'user', content: 'Weather in Oslo and time in Lima' }],
        tools: [WEATHER_TOOL, TIME_TOOL],
        stream: true,
      });
      const calls = new Map<number, { id?: string; name?: string; args: string }>();
      let finish: string | null = null;
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        if (!choice) continue;
        for (const d of choice.delta.tool_calls ?? []) {
          const entry = calls.get(d.index) ?? { args: '' };
          if (!calls.has(d.index)) {
            // The first delta of each call names it, as OpenAI does.
            expect(d.id).toBeTruthy();
            expect(d.function?.name).toBeTruthy();
          }
          if (d.id) entry.id = d.id;
          if (d.function?.name) entry.name = d.function.name;
          entry.args += d.function?.arguments ?? '';
          calls.set(d.index, entry);
        }
        if (choice.finish_reason) finish = choice.finish_reason;
      }
      expect(finish).toBe('tool_calls');
      expect([...calls.keys()].sort()).toEqual([0, 1]);
      expect(calls.get(0)!.name).toBe('get_weather');
      expect(JSON.parse(calls.get(0)!.args)).toEqual({ city: 'Oslo' });
      expect(calls.get(1)!.name).toBe('get_time');
      expect(JSON.parse(calls.get(1)!.args)).toEqual({ city: 'Lima' });
    });

    it('asks the upstream for JSON when response_format is json_object', async () => {
      f.reply({ text: '{"ok":true}' });
      const r = await gw.client.chat.completions.create({
        model: f.model,
        messages: [{ role: 'user', content: 'Reply with JSON' }],
        response_format: { type: 'json_object' },
      });
      expect(JSON.parse(r.choices[0]!.message.content!)).toEqual({ ok: true });
      expect(f.jsonModeOf(last())).toBe(true);
    });

    it('passes max_tokens, temperature, top_p and stop to the upstream', async () => {
      f.reply({ text: 'short' });
      await gw.client.chat.completions.create({ model: f.model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 50, temperature: 0.3, top_p: 0.9, stop: ['END'] });
      expect(f.samplingOf(last())).toEqual({ maxTokens: 50, temperature: 0.3, topP: 0.9, stop: ['END'] });
    });

    it('maps a length stop to finish_reason "length"', async () => {
      f.reply({ text: 'cut sho', finish: 'length' });
      const r = await gw.client.chat.completions.create({ model: f.model, messages: [{ role: 'user', content: 'long story' }], max_tokens: 3 });
      expect(r.choices[0]!.finish_reason).toBe('length');
      expect(r.choices[0]!.message.content).toBe('cut sho');
    });

    it('maps reasoning output to reasoning_content, in JSON and in streams', async () => {
      if (!f.supportsReasoning) {
        // Providers without a reasoning stream must still answer normally when asked.
        f.reply({ text: 'plain' });
        const r = await gw.client.chat.completions.create({ model: f.model, messages: [{ role: 'user', content: 'think' }] });
        expect(r.choices[0]!.message.content).toBe('plain');
        return;
      }
      f.reply({ reasoning: 'Let me think.', text: 'Forty-two.' });
      const r = await gw.client.chat.completions.create({ model: f.model, messages: [{ role: 'user', content: 'think' }] });
      expect((r.choices[0]!.message as unknown as { reasoning_content?: string }).reasoning_content).toBe('Let me think.');
      expect(r.choices[0]!.message.content).toBe('Forty-two.');

      f.reply({ reasoning: 'Streaming thoughts.', text: 'Done.' });
      const stream = await gw.client.chat.completions.create({ model: f.model, messages: [{ role: 'user', content: 'think' }], stream: true });
      let reasoning = '';
      let text = '';
      for await (const chunk of stream) {
        const d = chunk.choices[0]?.delta as { content?: string; reasoning_content?: string } | undefined;
        reasoning += d?.reasoning_content ?? '';
        text += d?.content ?? '';
      }
      expect(reasoning).toBe('Streaming thoughts.');
      expect(text).toBe('Done.');
    });

    it('answers 429 with Retry-After when the provider rate-limits', async () => {
      f.fail('rate_limit', { retryAfterSeconds: 7 });
      const err = await gw.client.chat.completions.create({ model: f.model, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.RateLimitError);
      const e = err as InstanceType<typeof OpenAI.RateLimitError>;
      expect(e.status).toBe(429);
      expect(e.headers?.get('retry-after')).toBe('7');
      expect((e.error as { message?: string }).message).toContain(f.id);
    });

    it('answers a 5xx in OpenAI envelope when the provider fails', async () => {
      f.fail('server');
      const err = (await gw.client.chat.completions.create({ model: f.model, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect([502, 503]).toContain(err.status);
      expect((err.error as { type?: string }).type).toBeTruthy();
    });

    it('answers 502 naming the provider, and never the key, when the configured key is rejected', async () => {
      f.fail('bad_key');
      const err = (await gw.client.chat.completions.create({ model: f.model, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err.status).toBe(502);
      const message = (err.error as { message: string }).message;
      expect(message).toContain(f.id);
      const key = String(f.providerConfig().api_key ?? 'no-key-configured');
      expect(message).not.toContain(key);
      expect(JSON.stringify(err.error)).not.toContain(key);
    });

    it('answers 404 for a model the provider does not have', async () => {
      f.fail('unknown_model');
      const err = (await gw.client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err).toBeInstanceOf(OpenAI.NotFoundError);
      expect(err.status).toBe(404);
    });

    it('cancels the upstream request when the client aborts mid-stream', async () => {
      f.stallAfterFirstChunk();
      const before = f.clientAborts();
      const aborted = f.nextAbort();
      const ac = new AbortController();
      const stream = await gw.client.chat.completions.create({ model: f.model, messages: [{ role: 'user', content: 'stall' }], stream: true }, { signal: ac.signal });
      let got = '';
      try {
        for await (const chunk of stream) {
          got += chunk.choices[0]?.delta.content ?? '';
          if (got.includes('partial')) ac.abort();
        }
      } catch (err) {
        expect((err as Error).name).toMatch(/Abort/);
      }
      expect(got).toBe('partial');
      await withTimeout(aborted, 5000, 'the upstream connection to close');
      expect(f.clientAborts()).toBeGreaterThan(before);
    });
  });
}
