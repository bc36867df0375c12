/**
 * A non-streamed chat answer from an OpenAI-type upstream reaches the client as the upstream wrote
 * it (OpenAI's pretty-printed layout, its key order, its UTF-8), with only the usage member replaced
 * by the one the pipeline completed (effective_context added). Recorded answer, replayed byte for byte.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAisbf, type TestServer } from '../../helpers/aisbf-server.js';
import { recorded } from '../../helpers/recorded.js';
import { startReplayUpstream, type ReplayUpstream } from '../../fakes/replay-upstream.js';

let up: ReplayUpstream;
let aisbf: TestServer;
beforeAll(async () => {
  up = await startReplayUpstream();
  aisbf = await startAisbf({ providers: { oa: { type: 'openai', endpoint: `${up.origin}/v1`, api_key: 'sk-up', models: [{ name: 'gpt-4o-mini' }] } } });
});
afterAll(async () => {
  await aisbf.close();
  await up.close();
});

const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say bonjour in two lines.' }] });
const post = () => fetch(`${aisbf.url}/api/oa/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

describe('non-streamed chat: the upstream’s bytes', () => {
  it('are forwarded as they came, the usage member alone replaced', async () => {
    const text = recorded('openai', 'chat.json');
    up.next({ body: text });
    const res = await post();
    expect(res.status).toBe(200);
    const got = await res.text();
    const usage = { ...JSON.parse(text).usage, effective_context: 19 };
    const start = text.indexOf('"usage": {');
    const end = text.indexOf('\n  },\n  "service_tier"') + 4;
    expect(got).toBe(`${text.slice(0, start)}"usage": ${JSON.stringify(usage)}${text.slice(end)}`);
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(got));
    expect(res.headers.get('x-aisbf-provider')).toBe('oa');
  });

  it('an ASCII answer (sent as the upstream’s bytes) gets the same splice', async () => {
    const text = '{\n  "id": "chatcmpl-2",\n  "object": "chat.completion",\n  "created": 1741570283,\n  "model": "m",\n  "choices": [ { "index": 0, "message": { "role": "assistant", "content": "say \\"usage\\": {}" }, "finish_reason": "stop" } ],\n  "usage": { "prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9 },\n  "system_fingerprint": "fp_1"\n}\n';
    up.next({ body: text });
    const res = await post();
    const got = await res.text();
    const usage = { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9, effective_context: 7 };
    const start = text.indexOf('"usage": {') + '"usage": '.length;
    const end = text.indexOf(',\n  "system_fingerprint"');
    expect(got).toBe(`${text.slice(0, start)}${JSON.stringify(usage)}${text.slice(end)}`);
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(got));
    expect(JSON.parse(got).choices[0].message.content).toBe('say "usage": {}');
  });

  it('parse in the OpenAI SDK as the upstream’s answer', async () => {
    up.next({ body: recorded('openai', 'chat.json') });
    const client = new OpenAI({ baseURL: `${aisbf.url}/api/oa`, apiKey: 'k', maxRetries: 0 });
    const c = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say bonjour in two lines.' }] });
    expect(c.choices[0]!.message.content).toBe('Bonjour ! Voilà "deux" lignes :\nune, puis l’autre.');
    expect(c.usage).toMatchObject({ prompt_tokens: 19, total_tokens: 33, completion_tokens_details: { reasoning_tokens: 0 }, effective_context: 19 });
    expect(c.service_tier).toBe('default');
  });

  it('an answer without usage gets ours appended, the rest untouched', async () => {
    const text = '{"id":"chatcmpl-1","object":"chat.completion","created":1741570283,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}';
    up.next({ body: text });
    const got = await (await post()).text();
    expect(got.startsWith(text.slice(0, -1) + ',"usage":{')).toBe(true);
    const usage = JSON.parse(got).usage;
    expect(usage.prompt_tokens).toBeGreaterThan(0);
    expect(usage.effective_context).toBe(usage.prompt_tokens);
  });
});

describe('streamed chat: the upstream’s bytes', () => {
  it('ordinary chunks reach the client as the events the upstream wrote, byte for byte', async () => {
    // A recorded stream with non-ASCII content added to one of its chunks.
    const body = recorded('openai', 'text.sse').replace('"content":"Hello"', '"content":"Héllo — 你好 👋"');
    up.next({ contentType: 'text/event-stream', body });
    const res = await fetch(`${aisbf.url}/api/oa/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const got = Buffer.from(await res.arrayBuffer());
    const events = body.split(/(?<=\n\n)/).filter((e) => e.includes('"finish_reason":null') && !e.includes('"role"'));
    expect(events.length).toBeGreaterThan(1);
    for (const e of events) expect(got.includes(Buffer.from(e, 'utf8'))).toBe(true);
    const client = new OpenAI({ baseURL: `${aisbf.url}/api/oa`, apiKey: 'k', maxRetries: 0 });
    up.next({ contentType: 'text/event-stream', body });
    let text = '';
    for await (const c of await client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] })) text += c.choices[0]?.delta.content ?? '';
    expect(text.startsWith('Héllo — 你好 👋')).toBe(true);
  });
});
