/**
 * A client that leaves while its request waits on the upstream: the upstream call is cancelled (its
 * socket closes), the request is recorded as aborted with 499, and the provider is not blamed. The
 * client's side is a LiteAbort on node's response 'close' (server/node-request.ts), not an AbortSignal;
 * this checks it end to end on our own transport (OpenAI chat, the Messages and Responses
 * pass-throughs) and through an SDK that needs a real AbortSignal (chat translated for an
 * Anthropic-type provider: the deadline makes one on demand).
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAisbf, usageRowsOf, type TestServer } from '../helpers/aisbf-server.js';

/** Upstream that takes every POST and never answers; it notes when each one's connection closes. */
interface HangingUpstream {
  url: string;
  received: Array<{ path: string; closed: boolean }>;
  server: Server;
}

async function startHangingUpstream(): Promise<HangingUpstream> {
  const received: HangingUpstream['received'] = [];
  const server = createServer((req: IncomingMessage, res) => {
    req.resume();
    const entry = { path: req.url ?? '', closed: false };
    received.push(entry);
    res.on('close', () => (entry.closed = true));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server };
}

let up: HangingUpstream;
let aisbf: TestServer;

beforeAll(async () => {
  up = await startHangingUpstream();
  aisbf = await startAisbf({
    providers: {
      oa: { type: 'openai', endpoint: `${up.url}/v1`, api_key: 'sk-test-oa-1234567890', models: [{ name: 'slow', capabilities: ['chat'] }] },
      an: { type: 'anthropic', endpoint: up.url, api_key: 'sk-ant-test-1234567890', models: [{ name: 'slow', capabilities: ['chat'] }] },
      oar: { type: 'openai', endpoint: `${up.url}/v1`, api_key: 'sk-test-oar-1234567890', responses_api: true, models: [{ name: 'slow', capabilities: ['chat'] }] },
    },
  });
});
afterAll(async () => {
  await aisbf?.close();
  up?.server.closeAllConnections();
  await new Promise((r) => up?.server.close(r));
});

/** Sends a chat request and destroys the connection once the upstream has it. */
async function leaveWhileWaiting(path: string, body: unknown, requestId: string, upstreamPath: string): Promise<void> {
  const before = up.received.length;
  const req = request(`${aisbf.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': requestId, 'anthropic-version': '2023-06-01' } });
  req.on('error', () => undefined);
  req.end(JSON.stringify(body));
  await expect.poll(() => up.received.length, { timeout: 5000 }).toBe(before + 1);
  expect(up.received[before]!.path).toBe(upstreamPath);
  expect(up.received[before]!.closed).toBe(false);
  req.destroy();
  // The upstream call is cancelled: its connection closes.
  await expect.poll(() => up.received[before]!.closed, { timeout: 5000 }).toBe(true);
}

const record = (requestId: string) => usageRowsOf(aisbf, requestId)[0];

describe('a client that leaves while the upstream works', () => {
  it('cancels the upstream call on our own transport, records 499 aborted, and does not blame the provider', async () => {
    await leaveWhileWaiting('/v1/chat/completions', { model: 'oa/slow', messages: [{ role: 'user', content: 'hi' }] }, 'gone-oa', '/v1/chat/completions');
    await expect.poll(() => record('gone-oa'), { timeout: 5000 }).toMatchObject({ status: 499, aborted: 1, provider: 'oa' });
    expect(aisbf.running.deps.routing.health.get('oa/slow')?.failures ?? 0).toBe(0);
  });

  it('cancels an SDK call (a real AbortSignal made on demand): chat translated for Anthropic', async () => {
    await leaveWhileWaiting('/v1/chat/completions', { model: 'an/slow', messages: [{ role: 'user', content: 'hi' }] }, 'gone-an', '/v1/messages');
    await expect.poll(() => record('gone-an'), { timeout: 5000 }).toMatchObject({ status: 499, aborted: 1, provider: 'an' });
    expect(aisbf.running.deps.routing.health.get('an/slow')?.failures ?? 0).toBe(0);
  });

  it('cancels the Messages and Responses pass-throughs (our transport) the same way', async () => {
    await leaveWhileWaiting('/v1/messages', { model: 'an/slow', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }, 'gone-msg', '/v1/messages');
    await expect.poll(() => record('gone-msg'), { timeout: 5000 }).toMatchObject({ aborted: 1, provider: 'an' });
    await leaveWhileWaiting('/v1/responses', { model: 'oar/slow', input: 'hi' }, 'gone-resp', '/v1/responses');
    await expect.poll(() => record('gone-resp'), { timeout: 5000 }).toMatchObject({ aborted: 1, provider: 'oar' });
    expect(aisbf.running.deps.routing.health.get('an/slow')?.failures ?? 0).toBe(0);
    expect(aisbf.running.deps.routing.health.get('oar/slow')?.failures ?? 0).toBe(0);
  });

  it('cancels a stream that has not started yet', async () => {
    await leaveWhileWaiting('/v1/chat/completions', { model: 'oa/slow', stream: true, messages: [{ role: 'user', content: 'hi' }] }, 'gone-stream', '/v1/chat/completions');
    await expect.poll(() => record('gone-stream'), { timeout: 5000 }).toMatchObject({ aborted: 1, provider: 'oa' });
  });
});
