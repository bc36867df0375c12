/**
 * A streamed answer whose reads split a multi-byte UTF-8 character reaches every client whole, while
 * other streams run through the same aisbf. Two OpenAI SDK clients stream at once; the fake upstream
 * ends one read of stream A in the middle of "é" and holds the rest until stream B has been read
 * through. A decoder shared between streams handed A's first byte of "é" to B's next read: A got
 * "caf\uFFFD\uFFFD" and B lost its first event.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAisbf, type TestServer } from '../../helpers/aisbf-server.js';
import { startFakeServer, type FakeServer } from '../../fakes/fake-server.js';

const head = (id: string) => `{"id":"${id}","object":"chat.completion.chunk","created":1741570283,"model":"gpt-4o-mini","system_fingerprint":"fp_1",`;
const event = (id: string, content: string) => `data: ${head(id)}"choices":[{"index":0,"delta":{"content":${JSON.stringify(content)}},"logprobs":null,"finish_reason":null}],"usage":null}\n\n`;
const finish = (id: string) =>
  `data: ${head(id)}"choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}\n\n` +
  `data: ${head(id)}"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}\n\ndata: [DONE]\n\n`;

let release: () => void = () => {};
const held = new Promise<void>((r) => (release = r));
let up: FakeServer;
let aisbf: TestServer;
beforeAll(async () => {
  up = await startFakeServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    const which = req.body.messages[0].content as string;
    if (which === 'A') {
      // One read: a whole event, then an event cut after the first byte of "é" (0xC3 0xA9).
      const cut = Buffer.from(event('a', 'café'));
      const at = cut.indexOf(0xa9);
      res.write(Buffer.concat([Buffer.from(event('a', 'le ')), cut.subarray(0, at)]));
      await held;
      res.end(Buffer.concat([cut.subarray(at), Buffer.from(finish('a'))]));
    } else {
      res.end(event('b', 'été') + event('b', ' déjà') + finish('b'));
    }
  });
  aisbf = await startAisbf({ providers: { oa: { type: 'openai', endpoint: `${up.origin}/v1`, api_key: 'sk-up', models: [{ name: 'gpt-4o-mini' }] } } });
});
afterAll(async () => {
  release();
  await aisbf.close();
  await up.close();
});

describe('a multi-byte character split between reads', () => {
  it('reaches its own client whole, and the stream read in between loses nothing', async () => {
    const client = new OpenAI({ baseURL: `${aisbf.url}/api/oa`, apiKey: 'k', maxRetries: 0 });
    const open = (content: string) => client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content }] });
    const a = (await open('A'))[Symbol.asyncIterator]();
    // A's first event arrived, so the read that ends inside "é" has been decoded.
    const first = await a.next();
    expect(first.value?.choices[0]?.delta.content).toBe('le ');

    let b = '';
    for await (const c of await open('B')) b += c.choices[0]?.delta.content ?? '';
    expect(b).toBe('été déjà');

    release();
    let rest = '';
    for (let r = await a.next(); !r.done; r = await a.next()) rest += r.value.choices[0]?.delta.content ?? '';
    expect(rest).toBe('café');
  });
});
