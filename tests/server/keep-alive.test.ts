/**
 * Keep-alive connections under early answers: requests answered before (or without) using their body
 * — bad JSON, an unknown provider — must each get their status, and the connection must stay usable:
 * no ECONNRESET / "socket hang up" for the next request on the same socket.
 */
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeOpenAI } from '../fakes/openai-upstream.js';
import { startAisbf, type TestServer } from '../helpers/aisbf-server.js';

let fake: FakeOpenAI;
let aisbf: TestServer;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  aisbf = await startAisbf({ providers: { mock: { type: 'openai', endpoint: fake.baseURL, api_key: 'k', models: [{ name: 'gpt-4o-mini' }] } } });
});
afterAll(async () => {
  await aisbf?.close();
  await fake?.close();
});

function send(agent: Agent, path: string, body: string): Promise<{ status: number } | { error: string }> {
  const { port } = new URL(aisbf.url);
  return new Promise((done) => {
    const req = request({ agent, host: '127.0.0.1', port, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => done({ status: res.statusCode ?? 0 }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => done({ error: err.code ?? err.message }));
    req.end(body);
  });
}

const chat = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
// A body larger than one socket read, so an early answer can come before all of it arrived.
const bigUnknown = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(200_000) }] });

describe('keep-alive connections', () => {
  it('a burst of bad JSON, unknown providers and chats on 4 kept-alive sockets: every request answered, none reset', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    let connections = 0;
    const onConnection = () => connections++;
    aisbf.running.server.on('connection', onConnection);
    const kinds = [
      ['/api/mock/chat/completions', '{"model": "gpt-4o-mini", "messages": [', 400],
      ['/api/nobody/chat/completions', chat, 404],
      ['/api/nobody/chat/completions', bigUnknown, 404],
      ['/api/mock/chat/completions', chat, 200],
    ] as const;
    const results = await Promise.all(Array.from({ length: 80 }, (_, i) => send(agent, kinds[i % 4]![0], kinds[i % 4]![1])));
    agent.destroy();
    aisbf.running.server.off('connection', onConnection);
    expect(results.filter((r) => 'error' in r)).toEqual([]);
    expect(results.map((r) => ('status' in r ? r.status : 0))).toEqual(Array.from({ length: 80 }, (_, i) => kinds[i % 4]![2]));
    // The sockets were kept and reused across the early answers (not closed after each).
    expect(connections).toBe(4);
  });

  it("announces its keep-alive timeout, so a client agent can drop idle sockets before aisbf does", async () => {
    const res = await fetch(`${aisbf.url}/health`);
    await res.arrayBuffer();
    expect(res.headers.get('keep-alive')).toMatch(/^timeout=\d+/);
  });
});
